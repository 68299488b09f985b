// Byte-level BPE trainer (see bpe_trainer.h). Design: unique pre-tokenized words with counts; pair counts
// kept incrementally, with an index pair -> words that contain it and a max-heap with lazy deletion, so a
// merge only touches the words that contain its pair. Example: words {"ab":3, "abc":1} -> pair (a,b)
// counts 4 -> merge "a b" -> words {"[ab]":3, "[ab]c":1} -> pair ([ab],c) counts 1 (< 2: stop).
#include "train/bpe_trainer.h"

#include <algorithm>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "tokenizer/pretokenize_internal.h"
#include "tokenizer/unicode_internal.h"

namespace sy::train {
namespace {

struct Word {
    std::vector<int32_t> syms;
    int64_t count = 0;
};

uint64_t key(int32_t a, int32_t b) { return ((uint64_t)(uint32_t)a << 32) | (uint32_t)b; }

// Cuts every occurrence of a special string out of `text`, appending the plain pieces.
void cut_specials(std::string_view text, const std::vector<std::string> & specials, std::vector<std::string_view> & out) {
    size_t start = 0, i = 0;
    while (i < text.size()) {
        size_t hit = 0;
        for (const std::string & s : specials)
            if (!s.empty() && text.compare(i, s.size(), s) == 0) hit = std::max(hit, s.size());
        if (hit) {
            if (i > start) out.push_back(text.substr(start, i - start));
            i += hit;
            start = i;
        } else {
            ++i;
        }
    }
    if (start < text.size()) out.push_back(text.substr(start));
}

}  // namespace

tok::Vocab train_bpe(const std::vector<std::string> & texts, const BpeTrainParams & p) {
    const int32_t n_special = (int32_t)(p.control.size() + p.user_defined.size());
    if (p.vocab_size < 256 + n_special)
        throw Error(ErrorKind::ErrorKind_invalid_argument,
                    "BPE vocabulary size must be at least 256 + " + std::to_string(n_special) + " special tokens");
    const tok::PreTokenizer splitter(p.pre);
    std::vector<std::string> specials = p.control;
    specials.insert(specials.end(), p.user_defined.begin(), p.user_defined.end());

    // Unique words, in first-seen order (deterministic).
    std::unordered_map<std::string_view, int32_t> word_ids;
    std::vector<Word> words;
    std::vector<std::string_view> plain, pieces;
    for (const std::string & t : texts) {
        plain.clear();
        cut_specials(t, specials, plain);
        for (std::string_view s : plain) {
            pieces.clear();
            splitter.split(s, pieces);
            for (std::string_view w : pieces) {
                auto [it, fresh] = word_ids.emplace(w, (int32_t)words.size());
                if (fresh) {
                    Word nw;
                    for (char c : w) nw.syms.push_back((uint8_t)c);
                    words.push_back(std::move(nw));
                }
                words[it->second].count++;
            }
        }
    }

    tok::Vocab v;
    v.kind_ = tok::TokenizerKind::TokenizerKind_bpe;
    v.pre_ = p.pre;
    std::unordered_map<std::string, int32_t> text_id;  // a string reached by two merge paths keeps one id
    for (int b = 0; b < 256; ++b) {
        v.text_.push_back(tok::byte_to_unicode((uint8_t)b));
        text_id.emplace(v.text_.back(), b);
    }

    std::unordered_map<uint64_t, int64_t> counts;
    std::unordered_map<uint64_t, std::vector<int32_t>> where;
    using Entry = std::pair<int64_t, uint64_t>;  // (count, ~key): larger count first, then smaller key
    std::priority_queue<Entry> heap;
    for (int32_t wi = 0; wi < (int32_t)words.size(); ++wi) {
        const Word & w = words[wi];
        for (size_t i = 0; i + 1 < w.syms.size(); ++i) {
            const uint64_t k = key(w.syms[i], w.syms[i + 1]);
            counts[k] += w.count;
            auto & list = where[k];
            if (list.empty() || list.back() != wi) list.push_back(wi);
        }
    }
    for (const auto & [k, c] : counts) heap.push({c, ~k});

    const int32_t n_normal = p.vocab_size - n_special;
    std::unordered_set<uint64_t> touched;
    while ((int32_t)v.text_.size() < n_normal && !heap.empty()) {
        const auto [c, nk] = heap.top();
        heap.pop();
        const uint64_t k = ~nk;
        auto cit = counts.find(k);
        if (cit == counts.end() || cit->second != c) continue;  // stale entry
        if (c < p.min_pair_count) break;
        const auto a = (int32_t)(k >> 32), b = (int32_t)(k & 0xFFFFFFFFu);
        v.merges_.push_back(v.text_[a] + " " + v.text_[b]);
        const auto [tit, fresh] = text_id.emplace(v.text_[a] + v.text_[b], (int32_t)v.text_.size());
        if (fresh) v.text_.push_back(tit->first);
        const int32_t m = tit->second;
        touched.clear();
        std::vector<int32_t> list = std::move(where[k]);
        where.erase(k);
        for (int32_t wi : list) {
            Word & w = words[wi];
            bool has = false;
            for (size_t i = 0; i + 1 < w.syms.size() && !has; ++i) has = w.syms[i] == a && w.syms[i + 1] == b;
            if (!has) continue;
            for (size_t i = 0; i + 1 < w.syms.size(); ++i) {
                const uint64_t pk = key(w.syms[i], w.syms[i + 1]);
                counts[pk] -= w.count;
                touched.insert(pk);
            }
            size_t out = 0;
            for (size_t i = 0; i < w.syms.size(); ++i) {
                if (i + 1 < w.syms.size() && w.syms[i] == a && w.syms[i + 1] == b) {
                    w.syms[out++] = m;
                    ++i;
                } else {
                    w.syms[out++] = w.syms[i];
                }
            }
            w.syms.resize(out);
            for (size_t i = 0; i + 1 < w.syms.size(); ++i) {
                const uint64_t pk = key(w.syms[i], w.syms[i + 1]);
                counts[pk] += w.count;
                touched.insert(pk);
                auto & wl = where[pk];
                if (wl.empty() || wl.back() != wi) wl.push_back(wi);
            }
        }
        counts.erase(k);
        std::vector<uint64_t> sorted(touched.begin(), touched.end());
        std::sort(sorted.begin(), sorted.end());
        for (uint64_t pk : sorted) {
            auto it = counts.find(pk);
            if (it == counts.end()) continue;
            if (it->second <= 0) counts.erase(it);
            else heap.push({it->second, ~pk});
        }
    }

    v.type_.assign(v.text_.size(), tok::TokenType::TokenType_normal);
    for (const std::string & s : p.control) {
        v.text_.push_back(s);
        v.type_.push_back(tok::TokenType::TokenType_control);
    }
    for (const std::string & s : p.user_defined) {
        v.text_.push_back(s);
        v.type_.push_back(tok::TokenType::TokenType_user_defined);
    }
    auto id_of = [&](const std::string & s) -> std::optional<tok::TokenId> {
        for (size_t i = v.text_.size(); i-- > 0;)
            if (v.text_[i] == s) return (tok::TokenId)i;
        return std::nullopt;
    };
    v.special_.bos = id_of("<|endoftext|>");
    v.special_.pad = v.special_.bos;
    v.special_.eos = id_of("<|im_end|>");
    v.special_.add_bos = false;
    v.special_.add_eos = false;
    v.finalize();
    return v;
}

}  // namespace sy::train
