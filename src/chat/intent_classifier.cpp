// The router's intent classifier: features, training, decisions, GGUF metadata (see intent_classifier.h).
#include "chat/intent_classifier.h"

#include <algorithm>
#include <cmath>

#include "chat/slot_tagger.h"
#include "chat/text_features.h"
#include "common/error.h"
#include "common/rng.h"

namespace sy::chat {
namespace {

constexpr const char * kLabelsKey = "switchyard.router.intent.labels";
constexpr const char * kBucketsKey = "switchyard.router.intent.buckets";
constexpr const char * kWeightsKey = "switchyard.router.intent.weights";

// Lowercased, a run of digits as one '0': "#23", "#7" and "#764" share their features.
std::string word_shape(std::string_view w) {
    std::string out;
    for (char c : fold_lower(w))
        if (c < '0' || c > '9') out.push_back(c);
        else if (out.empty() || out.back() != '0') out.push_back('0');
    return out;
}

void softmax(std::vector<double> & v) {
    const double mx = *std::max_element(v.begin(), v.end());
    double sum = 0;
    for (double & x : v) sum += (x = std::exp(x - mx));
    for (double & x : v) x /= sum;
}

}  // namespace

void IntentClassifier::features(const Conversation & conv, size_t end, std::vector<uint32_t> & out, uint64_t drop_seed,
                                float drop) const {
    out.clear();
    auto add = [&](std::string_view a, std::string_view b = {}, std::string_view c = {}) {
        out.push_back((uint32_t)(feature_hash(a, b, c) % n_buckets_));
    };
    add("bias");
    end = std::min(end, conv.messages.size());
    add("after", end ? conv.messages[end - 1].role : "start");
    std::string_view prev_call = "none";
    for (size_t i = end; i-- > 0;)
        if (conv.messages[i].role == "assistant" && !conv.messages[i].tool_calls.empty()) {
            prev_call = conv.messages[i].tool_calls.front().name;
            break;
        }
    add("prev-call", prev_call);
    std::string_view text;
    for (size_t i = end; i-- > 0;)
        if (conv.messages[i].role == "user") {
            text = conv.messages[i].content;
            break;
        }
    std::vector<std::string> words;
    SplitMix64 rng{drop_seed};
    for (const TaggerWord & tw : tagger_words(text)) {
        std::string w = word_shape(text.substr(tw.begin, tw.end - tw.begin));
        if (drop > 0 && (double)(rng.next() >> 11) * 0x1.0p-53 < drop) continue;
        words.push_back(std::move(w));
    }
    for (size_t i = 0; i < words.size(); ++i) {
        const std::string & w = words[i];
        add("w", w);
        add("ww", w, i + 1 < words.size() ? std::string_view(words[i + 1]) : "</s>");
        if (i == 0) add("ww", "<s>", w);
        // Character trigrams of the bounded word: "^re", "rem", ..., "ve$" (spelling slips keep most).
        if (w.size() >= 3 && std::isalpha((unsigned char)w[0])) {
            const std::string b = "^" + w + "$";
            for (size_t k = 0; k + 3 <= b.size(); ++k) add("c3", std::string_view(b).substr(k, 3));
        }
    }
}

IntentClassifier IntentClassifier::train(const std::vector<Conversation> & convs, const IntentOptions & opt) {
    IntentClassifier c;
    c.n_buckets_ = std::max<uint32_t>(opt.n_buckets, 1024);
    c.labels_.push_back("");
    struct Example {
        size_t conv, end;
        int32_t label;
    };
    std::vector<Example> data;
    bool any_call = false;
    for (size_t ci = 0; ci < convs.size(); ++ci)
        for (size_t i = 1; i < convs[ci].messages.size(); ++i) {
            const Message & m = convs[ci].messages[i];
            if (m.role != "assistant") continue;
            std::string label;
            if (!m.tool_calls.empty()) {
                label = m.tool_calls.front().name;
                any_call = true;
            }
            auto it = std::find(c.labels_.begin(), c.labels_.end(), label);
            if (it == c.labels_.end()) it = c.labels_.insert(c.labels_.end(), label);
            data.push_back({ci, i, (int32_t)(it - c.labels_.begin())});
        }
    if (data.empty()) throw Error(ErrorKind::ErrorKind_invalid_argument, "intent classifier: the data has no assistant turn");
    if (!any_call) throw Error(ErrorKind::ErrorKind_invalid_argument, "intent classifier: the data has no tool call");
    c.n_examples_ = (int32_t)data.size();

    const size_t L = c.labels_.size();
    c.w_.assign((size_t)c.n_buckets_ * L, 0.0f);
    std::vector<float> g2(c.w_.size(), 0.0f);
    std::vector<size_t> order(data.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    SplitMix64 rng{opt.seed ^ 0x1a7e47ull};
    std::vector<uint32_t> feats;
    std::vector<double> p(L);
    for (int ep = 0; ep < opt.epochs; ++ep) {
        for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.next() % i]);
        for (size_t e : order) {
            const Example & ex = data[e];
            c.features(convs[ex.conv], ex.end, feats, rng.next(), opt.word_dropout);
            std::fill(p.begin(), p.end(), 0.0);
            for (uint32_t f : feats)
                for (size_t l = 0; l < L; ++l) p[l] += c.w_[(size_t)f * L + l];
            softmax(p);
            for (uint32_t f : feats)
                for (size_t l = 0; l < L; ++l) {
                    const size_t at = (size_t)f * L + l;
                    const float g = (float)(p[l] - (l == (size_t)ex.label ? 1.0 : 0.0)) + opt.l2 * c.w_[at];
                    g2[at] += g * g;
                    c.w_[at] -= opt.learning_rate * g / (std::sqrt(g2[at]) + 1e-6f);
                }
        }
    }
    return c;
}

std::vector<double> IntentClassifier::predict(const Conversation & conv) const {
    const size_t L = labels_.size();
    std::vector<double> p(L, 0.0);
    if (L == 0) return p;
    std::vector<uint32_t> feats;
    features(conv, conv.messages.size(), feats);
    for (uint32_t f : feats)
        for (size_t l = 0; l < L; ++l) p[l] += w_[(size_t)f * L + l];
    softmax(p);
    return p;
}

namespace {

std::string function_name(const ojson & tool) {
    const ojson & fn = tool.is_object() && tool.contains("function") ? tool["function"] : tool;
    return fn.is_object() && fn.contains("name") && fn["name"].is_string() ? fn["name"].get<std::string>() : "";
}

}  // namespace

ojson tools_named(const ojson & tools, const std::vector<IntentDecision> & names) {
    ojson out = ojson::array();
    for (const ojson & tool : tools) {
        const std::string name = function_name(tool);
        for (const IntentDecision & d : names)
            if (d.tool == name) {
                out.push_back(tool);
                break;
            }
    }
    return out;
}

void temper_confidence(grammar::OutputConfidence & c, const std::vector<std::string> & called,
                       const std::vector<IntentDecision> & shortlist) {
    for (size_t i = 0; i < c.calls.size() && i < called.size(); ++i) {
        grammar::CallConfidence & call = c.calls[i];
        double share = 0;
        for (const IntentDecision & d : shortlist)
            if (d.tool == called[i]) share = d.probability;
        call.name = std::min(call.name, share);
        call.overall = std::min(call.decision, call.name);
        for (const grammar::ArgumentConfidence & a : call.arguments) call.overall = std::min(call.overall, a.confidence);
    }
}

std::optional<std::vector<bool>> IntentClassifier::offered(const ojson & tools) const {
    if (!tools.is_array() || tools.empty() || labels_.empty()) return std::nullopt;
    std::vector<bool> out(labels_.size(), false);
    for (const ojson & tool : tools) {
        const std::string name = function_name(tool);
        const auto it = std::find(labels_.begin() + 1, labels_.end(), name);
        if (name.empty() || it == labels_.end()) return std::nullopt;
        out[(size_t)(it - labels_.begin())] = true;
    }
    return out;
}

std::optional<std::vector<IntentDecision>> IntentClassifier::shortlist(const Conversation & conv, double mass) const {
    const std::optional<std::vector<bool>> offer = offered(conv.tools);
    if (!offer) return std::nullopt;
    const std::vector<double> p = predict(conv);
    std::vector<size_t> order;
    double total = 0;
    for (size_t l = 1; l < p.size(); ++l)
        if ((*offer)[l]) {
            order.push_back(l);
            total += p[l];
        }
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] > p[b]; });
    std::vector<IntentDecision> out;
    double held = 0;
    for (size_t l : order) {
        out.push_back({labels_[l], p[l] / total});
        held += p[l] / total;
        if (held >= mass) break;
    }
    return out;
}

std::optional<IntentDecision> IntentClassifier::decide(const Conversation & conv, bool allow_text) const {
    std::optional<std::vector<bool>> offer = offered(conv.tools);
    if (!offer) return std::nullopt;
    std::vector<bool> & offered = *offer;
    offered[0] = allow_text;
    const std::vector<double> p = predict(conv);
    double total = 0;
    size_t best = labels_.size();
    for (size_t l = 0; l < p.size(); ++l)
        if (offered[l]) {
            total += p[l];
            if (best == labels_.size() || p[l] > p[best]) best = l;
        }
    if (best == labels_.size() || total <= 0) return std::nullopt;
    return IntentDecision{labels_[best], p[best] / total};
}

void IntentClassifier::write(gguf::Writer & w) const {
    w.set(kLabelsKey, gguf::Value::strings(labels_));
    w.set(kBucketsKey, gguf::Value::u32(n_buckets_));
    w.set(kWeightsKey, gguf::Value::f32s(w_));
}

std::optional<IntentClassifier> IntentClassifier::read(const gguf::File & file) {
    const gguf::Value * lv = file.find(kLabelsKey);
    if (!lv) return std::nullopt;
    IntentClassifier c;
    const gguf::Array & la = lv->as_array(kLabelsKey);
    for (size_t i = 0; i < la.size(); ++i) c.labels_.emplace_back(la.string_at(i, kLabelsKey));
    auto need = [&](const char * key) -> const gguf::Value & {
        const gguf::Value * v = file.find(key);
        if (!v) throw Error(ErrorKind::ErrorKind_invalid_file, file.path() + ": " + kLabelsKey + " without " + key);
        return *v;
    };
    const uint64_t buckets = need(kBucketsKey).as_u64(kBucketsKey);
    if (c.labels_.size() < 2 || !c.labels_[0].empty() || buckets == 0 || buckets > (1u << 24))
        throw Error(ErrorKind::ErrorKind_invalid_file,
                    file.path() + ": intent classifier needs the text label first, a tool, and 1..2^24 buckets");
    c.n_buckets_ = (uint32_t)buckets;
    const gguf::Array & wa = need(kWeightsKey).as_array(kWeightsKey);
    const size_t n = (size_t)c.n_buckets_ * c.labels_.size();
    if (wa.size() != n)
        throw Error(ErrorKind::ErrorKind_invalid_file, file.path() + ": " + kWeightsKey + " has " + std::to_string(wa.size()) +
                                                           " values, expected " + std::to_string(n));
    c.w_.resize(n);
    for (size_t i = 0; i < n; ++i) c.w_[i] = (float)wa.at(i).as_f64(kWeightsKey);
    return c;
}

}  // namespace sy::chat
