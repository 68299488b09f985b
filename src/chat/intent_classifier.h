// The intent classifier of a from-scratch router: multinomial logistic regression over hashed word and
// character features of the request, choosing which tool the next assistant turn calls, or none.
//
// Why it exists: a router network of ~1M parameters trained for minutes on CPU mixes up tools whose
// requests share a template ("Remove #60" -> complete_task, "Done with #4" -> delete_task) although the
// deciding word is in its training data hundreds of times (docs/training.md, R7). A linear model over the
// words themselves learns that in a second and generalises to phrasings it never saw. At decoding time
// the classifier's choice becomes the request's tool choice (that function, or a text answer), and the
// network writes the arguments; its probability is the decision's confidence.
//
// Stored in the router's GGUF as metadata (switchyard.router.intent.*) beside the slot tagger.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chat/chat_format.h"
#include "gguf/gguf.h"
#include "grammar/confidence.h"

namespace sy::chat {

struct IntentOptions {
    int epochs = 10;
    uint32_t n_buckets = 1u << 16;  // hashed feature rows
    float learning_rate = 0.05f;    // AdaGrad
    float l2 = 1e-4f;               // on the rows an example touches
    float word_dropout = 0.2f;      // each epoch drops this share of the request's words (augmentation)
    uint64_t seed = 0;
};

struct IntentDecision {
    std::string tool;  // empty: answer in text
    double probability = 0;
};

// The shortlist's mass: the classifier's top tools are offered until they hold this share of its
// probability (docs/training.md, R7).
constexpr double kIntentShortlistMass = 0.9;

// The entries of an OpenAI tools array whose function is named in `names`, in the array's order.
ojson tools_named(const ojson & tools, const std::vector<IntentDecision> & names);

// Folds the classifier into a routed answer's confidence: each call's name confidence becomes at most the
// shortlist share of the tool it called (`called`, in call order), and its overall confidence the minimum
// again (grammar/confidence.h).
void temper_confidence(grammar::OutputConfidence & c, const std::vector<std::string> & called,
                       const std::vector<IntentDecision> & shortlist);

class IntentClassifier {
public:
    // Learns from every assistant turn: its first tool call's name, or "" for a text answer, given the
    // conversation before it. Throws when the data has no assistant turn or no tool call at all.
    static IntentClassifier train(const std::vector<Conversation> & convs, const IntentOptions & opt = {});

    // Probabilities over labels() for the assistant turn that follows `conv`.
    std::vector<double> predict(const Conversation & conv) const;

    // The most probable choice among the tools of `conv.tools` (and a text answer when allow_text), with
    // its probability renormalised over those choices. nullopt when the request offers a tool the
    // classifier never saw (its choice would leave that tool out) or offers none.
    std::optional<IntentDecision> decide(const Conversation & conv, bool allow_text) const;

    // The tools the router may call for this request: the most probable of conv.tools, best first, until
    // they hold `mass` of the probability the offered tools share (the text answer is left to the network,
    // which tells requests that need no tool well), each with its share of that probability. nullopt as
    // for decide().
    std::optional<std::vector<IntentDecision>> shortlist(const Conversation & conv, double mass) const;

    // "" (a text answer) first, then the tools in first-seen order.
    const std::vector<std::string> & labels() const { return labels_; }
    int32_t n_examples() const { return n_examples_; }

    void write(gguf::Writer & w) const;
    // From a router file's metadata; nullopt when it has none; sy::Error(invalid_file) when malformed.
    static std::optional<IntentClassifier> read(const gguf::File & file);

private:
    // Per label, whether `tools` offers it (the text label: false); nullopt when `tools` is empty or names
    // a tool the classifier never saw.
    std::optional<std::vector<bool>> offered(const ojson & tools) const;
    void features(const Conversation & conv, size_t end, std::vector<uint32_t> & out, uint64_t drop_seed = 0,
                  float drop = 0.0f) const;

    std::vector<std::string> labels_;
    uint32_t n_buckets_ = 0;
    std::vector<float> w_;  // [n_buckets][n_labels]
    int32_t n_examples_ = 0;
};

}  // namespace sy::chat
