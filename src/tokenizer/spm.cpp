// SentencePiece-style tokenizer (tokenizer.ggml.model = "llama"): score-driven bigram merging with byte
// fallback, as llama.cpp and SentencePiece's BPE mode do it.
//
// Design note. Spaces become "▁" (U+2581) and, with add_space_prefix, the text gets one leading "▁". The
// text is cut into UTF-8 characters; every adjacent pair whose concatenation is a vocabulary piece is a
// candidate, and the candidate with the highest score (leftmost on ties) is merged first, then its new
// neighbours become candidates. Finally each symbol is emitted as its piece; a symbol that is no piece
// can only be a single character (every merge makes a piece), and it is emitted as <0xXX> byte tokens.
// Example: "Hi!" -> "▁Hi!" -> ['▁','H','i','!'] -> merge '▁H' (best score) -> '▁Hi' -> ['▁Hi','!'].
// Ill-formed UTF-8 bytes are characters of one byte each, so they always end up as byte tokens.
// Only normal, user-defined and undefined-type pieces take part in merging: control, unknown, unused
// and byte tokens are never produced from text ("<s>" in the text stays text).
#include <queue>

#include "common/error.h"
#include "tokenizer/tokenizers_internal.h"
#include "tokenizer/unicode_internal.h"

namespace sy::tok {

namespace {

struct Symbol {
    int32_t prev, next;  // neighbours in the chain (-1 at the ends)
    uint32_t start, n;   // byte range in the escaped text; n == 0 once merged into its left neighbour
};

struct Bigram {
    float score;
    int32_t left, right;
    uint32_t size;  // bytes of the merged text, to detect stale entries
};

struct BigramWorse {
    bool operator()(const Bigram & a, const Bigram & b) const {
        return a.score < b.score || (a.score == b.score && a.left > b.left);
    }
};

class SpmTokenizer final : public Tokenizer {
public:
    explicit SpmTokenizer(Vocab vocab) : special_(vocab_) {
        vocab_ = std::move(vocab);
        special_ = SpecialSplitter(vocab_);
        static const char * hex = "0123456789ABCDEF";
        for (int b = 0; b < 256; ++b) {
            const char name[7] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>', 0};
            byte_token_[b] = vocab_.find(name);
            if (!byte_token_[b]) byte_token_[b] = vocab_.find(std::string(1, (char)b));
            if (!byte_token_[b]) byte_token_[b] = vocab_.special().unk;
        }
    }

    std::vector<TokenId> encode(std::string_view text, const EncodeOptions & opt) const override {
        const SpecialTokens & sp = vocab_.special();
        std::vector<TokenId> out;
        if (opt.add_special && sp.add_bos) {
            if (!sp.bos) throw Error(ErrorKind::ErrorKind_invalid_file, "the vocabulary asks for BOS but has no bos token id");
            out.push_back(*sp.bos);
        }
        std::vector<Fragment> frags;
        special_.split(text, opt.parse_special, frags);
        bool prev_special = true;
        std::string escaped;
        for (const Fragment & f : frags) {
            if (f.token) {
                out.push_back(*f.token);
                prev_special = true;
                continue;
            }
            escaped.clear();
            if (sp.add_space_prefix && prev_special) escaped += "\xe2\x96\x81";
            for (char c : f.text) {
                if (c == ' ') {
                    escaped += "\xe2\x96\x81";
                } else {
                    escaped += c;
                }
            }
            encode_escaped(escaped, out);
            prev_special = false;
        }
        if (opt.add_special && sp.add_eos) {
            if (!sp.eos) throw Error(ErrorKind::ErrorKind_invalid_file, "the vocabulary asks for EOS but has no eos token id");
            out.push_back(*sp.eos);
        }
        return out;
    }

private:
    // The piece `s` may be produced by merging (see the design note).
    const TokenId * mergeable(std::string_view s) const {
        const TokenId * id = vocab_.index_.find(s, vocab_.text_);
        if (id == nullptr) return nullptr;
        const TokenType t = vocab_.token_type(*id);
        if (t != TokenType::TokenType_normal && t != TokenType::TokenType_user_defined &&
            t != TokenType::TokenType_undefined) {
            return nullptr;
        }
        return id;
    }

    struct Session {
        std::string_view text;
        std::vector<Symbol> symbols;
        std::priority_queue<Bigram, std::vector<Bigram>, BigramWorse> queue;
    };

    void try_add_bigram(Session & s, int32_t left, int32_t right) const {
        if (left < 0 || right < 0) return;
        const Symbol & l = s.symbols[left];
        const std::string_view merged = s.text.substr(l.start, l.n + s.symbols[right].n);
        const TokenId * id = mergeable(merged);
        if (id == nullptr) return;
        s.queue.push({vocab_.token_score(*id), left, right, (uint32_t)merged.size()});
    }

    void emit(const Session & s, const Symbol & sym, std::vector<TokenId> & out) const {
        const std::string_view piece = s.text.substr(sym.start, sym.n);
        if (const TokenId * id = mergeable(piece)) {
            out.push_back(*id);
            return;
        }
        for (char c : piece) {
            const auto & bt = byte_token_[(uint8_t)c];
            if (!bt) {
                throw Error(ErrorKind::ErrorKind_unsupported, "byte " + std::to_string((uint8_t)c) +
                                                                  " has no token (<0xXX>) and the vocabulary has no unknown token");
            }
            out.push_back(*bt);
        }
    }

    void encode_escaped(std::string_view text, std::vector<TokenId> & out) const {
        Session s;
        s.text = text;
        for (size_t off = 0; off < text.size();) {
            size_t len = utf8_sequence_len(text.substr(off));
            if (len == 0) len = 1;
            const auto idx = (int32_t)s.symbols.size();
            s.symbols.push_back({idx - 1, off + len == text.size() ? -1 : idx + 1, (uint32_t)off, (uint32_t)len});
            off += len;
        }
        for (int32_t i = 1; i < (int32_t)s.symbols.size(); ++i) try_add_bigram(s, i - 1, i);

        while (!s.queue.empty()) {
            const Bigram b = s.queue.top();
            s.queue.pop();
            Symbol & l = s.symbols[b.left];
            Symbol & r = s.symbols[b.right];
            if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;  // stale
            l.n += r.n;
            r.n = 0;
            l.next = r.next;
            if (r.next >= 0) s.symbols[r.next].prev = b.left;
            try_add_bigram(s, l.prev, b.left);
            try_add_bigram(s, b.left, l.next);
        }
        for (int32_t i = s.symbols.empty() ? -1 : 0; i != -1; i = s.symbols[i].next) emit(s, s.symbols[i], out);
    }

    SpecialSplitter special_;
    std::optional<TokenId> byte_token_[256];
};

}  // namespace

std::unique_ptr<Tokenizer> make_spm_tokenizer(Vocab vocab) { return std::make_unique<SpmTokenizer>(std::move(vocab)); }

}  // namespace sy::tok
