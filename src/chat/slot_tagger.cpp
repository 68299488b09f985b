// The router's slot tagger: training, decoding, GGUF metadata (see slot_tagger.h).
#include "chat/slot_tagger.h"

#include <algorithm>
#include <cctype>
#include <atomic>
#include <limits>
#include <thread>
#include <unordered_map>

#include "common/error.h"
#include "common/rng.h"
#include "chat/text_features.h"

namespace sy::chat {
namespace {

constexpr const char * kFieldsKey = "switchyard.router.tagger.fields";
constexpr const char * kBucketsKey = "switchyard.router.tagger.buckets";
constexpr const char * kWeightsKey = "switchyard.router.tagger.weights";
constexpr const char * kTransKey = "switchyard.router.tagger.transitions";
constexpr const char * kKnownKey = "switchyard.router.tagger.known_words";
constexpr const char * kNoBeginKey = "switchyard.router.tagger.no_begin_words";
constexpr const char * kNoEndKey = "switchyard.router.tagger.no_end_words";
constexpr const char * kNumberFieldsKey = "switchyard.router.tagger.number_fields";
constexpr const char * kNumberWeightsKey = "switchyard.router.tagger.number_weights";

// Span edges (see train()): the evidence a word needs, in spans a typical word would have begun, and the
// share of those it may have begun and still count as a word spans do not begin at.
constexpr double kEdgeMinExpected = 10;
constexpr double kEdgeShare = 0.1;

bool word_byte(unsigned char c) { return std::isalnum(c) || c == '\'' || c >= 0x80; }

// Keywords that make a value more than free text (or a plain number) for the tagger.
constexpr const char * kNotPlain[] = {"enum", "const", "format", "pattern", "$ref", "anyOf", "oneOf", "allOf"};

bool plain_string(const ojson & s) {
    if (!s.is_object() || !s.contains("type") || s["type"] != "string") return false;
    for (const char * k : kNotPlain)
        if (s.contains(k)) return false;
    return true;
}

struct Example {
    std::vector<std::string> words;  // lowercased
    std::vector<int32_t> labels;
    std::vector<int32_t> number_labels;  // per word: 0, or 1 + the number field its digits are the value of
};

// A word without a plural 's' ("tags" -> "tag"; "class", "bus" stay).
std::string_view stem(std::string_view w) {
    if (w.size() > 3 && w.back() == 's' && w[w.size() - 2] != 's') w.remove_suffix(1);
    return w;
}

bool all_digits(std::string_view w) {
    return !w.empty() && std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::vector<TaggerWord> tagger_words(std::string_view text) {
    std::vector<TaggerWord> out;
    size_t i = 0;
    while (i < text.size()) {
        const unsigned char c = (unsigned char)text[i];
        if (std::isspace(c)) {
            ++i;
            continue;
        }
        size_t j = i + 1;
        if (word_byte(c))
            while (j < text.size() && word_byte((unsigned char)text[j])) ++j;
        out.push_back({i, j});
        i = j;
    }
    return out;
}

std::vector<std::string> tagger_fields(const ojson & parameters) {
    std::vector<std::string> out;
    if (!parameters.is_object() || !parameters.contains("properties") || !parameters["properties"].is_object()) return out;
    for (auto it = parameters["properties"].begin(); it != parameters["properties"].end(); ++it) {
        const ojson & s = it.value();
        const bool array = s.is_object() && s.value("type", "") == "array" && s.contains("items");
        if (plain_string(s) || (array && plain_string(s["items"]))) out.push_back(it.key());
    }
    return out;
}

std::vector<std::string> tagger_number_fields(const ojson & parameters) {
    std::vector<std::string> out;
    if (!parameters.is_object() || !parameters.contains("properties") || !parameters["properties"].is_object()) return out;
    for (auto it = parameters["properties"].begin(); it != parameters["properties"].end(); ++it) {
        const ojson & s = it.value();
        if (!s.is_object() || s.value("type", "") != "integer") continue;
        if (std::none_of(std::begin(kNotPlain), std::end(kNotPlain), [&](const char * k) { return s.contains(k); }))
            out.push_back(it.key());
    }
    return out;
}


void SlotTagger::features(const std::vector<std::string> & words, size_t i, std::vector<uint32_t> & out) const {
    // A word seen in fewer than three training requests reads as "<unk>" (its prefix and suffix stay):
    // rare words of the training values then teach what a never-seen word of a new request does.
    auto W = [&](ptrdiff_t j) -> std::string_view {
        if (j < 0) return "<s>";
        if (j >= (ptrdiff_t)words.size()) return "</s>";
        if (!known_.count(words[(size_t)j])) return "<unk>";
        return words[(size_t)j];
    };
    auto known = [&](ptrdiff_t j) -> std::string_view {
        if (j < 0 || j >= (ptrdiff_t)words.size()) return "edge";
        return known_.count(words[(size_t)j]) ? "yes" : "no";
    };
    const ptrdiff_t k = (ptrdiff_t)i;
    const std::string_view w = W(k);
    const std::string_view raw = k < (ptrdiff_t)words.size() ? std::string_view(words[(size_t)k]) : w;
    const std::string pos = std::to_string(std::min<size_t>(i, 3));
    out.clear();
    auto add = [&](std::string_view a, std::string_view b = {}, std::string_view c = {}) {
        out.push_back((uint32_t)(feature_hash(a, b, c) % n_buckets_));
    };
    add("bias");
    add("w", w);
    add("p1", W(k - 1));
    add("p2", W(k - 2));
    add("n1", W(k + 1));
    add("n2", W(k + 2));
    add("p1w", W(k - 1), w);
    add("wn1", w, W(k + 1));
    add("p2p1", W(k - 2), W(k - 1));
    add("n1n2", W(k + 1), W(k + 2));
    // The words before, with a plural 's' cut: "tags: X" reads like the "tag: X" of training.
    add("p1s", stem(W(k - 1)));
    add("p2s", stem(W(k - 2)));
    add("p2p1s", stem(W(k - 2)), stem(W(k - 1)));
    // Whether this word and the one before are words spans do not begin at: a span tends to begin right
    // after one ("so I hang the lights" with "hang" never seen after "I").
    auto no_begin = [&](ptrdiff_t j) -> std::string_view {
        if (j < 0 || j >= (ptrdiff_t)words.size()) return "edge";
        return no_begin_.count(words[(size_t)j]) ? "nb" : "-";
    };
    add("p1nb", no_begin(k - 1), known(k));
    add("nb", no_begin(k), no_begin(k - 1));
    add("suf3", raw.substr(raw.size() > 3 ? raw.size() - 3 : 0));
    add("pre3", raw.substr(0, 3));
    add("known", known(k));
    add("known-p1", known(k - 1), known(k));
    add("known-n1", known(k), known(k + 1));
    add("pos", pos);
}

SlotTagger SlotTagger::train(const std::vector<Conversation> & convs, const SlotTaggerOptions & opt) {
    SlotTagger t;
    t.n_buckets_ = std::max<uint32_t>(opt.n_buckets, 1024);
    // Fields, in first-seen order over the tool sets.
    for (const Conversation & c : convs)
        if (c.tools.is_array())
            for (const ojson & tool : c.tools) {
                const ojson & fn = tool.contains("function") ? tool["function"] : tool;
                if (!fn.is_object() || !fn.contains("parameters")) continue;
                for (const std::string & f : tagger_fields(fn["parameters"]))
                    if (std::find(t.fields_.begin(), t.fields_.end(), f) == t.fields_.end()) t.fields_.push_back(f);
                for (const std::string & f : tagger_number_fields(fn["parameters"]))
                    if (std::find(t.number_fields_.begin(), t.number_fields_.end(), f) == t.number_fields_.end())
                        t.number_fields_.push_back(f);
            }
    if (t.fields_.empty())
        throw Error(ErrorKind::ErrorKind_invalid_argument, "slot tagger: no tool in the data has a free-text string argument");
    auto field_index = [&](const std::string & f) {
        return (int32_t)(std::find(t.fields_.begin(), t.fields_.end(), f) - t.fields_.begin());
    };

    std::vector<Example> data;
    for (const Conversation & c : convs)
        for (size_t i = 1; i < c.messages.size(); ++i) {
            const Message & m = c.messages[i];
            if (m.role != "assistant" || c.messages[i - 1].role != "user") continue;
            const std::string & u = c.messages[i - 1].content;
            const std::vector<TaggerWord> ws = tagger_words(u);
            Example ex;
            for (const TaggerWord & w : ws) ex.words.push_back(fold_lower(std::string_view(u).substr(w.begin, w.end - w.begin)));
            ex.labels.assign(ws.size(), 0);
            ex.number_labels.assign(ws.size(), 0);
            const std::string lu = fold_lower(u);
            for (const ToolCall & call : m.tool_calls) {
                const ojson * params = find_tool_schema(c.tools, call.name);
                if (!params || !call.arguments.is_object()) continue;
                // A number field's value: the first word of the request that is its digits.
                for (const std::string & f : tagger_number_fields(*params)) {
                    if (!call.arguments.contains(f) || !call.arguments[f].is_number_integer()) continue;
                    const std::string digits = call.arguments[f].dump();
                    const int32_t fi = (int32_t)(std::find(t.number_fields_.begin(), t.number_fields_.end(), f) -
                                                 t.number_fields_.begin());
                    for (size_t k = 0; k < ex.words.size(); ++k)
                        if (ex.words[k] == digits && ex.number_labels[k] == 0) {
                            ex.number_labels[k] = 1 + fi;
                            break;
                        }
                }
                for (const std::string & f : tagger_fields(*params)) {
                    if (!call.arguments.contains(f)) continue;
                    const ojson & v = call.arguments[f];
                    std::vector<std::string> values;
                    if (v.is_string()) values.push_back(v.get<std::string>());
                    else if (v.is_array())
                        for (const ojson & x : v)
                            if (x.is_string()) values.push_back(x.get<std::string>());
                    for (const std::string & value : values) {
                        const std::string lv = fold_lower(value);
                        if (lv.empty()) continue;
                        // The first word-aligned, still unlabelled occurrence.
                        for (size_t at = lu.find(lv); at != std::string::npos; at = lu.find(lv, at + 1)) {
                            size_t first = ws.size(), last = ws.size();
                            for (size_t k = 0; k < ws.size(); ++k) {
                                if (ws[k].begin == at) first = k;
                                if (ws[k].end == at + lv.size()) last = k;
                            }
                            if (first == ws.size() || last == ws.size() || last < first) continue;
                            bool free = true;
                            for (size_t k = first; k <= last; ++k) free = free && ex.labels[k] == 0;
                            if (!free) continue;
                            const int32_t fi = field_index(f);
                            for (size_t k = first; k <= last; ++k) ex.labels[k] = k == first ? 1 + 2 * fi : 2 + 2 * fi;
                            break;
                        }
                    }
                }
            }
            if (!ex.words.empty()) data.push_back(std::move(ex));
        }
    if (data.empty()) throw Error(ErrorKind::ErrorKind_invalid_argument, "slot tagger: no assistant turn answers a user turn");
    {
        // A word is "known" when three training requests or more have it: in training, the rare words of
        // the values then look like the never-seen words of new requests, so the feature learns something.
        std::unordered_map<std::string, int32_t> df;
        for (const Example & ex : data)
            for (const std::string & w : std::unordered_set<std::string>(ex.words.begin(), ex.words.end())) ++df[w];
        for (const auto & [w, n] : df)
            if (n >= 3) t.known_.insert(w);
        // Span edges. A word that a typical word's rate would have made begin (end) kEdgeMinExpected
        // spans or more, but that began (ended) fewer than kEdgeShare of that, is a word no span begins
        // (ends) at: "to" in "related to X", "I" in "so I hang the lights". Learnt from the data, so
        // another tool set gets its own; a word seen too rarely to tell stays free. A decoded span is
        // trimmed of them (trimmed()); training does not see them (decoding under them as constraints,
        // in training or not, did worse: held-out exact arguments 2-3 points and 0.3 points lower).
        std::unordered_map<std::string, int64_t> occurrences, begins, ends;
        int64_t n_words = 0, n_spans = 0;
        for (const Example & ex : data)
            for (size_t k = 0; k < ex.words.size(); ++k) {
                ++occurrences[ex.words[k]];
                ++n_words;
                if (ex.labels[k] == 0) continue;
                if (ex.labels[k] & 1) ++begins[ex.words[k]], ++n_spans;
                if (k + 1 == ex.words.size() || ex.labels[k + 1] != ex.labels[k] + ((ex.labels[k] & 1) ? 1 : 0))
                    ++ends[ex.words[k]];
            }
        const double rate = n_words ? (double)n_spans / (double)n_words : 0.0;  // spans begun (ended) per word
        for (const auto & [w, n] : occurrences) {
            const double expected = (double)n * rate;
            if (expected < kEdgeMinExpected) continue;
            if ((double)begins[w] < kEdgeShare * expected) t.no_begin_.insert(w);
            if ((double)ends[w] < kEdgeShare * expected) t.no_end_.insert(w);
        }
    }
    t.n_examples_ = (int32_t)data.size();
    {
        // A copy of every request with some known words turned into "<unk>": requests phrased with words
        // training never had (a new verb before a title) look like these.
        SplitMix64 urng{opt.seed ^ 0x0a0a0aull};
        const size_t n0 = data.size();
        for (size_t e = 0; opt.unk_rate > 0 && e < n0; ++e) {
            Example ex = data[e];
            for (std::string & w : ex.words)
                if ((double)(urng.next() >> 11) * 0x1.0p-53 < opt.unk_rate) w = "<unk>";
            data.push_back(std::move(ex));
        }
    }
    // Averaged perceptrons (lazy averaging: acc sums step * update; the average is w - acc / step), each
    // on its own random share of the requests in its own order, and the tagger is their mean (bagging): a
    // single perceptron's spans swing with the sample it saw (held-out titles 80-96% across training sets
    // of 3000-8000 chats), the mean's much less (88-96%; docs/training.md, R8).
    const int32_t L = t.n_labels();
    std::vector<std::vector<std::vector<uint32_t>>> feats(data.size());
    for (size_t e = 0; e < data.size(); ++e) {
        feats[e].resize(data[e].words.size());
        for (size_t i = 0; i < data[e].words.size(); ++i) t.features(data[e].words, i, feats[e][i]);
    }
    const int n_models = std::max(1, opt.n_models);
    // One model: its averaged weights into w and trans. Models share nothing but read-only data, so they
    // train on threads; each has its own seed, and the mean adds them in model order (deterministic).
    auto train_one = [&](int model, std::vector<float> & w_out, std::vector<float> & t_out) {
        SlotTagger m;  // the weights being trained; decode() reads them
        m.fields_ = t.fields_;
        m.n_buckets_ = t.n_buckets_;
        m.w_.assign((size_t)t.n_buckets_ * L, 0.0f);
        m.trans_.assign((size_t)(L + 1) * L, 0.0f);
        std::vector<float> wacc(m.w_.size(), 0.0f), tacc(m.trans_.size(), 0.0f);
        SplitMix64 rng{(opt.seed ^ 0x51a7ull) + 0x9E3779B97F4A7C15ull * (uint64_t)model};
        std::vector<size_t> order;  // this model's share of the requests (all of them for a single model)
        for (size_t i = 0; i < data.size(); ++i)
            if (n_models == 1 || (double)(rng.next() >> 11) * 0x1.0p-53 < opt.bag_share) order.push_back(i);
        float step = 1;
        auto bump = [&](std::vector<float> & v, std::vector<float> & acc, size_t at, float d) {
            v[at] += d;
            acc[at] += step * d;
        };
        for (int ep = 0; ep < opt.epochs; ++ep) {
            for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.next() % i]);
            for (size_t e : order) {
                const std::vector<int32_t> pred = m.decode(feats[e]);
                const std::vector<int32_t> & gold = data[e].labels;
                for (size_t i = 0; i < gold.size(); ++i) {
                    if (pred[i] != gold[i])
                        for (uint32_t f : feats[e][i]) {
                            bump(m.w_, wacc, (size_t)f * L + gold[i], 1.0f);
                            bump(m.w_, wacc, (size_t)f * L + pred[i], -1.0f);
                        }
                    const int32_t gp = i ? gold[i - 1] : L, pp = i ? pred[i - 1] : L;
                    if (gp != pp || gold[i] != pred[i]) {
                        bump(m.trans_, tacc, (size_t)gp * L + gold[i], 1.0f);
                        bump(m.trans_, tacc, (size_t)pp * L + pred[i], -1.0f);
                    }
                }
                step += 1;
            }
        }
        w_out.resize(m.w_.size());
        t_out.resize(m.trans_.size());
        for (size_t k = 0; k < w_out.size(); ++k) w_out[k] = m.w_[k] - wacc[k] / step;
        for (size_t k = 0; k < t_out.size(); ++k) t_out[k] = m.trans_[k] - tacc[k] / step;
    };
    std::vector<std::vector<float>> ws((size_t)n_models), ts((size_t)n_models);
    const int n_threads = std::max(1, std::min(opt.n_threads, n_models));
    std::atomic<int> next{0};
    auto worker = [&] {
        for (int model; (model = next.fetch_add(1)) < n_models;) train_one(model, ws[(size_t)model], ts[(size_t)model]);
    };
    std::vector<std::thread> pool;
    for (int i = 1; i < n_threads; ++i) pool.emplace_back(worker);
    worker();
    for (std::thread & th : pool) th.join();
    std::vector<float> sum_w((size_t)t.n_buckets_ * L, 0.0f), sum_t((size_t)(L + 1) * L, 0.0f);
    for (int model = 0; model < n_models; ++model) {
        for (size_t k = 0; k < sum_w.size(); ++k) sum_w[k] += ws[(size_t)model][k] / (float)n_models;
        for (size_t k = 0; k < sum_t.size(); ++k) sum_t[k] += ts[(size_t)model][k] / (float)n_models;
    }
    t.w_ = std::move(sum_w);
    t.trans_ = std::move(sum_t);
    if (!t.number_fields_.empty()) {
        std::vector<std::pair<size_t, size_t>> at;  // (request, word) of every number in the data
        std::vector<int32_t> gold;
        for (size_t e = 0; e < data.size(); ++e)
            for (size_t k = 0; k < data[e].words.size(); ++k)
                if (all_digits(data[e].words[k])) {
                    at.emplace_back(e, k);
                    gold.push_back(data[e].number_labels[k]);
                }
        t.train_numbers(at, gold, feats, opt);
    }
    return t;
}

void SlotTagger::train_numbers(const std::vector<std::pair<size_t, size_t>> & at, const std::vector<int32_t> & gold,
                               const std::vector<std::vector<std::vector<uint32_t>>> & feats, const SlotTaggerOptions & opt) {
    // An averaged multiclass perceptron over the same word features, one decision per number of the
    // request: which number field, if any, it is the value of. Apart from the span tagger, so adding ids
    // to the data does not move the free-text spans.
    const int32_t NL = 1 + (int32_t)number_fields_.size();
    number_w_.assign((size_t)n_buckets_ * NL, 0.0f);
    std::vector<float> acc(number_w_.size(), 0.0f);
    std::vector<size_t> order(at.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    SplitMix64 rng{opt.seed ^ 0x1d5ull};
    float step = 1;
    std::vector<float> score((size_t)NL);
    for (int ep = 0; ep < opt.epochs; ++ep) {
        for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.next() % i]);
        for (size_t o : order) {
            const std::vector<uint32_t> & f = feats[at[o].first][at[o].second];
            const int32_t pred = pick_number(f, score);
            if (pred != gold[o])
                for (uint32_t b : f) {
                    number_w_[(size_t)b * NL + gold[o]] += 1.0f;
                    acc[(size_t)b * NL + gold[o]] += step;
                    number_w_[(size_t)b * NL + pred] -= 1.0f;
                    acc[(size_t)b * NL + pred] -= step;
                }
            step += 1;
        }
    }
    for (size_t k = 0; k < number_w_.size(); ++k) number_w_[k] -= acc[k] / step;
}

int32_t SlotTagger::pick_number(const std::vector<uint32_t> & feats, std::vector<float> & score) const {
    const int32_t NL = 1 + (int32_t)number_fields_.size();
    score.assign((size_t)NL, 0.0f);
    for (uint32_t b : feats)
        for (int32_t l = 0; l < NL; ++l) score[(size_t)l] += number_w_[(size_t)b * NL + l];
    return (int32_t)(std::max_element(score.begin(), score.end()) - score.begin());
}

std::pair<size_t, size_t> SlotTagger::trimmed(const std::vector<std::string> & words, size_t begin, size_t end) const {
    while (begin < end && no_begin_.count(words[begin])) ++begin;
    while (end > begin && no_end_.count(words[end - 1])) --end;
    return {begin, end};
}

std::vector<int32_t> SlotTagger::decode(const std::vector<std::vector<uint32_t>> & feats, int32_t must) const {
    const int32_t L = n_labels();
    const size_t n = feats.size();
    std::vector<int32_t> out(n, 0);
    if (n == 0) return out;
    // "inside field k" only after "begins k" or "inside k".
    auto allowed = [&](int32_t from, int32_t to) {
        if (to == 0 || (to & 1)) return true;
        return from != L && from != 0 && (from - 1) / 2 == (to - 1) / 2;
    };
    // States: label x (whether field `must` has begun yet); without `must`, the flag stays 0.
    const int32_t S = must >= 0 ? 2 * L : L;
    const int32_t must_begin = must >= 0 ? 1 + 2 * must : -1;
    auto next_flag = [&](int32_t flag, int32_t label) { return flag | (label == must_begin ? 1 : 0); };
    constexpr float kNone = -std::numeric_limits<float>::infinity();
    std::vector<float> best(n * S, kNone);
    std::vector<int32_t> back(n * S, 0);
    std::vector<float> local(L);
    for (size_t i = 0; i < n; ++i) {
        std::fill(local.begin(), local.end(), 0.0f);
        for (uint32_t f : feats[i])
            for (int32_t l = 0; l < L; ++l) local[l] += w_[(size_t)f * L + l];
        for (int32_t l = 0; l < L; ++l) {
            if (i == 0) {
                if (allowed(L, l)) best[next_flag(0, l) * L + l] = local[l] + trans_[(size_t)L * L + l];
                continue;
            }
            auto relax = [&](int32_t ps) {
                const float prev = best[(i - 1) * S + ps];
                const int32_t k = ps % L;
                if (prev == kNone || !allowed(k, l)) return;
                const int32_t st = next_flag(ps / L, l) * L + l;
                const float v = prev + trans_[(size_t)k * L + l] + local[l];
                if (v > best[i * S + st]) {
                    best[i * S + st] = v;
                    back[i * S + st] = ps;
                }
            };
            if (l != 0 && !(l & 1)) {  // "inside field k" follows only "begins k" or "inside k"
                for (int32_t flag = 0; flag * L < S; ++flag) {
                    relax(flag * L + l - 1);
                    relax(flag * L + l);
                }
            } else {
                for (int32_t ps = 0; ps < S; ++ps) relax(ps);
            }
        }
    }
    const int32_t first = must >= 0 ? L : 0;  // the end state must have begun `must`
    int32_t st = -1;
    for (int32_t s = first; s < first + L; ++s)
        if (best[(n - 1) * S + s] != kNone && (st < 0 || best[(n - 1) * S + s] > best[(n - 1) * S + st])) st = s;
    if (st < 0) return out;
    for (size_t i = n; i-- > 0;) {
        out[i] = st % L;
        if (i) st = back[i * S + st];
    }
    return out;
}

std::map<std::string, std::vector<std::string>> SlotTagger::tag(std::string_view text) const {
    std::map<std::string, std::vector<std::string>> out;
    if (fields_.empty() || n_buckets_ == 0) return out;
    const std::vector<TaggerWord> ws = tagger_words(text);
    std::vector<std::string> words;
    for (const TaggerWord & w : ws) words.push_back(fold_lower(text.substr(w.begin, w.end - w.begin)));
    std::vector<std::vector<uint32_t>> feats(words.size());
    for (size_t i = 0; i < words.size(); ++i) features(words, i, feats[i]);
    const std::vector<int32_t> labels = decode(feats);
    for (size_t i = 0; i < labels.size();) {
        if (labels[i] == 0 || !(labels[i] & 1)) {
            ++i;
            continue;
        }
        const int32_t field = (labels[i] - 1) / 2;
        size_t j = i + 1;
        while (j < labels.size() && labels[j] == 2 + 2 * field) ++j;
        if (const auto [a, b] = trimmed(words, i, j); a < b)
            out[fields_[(size_t)field]].emplace_back(text.substr(ws[a].begin, ws[b - 1].end - ws[a].begin));
        i = j;
    }
    if (!number_w_.empty()) {
        std::vector<float> score;
        for (size_t i = 0; i < words.size(); ++i)
            if (all_digits(words[i]))
                if (const int32_t l = pick_number(feats[i], score); l > 0) out[number_fields_[(size_t)l - 1]].push_back(words[i]);
    }
    return out;
}

std::optional<std::string> SlotTagger::best_span(std::string_view text, const std::string & field) const {
    const auto fi = std::find(fields_.begin(), fields_.end(), field);
    if (fi == fields_.end() || n_buckets_ == 0) return std::nullopt;
    const int32_t k = (int32_t)(fi - fields_.begin());
    const std::vector<TaggerWord> ws = tagger_words(text);
    if (ws.empty()) return std::nullopt;
    std::vector<std::string> words;
    for (const TaggerWord & w : ws) words.push_back(fold_lower(text.substr(w.begin, w.end - w.begin)));
    std::vector<std::vector<uint32_t>> feats(words.size());
    for (size_t i = 0; i < words.size(); ++i) features(words, i, feats[i]);
    const std::vector<int32_t> labels = decode(feats, k);
    for (size_t i = 0; i < labels.size(); ++i)
        if (labels[i] == 1 + 2 * k) {
            size_t j = i + 1;
            while (j < labels.size() && labels[j] == 2 + 2 * k) ++j;
            const auto [a, b] = trimmed(words, i, j);
            if (a == b) continue;
            return std::string(text.substr(ws[a].begin, ws[b - 1].end - ws[a].begin));
        }
    return std::nullopt;
}

std::map<std::string, std::vector<std::string>> SlotTagger::tag_request(const Conversation & conv) const {
    for (size_t i = conv.messages.size(); i-- > 0;)
        if (conv.messages[i].role == "user") return tag(conv.messages[i].content);
    return {};
}

void SlotTagger::write(gguf::Writer & w) const {
    w.set(kFieldsKey, gguf::Value::strings(fields_));
    w.set(kBucketsKey, gguf::Value::u32(n_buckets_));
    w.set(kWeightsKey, gguf::Value::f32s(w_));
    w.set(kTransKey, gguf::Value::f32s(trans_));
    std::vector<std::string> known(known_.begin(), known_.end());
    std::sort(known.begin(), known.end());
    w.set(kKnownKey, gguf::Value::strings(known));
    for (const auto & [key, set] : {std::pair{kNoBeginKey, &no_begin_}, std::pair{kNoEndKey, &no_end_}}) {
        std::vector<std::string> words(set->begin(), set->end());
        std::sort(words.begin(), words.end());
        w.set(key, gguf::Value::strings(words));
    }
    if (!number_fields_.empty()) {
        w.set(kNumberFieldsKey, gguf::Value::strings(number_fields_));
        w.set(kNumberWeightsKey, gguf::Value::f32s(number_w_));
    }
}

std::optional<SlotTagger> SlotTagger::read(const gguf::File & file) {
    const gguf::Value * fv = file.find(kFieldsKey);
    if (!fv) return std::nullopt;
    SlotTagger t;
    const gguf::Array & fa = fv->as_array(kFieldsKey);
    for (size_t i = 0; i < fa.size(); ++i) t.fields_.emplace_back(fa.string_at(i, kFieldsKey));
    auto need = [&](const char * key) -> const gguf::Value & {
        const gguf::Value * v = file.find(key);
        if (!v) throw Error(ErrorKind::ErrorKind_invalid_file, file.path() + ": " + kFieldsKey + " without " + key);
        return *v;
    };
    const uint64_t buckets = need(kBucketsKey).as_u64(kBucketsKey);
    const int32_t L = t.n_labels();
    if (t.fields_.empty() || buckets == 0 || buckets > (1u << 24))
        throw Error(ErrorKind::ErrorKind_invalid_file, file.path() + ": slot tagger has no fields or a bad bucket count");
    t.n_buckets_ = (uint32_t)buckets;
    auto floats = [&](const char * key, size_t n, std::vector<float> & out) {
        const gguf::Array & a = need(key).as_array(key);
        if (a.size() != n)
            throw Error(ErrorKind::ErrorKind_invalid_file, file.path() + ": " + key + " has " + std::to_string(a.size()) +
                                                               " values, expected " + std::to_string(n));
        out.resize(n);
        for (size_t i = 0; i < n; ++i) out[i] = (float)a.at(i).as_f64(key);
    };
    floats(kWeightsKey, (size_t)t.n_buckets_ * L, t.w_);
    floats(kTransKey, (size_t)(L + 1) * L, t.trans_);
    const gguf::Array & ka = need(kKnownKey).as_array(kKnownKey);
    for (size_t i = 0; i < ka.size(); ++i) t.known_.insert(std::string(ka.string_at(i, kKnownKey)));
    // Optional: a tagger written before span edges were learnt has none.
    for (const auto & [key, set] : {std::pair{kNoBeginKey, &t.no_begin_}, std::pair{kNoEndKey, &t.no_end_}})
        if (const gguf::Value * v = file.find(key)) {
            const gguf::Array & a = v->as_array(key);
            for (size_t i = 0; i < a.size(); ++i) set->insert(std::string(a.string_at(i, key)));
        }
    if (const gguf::Value * nv = file.find(kNumberFieldsKey)) {
        const gguf::Array & na = nv->as_array(kNumberFieldsKey);
        for (size_t i = 0; i < na.size(); ++i) t.number_fields_.emplace_back(na.string_at(i, kNumberFieldsKey));
        if (!t.number_fields_.empty())
            floats(kNumberWeightsKey, (size_t)t.n_buckets_ * (1 + t.number_fields_.size()), t.number_w_);
    }
    return t;
}

}  // namespace sy::chat
