// Decoding a reply under the grounded-reply rule (chat/grounding.h): every digit and double quote the
// model writes belongs to a value of the tool result it answers, copied whole. A token constraint for
// the engine, enabled per model (`grounded_replies` in the serve config, `--grounded-replies` for
// `switchyard eval`) and applied to text answers of requests whose last message is a tool result.
//
// Per step, the tokens whose bytes keep a live position are allowed: with the automaton between copies,
// every token without a digit or '"' (precomputed once per vocabulary) plus those with one that pass;
// inside a copy, only tokens starting with a byte some live copy continues with. Control tokens are never
// allowed (the decoder adds end-of-generation when can_stop()). Should no token be allowed — the model's
// vocabulary cannot spell a value's next byte — or an accepted token break the rule, the constraint gives
// up for the rest of the reply (relaxed()): decoding never dead-ends.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "chat/grounding.h"
#include "engine/generate.h"
#include "tokenizer/tokenizer.h"

namespace sy::providers {

// What the constraint needs of a vocabulary, built once per model.
struct GroundingVocab {
    explicit GroundingVocab(const tok::Tokenizer & tokenizer);
    int32_t n_vocab = 0;
    std::vector<uint32_t> plain_mask;       // tokens with bytes, none of them a digit or '"', not control
    std::vector<int32_t> special;           // tokens (not control) with a digit or '"'
    std::vector<std::vector<int32_t>> by_first_byte;  // non-control tokens with bytes, by their first byte
    const tok::Tokenizer * tokenizer = nullptr;
};

class GroundedConstraint : public engine::TokenConstraint {
public:
    // uses: per value, how often a reply may copy it (0: any number; chat::reply_values), or empty.
    GroundedConstraint(std::shared_ptr<const GroundingVocab> vocab, std::vector<std::string> values,
                       const std::vector<int32_t> & uses = {});

    void fill_mask(uint32_t * words, int32_t n_vocab) override;
    void accept(int32_t token, float prob) override;
    bool finished() const override { return false; }
    bool can_stop() const override { return relaxed_ || chat::GroundedText::can_end(state_); }

    bool relaxed() const { return relaxed_; }
    const std::string & text() const { return text_; }

private:
    bool allows(int32_t token);

    std::shared_ptr<const GroundingVocab> vocab_;
    chat::GroundedText rule_;
    chat::GroundedText::State state_, probe_;
    std::vector<int32_t> remaining_;  // per value, copies left (< 0: no limit)
    std::vector<uint32_t> completed_;
    bool relaxed_ = false;
    std::string text_;  // accepted so far
};

}  // namespace sy::providers
