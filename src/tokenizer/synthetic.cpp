// make_synthetic_bpe_vocab: a small but real byte-level BPE vocabulary for tests and `model init`
// (random-weight models need a tokenizer that llama.cpp accepts and that round-trips any text).
//
// Construction: 256 byte tokens in GPT-2 form (byte order), then merges learned greedily from the embedded
// sample below (the most frequent adjacent pair over the pre-tokenized words, ties to the smallest token
// ids, while a pair occurs at least twice), then seeded random merges of two existing tokens (at most 16 bytes together) until
// n_tokens - 3 tokens exist, then the control tokens <|endoftext|>, <|im_start|>, <|im_end|>.
#include <algorithm>
#include <cstring>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "common/error.h"
#include "tokenizer/pretokenize_internal.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode_internal.h"

namespace sy::tok {

namespace {

constexpr const char * kSample = R"(The quick brown fox jumps over the lazy dog. A router model reads the user's message
and decides which tool to call, or whether no tool is needed at all. When it is unsure, the request goes to a
larger model in the cloud, and the answer is recorded so that the next fine-tune can learn from it.

User: What is the weather like in Paris today?
Assistant: {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}
Tool: {"temperature": 18, "condition": "partly cloudy", "humidity": 0.64}
Assistant: It is 18 degrees and partly cloudy in Paris, with a light wind from the west.

User: Please book a table for two at seven o'clock tonight.
Assistant: {"name": "book_table", "arguments": {"people": 2, "time": "19:00", "date": "today"}}
Tool: {"status": "confirmed", "reference": "TX-4821"}
Assistant: Your table for two is booked for 7 pm tonight. The reference number is TX-4821.

User: Can you remind me to call my mother on Sunday?
Assistant: {"name": "create_reminder", "arguments": {"text": "Call mother", "when": "Sunday 10:00"}}
Tool: {"id": 77, "created": true}
Assistant: Done. I will remind you on Sunday morning to call your mother.

Small models that are trained on the tools of one team are often as good as a much larger general model
for that team's requests, and they answer in a few milliseconds on an ordinary computer. The training data
comes from the traces of real requests: every message, every tool call, and every result the tools returned.
A good dataset keeps the examples where the model was right, corrects the ones where it was wrong, and adds
negative examples where no tool should be called. Then the model is evaluated on a held-out test set: the
accuracy of the tool names, the validity of the JSON arguments, the rate of false positives, the latency and
the cost per request. If the new model is better than the old one on every measure that matters, it is
deployed, and the loop begins again with the next week of traces.

def add(a, b):
    return a + b

for i in range(10):
    print(i, add(i, i * 2))

The numbers 0 1 2 3 4 5 6 7 8 9 10 100 1000 2024 3.14159 and the words there, their, they're, it's, isn't,
we'll, you've, I'm, don't, can't, won't, shouldn't appear in many English texts. Questions? Answers! Lists:
first, second, third; and (parentheses), [brackets], {braces}, <angles>, "quotes", 'apostrophes', and so on.
)";

struct Word {
    std::vector<int32_t> syms;  // token ids
    int32_t count = 0;
};

// Applies merge (a, b) -> m in place.
void apply_merge(Word & w, int32_t a, int32_t b, int32_t m) {
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
}

}  // namespace

Vocab make_synthetic_bpe_vocab(int32_t n_tokens, uint64_t seed, std::string_view pre) {
    constexpr int32_t kControl = 3;
    if (n_tokens < 256 + kControl) {
        throw Error(ErrorKind::ErrorKind_invalid_argument,
                    "a synthetic BPE vocabulary needs at least 259 tokens (256 bytes + 3 control), not " +
                        std::to_string(n_tokens));
    }
    if (pre != "qwen2" && pre != "smollm") {
        throw Error(ErrorKind::ErrorKind_invalid_argument,
                    "synthetic BPE vocabulary: pre-tokenizer must be qwen2 or smollm, not '" + std::string(pre) + "'");
    }
    const int32_t n_normal = n_tokens - kControl;
    const char * controls[kControl] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};

    Vocab v;
    v.kind_ = TokenizerKind::TokenizerKind_bpe;
    v.pre_ = std::string(pre);
    std::unordered_map<std::string, int32_t> ids;  // token text -> id, for uniqueness
    for (const char * c : controls) ids.emplace(c, -1);
    for (int b = 0; b < 256; ++b) {
        v.text_.push_back(byte_to_unicode((uint8_t)b));
        ids.emplace(v.text_.back(), b);
    }
    // Adds merge "a b" (and the token a+b when new); returns the id of a+b.
    auto add_merge = [&](int32_t a, int32_t b) {
        v.merges_.push_back(v.text_[a] + " " + v.text_[b]);
        std::string joined = v.text_[a] + v.text_[b];
        const auto [it, fresh] = ids.emplace(joined, (int32_t)v.text_.size());
        if (fresh) v.text_.push_back(std::move(joined));
        return it->second;
    };

    // Greedy merges learned from the sample.
    {
        const PreTokenizer splitter(pre);
        std::vector<std::string_view> pieces;
        splitter.split(kSample, pieces);
        std::unordered_map<std::string_view, int32_t> counts;
        for (auto p : pieces) ++counts[p];
        std::vector<Word> words;
        for (const auto & [text, count] : counts) {
            Word w;
            for (char c : text) w.syms.push_back((uint8_t)c);
            w.count = count;
            if (w.syms.size() > 1) words.push_back(std::move(w));
        }
        std::sort(words.begin(), words.end(), [](const Word & a, const Word & b) { return a.syms < b.syms; });
        std::unordered_map<uint64_t, int64_t> pair_counts;
        while ((int32_t)v.text_.size() < n_normal) {
            pair_counts.clear();
            for (const Word & w : words) {
                for (size_t i = 0; i + 1 < w.syms.size(); ++i) {
                    pair_counts[((uint64_t)(uint32_t)w.syms[i] << 32) | (uint32_t)w.syms[i + 1]] += w.count;
                }
            }
            uint64_t best = 0;
            int64_t best_count = 1;
            for (const auto & [key, count] : pair_counts) {
                if (count > best_count || (count == best_count && count > 1 && key < best)) {
                    best = key;
                    best_count = count;
                }
            }
            if (best_count < 2) break;
            const auto a = (int32_t)(best >> 32), b = (int32_t)(best & 0xFFFFFFFFu);
            const int32_t m = add_merge(a, b);
            for (Word & w : words) apply_merge(w, a, b, m);
        }
    }

    // Seeded random merges of existing tokens up to the requested size: a uniform, then b uniform among
    // the tokens short enough that a+b stays within kMaxRaw bytes.
    constexpr size_t kMaxRaw = 16;
    std::mt19937_64 rng(seed);
    std::vector<std::vector<int32_t>> by_len(kMaxRaw + 1);  // raw byte length -> token ids
    std::vector<uint8_t> raw_len(v.text_.size());
    for (size_t i = 0; i < v.text_.size(); ++i) {
        size_t len = 0;
        for (size_t k = 0; k < v.text_[i].size(); k += utf8_sequence_len(std::string_view(v.text_[i]).substr(k))) ++len;
        raw_len[i] = (uint8_t)std::min(len, kMaxRaw);
        by_len[raw_len[i]].push_back((int32_t)i);
    }
    while ((int32_t)v.text_.size() < n_normal) {
        const auto a = (int32_t)(rng() % v.text_.size());
        const size_t room = kMaxRaw - raw_len[a];
        size_t n_fit = 0;
        for (size_t l = 1; l <= room; ++l) n_fit += by_len[l].size();
        if (n_fit == 0) continue;
        size_t r = rng() % n_fit, l = 1;
        while (r >= by_len[l].size()) r -= by_len[l++].size();
        const int32_t b = by_len[l][r];
        if (ids.count(v.text_[a] + v.text_[b]) > 0) continue;
        add_merge(a, b);
        raw_len.push_back((uint8_t)(raw_len[a] + raw_len[b]));
        by_len[raw_len.back()].push_back((int32_t)raw_len.size() - 1);
    }

    v.type_.assign(v.text_.size(), TokenType::TokenType_normal);
    for (const char * c : controls) {
        v.text_.push_back(c);
        v.type_.push_back(TokenType::TokenType_control);
    }
    v.special_.bos = n_tokens - 3;
    v.special_.pad = n_tokens - 3;
    v.special_.eos = n_tokens - 1;
    v.special_.add_bos = false;
    v.special_.add_eos = false;
    v.finalize();
    return v;
}

}  // namespace sy::tok
