#include "providers/grounded_constraint.h"

#include <algorithm>

namespace sy::providers {

GroundingVocab::GroundingVocab(const tok::Tokenizer & tk) : by_first_byte(256), tokenizer(&tk) {
    const tok::Vocab & v = tk.vocab();
    n_vocab = v.n_tokens();
    plain_mask.assign(((size_t)n_vocab + 31) / 32, 0u);
    for (int32_t id = 0; id < n_vocab; ++id) {
        if (v.is_control(id)) continue;
        const std::string & b = tk.token_piece(id);
        if (b.empty()) continue;
        by_first_byte[(uint8_t)b[0]].push_back(id);
        bool has_special = false;
        for (char c : b) has_special = has_special || chat::grounded_only_byte((uint8_t)c);
        if (has_special) {
            special.push_back(id);
        } else {
            plain_mask[(size_t)id >> 5] |= 1u << (id & 31);
        }
    }
}

GroundedConstraint::GroundedConstraint(std::shared_ptr<const GroundingVocab> vocab, std::vector<std::string> values,
                                       const std::vector<int32_t> & uses)
    : vocab_(std::move(vocab)), rule_(std::move(values)), state_(rule_.start()) {
    remaining_.assign(rule_.values().size(), -1);
    for (size_t i = 0; i < uses.size() && i < remaining_.size(); ++i)
        if (uses[i] > 0) remaining_[i] = uses[i];
}

bool GroundedConstraint::allows(int32_t token) {
    probe_.free = state_.free;
    probe_.after_copy = state_.after_copy;
    probe_.after_hash = state_.after_hash;
    probe_.live.assign(state_.live.begin(), state_.live.end());
    return rule_.advance(probe_, vocab_->tokenizer->token_piece(token), &remaining_);
}

void GroundedConstraint::fill_mask(uint32_t * words, int32_t n_vocab) {
    const size_t n_words = ((size_t)n_vocab + 31) / 32;
    auto allow_all = [&] {
        for (size_t i = 0; i < n_words; ++i) words[i] = ~0u;
    };
    if (relaxed_) return allow_all();
    const int32_t n = std::min(n_vocab, vocab_->n_vocab);
    bool any = false;
    auto set = [&](int32_t id) {
        words[(size_t)id >> 5] |= 1u << (id & 31);
        any = true;
    };
    if (state_.free) {
        // A token without a digit or quote keeps the text free; one with them must pass the rule.
        for (size_t i = 0; i < std::min(n_words, vocab_->plain_mask.size()); ++i) {
            words[i] |= vocab_->plain_mask[i];
            any = any || vocab_->plain_mask[i] != 0;
        }
        for (int32_t id : vocab_->special)
            if (id < n && allows(id)) set(id);
    }
    // Tokens that continue a copy under way (free tokens among them are already set).
    bool first_seen[256] = {};
    for (uint32_t p : state_.live) {
        const std::string & value = rule_.values()[p >> 16];
        const uint8_t c = (uint8_t)value[p & 0xFFFF];
        if (first_seen[c]) continue;
        first_seen[c] = true;
        for (int32_t id : vocab_->by_first_byte[c])
            if (id < n && !(words[(size_t)id >> 5] >> (id & 31) & 1u) && allows(id)) set(id);
    }
    if (!any && !can_stop()) {
        relaxed_ = true;  // no token can go on: the reply continues unconstrained
        allow_all();
    }
}

void GroundedConstraint::accept(int32_t token, float prob) {
    (void)prob;
    const tok::Tokenizer & tk = *vocab_->tokenizer;
    if (token < 0 || token >= vocab_->n_vocab || tk.vocab().is_control(token)) return;
    const std::string & b = tk.token_piece(token);
    text_ += b;
    completed_.clear();
    if (!relaxed_ && !rule_.advance(state_, b, &remaining_, &completed_)) relaxed_ = true;
    std::sort(completed_.begin(), completed_.end());
    completed_.erase(std::unique(completed_.begin(), completed_.end()), completed_.end());
    for (uint32_t v : completed_)
        if (v < remaining_.size() && remaining_[v] > 0) --remaining_[v];
}

}  // namespace sy::providers
