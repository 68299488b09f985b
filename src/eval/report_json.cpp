// The JSON report, the list of mistakes and the metric gates (see report.h; keys in docs/eval.md).
#include <cstdio>

#include "common/error.h"
#include "eval/report.h"

namespace sy::eval {

using ojson = nlohmann::ordered_json;

namespace {

ojson opt(const std::optional<double> & v) { return v ? ojson(*v) : ojson(nullptr); }

// At most max_bytes of s, cut at a UTF-8 character boundary, "..." marking a cut.
std::string clip(const std::string & s, size_t max_bytes) {
    if (s.size() <= max_bytes) return s;
    size_t n = max_bytes;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) --n;
    return s.substr(0, n) + "...";
}

std::string render_calls(const std::vector<Call> & calls) {
    std::string s;
    for (const Call & c : calls) s += (s.empty() ? "" : "; ") + c.name + " " + c.arguments.dump();
    return s;
}

ojson price_json(const std::optional<traces::ModelPrice> & p) {
    if (!p) return nullptr;
    return ojson{{"input_per_1m", p->input_per_1m}, {"output_per_1m", p->output_per_1m}};
}

// The flat keys of one set of metrics: the contract first, then the extra ones.
void put_core(ojson & j, const Metrics & m) {
    j["n_examples"] = m.n_examples;
    j["tool_selection_accuracy"] = opt(m.tool_selection_accuracy);
    j["argument_exact_match"] = opt(m.argument_exact_match);
    j["argument_exact_match_normalized"] = opt(m.argument_exact_match_normalised);
    j["json_validity"] = opt(m.json_validity);
    j["malformed_call_rate"] = opt(m.malformed_call_rate);
    j["false_positive_rate"] = opt(m.false_positive_rate);
    j["false_negative_rate"] = opt(m.false_negative_rate);
    j["latency_ms"] = ojson{{"p50", opt(m.latency_ms.p50)}, {"p95", opt(m.latency_ms.p95)}, {"p99", opt(m.latency_ms.p99)},
                            {"mean", opt(m.latency_ms.mean)}, {"max", opt(m.latency_ms.max)}};
    j["ece"] = opt(m.calibration.ece);
    if (m.recommended) {
        j["recommended_threshold"] = m.recommended->threshold;
        j["coverage_at_threshold"] = m.recommended->coverage;
        j["accuracy_at_threshold"] = m.recommended->accuracy;
    } else {
        // No threshold reaches the target: everything would go to the fallback (coverage 0).
        j["recommended_threshold"] = nullptr;
        j["coverage_at_threshold"] = m.calibration.n > 0 ? ojson(0.0) : ojson(nullptr);
        j["accuracy_at_threshold"] = nullptr;
    }
    j["target_accuracy"] = m.target_accuracy;
    j["accuracy"] = opt(m.accuracy);
    j["argument_precision"] = opt(m.argument_precision);
    j["argument_recall"] = opt(m.argument_recall);
    j["schema_validity"] = opt(m.schema_validity);
    j["no_call_rate"] = opt(m.no_call_rate);
    j["error_rate"] = opt(m.error_rate);
    j["n_expected_calls"] = m.n_expected_calls;
    j["n_expected_none"] = m.n_expected_none;
    j["n_errors"] = m.n_errors;
    j["n_tool_replies"] = m.n_tool_replies;
    j["grounded_reply_rate"] = opt(m.grounded_reply_rate);
    j["reply_value_match"] = opt(m.reply_value_match);
    j["reply_exact_match"] = opt(m.reply_exact_match);
}

ojson detail_json(const Metrics & m) {
    ojson j = ojson::object();
    ojson bins = ojson::array();
    for (const CalibrationBin & b : m.calibration.bins)
        bins.push_back({{"lower", b.lower}, {"upper", b.upper}, {"count", b.count}, {"mean_confidence", b.mean_confidence},
                        {"accuracy", b.accuracy}});
    j["calibration"] = {{"n", m.calibration.n}, {"bins", bins}};
    ojson curve = ojson::array();
    for (const CoveragePoint & p : thin_curve(m.coverage_curve, 201))
        curve.push_back({{"threshold", p.threshold}, {"coverage", p.coverage}, {"accuracy", p.accuracy}, {"n_covered", p.n_covered}});
    j["coverage_curve"] = curve;
    j["confusion_matrix"] = {{"expected_labels", m.confusion.expected_labels},
                             {"predicted_labels", m.confusion.predicted_labels},
                             {"counts", m.confusion.counts}};
    ojson args = ojson::array();
    for (const ArgumentMetric & a : m.arguments)
        args.push_back({{"tool", a.tool}, {"argument", a.argument}, {"precision", opt(a.precision)}, {"recall", opt(a.recall)},
                        {"n_predicted", a.n_predicted}, {"n_expected", a.n_expected}, {"n_correct", a.n_correct}});
    j["arguments"] = args;
    j["latency_histogram"] = {{"lower_ms", m.latency_histogram.lower}, {"upper_ms", m.latency_histogram.upper},
                              {"counts", m.latency_histogram.counts}};
    j["tokens"] = {{"prompt", m.prompt_tokens}, {"completion", m.completion_tokens}};
    return j;
}

ojson cost_json(const CostSummary & c) {
    return {{"n_requests", c.n_requests},
            {"mean_prompt_tokens", c.mean_prompt_tokens},
            {"mean_completion_tokens", c.mean_completion_tokens},
            {"priced_as", c.priced_as},
            {"price", price_json(c.price)},
            {"per_1k_requests_usd", opt(c.per_1k_usd)},
            {"cloud_model", c.cloud_model},
            {"cloud_price", price_json(c.cloud_price)},
            {"cloud_per_1k_requests_usd", opt(c.cloud_per_1k_usd)},
            {"routed_coverage", opt(c.routed_coverage)},
            {"routed_per_1k_requests_usd", opt(c.routed_per_1k_usd)},
            {"savings_per_1k_requests_usd", opt(c.savings_per_1k_usd)},
            {"price_table_taken", c.price_table_taken}};
}

const ojson * lookup(const ojson & j, const std::string & path) {
    const ojson * cur = &j;
    size_t start = 0;
    while (true) {
        const size_t dot = path.find('.', start);
        const std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (!cur->is_object()) return nullptr;
        auto it = cur->find(key);
        if (it == cur->end()) return nullptr;
        cur = &*it;
        if (dot == std::string::npos) return cur;
        start = dot + 1;
    }
}

void numeric_keys(const ojson & j, const std::string & prefix, std::vector<std::string> & out) {
    for (const auto & [k, v] : j.items()) {
        const std::string path = prefix.empty() ? k : prefix + "." + k;
        if (v.is_number() || v.is_null()) out.push_back(path);
        else if (v.is_object() && (k == "latency_ms" || k == "threshold" || k == "cost")) numeric_keys(v, path, out);
    }
}

std::string fmt(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
}

}  // namespace

std::vector<Mistake> collect_mistakes(const std::vector<ExampleOutcome> & outcomes, size_t max) {
    std::vector<Mistake> out;
    for (const ExampleOutcome & o : outcomes) {
        if (out.size() >= max) break;
        if (o.correct()) continue;
        Mistake m;
        m.request = o.request;
        m.expected = o.expected.calls.empty() ? "(no tool)" : render_calls(o.expected.calls);
        const Prediction & p = o.prediction;
        switch (p.kind) {
            case PredictionKind::PredictionKind_calls: m.predicted = render_calls(p.calls); break;
            case PredictionKind::PredictionKind_text: m.predicted = "(text) " + p.text; break;
            case PredictionKind::PredictionKind_malformed: m.predicted = "(malformed) " + p.text; break;
            case PredictionKind::PredictionKind_error: m.predicted = "(error) " + p.text; break;
        }
        m.request = clip(m.request, 300);
        m.expected = clip(m.expected, 300);
        m.predicted = clip(m.predicted, 300);
        m.confidence = o.confidence;
        out.push_back(std::move(m));
    }
    return out;
}

ojson report_to_json(const EvalReport & r) {
    ojson j = ojson::object();
    put_core(j, r.metrics);
    const ojson detail = detail_json(r.metrics);
    for (const auto & [k, v] : detail.items()) j[k] = v;
    j["cost"] = cost_json(r.cost);
    if (r.at_threshold) {
        const ThresholdMetrics & t = *r.at_threshold;
        ojson th = {{"threshold", t.threshold},
                    {"n_with_confidence", t.n_with_confidence},
                    {"n_covered", t.n_covered},
                    {"coverage", opt(t.coverage)},
                    {"fallback_rate", t.coverage ? ojson(1.0 - *t.coverage) : ojson(nullptr)}};
        ojson core = ojson::object();
        put_core(core, t.covered);
        for (const char * k : {"tool_selection_accuracy", "accuracy", "argument_exact_match", "argument_exact_match_normalized",
                               "json_validity", "malformed_call_rate", "false_positive_rate", "false_negative_rate"})
            th[k] = core[k];
        j["threshold"] = th;
    }
    j["run"] = {{"model", r.run.model},
                {"lora", r.run.lora},
                {"endpoint", r.run.endpoint},
                {"data", r.run.data},
                {"local", r.run.local},
                {"started_at", r.run.started_at},
                {"seconds", r.run.seconds},
                {"concurrency", r.run.concurrency},
                {"confidence_source", r.run.confidence_source}};
    ojson mistakes = ojson::array();
    for (const Mistake & m : r.mistakes)
        mistakes.push_back({{"request", m.request}, {"expected", m.expected}, {"predicted", m.predicted}, {"confidence", opt(m.confidence)}});
    j["mistakes"] = mistakes;
    return j;
}

MetricGate parse_metric_gate(const std::string & spec, bool upper, const ojson & report_keys) {
    const char * flag = upper ? "--fail-over" : "--fail-under";
    const size_t eq = spec.find('=');
    MetricGate g;
    g.upper = upper;
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
        throw Error(ErrorKind::ErrorKind_invalid_argument, std::string(flag) + " '" + spec + "': expected METRIC=VALUE, e.g. tool_selection_accuracy=0.97");
    g.metric = spec.substr(0, eq);
    try {
        size_t used = 0;
        g.value = std::stod(spec.substr(eq + 1), &used);
        if (used != spec.size() - eq - 1) throw std::invalid_argument("trailing text");
    } catch (const std::exception &) {
        throw Error(ErrorKind::ErrorKind_invalid_argument, std::string(flag) + " '" + spec + "': VALUE must be a number");
    }
    const ojson * v = lookup(report_keys, g.metric);
    if (!v || !(v->is_number() || v->is_null())) {
        std::vector<std::string> keys;
        numeric_keys(report_keys, "", keys);
        std::string list;
        for (const auto & k : keys) list += (list.empty() ? "" : ", ") + k;
        throw Error(ErrorKind::ErrorKind_invalid_argument,
                    std::string(flag) + ": unknown metric '" + g.metric + "'; numeric metrics: " + list);
    }
    return g;
}

std::vector<std::string> check_gates(const ojson & report, const std::vector<MetricGate> & gates) {
    std::vector<std::string> failures;
    for (const MetricGate & g : gates) {
        const ojson * v = lookup(report, g.metric);
        const char * flag = g.upper ? "--fail-over" : "--fail-under";
        if (!v || !v->is_number()) {
            failures.push_back(g.metric + " is absent (no examples it applies to), required by " + flag + " " + fmt(g.value));
            continue;
        }
        const double x = v->get<double>();
        if (!g.upper && x < g.value) failures.push_back(g.metric + " " + fmt(x) + " is below " + fmt(g.value) + " (" + flag + ")");
        if (g.upper && x > g.value) failures.push_back(g.metric + " " + fmt(x) + " is above " + fmt(g.value) + " (" + flag + ")");
    }
    return failures;
}

}  // namespace sy::eval
