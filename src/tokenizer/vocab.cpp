// Vocab: loading tokenizer.ggml.* from GGUF, derived tables (token bytes, text index, end-of-generation
// ids), writing it back, and decoding. Encoding lives in spm.cpp and bpe.cpp.
#include <algorithm>
#include <cstdio>

#include "common/error.h"
#include "tokenizer/pretokenize_internal.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizers_internal.h"
#include "tokenizer/unicode_internal.h"

namespace sy::tok {

namespace {

// Token strings that end generation (and are made control-type if a file says otherwise).
constexpr std::string_view kEndMarkers[] = {"<|eot_id|>",    "<|im_end|>",    "<|end|>", "<end_of_turn>",
                                            "<|endoftext|>", "<|eom_id|>",    "<EOT>"};
// Candidates for a missing eot id, most specific first.
constexpr std::string_view kEotNames[] = {"<|eot_id|>",    "<|im_end|>", "<|end|>", "<end_of_turn>",
                                          "<|endoftext|>", "<EOT>",      "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>"};

constexpr std::string_view kSpmSpace = "\xe2\x96\x81";  // U+2581, SPM's escaped space

struct SpecialKey {
    const char * key;
    std::optional<TokenId> SpecialTokens::*field;
};
constexpr SpecialKey kSpecialKeys[] = {
    {"tokenizer.ggml.bos_token_id", &SpecialTokens::bos},     {"tokenizer.ggml.eos_token_id", &SpecialTokens::eos},
    {"tokenizer.ggml.eot_token_id", &SpecialTokens::eot},     {"tokenizer.ggml.eom_token_id", &SpecialTokens::eom},
    {"tokenizer.ggml.unknown_token_id", &SpecialTokens::unk}, {"tokenizer.ggml.seperator_token_id", &SpecialTokens::sep},
    {"tokenizer.ggml.padding_token_id", &SpecialTokens::pad},
};

// "<0xAB>" -> 0xAB; nullopt for anything else.
std::optional<uint8_t> parse_byte_token(std::string_view s) {
    if (s.size() != 6 || s.substr(0, 3) != "<0x" || s[5] != '>') return std::nullopt;
    int v = 0;
    for (char c : s.substr(3, 2)) {
        v <<= 4;
        if (c >= '0' && c <= '9') v |= c - '0';
        else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
        else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
        else return std::nullopt;
    }
    return (uint8_t)v;
}

// The bytes a byte-level BPE token text stands for: each code point maps back to its byte; code points
// outside the 256 (never produced by the byte mapping) are kept as their UTF-8.
std::string bpe_text_to_bytes(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
        const size_t len = utf8_sequence_len(text.substr(i));
        if (len == 0) {
            out.push_back(text[i++]);
            continue;
        }
        const auto b = unicode_to_byte(utf8_decode(text.substr(i)));
        if (b) {
            out.push_back((char)*b);
        } else {
            out.append(text.substr(i, len));
        }
        i += len;
    }
    return out;
}

std::string spm_text_to_bytes(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
        if (text.substr(i, kSpmSpace.size()) == kSpmSpace) {
            out.push_back(' ');
            i += kSpmSpace.size();
        } else {
            out.push_back(text[i++]);
        }
    }
    return out;
}

bool is_special_type(TokenType t) {
    return t == TokenType::TokenType_control || t == TokenType::TokenType_unknown ||
           t == TokenType::TokenType_user_defined;
}

}  // namespace

void Vocab::TextIndex::build(const std::vector<std::string> & text) {
    size_t cap = 16;  // load factor at most 2/3
    while (2 * cap < 3 * text.size()) cap *= 2;
    slots_.assign(cap, kEmptySlot);
    n_keys_ = 0;
    const size_t mask = cap - 1;
    for (size_t id = 0; id < text.size(); ++id) {
        size_t i = TextHash{}(text[id]) & mask;
        while (slots_[i] != kEmptySlot && text[(size_t)slots_[i]] != text[id]) i = (i + 1) & mask;
        if (slots_[i] == kEmptySlot) ++n_keys_;
        slots_[i] = (TokenId)id;  // a later equal text replaces the earlier one
    }
}

const TokenId * Vocab::TextIndex::find(std::string_view s, const std::vector<std::string> & text) const {
    if (slots_.empty()) return nullptr;
    const size_t mask = slots_.size() - 1;
    for (size_t i = TextHash{}(s) & mask;; i = (i + 1) & mask) {
        if (slots_[i] == kEmptySlot) return nullptr;
        if (text[(size_t)slots_[i]] == s) return &slots_[i];
    }
}

std::optional<TokenId> Vocab::find(std::string_view text) const {
    const TokenId * id = index_.find(text, text_);
    if (id == nullptr) return std::nullopt;
    return *id;
}

bool Vocab::is_control(TokenId id) const {
    const TokenType t = type_.at(id);
    return t == TokenType::TokenType_control || t == TokenType::TokenType_user_defined;
}

bool Vocab::is_eog(TokenId id) const { return std::binary_search(eog_ids_.begin(), eog_ids_.end(), id); }

void Vocab::finalize() {
    const size_t n = text_.size();
    if (n == 0) throw Error(ErrorKind::ErrorKind_invalid_file, "tokenizer.ggml.tokens is empty");
    if (n > (size_t)INT32_MAX) throw Error(ErrorKind::ErrorKind_invalid_file, "tokenizer.ggml.tokens is too long");
    if (type_.empty()) type_.assign(n, TokenType::TokenType_normal);
    if (type_.size() != n) {
        throw Error(ErrorKind::ErrorKind_invalid_file, "tokenizer.ggml.token_type has " + std::to_string(type_.size()) +
                                                           " entries for " + std::to_string(n) + " tokens");
    }
    if (!scores_.empty() && scores_.size() != n) {
        throw Error(ErrorKind::ErrorKind_invalid_file, "tokenizer.ggml.scores has " + std::to_string(scores_.size()) +
                                                           " entries for " + std::to_string(n) + " tokens");
    }
    for (size_t i = 0; i < n; ++i)
        if (text_[i].empty()) text_[i] = "[EMPTY_" + std::to_string(i) + "]";
    index_.build(text_);

    for (const auto & sk : kSpecialKeys) {  // ids outside the vocabulary are dropped
        auto & id = special_.*sk.field;
        if (id && (*id < 0 || *id >= (TokenId)n)) id.reset();
    }
    if (!special_.eot) {
        for (std::string_view name : kEotNames) {
            if (auto id = find(name)) {
                special_.eot = *id;
                break;
            }
        }
    }
    if (!special_.eom) special_.eom = find("<|eom_id|>");

    eog_ids_.clear();
    for (std::string_view name : kEndMarkers) {
        if (auto id = find(name)) {
            type_[*id] = TokenType::TokenType_control;
            eog_ids_.push_back(*id);
        }
    }
    for (auto id : {special_.eos, special_.eot, special_.eom}) {
        if (id) eog_ids_.push_back(*id);
    }
    std::sort(eog_ids_.begin(), eog_ids_.end());
    eog_ids_.erase(std::unique(eog_ids_.begin(), eog_ids_.end()), eog_ids_.end());

    bytes_.assign(n, std::string());
    for (size_t i = 0; i < n; ++i) {
        const TokenType t = type_[i];
        if (is_special_type(t)) {
            bytes_[i] = text_[i];
        } else if (kind_ == TokenizerKind::TokenizerKind_spm) {
            const auto b = t == TokenType::TokenType_byte ? parse_byte_token(text_[i]) : std::nullopt;
            bytes_[i] = b ? std::string(1, (char)*b) : spm_text_to_bytes(text_[i]);
        } else {
            bytes_[i] = bpe_text_to_bytes(text_[i]);
        }
    }
}

Vocab load_vocab(const gguf::File & file) {
    Vocab v;
    const auto model = file.get_string("tokenizer.ggml.model");
    if (!model) {
        throw Error(ErrorKind::ErrorKind_invalid_file, "no tokenizer.ggml.model in '" + file.path() +
                                                           "': the file carries no tokenizer");
    }
    if (*model == "llama") {
        v.kind_ = TokenizerKind::TokenizerKind_spm;
    } else if (*model == "gpt2") {
        v.kind_ = TokenizerKind::TokenizerKind_bpe;
    } else {
        throw Error(ErrorKind::ErrorKind_unsupported, "tokenizer model '" + *model +
                                                          "' (tokenizer.ggml.model) is not supported; supported: "
                                                          "llama (SentencePiece), gpt2 (byte-level BPE)");
    }
    v.pre_ = file.get_string("tokenizer.ggml.pre").value_or("default");
    const bool spm = v.kind_ == TokenizerKind::TokenizerKind_spm;
    bool family_add_bos = spm;
    if (!spm) family_add_bos = PreTokenizer(v.pre_).default_add_bos();  // throws for an unknown name

    const gguf::Array * tokens = file.get_array("tokenizer.ggml.tokens");
    if (tokens == nullptr) throw Error(ErrorKind::ErrorKind_invalid_file, "no tokenizer.ggml.tokens in '" + file.path() + "'");
    v.text_.reserve(tokens->size());
    for (size_t i = 0; i < tokens->size(); ++i) v.text_.emplace_back(tokens->string_at(i, "tokenizer.ggml.tokens"));

    if (const gguf::Array * types = file.get_array("tokenizer.ggml.token_type")) {
        v.type_.reserve(types->size());
        for (size_t i = 0; i < types->size(); ++i) {
            const int64_t x = types->at(i).as_i64("tokenizer.ggml.token_type");
            v.type_.push_back(x >= 0 && x <= 6 ? (TokenType)x : TokenType::TokenType_undefined);
        }
    }
    if (const gguf::Array * scores = file.get_array("tokenizer.ggml.scores")) {
        v.scores_.reserve(scores->size());
        for (size_t i = 0; i < scores->size(); ++i)
            v.scores_.push_back((float)scores->at(i).as_f64("tokenizer.ggml.scores"));
    }
    if (const gguf::Array * merges = file.get_array("tokenizer.ggml.merges")) {
        v.merges_.reserve(merges->size());
        for (size_t i = 0; i < merges->size(); ++i) v.merges_.emplace_back(merges->string_at(i, "tokenizer.ggml.merges"));
    } else if (!spm) {
        throw Error(ErrorKind::ErrorKind_invalid_file, "gpt2 tokenizer without tokenizer.ggml.merges in '" + file.path() + "'");
    }

    if (spm) {  // SentencePiece conventions when the file does not say
        v.special_.bos = 1;
        v.special_.eos = 2;
        v.special_.unk = 0;
    }
    for (const auto & sk : kSpecialKeys) {
        if (auto id = file.get_u64(sk.key); id && *id < v.text_.size()) v.special_.*sk.field = (TokenId)*id;
    }
    v.special_.add_bos = file.get_bool("tokenizer.ggml.add_bos_token").value_or(family_add_bos);
    v.special_.add_eos = file.get_bool("tokenizer.ggml.add_eos_token").value_or(false);
    v.special_.add_space_prefix = file.get_bool("tokenizer.ggml.add_space_prefix").value_or(spm);
    v.finalize();
    return v;
}

void write_vocab_metadata(const Vocab & vocab, gguf::Writer & w) {
    using gguf::Value;
    const bool spm = vocab.kind() == TokenizerKind::TokenizerKind_spm;
    w.set("tokenizer.ggml.model", Value::string(spm ? "llama" : "gpt2"));
    w.set("tokenizer.ggml.pre", Value::string(vocab.pre()));
    w.set("tokenizer.ggml.tokens", Value::strings(vocab.text_));
    std::vector<int32_t> types(vocab.type_.size());
    for (size_t i = 0; i < types.size(); ++i) types[i] = (int32_t)vocab.type_[i];
    w.set("tokenizer.ggml.token_type", Value::i32s(types));
    if (!vocab.scores_.empty()) {
        w.set("tokenizer.ggml.scores", Value::f32s(vocab.scores_));
    } else {
        w.remove("tokenizer.ggml.scores");
    }
    if (!vocab.merges_.empty()) {
        w.set("tokenizer.ggml.merges", Value::strings(vocab.merges_));
    } else {
        w.remove("tokenizer.ggml.merges");
    }
    for (const auto & sk : kSpecialKeys) {
        const auto & id = vocab.special().*sk.field;
        if (id) {
            w.set(sk.key, Value::u32((uint32_t)*id));
        } else {
            w.remove(sk.key);
        }
    }
    w.set("tokenizer.ggml.add_bos_token", Value::boolean(vocab.special().add_bos));
    w.set("tokenizer.ggml.add_eos_token", Value::boolean(vocab.special().add_eos));
    w.set("tokenizer.ggml.add_space_prefix", Value::boolean(vocab.special().add_space_prefix));
}

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const gguf::File & file) { return from_vocab(load_vocab(file)); }

std::unique_ptr<Tokenizer> Tokenizer::from_vocab(Vocab vocab) {
    if (vocab.bytes_.size() != vocab.text_.size() || vocab.index_.size() == 0) vocab.finalize();
    if (vocab.kind() == TokenizerKind::TokenizerKind_spm) return make_spm_tokenizer(std::move(vocab));
    return make_bpe_tokenizer(std::move(vocab));
}

// SPM: encode() puts one space before the text at the start and after each special token (when
// add_space_prefix); decode() takes exactly that space off again, so decode(encode(s)) == s.
std::string Tokenizer::decode(std::span<const TokenId> ids, bool skip_special) const {
    const bool strip_prefix = vocab_.kind() == TokenizerKind::TokenizerKind_spm && vocab_.special().add_space_prefix;
    std::string out;
    bool at_text_start = true;
    for (TokenId id : ids) {
        if (id < 0 || id >= vocab_.n_tokens()) {
            throw Error(ErrorKind::ErrorKind_invalid_argument, "token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                                                                    std::to_string(vocab_.n_tokens()) + ")");
        }
        const TokenType t = vocab_.token_type(id);
        if (is_special_type(t)) {
            const bool hidden = skip_special && t != TokenType::TokenType_user_defined;
            if (!hidden) out += vocab_.token_bytes(id);
            at_text_start = true;
            continue;
        }
        std::string_view piece = vocab_.token_bytes(id);
        if (strip_prefix && at_text_start && !piece.empty() && piece[0] == ' ') piece.remove_prefix(1);
        at_text_start = false;
        out += piece;
    }
    return out;
}

}  // namespace sy::tok
