// Tokenizers built from GGUF metadata (tokenizer.ggml.*): SPM (`llama`) and byte-level BPE (`gpt2`) with
// the pre-tokenizers of the common model families. Encoding and decoding are exact: decode(encode(s)) == s
// for any byte string s (ill-formed UTF-8 goes through byte tokens; SPM's added leading space is taken off
// again by decode). Exceptions and details: docs/tokenizers.md.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gguf/gguf.h"

namespace sy::tok {

using TokenId = int32_t;

// GGUF tokenizer.ggml.token_type values.
enum class TokenType : int32_t {
    TokenType_undefined = 0,
    TokenType_normal = 1,
    TokenType_unknown = 2,
    TokenType_control = 3,
    TokenType_user_defined = 4,
    TokenType_unused = 5,
    TokenType_byte = 6,
};

enum class TokenizerKind { TokenizerKind_spm, TokenizerKind_bpe };

struct SpecialTokens {
    std::optional<TokenId> bos, eos, eot, eom, unk, pad, sep;
    bool add_bos = false;
    bool add_eos = false;
    bool add_space_prefix = false;  // SPM: prepend "▁" to the text (tokenizer.ggml.add_space_prefix)
};

class Vocab {
public:
    int32_t n_tokens() const { return (int32_t)text_.size(); }
    TokenizerKind kind() const { return kind_; }
    const std::string & pre() const { return pre_; }  // tokenizer.ggml.pre ("default" when absent)
    const SpecialTokens & special() const { return special_; }

    const std::string & token_text(TokenId id) const { return text_.at(id); }      // as stored in GGUF
    const std::string & token_bytes(TokenId id) const { return bytes_.at(id); }    // what it decodes to
    TokenType token_type(TokenId id) const { return type_.at(id); }
    float token_score(TokenId id) const { return scores_.empty() ? 0.0f : scores_.at(id); }
    std::optional<TokenId> find(std::string_view text) const;                     // by stored text

    bool is_control(TokenId id) const;  // control or user-defined special text
    // End of generation: eos, eot, eom and control tokens named like end markers (<|im_end|>, <|eot_id|>...).
    bool is_eog(TokenId id) const;

    // Internal tables, filled by the loaders.
    TokenizerKind kind_ = TokenizerKind::TokenizerKind_bpe;
    std::string pre_ = "default";
    SpecialTokens special_;
    std::vector<std::string> text_;
    std::vector<std::string> bytes_;
    std::vector<TokenType> type_;
    std::vector<float> scores_;
    std::vector<std::string> merges_;  // BPE only, "left right"
    std::vector<TokenId> eog_ids_;

    // Heterogeneous lookup (find by string_view without a copy).
    struct TextHash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    // text -> id (the last of equal texts wins) without a second copy of the texts: an open-addressing
    // table of ids whose keys are read from text_ (4 bytes a slot instead of a map node per token, which
    // was ~12 MiB for a 152k vocabulary). Holds ids only, so a copied Vocab's index stays valid.
    class TextIndex {
    public:
        void build(const std::vector<std::string> & text);
        const TokenId * find(std::string_view s, const std::vector<std::string> & text) const;
        size_t size() const { return n_keys_; }  // distinct texts

    private:
        std::vector<TokenId> slots_;  // slot holds an id, or kEmptySlot; size a power of two >= 1.5 * n
        size_t n_keys_ = 0;
        static constexpr TokenId kEmptySlot = -1;
    };
    TextIndex index_;

    // Derives bytes_, index_ and eog_ids_ from the tables above (and fills type_ / scores_ defaults);
    // loaders and builders call it once after filling text_/type_/scores_/merges_/special_. Control-type
    // is forced on end-marker tokens (<|im_end|>, <|eot_id|>, ...) and a missing eot is found by name.
    // Throws sy::Error(ErrorKind_invalid_file) on inconsistent tables.
    void finalize();
};

// Reads tokenizer.ggml.* into a Vocab (no tokenizer built). Same errors as Tokenizer::from_gguf.
Vocab load_vocab(const gguf::File & file);

// The names accepted in tokenizer.ggml.pre for `gpt2` vocabularies, comma-separated (for messages, docs).
std::string supported_pre_tokenizers();

struct EncodeOptions {
    bool add_special = false;    // add BOS/EOS as the vocabulary asks (add_bos / add_eos)
    bool parse_special = false;  // text like "<|im_start|>" becomes that control token
};

class Tokenizer {
public:
    virtual ~Tokenizer() = default;

    // Reads tokenizer.ggml.* from a GGUF file. Throws sy::Error: unsupported model / unknown pre-tokenizer
    // (naming it and listing the supported ones), or inconsistent metadata.
    static std::unique_ptr<Tokenizer> from_gguf(const gguf::File & file);
    // Builds the tokenizer of a vocabulary (finalizing it first if that was not done). Same errors as
    // from_gguf.
    static std::unique_ptr<Tokenizer> from_vocab(Vocab vocab);

    // Safe to call from several threads at once (encode and decode keep no state between calls).
    virtual std::vector<TokenId> encode(std::string_view text, const EncodeOptions & opt = {}) const = 0;
    // Concatenated token bytes; control tokens are rendered as their text unless skip_special. SPM with
    // add_space_prefix: the one space encode() put at the start and after each special token is removed.
    // Throws sy::Error(ErrorKind_invalid_argument) for an id outside the vocabulary.
    std::string decode(std::span<const TokenId> ids, bool skip_special = false) const;
    // The bytes of one token (may be an incomplete UTF-8 sequence when streaming).
    const std::string & token_piece(TokenId id) const { return vocab_.token_bytes(id); }

    const Vocab & vocab() const { return vocab_; }

protected:
    Vocab vocab_;
};

// Writes a vocabulary as GGUF tokenizer metadata (tokenizer.ggml.model/pre/tokens/token_type/scores/
// merges/special ids/add_bos/add_eos) — used by `model init` and by the trainer.
void write_vocab_metadata(const Vocab & vocab, gguf::Writer & w);

// A small, valid byte-level BPE vocabulary for tests and `model init`: the 256 byte tokens (GPT-2
// byte-to-unicode form), merges learned greedily from an embedded English sample, then seeded random merges
// of existing tokens up to n_tokens - 3, then the control tokens <|endoftext|>, <|im_start|>, <|im_end|>
// (ids n_tokens-3 .. n_tokens-1; bos = pad = <|endoftext|>, eos = <|im_end|>, no BOS added).
// `pre` must be "qwen2" or "smollm". Round-trips any byte string. Throws sy::Error if n_tokens < 259.
Vocab make_synthetic_bpe_vocab(int32_t n_tokens, uint64_t seed, std::string_view pre = "qwen2");

}  // namespace sy::tok
