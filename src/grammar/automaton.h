// The compiled grammar: a set of byte DFAs, one per rule, that may call each other (a pushdown automaton).
// Tokenizer-independent and immutable; token masks are computed from it by mask_cache.h / matcher.h.
//
// Construction (automaton.cpp): every rule reference that is not part of a reference cycle is inlined, so
// a schema without recursive $ref becomes ONE DFA and matching is a table walk. Rules on a cycle (recursive
// $ref, "any JSON value") stay separate and are entered through call edges. Each rule's NFA is built by
// continuation passing (fragment = f(expression, continuation)), memoised, then determinised by subset
// construction. Call edges are kept as DFA symbols: a DFA state has byte transitions, a list of calls
// (callee start state, state to return to) and a final flag (the rule may end here).
//
// State 0 is the dead state: every transition of the dead state leads to itself, it has no calls and is not
// final. A byte that is not allowed moves to state 0.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "grammar/expr.h"

namespace sy::grammar {

struct Call {
    int32_t callee_start = 0;  // first DFA state of the called rule
    int32_t return_state = 0;  // state of the caller once the callee has ended
};

class Grammar {
public:
    static constexpr int32_t kDeadState = 0;

    // Throws sy::Error(ErrorKind_unsupported) on a left-recursive rule (a rule that can call itself before
    // consuming a byte) or an automaton over the size limit (ErrorKind_limit).
    static std::shared_ptr<const Grammar> build(const RuleSet & rules, std::string description);

    int32_t n_states() const { return (int32_t)final_.size(); }
    int32_t start() const { return start_; }
    int32_t next(int32_t state, uint8_t byte) const { return trans_[(size_t)state * 256 + byte]; }
    const int32_t * row(int32_t state) const { return &trans_[(size_t)state * 256]; }
    std::span<const Call> calls(int32_t state) const {
        return {calls_.data() + call_begin_[state], calls_.data() + call_begin_[state + 1]};
    }
    bool is_final(int32_t state) const { return final_[state] != 0; }
    bool in_entry(int32_t state) const { return entry_[state] != 0; }  // belongs to the entry rule
    bool has_calls() const { return !calls_.empty(); }
    uint16_t tag(int32_t state) const { return tag_[state]; }
    const std::vector<TagInfo> & tags() const { return tags_; }
    const std::string & description() const { return description_; }
    uint64_t fingerprint() const { return fingerprint_; }  // hash of the tables
    size_t memory_bytes() const;

private:
    Grammar() = default;

    int32_t start_ = 0;
    std::vector<int32_t> trans_;        // [n_states * 256]
    std::vector<uint32_t> call_begin_;  // [n_states + 1] CSR offsets into calls_
    std::vector<Call> calls_;
    std::vector<uint8_t> final_;        // [n_states]
    std::vector<uint8_t> entry_;        // [n_states]
    std::vector<uint16_t> tag_;         // [n_states]
    std::vector<TagInfo> tags_;
    std::string description_;
    uint64_t fingerprint_ = 0;

    friend class GrammarBuilder;
};

}  // namespace sy::grammar
