// Duplicate detection for the dataset builder.
//   normalize_text: lower-case ASCII, every run of non-alphanumeric bytes → one space, trimmed. Exact
//                   duplicates are examples whose normalised text is equal.
//   MinHash:        128 hash functions over the set of 5-byte shingles of the normalised text; the share
//                   of equal slots between two signatures estimates their Jaccard similarity.
//   NearDupIndex:   LSH with 16 bands × 8 rows (a pair at J = 0.85 shares a band with probability 0.994, a
//                   pair at J = 0.5 with 0.06, so unrelated texts rarely become candidates); an example is a
//                   near duplicate of a kept one when they share a band and their estimated Jaccard ≥
//                   threshold (default 0.85, docs/dataset.md). Each candidate is compared once.
// Worked example: "what's the weather in Paris?" and "Whats the weather in paris" normalise to
// "what s the weather in paris" / "whats the weather in paris": 23 and 22 shingles, 18 shared → J = 18/27
// ≈ 0.67 (both kept at 0.85); "…in Paris" vs "…in London" share fewer still.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sy::dataset {

std::string normalize_text(std::string_view s);
uint64_t hash64(std::string_view s, uint64_t seed = 0);  // FNV-1a 64 then a final mix

constexpr int k_minhash_n = 128;
constexpr int k_minhash_bands = 16;
constexpr int k_minhash_rows = k_minhash_n / k_minhash_bands;
constexpr int k_shingle = 5;

using MinHashSig = std::array<uint64_t, k_minhash_n>;
MinHashSig minhash(std::string_view normalized);
double minhash_similarity(const MinHashSig & a, const MinHashSig & b);
// Exact Jaccard of the shingle sets (the estimate's oracle in tests).
double shingle_jaccard(std::string_view a, std::string_view b);

class NearDupIndex {
public:
    explicit NearDupIndex(double threshold = 0.85) : threshold_(threshold) {}
    // True when sig is within threshold of an example already added (it is then NOT added).
    bool is_near_duplicate_or_add(const MinHashSig & sig);

private:
    double threshold_;
    std::vector<MinHashSig> kept_;
    std::vector<uint32_t> stamp_;  // per kept example: the query number that last compared it
    uint32_t query_ = 0;
    std::array<std::unordered_map<uint64_t, std::vector<uint32_t>>, k_minhash_bands> buckets_;
};

}  // namespace sy::dataset
