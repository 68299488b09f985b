// The intent classifier of a from-scratch router: multinomial logistic regression over hashed word and
// character features of the request, choosing which tool the next assistant turn calls (or none) and,
// per tool, the value of each enum or boolean argument and whether each optional argument is written.
//
// Why it exists: a router network of ~1M parameters trained for minutes on CPU mixes up tools whose
// requests share a template ("Remove #60" -> complete_task, "Done with #4" -> delete_task) although the
// deciding word is in its training data hundreds of times, and it misses or invents enum arguments
// ("(high priority)" -> "medium", "status":"done" for "tasks that need to be done before ..."). A linear
// model over the words themselves learns both in a second and generalises to phrasings it never saw
// (docs/training.md, R7 and R8). At decoding time (chat/router_plan.h) the classifier shortlists the tools
// the grammar offers and fixes their enum arguments; the network still decides between a call and a text
// answer, picks within the shortlist, and writes ids, dates and the free-text spans.
//
// Stored in the router's GGUF as metadata (switchyard.router.intent.*) beside the slot tagger.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chat/chat_format.h"
#include "gguf/gguf.h"

namespace sy::chat {

struct IntentOptions {
    int epochs = 10;
    uint32_t n_buckets = 1u << 16;       // hashed feature rows of the tool classifier
    uint32_t n_argument_buckets = 1u << 14;  // of each argument classifier
    float learning_rate = 0.05f;         // AdaGrad
    float l2 = 1e-4f;                    // on the rows an example touches
    float word_dropout = 0.2f;           // each epoch drops this share of the request's words (augmentation)
    uint64_t seed = 0;
};

struct IntentDecision {
    std::string tool;  // empty: answer in text
    double probability = 0;
};

// One argument of a tool as the classifier chose it: an enum or boolean argument's value, or whether an
// optional argument of another type is written at all (its value is the network's).
struct ArgumentDecision {
    std::string field;
    bool present = false;
    std::optional<ojson> value;  // the value, for an enum or boolean argument that is present
    double probability = 0;
};

// The shortlist's mass: the classifier's top tools are offered until they hold this share of its
// probability (docs/training.md, R7).
constexpr double kIntentShortlistMass = 0.9;

// Multinomial logistic regression over hashed features of the request an assistant turn answers: the last
// user message's words (lowercased, digit runs as one '0', a date phrase as "<date>", the two words before
// it as its carrier "@word"), word pairs and character trigrams, the role of the message before the turn,
// and the tool called last.
class RequestClassifier {
public:
    struct Example {
        size_t conv = 0, end = 0;  // the turn conversations[conv].messages[end] answers messages[0, end)
        int32_t label = 0;
    };
    static RequestClassifier train(std::vector<std::string> labels, uint32_t n_buckets, const std::vector<Conversation> & convs,
                                   const std::vector<Example> & data, const IntentOptions & opt);
    // Probabilities over labels() for the assistant turn that follows `conv`.
    std::vector<double> predict(const Conversation & conv) const;
    const std::vector<std::string> & labels() const { return labels_; }

    // Keys <prefix>.labels, <prefix>.buckets, <prefix>.weights.
    void write(gguf::Writer & w, const std::string & prefix) const;
    // sy::Error(invalid_file) when a key is missing or malformed.
    static RequestClassifier read(const gguf::File & file, const std::string & prefix);

private:
    void features(const Conversation & conv, size_t end, std::vector<uint32_t> & out, uint64_t drop_seed = 0,
                  float drop = 0.0f) const;

    std::vector<std::string> labels_;
    uint32_t n_buckets_ = 0;
    uint32_t carrier_words_ = 0;  // words before a date phrase read as its carrier (0: a file from before them)
    std::vector<float> w_;  // [n_buckets][n_labels]
};

class IntentClassifier {
public:
    // Learns from every assistant turn: its first tool call's name, or "" for a text answer, given the
    // conversation before it; and for every tool, from the turns calling it, the value of each enum or
    // boolean argument and whether each other optional argument is written. Throws when the data has no assistant turn or no tool call at all.
    static IntentClassifier train(const std::vector<Conversation> & convs, const IntentOptions & opt = {});

    // Probabilities over labels() for the assistant turn that follows `conv`.
    std::vector<double> predict(const Conversation & conv) const { return tools_.predict(conv); }

    // The most probable choice among the tools of `conv.tools` (and a text answer when allow_text), with
    // its probability renormalised over those choices. nullopt when the request offers a tool the
    // classifier never saw (its choice would leave that tool out) or offers none.
    std::optional<IntentDecision> decide(const Conversation & conv, bool allow_text) const;

    // The tools the router may call for this request: the most probable of conv.tools, best first, until
    // they hold `mass` of the probability the offered tools share (the text answer is left to the network,
    // which tells requests that need no tool well), each with its share of that probability. nullopt as
    // for decide().
    std::optional<std::vector<IntentDecision>> shortlist(const Conversation & conv, double mass) const;

    // The arguments of a call to `tool` answering `conv`, one per field the classifier learnt for that
    // tool (none for a tool it never saw called): enum and boolean arguments, and optional arguments of
    // other types (present or not).
    std::vector<ArgumentDecision> arguments(const Conversation & conv, const std::string & tool) const;

    // "" (a text answer) first, then the tools in first-seen order.
    const std::vector<std::string> & labels() const { return tools_.labels(); }
    int32_t n_examples() const { return n_examples_; }
    size_t n_argument_classifiers() const { return args_.size(); }

    void write(gguf::Writer & w) const;
    // From a router file's metadata; nullopt when it has none; sy::Error(invalid_file) when malformed.
    static std::optional<IntentClassifier> read(const gguf::File & file);

private:
    // Per label, whether `tools` offers it (the text label: false); nullopt when `tools` is empty or names
    // a tool the classifier never saw.
    std::optional<std::vector<bool>> offered(const ojson & tools) const;

    RequestClassifier tools_;
    struct Argument {
        std::string tool, field;
        RequestClassifier classifier;  // labels: "" (left out), then the values' JSON texts, or "*" (written)
    };
    std::vector<Argument> args_;
    int32_t n_examples_ = 0;
};

}  // namespace sy::chat
