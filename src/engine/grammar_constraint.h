// Grammar-constrained decoding for the engine: a TokenConstraint over a grammar::GrammarMatcher, with
// jump-forward (forced stretches appended without sampling) and confidence tracking from the
// post-constraint (renormalised) probability of every sampled token and, at the tool-vs-text decision,
// of the whole decision (grammar/confidence.h).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <optional>
#include <vector>

#include "engine/generate.h"
#include "grammar/copy.h"
#include "grammar/grammar.h"

namespace sy::engine {

class GrammarConstraint : public TokenConstraint {
public:
    // copy: the request's copy rule for the grammar's copy strings (grammar/copy.h), or null. Jump-forward
    // never forces bytes inside a copy string: the string is free in the grammar, so no byte is forced there.
    GrammarConstraint(std::shared_ptr<const grammar::CompiledGrammar> compiled, const tok::Tokenizer & tokenizer,
                      bool jump_forward = true, std::shared_ptr<const grammar::CopyConstraint> copy = nullptr);

    void fill_mask(uint32_t * words, int32_t n_vocab) override;
    // At a tool-vs-text decision position: the post-constraint mass committing to text (confidence.h).
    void observe_distribution(const float * logits, int32_t n_vocab) override;
    void accept(int32_t token, float prob) override;
    bool finished() const override;
    bool can_stop() const override { return matcher_.can_terminate(); }
    std::vector<int32_t> forced_tokens() override;

    // Copy strings of these arguments copy one of the given spans whole (a router's slot tagger, see
    // chat/slot_tagger.h); fields without spans keep the request's copy rule. Before the first step.
    void set_field_copy_spans(const std::map<std::string, std::vector<std::string>> & spans);

    grammar::OutputConfidence confidence() const { return tracker_.result(); }
    const grammar::GrammarMatcher & matcher() const { return matcher_; }

private:
    std::shared_ptr<const grammar::CompiledGrammar> compiled_;
    const tok::Tokenizer & tokenizer_;
    grammar::GrammarMatcher matcher_;
    grammar::ConfidenceTracker tracker_;
    bool jump_forward_;
    bool only_stop_left_ = false;
    std::vector<uint32_t> decision_mask_;
    std::optional<double> pending_text_mass_;
};

// The copy rule over `sources` for a bound grammar; null when the grammar has no copy strings.
std::shared_ptr<const grammar::CopyConstraint> make_copy_constraint(const grammar::CompiledGrammar & compiled,
                                                                    const std::vector<std::string> & sources);

// Binds a grammar to a model's vocabulary (the token table is built once per tokenizer and reused).
std::shared_ptr<const grammar::CompiledGrammar> bind_grammar(std::shared_ptr<const grammar::Grammar> g,
                                                             const tok::Tokenizer & tokenizer);

}  // namespace sy::engine
