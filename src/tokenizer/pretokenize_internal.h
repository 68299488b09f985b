// Pre-tokenizers of byte-level BPE vocabularies: the regex splits named by tokenizer.ggml.pre (private to
// the tokenizer layer). A family is a list of regexes applied in order: the first splits the text into
// matches and the gaps between them; each next regex splits every piece of the previous step the same way
// (its matches never cross an earlier boundary). Example (gpt-2): "Hello  world!" ->
// "Hello" " " " world" "!" (`\s+(?!\S)` keeps the last space for the word that follows).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sy::tok {

class PreTokenizer {
public:
    // Throws sy::Error(ErrorKind_unsupported) naming `pre` and listing the supported names.
    explicit PreTokenizer(std::string_view pre);
    ~PreTokenizer();
    PreTokenizer(const PreTokenizer &) = delete;
    PreTokenizer & operator=(const PreTokenizer &) = delete;

    // llama3-style vocabularies look a whole word up before merging (tokenizer "ignore_merges").
    bool ignore_merges() const { return ignore_merges_; }
    // Whether the family adds BOS when tokenizer.ggml.add_bos_token is absent.
    bool default_add_bos() const { return default_add_bos_; }

    // Appends the words of `text` (any bytes) to `out`, as views into `text`, in order and covering it.
    // Ill-formed UTF-8 bytes are never matched by a regex: each one becomes a word of its own.
    // Safe to call from several threads at once.
    void split(std::string_view text, std::vector<std::string_view> & out) const;

private:
    struct Regex;
    std::vector<std::unique_ptr<Regex>> regexes_;
    bool ignore_merges_ = false;
    bool default_add_bos_ = false;
};

// True when `pre` names a supported family.
bool is_supported_pre_tokenizer(std::string_view pre);

}  // namespace sy::tok
