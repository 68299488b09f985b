// Byte-level BPE tokenizer (tokenizer.ggml.model = "gpt2"), GPT-2 style with family pre-tokenizers.
//
// Design note. Special tokens are split out first; each remaining text piece is cut into words by the
// family's regexes (pretokenize.cpp); each word starts as one symbol per byte (the byte's GPT-2 code
// point, see unicode_internal.h) and the adjacent pair with the lowest merge rank (leftmost on ties) is
// merged until no pair has a rank. A final symbol that is no normal vocabulary token (possible only with
// incomplete merge tables) is emitted byte by byte; a byte without a token of its own (starcoder has none
// for 0xC0, 0xC1, 0xF5..0xFF, which never occur in UTF-8) is dropped, as in llama.cpp.
// Example (gpt-2 merges): " the" -> ['Ġ','t','h','e'] -> rank 0 'Ġ t' -> ['Ġt','h','e'] -> 'h e' ->
// ['Ġt','he'] -> 'Ġt he' -> ['Ġthe'].
// Symbols are integers: ids below n_tokens are vocabulary tokens; strings that occur in merges but are no
// token get ids above, so merging compares integers, never strings.
#include <algorithm>
#include <unordered_map>
#include <vector>

#include "common/error.h"
#include "tokenizer/pretokenize_internal.h"
#include "tokenizer/tokenizers_internal.h"
#include "tokenizer/unicode_internal.h"

namespace sy::tok {

namespace {

struct Merge {
    int32_t rank;
    int32_t result;  // symbol id of the concatenation
};

// Open-addressing table (linear probing, power-of-two size, at most half full) from a symbol pair to its
// merge: one cache line per lookup instead of a node chase. Keys are (left << 32 | right) with both ids
// below 2^31, so kEmpty (all ones) is never a key.
class MergeTable {
public:
    void reserve(size_t n) {
        size_t cap = 16;  // load factor at most 2/3 (152k merges: 2^18 slots of 16 bytes = 4 MiB)
        while (2 * cap < 3 * n) cap *= 2;
        slots_.assign(cap, Slot{kEmpty, {0, 0}});
    }
    static uint64_t key(int32_t left, int32_t right) { return ((uint64_t)(uint32_t)left << 32) | (uint32_t)right; }
    // Inserts unless the pair is present (the first rank of a pair counts).
    void try_emplace(uint64_t k, Merge m) {
        SY_ASSERT(3 * (size_ + 1) <= 2 * slots_.size());
        Slot & s = slots_[probe(k)];
        if (s.key == kEmpty) {
            s = Slot{k, m};
            ++size_;
        }
    }
    const Merge * find(uint64_t k) const {
        const Slot & s = slots_[probe(k)];
        return s.key == k ? &s.merge : nullptr;
    }

private:
    static constexpr uint64_t kEmpty = ~0ull;
    struct Slot {
        uint64_t key;
        Merge merge;
    };
    size_t probe(uint64_t k) const {
        const size_t mask = slots_.size() - 1;
        size_t i = (size_t)((k * 0x9E3779B97F4A7C15ull) >> 20) & mask;
        while (slots_[i].key != kEmpty && slots_[i].key != k) i = (i + 1) & mask;
        return i;
    }
    std::vector<Slot> slots_;
    size_t size_ = 0;
};

struct Symbol {
    int32_t sym;         // symbol id
    int32_t prev, next;  // neighbours in the chain (-1 at the ends)
    uint32_t start, n;   // byte range in the word; n == 0 once merged into its left neighbour
};

struct Candidate {
    int32_t rank;
    int32_t left, right;
    int32_t left_sym, right_sym;  // to detect stale entries
};

bool is_special(TokenType t) {
    return t == TokenType::TokenType_control || t == TokenType::TokenType_user_defined ||
           t == TokenType::TokenType_unknown;
}

struct CandidateWorse {
    bool operator()(const Candidate & a, const Candidate & b) const {
        return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
    }
};

class BpeTokenizer final : public Tokenizer {
public:
    BpeTokenizer(Vocab vocab, std::string_view pre) : pre_(pre), special_(vocab_) {
        vocab_ = std::move(vocab);
        special_ = SpecialSplitter(vocab_);
        Vocab::TextHash hash;
        std::unordered_map<std::string, int32_t, Vocab::TextHash, std::equal_to<>> extra(16, hash);
        // A string held by a special token and by a normal one (deepseek-llm adds user-defined "ÿ", "ö"
        // ... next to the byte tokens) means the normal token inside words.
        std::unordered_map<std::string_view, int32_t> normal_twin;
        const bool has_duplicates = vocab_.index_.size() != (size_t)vocab_.n_tokens();
        for (TokenId id = 0; has_duplicates && id < vocab_.n_tokens(); ++id) {
            const TokenId owner = *vocab_.find(vocab_.token_text(id));
            if (owner != id && !is_special(vocab_.token_type(id)) && is_special(vocab_.token_type(owner))) {
                normal_twin.try_emplace(vocab_.token_text(id), id);
            }
        }
        auto intern = [&](std::string_view s) -> int32_t {
            if (const auto it = normal_twin.find(s); it != normal_twin.end()) return it->second;
            if (auto id = vocab_.find(s)) return *id;
            const auto it = extra.find(s);
            if (it != extra.end()) return it->second;
            const auto id = (int32_t)(vocab_.n_tokens() + extra.size());
            extra.emplace(std::string(s), id);
            return id;
        };
        const auto & merges = vocab_.merges_;
        merges_.reserve(merges.size());
        std::string joined;
        for (size_t i = 0; i < merges.size(); ++i) {
            const std::string_view m = merges[i];
            const size_t sp = m.find(' ', 1);
            if (sp == std::string_view::npos) continue;  // malformed entry: never applies
            const std::string_view a = m.substr(0, sp), b = m.substr(sp + 1);
            joined.assign(a);
            joined += b;
            const int32_t left = intern(a), right = intern(b);
            merges_.try_emplace(MergeTable::key(left, right), Merge{(int32_t)i, intern(joined)});
        }
        for (int b = 0; b < 256; ++b) {
            byte_sym_[b] = intern(byte_to_unicode((uint8_t)b));
            if (byte_sym_[b] < vocab_.n_tokens() && vocab_.token_bytes(byte_sym_[b]) == std::string(1, (char)b)) {
                byte_token_[b] = byte_sym_[b];
            }
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
        Work w;
        for (const Fragment & f : frags) {
            if (f.token) {
                out.push_back(*f.token);
                continue;
            }
            w.words.clear();
            pre_.split(f.text, w.words);
            for (std::string_view word : w.words) encode_word(word, w, out);
        }
        if (opt.add_special && sp.add_eos) {
            if (!sp.eos) throw Error(ErrorKind::ErrorKind_invalid_file, "the vocabulary asks for EOS but has no eos token id");
            out.push_back(*sp.eos);
        }
        return out;
    }

private:
    struct Work {  // buffers reused across the words of one encode() call
        std::vector<std::string_view> words;
        std::vector<Symbol> symbols;
        std::vector<Candidate> heap;
        std::string encoded;
    };

    void try_add(Work & w, int32_t left, int32_t right) const {
        if (left < 0 || right < 0) return;
        const int32_t ls = w.symbols[left].sym, rs = w.symbols[right].sym;
        const Merge * m = merges_.find(MergeTable::key(ls, rs));
        if (m == nullptr) return;
        w.heap.push_back({m->rank, left, right, ls, rs});
        std::push_heap(w.heap.begin(), w.heap.end(), CandidateWorse());
    }

    void encode_word(std::string_view word, Work & w, std::vector<TokenId> & out) const {
        if (pre_.ignore_merges()) {  // a word that is a token as a whole is taken as is
            w.encoded.clear();
            for (char c : word) w.encoded += byte_to_unicode((uint8_t)c);
            if (auto id = vocab_.find(w.encoded); id && !is_special(vocab_.token_type(*id))) {
                out.push_back(*id);
                return;
            }
        }
        w.symbols.clear();
        w.heap.clear();
        const auto n = (int32_t)word.size();
        for (int32_t i = 0; i < n; ++i) {
            w.symbols.push_back({byte_sym_[(uint8_t)word[i]], i - 1, i + 1 == n ? -1 : i + 1, (uint32_t)i, 1});
        }
        for (int32_t i = 1; i < n; ++i) try_add(w, i - 1, i);
        while (!w.heap.empty()) {
            std::pop_heap(w.heap.begin(), w.heap.end(), CandidateWorse());
            const Candidate c = w.heap.back();
            w.heap.pop_back();
            Symbol & l = w.symbols[c.left];
            Symbol & r = w.symbols[c.right];
            if (l.n == 0 || r.n == 0 || l.next != c.right || l.sym != c.left_sym || r.sym != c.right_sym) continue;
            l.sym = merges_.find(MergeTable::key(c.left_sym, c.right_sym))->result;
            l.n += r.n;
            r.n = 0;
            l.next = r.next;
            if (r.next >= 0) w.symbols[r.next].prev = c.left;
            try_add(w, l.prev, c.left);
            try_add(w, c.left, l.next);
        }
        for (int32_t i = n > 0 ? 0 : -1; i != -1; i = w.symbols[i].next) {
            const Symbol & s = w.symbols[i];
            if (s.sym < vocab_.n_tokens() && !is_special(vocab_.token_type(s.sym))) {
                out.push_back(s.sym);
                continue;
            }
            for (uint32_t k = s.start; k < s.start + s.n; ++k) {
                if (const auto & bt = byte_token_[(uint8_t)word[k]]) out.push_back(*bt);
            }
        }
    }

    PreTokenizer pre_;
    SpecialSplitter special_;
    MergeTable merges_;                           // (left symbol, right symbol) -> merge
    int32_t byte_sym_[256] = {};                  // symbol of each byte's GPT-2 code point
    std::optional<TokenId> byte_token_[256];      // token of each byte, when the vocabulary has it
};

}  // namespace

std::unique_ptr<Tokenizer> make_bpe_tokenizer(Vocab vocab) {
    const std::string pre = vocab.pre();
    return std::make_unique<BpeTokenizer>(std::move(vocab), pre);
}

}  // namespace sy::tok
