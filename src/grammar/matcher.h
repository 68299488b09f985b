// Token-level matching of a compiled grammar: the vocabulary table, the per-state token-mask cache, and the
// GrammarMatcher that an engine drives once per decoding step (fill_mask -> sample -> accept_token).
//
// Mask layout: bit (id % 32) of word (id / 32) is set when token `id` is allowed; mask_words(n_tokens)
// 32-bit words. Ids at or beyond the table's n_tokens (padding rows of an output matrix) are never allowed.
//
// Per-state cache (the xgrammar idea, our own implementation): for each DFA state s, walk the sorted
// vocabulary once from the single thread (s, unknown stack below) and classify every token as
//   accepted  — it ends inside the rule with a live thread: valid whatever the stack below is;
//   rejected  — every thread dies before the rule could end: invalid whatever the stack;
//   uncertain — it only survives by ending the rule and continuing in the caller: checked at run time
//               against the real stack.
// States of the entry rule have no stack below, so they have no uncertain tokens; a schema without
// recursive $ref compiles to the entry rule only, and its mask is one cached copy. The wide states inside
// strings and free text are not walked one by one: their loop is classified once per shape and vocabulary
// and each state only finishes the few tokens that leave it (state_mask.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "grammar/automaton.h"
#include "grammar/pda.h"

namespace sy::tok {
class Vocab;
}

namespace sy::grammar {

using TokenId = int32_t;

namespace detail {
struct ComponentClass;
struct ComponentIndex;
}  // namespace detail
class CopyConstraint;

inline int32_t mask_words(int32_t n_tokens) { return (n_tokens + 31) / 32; }
inline bool mask_test(const uint32_t * words, TokenId id) { return (words[id >> 5] >> (id & 31)) & 1u; }

// The vocabulary as the grammar sees it.
class TokenTable {
public:
    // bytes[id]: what token id decodes to. excluded[id] != 0: special/control token, never allowed except
    // when it is one of `stop_ids` (EOS/EOG), which are allowed exactly when the grammar can end.
    TokenTable(std::vector<std::string> bytes, std::vector<uint8_t> excluded, std::vector<TokenId> stop_ids);
    // Control, unknown and unused tokens are excluded; user-defined tokens match as their text; stop ids are
    // the vocabulary's end-of-generation tokens.
    static std::shared_ptr<const TokenTable> from_vocab(const tok::Vocab & vocab);

    int32_t n_tokens() const { return (int32_t)bytes_.size(); }
    const std::string & bytes(TokenId id) const { return bytes_.at(id); }
    bool is_excluded(TokenId id) const { return excluded_.at(id) != 0; }
    bool is_stop(TokenId id) const;
    const std::vector<TokenId> & stop_ids() const { return stop_ids_; }
    uint64_t fingerprint() const { return fingerprint_; }
    size_t max_token_len() const { return max_len_; }

    // Walk order for the mask precomputation: matchable tokens sorted by bytes, lcp[i] = length of the
    // common prefix of sorted[i-1] and sorted[i] (lcp[0] = 0), first_byte_begin[c]..[c+1] = the range of
    // sorted tokens starting with byte c.
    const std::vector<TokenId> & sorted() const { return sorted_; }
    const std::vector<uint16_t> & lcp() const { return lcp_; }
    const std::vector<uint32_t> & first_byte_begin() const { return first_byte_begin_; }
    // second_byte_begin()[c * 257 + k]: first index of the tokens starting with byte c whose second byte
    // is >= k (one-byte tokens c come first): a walk skips a dead second byte in one step.
    const std::vector<uint32_t> & second_byte_begin() const { return second_byte_begin_; }
    // The bytes of sorted()[i], from one contiguous buffer in walk order (cache-friendly walks).
    std::string_view sorted_bytes(size_t i) const {
        return std::string_view(sorted_text_).substr(sorted_off_[i], sorted_off_[i + 1] - sorted_off_[i]);
    }

    // The vocabulary classified for one loop-component shape (state_mask.h), computed on first request and
    // then shared by every grammar bound to this table (thread-safe; at most kMaxSharedShapes are kept).
    std::shared_ptr<const detail::ComponentClass> component_class(const std::vector<int32_t> & shape) const;
    static constexpr size_t kMaxSharedShapes = 256;

private:
    std::vector<std::string> bytes_;
    std::vector<uint8_t> excluded_;
    std::vector<TokenId> stop_ids_;
    std::vector<TokenId> sorted_;
    std::vector<uint16_t> lcp_;
    std::vector<uint32_t> first_byte_begin_;  // [257]
    std::vector<uint32_t> second_byte_begin_;  // [256 * 257]
    std::string sorted_text_;                 // bytes of sorted_ concatenated
    std::vector<uint32_t> sorted_off_;        // [sorted_.size() + 1] offsets into sorted_text_
    size_t max_len_ = 0;
    uint64_t fingerprint_ = 0;
    mutable std::mutex shapes_mu_;
    mutable std::vector<std::shared_ptr<const detail::ComponentClass>> shapes_;
};

// Tokens of one DFA state, stack below unknown. Accepted = base (if any) ∪ (dense ? words : accepted).
struct StateMask {
    bool dense = false;             // accepted stored as `words` (else as the id list `accepted`)
    std::vector<uint32_t> words;    // [mask_words(n_tokens)] when dense
    std::vector<TokenId> accepted;  // when !dense
    std::vector<TokenId> uncertain;
    int32_t n_accepted = 0;         // size of the whole accepted set
    // [mask_words(n_tokens)] shared by every state of the same loop-component shape (e.g. the inside of
    // every JSON string, see state_mask.h); null for states classified on their own.
    std::shared_ptr<const std::vector<uint32_t>> base;
};

// A grammar bound to a vocabulary, with its per-state mask cache; shared (thread-safe) by every matcher of
// that (grammar, vocabulary) pair. Binding classifies the vocabulary once per loop-component shape (the
// wide states inside strings and free text, state_mask.h), so that no state's first mask walks the whole
// vocabulary; every other state is classified on first use (a walk pruned to the tokens it can start).
class CompiledGrammar {
public:
    CompiledGrammar(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const TokenTable> tokens);
    ~CompiledGrammar();
    CompiledGrammar(const CompiledGrammar &) = delete;
    CompiledGrammar & operator=(const CompiledGrammar &) = delete;

    const Grammar & grammar() const { return *grammar_; }
    const TokenTable & tokens() const { return *tokens_; }
    const std::shared_ptr<const Grammar> & grammar_ptr() const { return grammar_; }
    const std::shared_ptr<const TokenTable> & tokens_ptr() const { return tokens_; }

    const StateMask & state_mask(int32_t state) const;  // computed on first use
    void precompute() const;                             // every state now (e.g. at load time)
    int32_t n_cached_states() const { return n_cached_.load(); }
    int32_t n_component_shapes() const;  // distinct loop-component shapes classified at bind time
    int32_t n_component_states() const;  // states whose masks derive from one of them

    // Copy strings (copy.h): whether any state is tagged TagKind_copy, and per state the fewest bytes to
    // read before one is read in a copy state (0 for copy states; 0 everywhere in a grammar with calls,
    // where a return may lead anywhere). Computed on first use.
    bool has_copy_tags() const;
    const std::vector<uint16_t> & copy_distances() const;

private:
    std::shared_ptr<const Grammar> grammar_;
    std::shared_ptr<const TokenTable> tokens_;
    std::unique_ptr<detail::ComponentIndex> components_;
    mutable std::unique_ptr<std::atomic<StateMask *>[]> masks_;
    mutable std::mutex mu_;
    mutable std::atomic<int32_t> n_cached_{0};
    mutable std::once_flag copy_once_;
    mutable std::vector<uint16_t> copy_dist_;
    bool has_copy_tags_ = false;
};

// Classifies every token for one state by walking the vocabulary from that state alone (no component
// sharing): the reference the cache is tested against. Exposed for tests and benchmarks.
StateMask compute_state_mask(const Grammar & g, const TokenTable & tokens, int32_t state);

class GrammarMatcher {
public:
    explicit GrammarMatcher(std::shared_ptr<const CompiledGrammar> compiled);
    // Convenience: binds grammar and vocabulary here, with a private mask cache.
    GrammarMatcher(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const TokenTable> tokens);

    // Writes mask_words(n_tokens) words. After termination nothing is allowed. Returns whether any token
    // other than a stop token is allowed (false: the output is complete, or nothing at all may follow).
    bool fill_mask(uint32_t * words);
    // Advances by one token; false (state unchanged) when the token is not allowed here.
    bool accept_token(TokenId id);
    // Advances by raw bytes (counts as one step for rollback); false (state unchanged) when not allowed.
    bool accept_bytes(std::string_view bytes);
    // Undoes the last n accept_token/accept_bytes steps (n <= n_steps()).
    void rollback(int32_t n);
    int32_t n_steps() const { return (int32_t)history_.size() - 1; }
    void reset();

    bool can_terminate() const;  // the output so far is a complete sentence of the grammar
    bool is_terminated() const { return history_.back().terminated; }  // a stop token was accepted
    // The bytes every continuation must start with (stops where there is a choice or the grammar may end).
    std::string forced_bytes(size_t max_bytes = 4096);

    // Tool-vs-text decision (tool grammars with tool_choice auto): whether this position is still open to
    // both a free-text answer and a tool call.
    bool at_decision() const;
    // Softmax of logits[0..n) over the tokens allowed by `words` (a mask from fill_mask), summed over the
    // tokens that commit to free text here (only text can follow them; stop tokens count as text). 0 when
    // nothing is allowed. See confidence.h for how the decision confidence uses it.
    double text_commit_mass(const float * logits, int32_t n, const uint32_t * words) const;

    // Copy strings (copy.h): from now on, the content of every copy-tagged string is restricted to spans of
    // the constraint's sources (null: no restriction). Resets the matcher. The constraint must be bound to
    // this grammar's vocabulary (same TokenTable).
    void set_copy_constraint(std::shared_ptr<const CopyConstraint> copy);
    // Whether the position is inside a copy string under the copy rule / inside one that fell back to the
    // plain grammar (no source could continue, see copy.h).
    // Copy strings of the named top-level arguments (TagInfo::arg) take their spans from these instead of
    // the request (a router's slot-tagger spans, whole: chat/slot_tagger.h). Copy integers never do. Call
    // after set_copy_constraint; resets the matcher.
    void set_field_copy_sources(std::map<std::string, std::shared_ptr<const CopyConstraint>> fields);
    bool has_copy_constraint() const { return copy_ != nullptr; }
    bool copy_active() const { return history_.back().copy.active && !history_.back().copy.free; }
    bool copy_fallback() const { return history_.back().copy.active && history_.back().copy.free; }

    // Tags of the positions the last accepted step's bytes were read in (one per byte), for confidence.
    const std::vector<uint16_t> & last_step_tags() const { return last_tags_; }
    const CompiledGrammar & compiled() const { return *compiled_; }

private:
public:
    // The copy rule's state at a position: inside a copy string (active), the live source positions, whether
    // content was read, and whether the string fell back to the plain grammar (free).
    struct CopyState {
        bool active = false;
        bool free = false;
        bool any_read = false;
        bool integer = false;  // an integer's digits: any non-word byte closes the span (a string: '"')
        const CopyConstraint * cc = nullptr;  // whose text `live` indexes (set while active)
        std::vector<uint32_t> live;
    };

private:
    struct Position {
        std::vector<detail::Thread> threads;
        bool terminated = false;
        CopyState copy;
    };
    bool advance(const std::vector<detail::Thread> & from, std::string_view bytes, std::vector<detail::Thread> & to,
                 std::vector<uint16_t> * tags, std::vector<uint16_t> * in_copy = nullptr);
    // 0 outside copy fields, else the copy tag of the position (its TagInfo says string or integer, and
    // which argument).
    uint16_t in_copy(const std::vector<detail::Thread> & threads) const;
    // Applies the copy rule to `bytes` read with per-byte in_copy flags, ending in a position whose in_copy
    // is `end_in_copy`. strict: false on a byte that breaks the rule; else such a string becomes free.
    bool copy_advance(CopyState & st, std::string_view bytes, const std::vector<uint16_t> & in_copy, uint16_t end_in_copy,
                      bool strict) const;
    // Whether the token keeps the copy rule when read from the current position (grammar acceptance is
    // assumed, not checked).
    bool copy_token_ok(const std::string & bytes);
    void copy_filter(uint32_t * words);
    bool token_alive(const detail::Thread & t, const std::string & bytes);
    uint16_t position_tag(const std::vector<detail::Thread> & threads) const;
    bool commits_to_text(TokenId id) const;

    std::shared_ptr<const CompiledGrammar> compiled_;
    std::shared_ptr<const CopyConstraint> copy_;
    std::map<std::string, std::shared_ptr<const CopyConstraint>> field_copy_;
    detail::FrameArena arena_;
    std::vector<Position> history_;  // history_[0] = start
    std::vector<uint16_t> last_tags_;
    std::vector<detail::Thread> scratch_a_, scratch_b_;
    std::vector<uint32_t> copy_words_;
    std::vector<TokenId> copy_crossing_;
};

// Jump-forward. Encoder: text -> token ids of the engine's tokenizer (no BOS/EOS, no leading space).
// Tokenizes forced_bytes(), drops the LAST token (it may merge with the bytes the model writes next; the
// model re-generates it under the mask, where longer merged tokens stay allowed), checks that the kept
// tokens decode exactly to a prefix of the forced bytes, accepts them and returns them. Returns nothing
// when the stretch is shorter than two tokens.
using Encoder = std::function<std::vector<TokenId>(std::string_view)>;
std::vector<TokenId> jump_forward(GrammarMatcher & m, const Encoder & encode);

// Logits helpers. n = number of logits (may exceed the table's n_tokens: the extra ids are disallowed).
void apply_mask(float * logits, int32_t n, const uint32_t * words, int32_t n_words);
// probs = softmax over the allowed tokens only (disallowed get 0); returns false if nothing is allowed.
bool masked_softmax(const float * logits, int32_t n, const uint32_t * words, int32_t n_words, float * probs);

}  // namespace sy::grammar
