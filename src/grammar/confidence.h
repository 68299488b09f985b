// Confidence of a constrained generation, from post-constraint probabilities (the model's distribution
// renormalised over the tokens the grammar allows, see masked_softmax in matcher.h).
//
// The engine feeds one entry per accepted step: the token, its renormalised probability, and the matcher's
// last_step_tags() (the grammar tag of each byte's position). Steps accepted without a model call
// (jump-forward) are fed with probability 1: they change no product but mark call boundaries.
// A step is attributed to the first byte whose tag is not structure: the decision "text or tool call",
// a tool name, or argument k of the current call. Text bytes belong to no call.
//
// Aggregation (documented contract):
//   part confidence  = product of the probabilities of the steps attributed to it (the probability the
//                      model gave that part, given the grammar);
//   call confidence  = minimum over its parts: the decision, its name, each of its arguments.
// With tool_choice "required" or a forced function there is no decision step and the decision is 1.
//
// The decision (tool_choice auto). At a position still open to both a free-text answer and a tool call,
// the engine passes the logits; the matcher sums the post-constraint probabilities of the allowed tokens
// that commit to text (after them only text can follow; a stop token is an empty or finished answer) and
// hands that mass T to observe_decision() before the step is fed. The rest, 1 - T, is the mass of the
// tokens that commit to a call or are still a prefix of the call marker (`<tool_call>` before `\n{"name"`).
// Over the decision steps i of the output (usually one, a few when the model writes a marker prefix):
//   p_tool_call = prod_i (1 - T_i)      (the model never committed to text on the way)
//   decision    = p_tool_call for a call, 1 - p_tool_call for a text answer.
// Without observed masses (an engine that does not pass logits) the decision falls back to the product
// of the chosen tokens' probabilities.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "grammar/automaton.h"

namespace sy::grammar {

struct ArgumentConfidence {
    std::string name;
    double confidence = 1.0;
    int32_t n_steps = 0;
};

struct CallConfidence {
    double decision = 1.0;
    double name = 1.0;
    std::vector<ArgumentConfidence> arguments;  // in the order they were written
    double overall = 1.0;                       // min(decision, name, arguments...)
};

struct OutputConfidence {
    bool is_tool_call = false;
    double decision = 1.0;             // probability of the text/tool decision as taken
    std::optional<double> p_tool_call;  // post-constraint probability of "tool call" (observed masses only)
    std::vector<CallConfidence> calls;
};

class ConfidenceTracker {
public:
    explicit ConfidenceTracker(const Grammar & grammar) : tags_(grammar.tags()) {}

    // Before feeding a step taken at a decision position: the mass of the allowed tokens committing to
    // text there (GrammarMatcher::text_commit_mass). Applies to the next feed() only.
    void observe_decision(double text_mass) { pending_text_mass_ = text_mass; }
    void feed(int32_t token, float prob, std::span<const uint16_t> step_tags);
    OutputConfidence result() const;
    void reset();

private:
    std::vector<TagInfo> tags_;
    double decision_ = 1.0;
    bool is_tool_call_ = false;
    std::vector<CallConfidence> calls_;
    TagKind prev_kind_ = TagKind::TagKind_structure;
    std::optional<double> pending_text_mass_;
    double p_tool_call_ = 1.0;
    bool decision_observed_ = false;
};

}  // namespace sy::grammar
