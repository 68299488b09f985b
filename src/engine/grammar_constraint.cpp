// GrammarConstraint: drives a grammar matcher from engine::generate (masks, jump-forward, confidence).
#include "engine/grammar_constraint.h"

#include <map>
#include <mutex>

namespace sy::engine {

std::shared_ptr<const grammar::CompiledGrammar> bind_grammar(std::shared_ptr<const grammar::Grammar> g,
                                                             const tok::Tokenizer & tokenizer) {
    // One token table per tokenizer object, built on first use (a 150k vocabulary takes milliseconds).
    static std::mutex mu;
    static std::map<const tok::Tokenizer *, std::shared_ptr<const grammar::TokenTable>> tables;
    std::shared_ptr<const grammar::TokenTable> table;
    {
        std::lock_guard<std::mutex> lock(mu);
        auto & slot = tables[&tokenizer];
        if (!slot) slot = grammar::TokenTable::from_vocab(tokenizer.vocab());
        table = slot;
    }
    return std::make_shared<grammar::CompiledGrammar>(std::move(g), std::move(table));
}

GrammarConstraint::GrammarConstraint(std::shared_ptr<const grammar::CompiledGrammar> compiled,
                                     const tok::Tokenizer & tokenizer, bool jump_forward,
                                     std::shared_ptr<const grammar::CopyConstraint> copy)
    : compiled_(std::move(compiled)),
      tokenizer_(tokenizer),
      matcher_(compiled_),
      tracker_(compiled_->grammar()),
      jump_forward_(jump_forward) {
    if (copy) matcher_.set_copy_constraint(std::move(copy));
}

std::shared_ptr<const grammar::CopyConstraint> make_copy_constraint(const grammar::CompiledGrammar & compiled,
                                                                    const std::vector<std::string> & sources) {
    if (!compiled.has_copy_tags()) return nullptr;
    return std::make_shared<grammar::CopyConstraint>(compiled.tokens_ptr(), sources);
}

void GrammarConstraint::set_field_copy_spans(const std::map<std::string, std::vector<std::string>> & spans) {
    if (!matcher_.has_copy_constraint()) return;
    std::map<std::string, std::shared_ptr<const grammar::CopyConstraint>> fields;
    for (const auto & [field, texts] : spans)
        if (!texts.empty()) fields[field] = std::make_shared<grammar::CopyConstraint>(compiled_->tokens_ptr(), texts, true);
    if (!fields.empty()) matcher_.set_field_copy_sources(std::move(fields));
}

void GrammarConstraint::fill_mask(uint32_t * words, int32_t n_vocab) {
    // Padding rows of the output matrix beyond the vocabulary stay disallowed (fill_mask writes the
    // table's words; the caller sized and zeroed the buffer for n_vocab).
    (void)n_vocab;
    // When the grammar is complete and nothing but a stop token may follow, generation is over.
    const bool any_token = matcher_.fill_mask(words);
    only_stop_left_ = !any_token && matcher_.can_terminate();
}

void GrammarConstraint::observe_distribution(const float * logits, int32_t n_vocab) {
    pending_text_mass_.reset();
    if (!matcher_.at_decision()) return;
    decision_mask_.assign(grammar::mask_words(compiled_->tokens().n_tokens()), 0u);
    matcher_.fill_mask(decision_mask_.data());
    pending_text_mass_ = matcher_.text_commit_mass(logits, n_vocab, decision_mask_.data());
}

void GrammarConstraint::accept(int32_t token, float prob) {
    if (!matcher_.accept_token(token))
        throw Error(ErrorKind::ErrorKind_internal, "grammar rejected a token its own mask allowed");
    if (pending_text_mass_) tracker_.observe_decision(*pending_text_mass_);
    pending_text_mass_.reset();
    tracker_.feed(token, prob, matcher_.last_step_tags());
}

bool GrammarConstraint::finished() const { return matcher_.is_terminated() || only_stop_left_; }

namespace {

// Whether some matchable token's bytes start with `p` and are longer than it.
bool has_longer_token(const grammar::TokenTable & tt, std::string_view p) {
    const size_t n = tt.sorted().size();
    size_t lo = 0, hi = n;
    while (lo < hi) {  // first token >= p
        const size_t m = lo + (hi - lo) / 2;
        if (tt.sorted_bytes(m) < p) lo = m + 1;
        else hi = m;
    }
    for (size_t i = lo; i < n; ++i) {
        const std::string_view b = tt.sorted_bytes(i);
        if (b.substr(0, p.size()) != p) return false;
        if (b.size() > p.size()) return true;
    }
    return false;
}

}  // namespace

std::vector<int32_t> GrammarConstraint::forced_tokens() {
    // Jump-forward (the rule of grammar::jump_forward, done here so each forced token is fed to the
    // confidence tracker with its own byte tags): tokenize the forced bytes, drop the last token (it may
    // merge with what the model writes next), keep the rest only if they spell a prefix of the forced
    // bytes exactly, and accept them with probability 1.
    if (!jump_forward_) return {};
    const std::string forced = matcher_.forced_bytes();
    if (forced.empty()) return {};
    tok::EncodeOptions eo;  // plain text: no BOS, no special parsing
    std::vector<int32_t> ids = tokenizer_.encode(forced, eo);
    if (ids.size() < 2) return {};
    ids.pop_back();
    const grammar::TokenTable & tt = compiled_->tokens();
    std::vector<size_t> ends;  // byte offset after each kept token
    size_t off = 0;
    for (int32_t id : ids) {
        if (id < 0 || id >= tt.n_tokens() || tt.is_excluded(id)) return {};
        const std::string & b = tt.bytes(id);
        if (forced.compare(off, b.size(), b) != 0) return {};
        off += b.size();
        ends.push_back(off);
    }
    // Dropping the last token is not always enough: a kept token may itself merge, in the text the model
    // was trained on, with the rest of the forced bytes and what follows them (forced `":` + `{` while
    // training wrote `":{"` as one token, because the next byte `"` is not forced). Such a split never
    // occurs in training and derails the model, so drop kept tokens while the vocabulary has a longer token
    // that starts with the kept token's bytes and all forced bytes after it.
    while (!ids.empty()) {
        const size_t from = ids.size() > 1 ? ends[ids.size() - 2] : 0;
        if (!has_longer_token(tt, std::string_view(forced).substr(from))) break;
        ids.pop_back();
        ends.pop_back();
    }
    if (ids.empty()) return {};
    for (size_t i = 0; i < ids.size(); ++i) {
        if (!matcher_.accept_token(ids[i])) {
            matcher_.rollback((int32_t)i);
            return {};
        }
        tracker_.feed(ids[i], 1.0f, matcher_.last_step_tags());
    }
    return ids;
}

}  // namespace sy::engine
