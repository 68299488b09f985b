// The evaluator's metrics over judged examples (compare.h): pure functions, exact definitions in
// docs/eval.md. Denominators, in short:
//   over all examples:           tool_selection_accuracy, accuracy, malformed_call_rate, no_call_rate,
//                                error_rate
//   over expected calls:         argument_exact_match(_normalised), false_negative_rate
//   over expected "no tool":     false_positive_rate
//   over call attempts:          json_validity (well-formed / (well-formed + malformed))
//   over well-formed calls:      schema_validity
//   over arguments (micro):      argument_precision, argument_recall
//   over answered examples:      latency percentiles (nearest rank)
//   over examples with a confidence: ece, reliability bins, coverage-accuracy curve, thresholds
// A metric whose denominator is zero is absent (nullopt; null in JSON).
//
// "Correct" for calibration and coverage means the whole answer is right: the tool selection, and for a
// call the normalised arguments.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "eval/compare.h"

namespace sy::eval {

struct ExampleOutcome {
    Expected expected;
    Prediction prediction;
    ExampleScore score;
    std::optional<double> latency_ms;   // absent for provider errors
    std::optional<double> confidence;   // router confidence or logprob-derived; absent when unknown
    int64_t prompt_tokens = 0, completion_tokens = 0;
    std::string request;                // the last user message (for the report's list of mistakes)
    // A text answer to a tool result (the request's last message is one): whether it states only the
    // result's values (chat/grounding.h, ungrounded_values), and, when the reference is text too, whether
    // it states the reference's values, the same multiset in any order (stated_values), and whether it
    // is the reference's text (trimmed).
    std::optional<bool> reply_grounded, reply_values_match, reply_exact;

    bool correct() const;  // tool_correct and (no call expected or args_normalised)
};

// Nearest rank: the value at rank ceil(p/100 * n) (1-based) of the sorted values; p in (0, 100].
// nullopt for no values. Example: {10, 20, 30, 40}: p50 -> 20, p95 -> 40.
std::optional<double> percentile(std::vector<double> values, double p);

struct CalibrationBin {
    double lower = 0, upper = 0;  // [lower, upper); the last bin includes 1
    int64_t count = 0;
    double mean_confidence = 0;   // 0 when empty
    double accuracy = 0;          // 0 when empty
};

struct Calibration {
    int64_t n = 0;               // examples with a confidence
    std::optional<double> ece;   // sum over bins of count/n * |accuracy - mean_confidence|
    std::vector<CalibrationBin> bins;
};
// confidences are clamped to [0, 1]; bin b holds c with floor(c * n_bins) == b (1 goes to the last bin).
Calibration calibrate(const std::vector<double> & confidence, const std::vector<bool> & correct, int32_t n_bins = 10);

struct CoveragePoint {
    double threshold = 0;  // answer locally when confidence >= threshold
    double coverage = 0;   // share of examples (with a confidence) at or above it
    double accuracy = 0;   // share of those that are correct
    int64_t n_covered = 0;
};

// One point per distinct confidence value, highest threshold first (coverage grows along the curve).
std::vector<CoveragePoint> coverage_curve(const std::vector<double> & confidence, const std::vector<bool> & correct);

// The lowest threshold on the curve whose accuracy is >= target (the most coverage that keeps the
// target); nullopt when no point reaches it.
std::optional<CoveragePoint> threshold_for_accuracy(const std::vector<CoveragePoint> & curve, double target);

// At most max_points points of the curve, evenly spaced by index, always keeping the first and last
// (for JSON and charts; decisions use the full curve).
std::vector<CoveragePoint> thin_curve(const std::vector<CoveragePoint> & curve, size_t max_points);

struct Histogram {
    double lower = 0, upper = 0;  // bin width (upper - lower) / counts.size()
    std::vector<int64_t> counts;
};
// n_bins equal bins from min to max (the max goes to the last bin); one bin when all values are equal.
Histogram histogram(const std::vector<double> & values, int32_t n_bins);

struct ConfusionMatrix {
    std::vector<std::string> expected_labels;   // tool names (sorted), then "none"
    std::vector<std::string> predicted_labels;  // the expected labels, then "malformed" / "error" when seen
    std::vector<std::vector<int64_t>> counts;   // [expected][predicted]
};
ConfusionMatrix confusion_matrix(const std::vector<std::string> & expected, const std::vector<std::string> & predicted);

struct ArgumentMetric {
    std::string tool, argument;
    int64_t n_predicted = 0, n_expected = 0, n_correct = 0;
    std::optional<double> precision, recall;  // n_correct / n_predicted, n_correct / n_expected
};

struct LatencySummary {
    std::optional<double> p50, p95, p99, mean, max;
};

struct Metrics {
    int64_t n_examples = 0;
    int64_t n_expected_calls = 0;  // examples whose reference is a call
    int64_t n_expected_none = 0;
    int64_t n_errors = 0;

    std::optional<double> tool_selection_accuracy;
    std::optional<double> accuracy;  // whole answer right (see ExampleOutcome::correct)
    std::optional<double> argument_exact_match;             // strict
    std::optional<double> argument_exact_match_normalised;
    std::optional<double> argument_precision, argument_recall;
    std::optional<double> json_validity;
    std::optional<double> schema_validity;
    std::optional<double> malformed_call_rate;
    std::optional<double> no_call_rate;
    std::optional<double> error_rate;
    std::optional<double> false_positive_rate;
    std::optional<double> false_negative_rate;
    LatencySummary latency_ms;
    Histogram latency_histogram;

    Calibration calibration;
    std::vector<CoveragePoint> coverage_curve;  // full curve
    double target_accuracy = 0.99;
    std::optional<CoveragePoint> recommended;   // threshold_for_accuracy(coverage_curve, target_accuracy)

    ConfusionMatrix confusion;
    std::vector<ArgumentMetric> arguments;      // per (tool, argument), sorted by tool then argument

    int64_t prompt_tokens = 0, completion_tokens = 0;  // summed over answered examples

    // Text answers to a tool result (a responder's replies): how many, the share that states only the
    // result's values, and the share equal to a text reference.
    int64_t n_tool_replies = 0;
    std::optional<double> grounded_reply_rate;
    std::optional<double> reply_value_match;
    std::optional<double> reply_exact_match;
};

struct MetricsParams {
    double target_accuracy = 0.99;
    int32_t n_calibration_bins = 10;
    int32_t n_latency_bins = 20;
};

Metrics compute_metrics(const std::vector<ExampleOutcome> & outcomes, const MetricsParams & params = {});

// The metrics of the examples a router would answer itself at `threshold` (confidence >= threshold),
// with the share answered (coverage) and the rest going to the fallback.
struct ThresholdMetrics {
    double threshold = 0;
    int64_t n_with_confidence = 0;
    int64_t n_covered = 0;
    std::optional<double> coverage;  // n_covered / n_with_confidence
    Metrics covered;                 // compute_metrics over the covered examples
};
ThresholdMetrics metrics_at_threshold(const std::vector<ExampleOutcome> & outcomes, double threshold,
                                      const MetricsParams & params = {});

}  // namespace sy::eval
