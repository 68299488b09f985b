// Shared test data for the evaluator tests: a two-tool schema and eight judged examples whose metrics
// are worked out by hand in metrics_test.cpp.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "eval/metrics.h"

namespace sy::eval::test {

inline const ojson kTools = ojson::parse(R"([
  {"type": "function", "function": {"name": "create_task", "parameters": {"type": "object",
    "properties": {"title": {"type": "string"}, "priority": {"type": "string", "enum": ["low", "high"]}},
    "required": ["title"], "additionalProperties": false}}},
  {"type": "function", "function": {"name": "list_tasks", "parameters": {"type": "object",
    "properties": {"status": {"type": "string", "enum": ["open", "done"]}}}}}
])");

inline Prediction calls(const std::string & name, const ojson & args) {
    Prediction p;
    p.kind = PredictionKind::PredictionKind_calls;
    p.calls.push_back({name, args});
    return p;
}
inline Prediction of_kind(PredictionKind k) {
    Prediction p;
    p.kind = k;
    return p;
}

inline ExampleOutcome outcome(std::vector<Call> want, Prediction got, std::optional<double> latency, std::optional<double> conf) {
    ExampleOutcome o;
    o.expected.calls = std::move(want);
    o.prediction = std::move(got);
    o.score = score_example(o.expected, o.prediction, kTools);
    o.latency_ms = latency;
    o.confidence = conf;
    if (latency) {
        o.prompt_tokens = 100;
        o.completion_tokens = 10;
    }
    return o;
}

// 1 create_task right (strict)            conf .95  10 ms
// 2 create_task right (normalised only)   conf .90  20 ms
// 3 list_tasks expected, create_task got  conf .80  30 ms
// 4 no tool, text answer (right)          conf .70  40 ms
// 5 no tool, list_tasks called (FP; enum violated)  conf .60  50 ms
// 6 list_tasks expected, text answer (FN) conf .50  60 ms
// 7 create_task expected, malformed call  conf .40  70 ms
// 8 no tool, provider error               -         -
inline std::vector<ExampleOutcome> hand_set() {
    const ojson milk = {{"title", "Buy milk"}, {"priority", "high"}};
    return {
        outcome({{"create_task", milk}}, calls("create_task", milk), 10, 0.95),
        outcome({{"create_task", {{"title", "Call Bob"}, {"priority", "low"}}}},
                calls("create_task", {{"priority", "low"}, {"title", "call bob"}}), 20, 0.90),
        outcome({{"list_tasks", {{"status", "open"}}}}, calls("create_task", {{"title", "open"}}), 30, 0.80),
        outcome({}, of_kind(PredictionKind::PredictionKind_text), 40, 0.70),
        outcome({}, calls("list_tasks", {{"status", "someday"}}), 50, 0.60),
        outcome({{"list_tasks", {{"status", "done"}}}}, of_kind(PredictionKind::PredictionKind_text), 60, 0.50),
        outcome({{"create_task", {{"title", "x"}, {"priority", "low"}}}}, of_kind(PredictionKind::PredictionKind_malformed), 70, 0.40),
        outcome({}, of_kind(PredictionKind::PredictionKind_error), std::nullopt, std::nullopt),
    };
}

}  // namespace sy::eval::test
