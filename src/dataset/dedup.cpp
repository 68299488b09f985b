// Normalisation, MinHash signatures and the LSH near-duplicate index (see dedup.h).
#include "dataset/dedup.h"

#include <algorithm>
#include <unordered_set>

namespace sy::dataset {

std::string normalize_text(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    bool space = false;
    for (unsigned char c : s) {
        const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
        if (!alnum) {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
    return out;
}

namespace {
inline uint64_t mix64(uint64_t x) {  // splitmix64 finaliser
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

// Per-slot odd multipliers and offsets: h_i(x) = mix(x · a_i + b_i).
struct Perms {
    std::array<uint64_t, k_minhash_n> a, b;
    Perms() {
        for (int i = 0; i < k_minhash_n; ++i) {
            a[i] = mix64(0x9e3779b97f4a7c15ull * (uint64_t)(2 * i + 1)) | 1;
            b[i] = mix64(0xd1b54a32d192ed03ull * (uint64_t)(2 * i + 2));
        }
    }
};
const Perms & perms() {
    static const Perms p;
    return p;
}

std::unordered_set<uint64_t> shingles(std::string_view s) {
    std::unordered_set<uint64_t> out;
    if (s.size() <= (size_t)k_shingle) {
        out.insert(hash64(s));
        return out;
    }
    for (size_t i = 0; i + k_shingle <= s.size(); ++i) out.insert(hash64(s.substr(i, k_shingle)));
    return out;
}
}  // namespace

uint64_t hash64(std::string_view s, uint64_t seed) {
    uint64_t h = 0xcbf29ce484222325ull ^ mix64(seed);
    for (unsigned char c : s) {
        h ^= c;
        h *= 0x100000001b3ull;
    }
    return mix64(h);
}

MinHashSig minhash(std::string_view normalized) {
    MinHashSig sig;
    sig.fill(~0ull);
    const Perms & p = perms();
    auto feed = [&](uint64_t x) {
        for (int i = 0; i < k_minhash_n; ++i) sig[i] = std::min(sig[i], mix64(x * p.a[i] + p.b[i]));
    };
    if (normalized.size() <= (size_t)k_shingle) {
        feed(hash64(normalized));
        return sig;
    }
    // Repeated shingles do not change a minimum, so no set is needed here.
    for (size_t i = 0; i + k_shingle <= normalized.size(); ++i) feed(hash64(normalized.substr(i, k_shingle)));
    return sig;
}

double minhash_similarity(const MinHashSig & a, const MinHashSig & b) {
    int eq = 0;
    for (int i = 0; i < k_minhash_n; ++i) eq += a[i] == b[i];
    return (double)eq / k_minhash_n;
}

double shingle_jaccard(std::string_view a, std::string_view b) {
    const auto sa = shingles(a), sb = shingles(b);
    size_t inter = 0;
    for (uint64_t x : sa) inter += sb.count(x);
    const size_t uni = sa.size() + sb.size() - inter;
    return uni ? (double)inter / (double)uni : 1.0;
}

bool NearDupIndex::is_near_duplicate_or_add(const MinHashSig & sig) {
    ++query_;
    std::array<uint64_t, k_minhash_bands> keys;
    for (int b = 0; b < k_minhash_bands; ++b) {
        uint64_t h = 0x84222325cbf29ce4ull + (uint64_t)b;
        for (int r = 0; r < k_minhash_rows; ++r) h = mix64(h ^ sig[b * k_minhash_rows + r]);
        keys[b] = h;
        auto it = buckets_[b].find(h);
        if (it == buckets_[b].end()) continue;
        for (uint32_t idx : it->second) {
            if (stamp_[idx] == query_) continue;
            stamp_[idx] = query_;
            if (minhash_similarity(sig, kept_[idx]) >= threshold_) return true;
        }
    }
    const uint32_t idx = (uint32_t)kept_.size();
    kept_.push_back(sig);
    stamp_.push_back(query_);
    for (int b = 0; b < k_minhash_bands; ++b) buckets_[b][keys[b]].push_back(idx);
    return false;
}

}  // namespace sy::dataset
