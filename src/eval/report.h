// The evaluation report: what was run, the metrics, the optional metrics at a chosen threshold, the cost
// and the first mistakes; written as JSON (report_json.cpp, snake_case keys listed in docs/eval.md) and
// as one self-contained HTML page with inline SVG charts (report_html.cpp). Also the --fail-under /
// --fail-over gates, checked against the JSON so every numeric key can be gated.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/cost.h"
#include "eval/metrics.h"

namespace sy::eval {

struct RunInfo {
    std::string model;         // model name (remote) or GGUF path (local)
    std::string lora;          // adapter path, local only
    std::string endpoint;      // base URL, remote only
    std::string data;          // the test JSONL
    std::string started_at;    // UTC, ISO 8601
    double seconds = 0;        // wall time of the run
    int32_t concurrency = 1;
    bool local = false;
    std::string confidence_source;  // "router" | "logprobs" | "none"
};

struct Mistake {
    std::string request;     // the last user message
    std::string expected;    // "name {args}" or "(no tool)"
    std::string predicted;   // "name {args}", "(text) ...", "(malformed) ...", "(error) ..."
    std::optional<double> confidence;
};

struct EvalReport {
    RunInfo run;
    Metrics metrics;
    std::optional<ThresholdMetrics> at_threshold;
    CostSummary cost;
    std::vector<Mistake> mistakes;
};

// The first `max` examples that are not correct (ExampleOutcome::correct), in data order; each text is
// cut to 300 bytes.
std::vector<Mistake> collect_mistakes(const std::vector<ExampleOutcome> & outcomes, size_t max);

nlohmann::ordered_json report_to_json(const EvalReport & r);
std::string report_to_html(const EvalReport & r);

// A gate on one numeric key of the JSON report: "METRIC=VALUE", METRIC a top-level key or a dotted path
// ("latency_ms.p95", "threshold.coverage"). Under: fails when the value is below; over: when above.
struct MetricGate {
    std::string metric;
    double value = 0;
    bool upper = false;  // --fail-over
};
// Throws sy::Error(invalid_argument) on a malformed spec or a metric the report does not have (naming
// the numeric keys it has).
MetricGate parse_metric_gate(const std::string & spec, bool upper, const nlohmann::ordered_json & report_keys);
// One line per failed gate ("tool_selection_accuracy 0.9120 is below 0.97"); a metric that is absent
// (null: its denominator was zero) fails too.
std::vector<std::string> check_gates(const nlohmann::ordered_json & report, const std::vector<MetricGate> & gates);

}  // namespace sy::eval
