// The slot tagger of a from-scratch router: a linear-chain tagger (averaged structured perceptron over
// hashed word features, Viterbi decoding with BIO constraints) that marks, in the request, the spans a
// tool call copies into its free-text arguments (a task title, a search query, tags).
//
// Why it exists: a router of ~1M parameters trained for minutes on CPU picks the tool and the enum, id and
// date arguments well, but points at the wrong words for free text (docs/training.md, R4-R6): on held-out
// phrasings it found 8% of task titles. Finding a span is a word-by-word decision that a tagger with
// context features (the words around, whether a word was ever seen in training) learns in a second from
// the same data, and it generalises to templates it never saw. At decoding time the router's copy strings
// for a tagged field may only be one of the tagger's spans for that field, whole (grammar/copy.h); a field
// the tagger found nothing for falls back to any span of the request.
//
// Spans are trimmed of the words training shows spans (almost) never begin or end at ("to" of "related
// to X"). Beside the spans, a number picker (a multiclass perceptron over the same features) says which
// integer field, if any, each number of the request is the value of (the id of "move task 9 to 13 aug").
//
// Stored in the router's GGUF as metadata (switchyard.router.tagger.*), so the file stays an ordinary
// model for llama.cpp, which ignores keys it does not know.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "chat/chat_format.h"
#include "gguf/gguf.h"

namespace sy::chat {

// A word of the tagger: a run of ASCII letters, digits, apostrophes or bytes >= 0x80, or one other
// non-space byte. [begin, end) in the text.
struct TaggerWord {
    size_t begin = 0, end = 0;
};
std::vector<TaggerWord> tagger_words(std::string_view text);

// The fields a tagger marks for one tool's parameters: the top-level properties that are plain strings
// (no enum, const, format or pattern) or arrays of them.
std::vector<std::string> tagger_fields(const ojson & parameters);

// The integer fields a tagger marks (a task id the request names: "move task number 9 to 13 aug"): the
// top-level properties of type integer with no enum or const. The router's plan holds such a field to the
// numbers tagged for it, when the request names one; otherwise the value may come from earlier turns.
std::vector<std::string> tagger_number_fields(const ojson & parameters);

struct SlotTaggerOptions {
    int epochs = 6;
    int n_models = 5;        // perceptrons averaged (see train())
    double bag_share = 0.7;  // the share of the requests each of them trains on
    double unk_rate = 0.15;  // words turned into "<unk>" in the extra copy of each request
    int n_threads = 2;       // perceptrons trained at once (the result does not depend on it)
    uint32_t n_buckets = 1u << 16;  // hashed feature rows
    uint64_t seed = 0;
};

class SlotTagger {
public:
    // Learns from every assistant turn that answers a user turn: the spans its calls' tagger fields copy
    // from that user turn (word-aligned, case ignored; a text answer marks nothing). Throws when the data
    // has no such field at all.
    static SlotTagger train(const std::vector<Conversation> & convs, const SlotTaggerOptions & opt = {});

    // field -> the spans of `text` tagged for it, in order; a number field's are whole numbers of the text.
    std::map<std::string, std::vector<std::string>> tag(std::string_view text) const;

    // The best span of `text` for `field` when the field must have one: Viterbi over the paths that tag
    // at least one span of it (for a field the call requires but tag() found nothing for). nullopt for a
    // field the tagger does not know or an empty text.
    std::optional<std::string> best_span(std::string_view text, const std::string & field) const;

    // The spans of the request a router answers: the last user message of `conv`.
    std::map<std::string, std::vector<std::string>> tag_request(const Conversation & conv) const;

    const std::vector<std::string> & fields() const { return fields_; }
    const std::vector<std::string> & number_fields() const { return number_fields_; }
    int32_t n_examples() const { return n_examples_; }

    void write(gguf::Writer & w) const;
    // From a router file's metadata; nullopt when it has none; sy::Error(invalid_file) when malformed.
    static std::optional<SlotTagger> read(const gguf::File & file);

private:
    int32_t n_labels() const { return 1 + 2 * (int32_t)fields_.size(); }
    void features(const std::vector<std::string> & words, size_t i, std::vector<uint32_t> & out) const;
    // Viterbi under the BIO constraints; with `must` >= 0, over the paths that begin field `must` once
    // or more.
    std::vector<int32_t> decode(const std::vector<std::vector<uint32_t>> & feats, int32_t must = -1) const;
    // The words [begin, end) of a decoded span without the leading no-begin and trailing no-end words;
    // begin == end when nothing is left.
    std::pair<size_t, size_t> trimmed(const std::vector<std::string> & words, size_t begin, size_t end) const;
    // The number picker: for the word at each (request, word) of `at`, gold[i] = 0 or 1 + a number field.
    void train_numbers(const std::vector<std::pair<size_t, size_t>> & at, const std::vector<int32_t> & gold,
                       const std::vector<std::vector<std::vector<uint32_t>>> & feats, const SlotTaggerOptions & opt);
    // 0 (no field) or 1 + the number field a number word with these features is the value of.
    int32_t pick_number(const std::vector<uint32_t> & feats, std::vector<float> & score) const;

    std::vector<std::string> fields_;  // label 0 = outside; 1 + 2k = begins field k; 2 + 2k = inside field k
    uint32_t n_buckets_ = 0;
    std::vector<float> w_;             // [n_buckets][n_labels]
    std::vector<float> trans_;         // [n_labels + 1][n_labels]; row n_labels: from the start
    std::unordered_set<std::string> known_;  // lowercased words of the training requests
    // Frequent words that (almost) never began (no_begin_) or ended (no_end_) a span in training: "to" in
    // "related to X", "I" in "so I hang the lights". A span found is trimmed of them.
    std::unordered_set<std::string> no_begin_, no_end_;
    std::vector<std::string> number_fields_;  // integer fields (tagger_number_fields) the number picker knows
    std::vector<float> number_w_;             // [n_buckets][1 + number fields]; empty without them
    int32_t n_examples_ = 0;
};

}  // namespace sy::chat
