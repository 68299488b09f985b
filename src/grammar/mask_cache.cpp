// The vocabulary table and the per-state token classification (accepted / rejected / uncertain); see
// matcher.h for the idea. The walk visits the tokens in byte order and reuses the parse of the common
// prefix with the previous token, so its cost is the size of the vocabulary trie, and a dead prefix skips
// its whole subtree.
#include <algorithm>
#include <numeric>

#include "common/error.h"
#include "grammar/matcher.h"
#include "tokenizer/tokenizer.h"

namespace sy::grammar {

using detail::FrameArena;
using detail::Thread;

TokenTable::TokenTable(std::vector<std::string> bytes, std::vector<uint8_t> excluded, std::vector<TokenId> stop_ids)
    : bytes_(std::move(bytes)), excluded_(std::move(excluded)), stop_ids_(std::move(stop_ids)) {
    if (excluded_.size() != bytes_.size())
        throw Error(ErrorKind::ErrorKind_invalid_argument, "token table: excluded flags and token count differ");
    std::sort(stop_ids_.begin(), stop_ids_.end());
    stop_ids_.erase(std::unique(stop_ids_.begin(), stop_ids_.end()), stop_ids_.end());
    for (TokenId id : stop_ids_)
        if (id < 0 || id >= n_tokens())
            throw Error(ErrorKind::ErrorKind_invalid_argument, "token table: stop id " + std::to_string(id) + " out of range");
    for (TokenId id = 0; id < n_tokens(); ++id)
        if (!excluded_[id] && !bytes_[id].empty() && !is_stop(id)) sorted_.push_back(id);
    std::sort(sorted_.begin(), sorted_.end(), [&](TokenId a, TokenId b) {
        return bytes_[a] != bytes_[b] ? bytes_[a] < bytes_[b] : a < b;
    });
    lcp_.assign(sorted_.size(), 0);
    first_byte_begin_.assign(257, 0);
    for (size_t i = 0; i < sorted_.size(); ++i) {
        const std::string & cur = bytes_[sorted_[i]];
        max_len_ = std::max(max_len_, cur.size());
        if (i > 0) {
            const std::string & prev = bytes_[sorted_[i - 1]];
            size_t n = std::min(prev.size(), cur.size()), k = 0;
            while (k < n && prev[k] == cur[k]) ++k;
            lcp_[i] = (uint16_t)std::min<size_t>(k, 65535);
        }
        first_byte_begin_[(uint8_t)cur[0] + 1] = (uint32_t)i + 1;
    }
    for (int c = 1; c <= 256; ++c) first_byte_begin_[c] = std::max(first_byte_begin_[c], first_byte_begin_[c - 1]);
    uint64_t h = 1469598103934665603ull;
    for (TokenId id = 0; id < n_tokens(); ++id) {
        for (char c : bytes_[id]) h = (h ^ (uint8_t)c) * 1099511628211ull;
        h = (h ^ (0x100u + excluded_[id])) * 1099511628211ull;
    }
    for (TokenId id : stop_ids_) h = (h ^ (uint32_t)id ^ 0x5000000u) * 1099511628211ull;
    fingerprint_ = h;
}

bool TokenTable::is_stop(TokenId id) const { return std::binary_search(stop_ids_.begin(), stop_ids_.end(), id); }

std::shared_ptr<const TokenTable> TokenTable::from_vocab(const tok::Vocab & v) {
    int32_t n = v.n_tokens();
    std::vector<std::string> bytes(n);
    std::vector<uint8_t> excluded(n, 0);
    for (TokenId id = 0; id < n; ++id) {
        bytes[id] = v.token_bytes(id);
        switch (v.token_type(id)) {
        case tok::TokenType::TokenType_control:
        case tok::TokenType::TokenType_unknown:
        case tok::TokenType::TokenType_unused: excluded[id] = 1; break;
        default: break;
        }
    }
    std::vector<TokenId> stops = v.eog_ids_;
    for (auto id : {v.special().eos, v.special().eot, v.special().eom})
        if (id && *id >= 0 && *id < n) stops.push_back(*id);
    for (TokenId id : stops) excluded[id] = 1;
    return std::make_shared<TokenTable>(std::move(bytes), std::move(excluded), std::move(stops));
}

StateMask compute_state_mask(const Grammar & g, const TokenTable & tokens, int32_t state) {
    enum Verdict : uint8_t { kReject, kAccept, kUncertain };
    const auto & sorted = tokens.sorted();
    const auto & lcp = tokens.lcp();
    const auto & fbb = tokens.first_byte_begin();
    size_t max_len = tokens.max_token_len();

    FrameArena fa;
    std::vector<std::vector<Thread>> level(max_len + 1);
    std::vector<uint8_t> esc(max_len + 1, 0);
    std::vector<size_t> arena_at(max_len + 1, 0);
    // A pop past the bottom before any byte is not an escape: the matcher's closed thread set already holds
    // the popped thread, whose own cache entry covers it.
    bool e0 = false;
    detail::add_closed(g, fa, level[0], Thread{state, 0}, e0);
    esc[0] = 0;
    arena_at[0] = fa.size();

    StateMask out;
    std::vector<TokenId> accepted;
    auto emit = [&](TokenId id, Verdict v) {
        if (v == kAccept) accepted.push_back(id);
        else if (v == kUncertain) out.uncertain.push_back(id);
    };

    for (int c = 0; c < 256; ++c) {
        size_t begin = fbb[c], end = fbb[c + 1];
        if (begin == end) continue;
        fa.truncate(arena_at[0]);
        bool e = false;
        detail::step(g, fa, level[0], (uint8_t)c, level[1], e);
        esc[1] = esc[0] || e;
        arena_at[1] = fa.size();
        if (level[1].empty()) {
            if (esc[1])
                for (size_t i = begin; i < end; ++i) emit(sorted[i], kUncertain);
            continue;
        }
        size_t computed = 1;
        for (size_t i = begin; i < end; ++i) {
            const std::string & b = tokens.bytes(sorted[i]);
            size_t d = i == begin ? 1 : std::max<size_t>(1, std::min<size_t>(lcp[i], computed));
            fa.truncate(arena_at[d]);
            while (d < b.size() && !level[d].empty()) {
                bool ed = false;
                detail::step(g, fa, level[d], (uint8_t)b[d], level[d + 1], ed);
                esc[d + 1] = esc[d] || ed;
                arena_at[d + 1] = fa.size();
                ++d;
            }
            computed = d;
            if (!level[d].empty()) {
                emit(sorted[i], kAccept);
                continue;
            }
            // Dead at depth d: so is every following token sharing these d bytes.
            Verdict v = esc[d] ? kUncertain : kReject;
            emit(sorted[i], v);
            while (i + 1 < end && lcp[i + 1] >= d) emit(sorted[++i], v);
        }
    }

    out.n_accepted = (int32_t)accepted.size();
    int32_t n_words = mask_words(tokens.n_tokens());
    if ((int32_t)accepted.size() * 4 > n_words) {
        out.dense = true;
        out.words.assign(n_words, 0);
        for (TokenId id : accepted) out.words[id >> 5] |= 1u << (id & 31);
    } else {
        out.accepted = std::move(accepted);
    }
    return out;
}

CompiledGrammar::CompiledGrammar(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const TokenTable> tokens)
    : grammar_(std::move(grammar)), tokens_(std::move(tokens)) {
    SY_ASSERT(grammar_ && tokens_);
    int32_t n = grammar_->n_states();
    masks_.reset(new std::atomic<StateMask *>[n]);
    for (int32_t s = 0; s < n; ++s) masks_[s].store(nullptr);
}

CompiledGrammar::~CompiledGrammar() {
    for (int32_t s = 0; s < grammar_->n_states(); ++s) delete masks_[s].load();
}

const StateMask & CompiledGrammar::state_mask(int32_t state) const {
    SY_ASSERT(state >= 0 && state < grammar_->n_states());
    if (StateMask * m = masks_[state].load(std::memory_order_acquire)) return *m;
    std::lock_guard<std::mutex> lock(mu_);
    if (StateMask * m = masks_[state].load(std::memory_order_relaxed)) return *m;
    auto * m = new StateMask(compute_state_mask(*grammar_, *tokens_, state));
    masks_[state].store(m, std::memory_order_release);
    n_cached_.fetch_add(1);
    return *m;
}

void CompiledGrammar::precompute() const {
    for (int32_t s = 1; s < grammar_->n_states(); ++s) state_mask(s);
}

}  // namespace sy::grammar
