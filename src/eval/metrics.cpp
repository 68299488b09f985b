// The evaluator's metrics (see metrics.h and docs/eval.md).
#include "eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace sy::eval {

bool ExampleOutcome::correct() const { return score.tool_correct && (expected.calls.empty() || score.args_normalised); }

std::optional<double> percentile(std::vector<double> values, double p) {
    if (values.empty()) return std::nullopt;
    std::sort(values.begin(), values.end());
    const double n = (double)values.size();
    size_t rank = (size_t)std::ceil(p / 100.0 * n - 1e-9);
    rank = std::clamp<size_t>(rank, 1, values.size());
    return values[rank - 1];
}

Calibration calibrate(const std::vector<double> & confidence, const std::vector<bool> & correct, int32_t n_bins) {
    Calibration c;
    n_bins = std::max(1, n_bins);
    c.bins.resize((size_t)n_bins);
    std::vector<double> sum_conf((size_t)n_bins, 0.0), sum_correct((size_t)n_bins, 0.0);
    for (int32_t b = 0; b < n_bins; ++b) {
        c.bins[(size_t)b].lower = (double)b / n_bins;
        c.bins[(size_t)b].upper = (double)(b + 1) / n_bins;
    }
    for (size_t i = 0; i < confidence.size() && i < correct.size(); ++i) {
        const double x = std::clamp(confidence[i], 0.0, 1.0);
        const int32_t b = std::min(n_bins - 1, (int32_t)std::floor(x * n_bins));
        ++c.bins[(size_t)b].count;
        sum_conf[(size_t)b] += x;
        sum_correct[(size_t)b] += correct[i] ? 1.0 : 0.0;
        ++c.n;
    }
    if (c.n == 0) return c;
    double ece = 0;
    for (size_t b = 0; b < c.bins.size(); ++b) {
        CalibrationBin & bin = c.bins[b];
        if (bin.count == 0) continue;
        bin.mean_confidence = sum_conf[b] / (double)bin.count;
        bin.accuracy = sum_correct[b] / (double)bin.count;
        ece += (double)bin.count / (double)c.n * std::fabs(bin.accuracy - bin.mean_confidence);
    }
    c.ece = ece;
    return c;
}

std::vector<CoveragePoint> coverage_curve(const std::vector<double> & confidence, const std::vector<bool> & correct) {
    const size_t n = std::min(confidence.size(), correct.size());
    std::vector<size_t> order(n);
    for (size_t i = 0; i < n; ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return confidence[a] > confidence[b]; });
    std::vector<CoveragePoint> curve;
    int64_t covered = 0, right = 0;
    for (size_t k = 0; k < n;) {
        const double t = confidence[order[k]];
        while (k < n && confidence[order[k]] == t) {
            ++covered;
            right += correct[order[k]] ? 1 : 0;
            ++k;
        }
        CoveragePoint p;
        p.threshold = t;
        p.n_covered = covered;
        p.coverage = (double)covered / (double)n;
        p.accuracy = (double)right / (double)covered;
        curve.push_back(p);
    }
    return curve;
}

std::optional<CoveragePoint> threshold_for_accuracy(const std::vector<CoveragePoint> & curve, double target) {
    std::optional<CoveragePoint> best;
    for (const CoveragePoint & p : curve)
        if (p.accuracy >= target - 1e-12) best = p;  // later points have lower thresholds, more coverage
    return best;
}

std::vector<CoveragePoint> thin_curve(const std::vector<CoveragePoint> & curve, size_t max_points) {
    if (curve.size() <= max_points || max_points < 2) return curve;
    std::vector<CoveragePoint> out;
    for (size_t k = 0; k < max_points; ++k) out.push_back(curve[k * (curve.size() - 1) / (max_points - 1)]);
    return out;
}

Histogram histogram(const std::vector<double> & values, int32_t n_bins) {
    Histogram h;
    if (values.empty()) return h;
    h.lower = *std::min_element(values.begin(), values.end());
    h.upper = *std::max_element(values.begin(), values.end());
    if (!(h.upper > h.lower)) n_bins = 1;
    n_bins = std::max(1, n_bins);
    h.counts.assign((size_t)n_bins, 0);
    const double width = (h.upper - h.lower) / n_bins;
    for (double v : values) {
        int32_t b = width > 0 ? (int32_t)std::floor((v - h.lower) / width) : 0;
        ++h.counts[(size_t)std::clamp(b, 0, n_bins - 1)];
    }
    return h;
}

ConfusionMatrix confusion_matrix(const std::vector<std::string> & expected, const std::vector<std::string> & predicted) {
    ConfusionMatrix m;
    std::set<std::string> tools;
    bool malformed = false, error = false;
    for (const auto & l : expected)
        if (l != "none") tools.insert(l);
    for (const auto & l : predicted) {
        if (l == "malformed") malformed = true;
        else if (l == "error") error = true;
        else if (l != "none") tools.insert(l);
    }
    m.expected_labels.assign(tools.begin(), tools.end());
    m.expected_labels.push_back("none");
    m.predicted_labels = m.expected_labels;
    if (malformed) m.predicted_labels.push_back("malformed");
    if (error) m.predicted_labels.push_back("error");
    m.counts.assign(m.expected_labels.size(), std::vector<int64_t>(m.predicted_labels.size(), 0));
    auto index = [](const std::vector<std::string> & labels, const std::string & l) {
        return (size_t)(std::find(labels.begin(), labels.end(), l) - labels.begin());
    };
    for (size_t i = 0; i < expected.size() && i < predicted.size(); ++i)
        ++m.counts[index(m.expected_labels, expected[i])][index(m.predicted_labels, predicted[i])];
    return m;
}

namespace {

std::optional<double> ratio(int64_t num, int64_t den) {
    if (den <= 0) return std::nullopt;
    return (double)num / (double)den;
}

}  // namespace

Metrics compute_metrics(const std::vector<ExampleOutcome> & outcomes, const MetricsParams & params) {
    Metrics m;
    m.target_accuracy = params.target_accuracy;
    m.n_examples = (int64_t)outcomes.size();
    int64_t tool_ok = 0, all_ok = 0, strict = 0, normalised = 0, malformed = 0, no_call = 0, calls = 0;
    int64_t schema_ok = 0, fp = 0, fn = 0;
    std::vector<double> latencies, conf;
    std::vector<bool> conf_correct;
    std::vector<std::string> exp_labels, pred_labels;
    std::map<std::pair<std::string, std::string>, ArgumentMetric> args;
    int64_t arg_pred = 0, arg_exp = 0, arg_ok = 0;
    int64_t grounded = 0, exact_replies = 0, value_replies = 0, n_exact_replies = 0;

    for (const ExampleOutcome & o : outcomes) {
        const bool want_call = !o.expected.calls.empty();
        const PredictionKind k = o.prediction.kind;
        m.n_expected_calls += want_call;
        m.n_expected_none += !want_call;
        m.n_errors += k == PredictionKind::PredictionKind_error;
        malformed += k == PredictionKind::PredictionKind_malformed;
        no_call += k == PredictionKind::PredictionKind_text;
        calls += k == PredictionKind::PredictionKind_calls;
        schema_ok += k == PredictionKind::PredictionKind_calls && o.score.schema_valid;
        tool_ok += o.score.tool_correct;
        all_ok += o.correct();
        strict += want_call && o.score.args_strict;
        normalised += want_call && o.score.args_normalised;
        if (!want_call && (k == PredictionKind::PredictionKind_calls || k == PredictionKind::PredictionKind_malformed)) ++fp;
        if (want_call && k == PredictionKind::PredictionKind_text) ++fn;
        if (o.latency_ms) latencies.push_back(*o.latency_ms);
        if (o.confidence) {
            conf.push_back(*o.confidence);
            conf_correct.push_back(o.correct());
        }
        if (k != PredictionKind::PredictionKind_error) {
            m.prompt_tokens += o.prompt_tokens;
            m.completion_tokens += o.completion_tokens;
        }
        if (o.reply_grounded) {
            ++m.n_tool_replies;
            grounded += *o.reply_grounded;
        }
        if (o.reply_exact) {
            ++n_exact_replies;
            exact_replies += *o.reply_exact;
            value_replies += o.reply_values_match.value_or(false);
        }
        exp_labels.push_back(expected_label(o.expected));
        pred_labels.push_back(predicted_label(o.prediction));
        for (const ArgumentTally & t : o.score.arguments) {
            ArgumentMetric & a = args[{t.tool, t.argument}];
            a.tool = t.tool;
            a.argument = t.argument;
            a.n_predicted += t.n_predicted;
            a.n_expected += t.n_expected;
            a.n_correct += t.n_correct;
            arg_pred += t.n_predicted;
            arg_exp += t.n_expected;
            arg_ok += t.n_correct;
        }
    }

    const int64_t n = m.n_examples;
    m.tool_selection_accuracy = ratio(tool_ok, n);
    m.accuracy = ratio(all_ok, n);
    m.argument_exact_match = ratio(strict, m.n_expected_calls);
    m.argument_exact_match_normalised = ratio(normalised, m.n_expected_calls);
    m.argument_precision = ratio(arg_ok, arg_pred);
    m.argument_recall = ratio(arg_ok, arg_exp);
    m.json_validity = ratio(calls, calls + malformed);
    m.schema_validity = ratio(schema_ok, calls);
    m.malformed_call_rate = ratio(malformed, n);
    m.no_call_rate = ratio(no_call, n);
    m.error_rate = ratio(m.n_errors, n);
    m.false_positive_rate = ratio(fp, m.n_expected_none);
    m.false_negative_rate = ratio(fn, m.n_expected_calls);
    m.grounded_reply_rate = ratio(grounded, m.n_tool_replies);
    m.reply_value_match = ratio(value_replies, n_exact_replies);
    m.reply_exact_match = ratio(exact_replies, n_exact_replies);

    m.latency_ms.p50 = percentile(latencies, 50);
    m.latency_ms.p95 = percentile(latencies, 95);
    m.latency_ms.p99 = percentile(latencies, 99);
    if (!latencies.empty()) {
        double sum = 0;
        for (double v : latencies) sum += v;
        m.latency_ms.mean = sum / (double)latencies.size();
        m.latency_ms.max = *std::max_element(latencies.begin(), latencies.end());
    }
    m.latency_histogram = histogram(latencies, params.n_latency_bins);

    m.calibration = calibrate(conf, conf_correct, params.n_calibration_bins);
    m.coverage_curve = coverage_curve(conf, conf_correct);
    m.recommended = threshold_for_accuracy(m.coverage_curve, params.target_accuracy);

    m.confusion = confusion_matrix(exp_labels, pred_labels);
    for (auto & [_, a] : args) {
        a.precision = ratio(a.n_correct, a.n_predicted);
        a.recall = ratio(a.n_correct, a.n_expected);
        m.arguments.push_back(std::move(a));
    }
    return m;
}

ThresholdMetrics metrics_at_threshold(const std::vector<ExampleOutcome> & outcomes, double threshold,
                                      const MetricsParams & params) {
    ThresholdMetrics t;
    t.threshold = threshold;
    std::vector<ExampleOutcome> covered;
    for (const ExampleOutcome & o : outcomes) {
        if (!o.confidence) continue;
        ++t.n_with_confidence;
        if (*o.confidence >= threshold) covered.push_back(o);
    }
    t.n_covered = (int64_t)covered.size();
    t.coverage = ratio(t.n_covered, t.n_with_confidence);
    t.covered = compute_metrics(covered, params);
    return t;
}

}  // namespace sy::eval
