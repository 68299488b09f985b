// The router's intent classifier: features, training, decisions, GGUF metadata (see intent_classifier.h).
#include "chat/intent_classifier.h"

#include <algorithm>
#include <cmath>

#include "chat/slot_tagger.h"
#include "chat/dates.h"
#include "chat/text_features.h"
#include "common/error.h"
#include "common/rng.h"

namespace sy::chat {
namespace {

constexpr const char * kToolsPrefix = "switchyard.router.intent";
constexpr const char * kArgToolsKey = "switchyard.router.intent.argument_tools";
constexpr const char * kArgFieldsKey = "switchyard.router.intent.argument_fields";
// How many words before a date phrase read as its carrier (RequestClassifier::features). Stored with each
// classifier (<prefix>.date_carrier_words): a file without it was trained before carriers (0).
constexpr uint32_t kDateCarrierWords = 2;

std::string argument_prefix(size_t i) { return std::string(kToolsPrefix) + ".argument." + std::to_string(i); }

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

void RequestClassifier::features(const Conversation & conv, size_t end, std::vector<uint32_t> & out, uint64_t drop_seed,
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
    // A date phrase reads as one word "<date>": "can it be due dec 28 instead?" and "... due October 26
    // instead?" share their features, and a date's presence is a feature of its own.
    const std::vector<DateMention> dates = find_dates(text, 0);
    add("has-date", dates.empty() ? "no" : "yes");
    size_t in_date = 0;  // dates[in_date] is the next date phrase
    for (const TaggerWord & tw : tagger_words(text)) {
        while (in_date < dates.size() && dates[in_date].end <= tw.begin) ++in_date;
        std::string w;
        if (in_date < dates.size() && tw.begin >= dates[in_date].begin && tw.end <= dates[in_date].end) {
            if (tw.begin != dates[in_date].begin) continue;  // the phrase's first word stands for it
            w = "<date>";
        } else {
            w = word_shape(text.substr(tw.begin, tw.end - tw.begin));
        }
        if (drop > 0 && (double)(rng.next() >> 11) * 0x1.0p-53 < drop) continue;
        words.push_back(std::move(w));
    }
    // The words right before a date phrase introduce it ("due before <date>", "need to be done before
    // <date>") and read as carriers, "@" + word, without character trigrams: "done" in a date's carrier
    // says nothing of a task's status (docs/training.md, R10).
    for (size_t i = 0; i < words.size(); ++i) {
        if (words[i] != "<date>") continue;
        for (size_t j = i, n = 0; j-- > 0 && n < carrier_words_; ++n) {
            if (words[j] == "<date>" || !std::isalnum((unsigned char)words[j][0]) || words[j][0] == '@') break;
            words[j] = "@" + words[j];
        }
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

RequestClassifier RequestClassifier::train(std::vector<std::string> labels, uint32_t n_buckets,
                                           const std::vector<Conversation> & convs, const std::vector<Example> & data,
                                           const IntentOptions & opt) {
    RequestClassifier c;
    c.labels_ = std::move(labels);
    c.n_buckets_ = std::max<uint32_t>(n_buckets, 1024);
    c.carrier_words_ = kDateCarrierWords;
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

std::vector<double> RequestClassifier::predict(const Conversation & conv) const {
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

void RequestClassifier::write(gguf::Writer & w, const std::string & prefix) const {
    w.set(prefix + ".labels", gguf::Value::strings(labels_));
    w.set(prefix + ".buckets", gguf::Value::u32(n_buckets_));
    w.set(prefix + ".weights", gguf::Value::f32s(w_));
    w.set(prefix + ".date_carrier_words", gguf::Value::u32(carrier_words_));
}

RequestClassifier RequestClassifier::read(const gguf::File & file, const std::string & prefix) {
    auto need = [&](const std::string & key) -> const gguf::Value & {
        const gguf::Value * v = file.find(key);
        if (!v) throw Error(ErrorKind::ErrorKind_invalid_file, file.path() + ": " + key + " is missing");
        return *v;
    };
    RequestClassifier c;
    const std::string lk = prefix + ".labels", bk = prefix + ".buckets", wk = prefix + ".weights";
    const gguf::Array & la = need(lk).as_array(lk);
    for (size_t i = 0; i < la.size(); ++i) c.labels_.emplace_back(la.string_at(i, lk));
    const uint64_t buckets = need(bk).as_u64(bk);
    if (c.labels_.size() < 2 || buckets == 0 || buckets > (1u << 24))
        throw Error(ErrorKind::ErrorKind_invalid_file, file.path() + ": " + prefix + " needs two labels or more and 1..2^24 buckets");
    c.n_buckets_ = (uint32_t)buckets;
    const std::string ck = prefix + ".date_carrier_words";
    if (const gguf::Value * cv = file.find(ck)) {
        const uint64_t n = cv->as_u64(ck);
        if (n > 8) throw Error(ErrorKind::ErrorKind_invalid_file, file.path() + ": " + ck + " must be 0..8");
        c.carrier_words_ = (uint32_t)n;
    }
    const gguf::Array & wa = need(wk).as_array(wk);
    const size_t n = (size_t)c.n_buckets_ * c.labels_.size();
    if (wa.size() != n)
        throw Error(ErrorKind::ErrorKind_invalid_file, file.path() + ": " + wk + " has " + std::to_string(wa.size()) +
                                                           " values, expected " + std::to_string(n));
    c.w_.resize(n);
    for (size_t i = 0; i < n; ++i) c.w_[i] = (float)wa.at(i).as_f64(wk);
    return c;
}

namespace {

constexpr const char * kPresent = "*";  // the label of an optional argument that is written

// The top-level properties of a parameters schema a classifier can decide: enum and boolean ones, with
// their values' JSON texts, and the other optional ones, with the one value kPresent.
std::vector<std::pair<std::string, std::vector<std::string>>> choice_fields(const ojson & parameters) {
    std::vector<std::pair<std::string, std::vector<std::string>>> out;
    if (!parameters.is_object() || !parameters.contains("properties") || !parameters["properties"].is_object()) return out;
    std::vector<std::string> required;
    if (parameters.contains("required") && parameters["required"].is_array())
        for (const ojson & r : parameters["required"])
            if (r.is_string()) required.push_back(r.get<std::string>());
    for (auto it = parameters["properties"].begin(); it != parameters["properties"].end(); ++it) {
        const ojson & s = it.value();
        if (!s.is_object()) continue;
        std::vector<std::string> values;
        if (s.contains("enum") && s["enum"].is_array())
            for (const ojson & v : s["enum"]) values.push_back(v.dump());
        else if (s.value("type", "") == "boolean")
            values = {"true", "false"};
        else if (std::find(required.begin(), required.end(), it.key()) == required.end())
            values = {kPresent};
        if (!values.empty()) out.emplace_back(it.key(), std::move(values));
    }
    return out;
}

}  // namespace

IntentClassifier IntentClassifier::train(const std::vector<Conversation> & convs, const IntentOptions & opt) {
    IntentClassifier c;
    std::vector<std::string> labels{""};
    std::vector<RequestClassifier::Example> data;
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
            auto it = std::find(labels.begin(), labels.end(), label);
            if (it == labels.end()) it = labels.insert(labels.end(), label);
            data.push_back({ci, i, (int32_t)(it - labels.begin())});
        }
    if (data.empty()) throw Error(ErrorKind::ErrorKind_invalid_argument, "intent classifier: the data has no assistant turn");
    if (!any_call) throw Error(ErrorKind::ErrorKind_invalid_argument, "intent classifier: the data has no tool call");
    c.n_examples_ = (int32_t)data.size();
    c.tools_ = RequestClassifier::train(labels, opt.n_buckets, convs, data, opt);

    // Per tool and enum/boolean field: "" when the call leaves it out, else the value's JSON text.
    for (size_t t = 1; t < labels.size(); ++t) {
        const std::string & tool = labels[t];
        const ojson * params = nullptr;
        for (const Conversation & conv : convs)
            if ((params = find_tool_schema(conv.tools, tool))) break;
        if (!params) continue;
        for (const auto & [field, values] : choice_fields(*params)) {
            std::vector<std::string> flabels{""};
            flabels.insert(flabels.end(), values.begin(), values.end());
            std::vector<RequestClassifier::Example> fdata;
            std::vector<bool> seen(flabels.size(), false);
            for (const RequestClassifier::Example & ex : data) {
                if (ex.label != (int32_t)t) continue;
                const ojson & args = convs[ex.conv].messages[ex.end].tool_calls.front().arguments;
                int32_t label = 0;
                if (args.is_object() && args.contains(field)) {
                    const bool presence = flabels.size() == 2 && flabels[1] == kPresent;
                    const auto it = std::find(flabels.begin(), flabels.end(), presence ? kPresent : args[field].dump());
                    if (it == flabels.end()) continue;  // not a value of the schema: nothing to learn
                    label = (int32_t)(it - flabels.begin());
                }
                seen[(size_t)label] = true;
                fdata.push_back({ex.conv, ex.end, label});
            }
            if (std::count(seen.begin(), seen.end(), true) < 2) continue;  // one answer only: the grammar's business
            IntentOptions fo = opt;
            fo.seed = opt.seed + 1 + c.args_.size();
            c.args_.push_back({tool, field, RequestClassifier::train(flabels, opt.n_argument_buckets, convs, fdata, fo)});
        }
    }
    return c;
}

std::vector<ArgumentDecision> IntentClassifier::arguments(const Conversation & conv, const std::string & tool) const {
    std::vector<ArgumentDecision> out;
    for (const Argument & a : args_) {
        if (a.tool != tool) continue;
        const std::vector<double> p = a.classifier.predict(conv);
        const size_t best = (size_t)(std::max_element(p.begin(), p.end()) - p.begin());
        ArgumentDecision d;
        d.field = a.field;
        d.probability = p[best];
        d.present = best > 0;
        if (d.present && a.classifier.labels()[best] != kPresent) d.value = ojson::parse(a.classifier.labels()[best]);
        out.push_back(std::move(d));
    }
    return out;
}

std::optional<std::vector<bool>> IntentClassifier::offered(const ojson & tools) const {
    if (!tools.is_array() || tools.empty() || labels().empty()) return std::nullopt;
    std::vector<bool> out(labels().size(), false);
    for (const ojson & tool : tools) {
        const std::string name = tool_name(tool);
        const auto it = std::find(labels().begin() + 1, labels().end(), name);
        if (name.empty() || it == labels().end()) return std::nullopt;
        out[(size_t)(it - labels().begin())] = true;
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
        out.push_back({labels()[l], p[l] / total});
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
    size_t best = labels().size();
    for (size_t l = 0; l < p.size(); ++l)
        if (offered[l]) {
            total += p[l];
            if (best == labels().size() || p[l] > p[best]) best = l;
        }
    if (best == labels().size() || total <= 0) return std::nullopt;
    return IntentDecision{labels()[best], p[best] / total};
}

void IntentClassifier::write(gguf::Writer & w) const {
    tools_.write(w, kToolsPrefix);
    std::vector<std::string> tools, fields;
    for (const Argument & a : args_) {
        tools.push_back(a.tool);
        fields.push_back(a.field);
    }
    w.set(kArgToolsKey, gguf::Value::strings(tools));
    w.set(kArgFieldsKey, gguf::Value::strings(fields));
    for (size_t i = 0; i < args_.size(); ++i) args_[i].classifier.write(w, argument_prefix(i));
}

std::optional<IntentClassifier> IntentClassifier::read(const gguf::File & file) {
    if (!file.find(std::string(kToolsPrefix) + ".labels")) return std::nullopt;
    IntentClassifier c;
    c.tools_ = RequestClassifier::read(file, kToolsPrefix);
    if (!c.tools_.labels().front().empty())
        throw Error(ErrorKind::ErrorKind_invalid_file, file.path() + ": the intent classifier's first label must be the text answer");
    const gguf::Value * tv = file.find(kArgToolsKey);
    const gguf::Value * fv = file.find(kArgFieldsKey);
    if (!tv && !fv) return c;  // a classifier of tools only
    if (!tv || !fv) throw Error(ErrorKind::ErrorKind_invalid_file, file.path() + ": argument tools and fields come together");
    const gguf::Array & ta = tv->as_array(kArgToolsKey);
    const gguf::Array & fa = fv->as_array(kArgFieldsKey);
    if (ta.size() != fa.size() || ta.size() > 4096)
        throw Error(ErrorKind::ErrorKind_invalid_file, file.path() + ": " + kArgToolsKey + " and " + kArgFieldsKey + " differ in length");
    for (size_t i = 0; i < ta.size(); ++i) {
        Argument a{std::string(ta.string_at(i, kArgToolsKey)), std::string(fa.string_at(i, kArgFieldsKey)),
                   RequestClassifier::read(file, argument_prefix(i))};
        const std::vector<std::string> & labels = a.classifier.labels();
        if (!labels.front().empty())
            throw Error(ErrorKind::ErrorKind_invalid_file, file.path() + ": " + argument_prefix(i) + ": the first label must be \"\" (left out)");
        for (size_t k = 1; k < labels.size(); ++k)
            if (labels[k] != kPresent && !ojson::accept(labels[k]))
                throw Error(ErrorKind::ErrorKind_invalid_file, file.path() + ": " + argument_prefix(i) + ": label " + std::to_string(k) + " is not JSON");
        c.args_.push_back(std::move(a));
    }
    return c;
}

}  // namespace sy::chat
