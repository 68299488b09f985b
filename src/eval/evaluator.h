// The evaluation harness: runs test examples (OpenAI chat fine-tuning JSONL, each ending with the
// reference assistant turn) through any Provider — a local GGUF router, a running Switchyard gateway or
// a cloud model — and judges every answer (compare.h). Metrics are computed afterwards (metrics.h).
//
// For each example the request is the conversation up to (not including) its last assistant turn, with
// the example's tools, tool_choice "auto" (none without tools), greedy decoding (temperature 0) and
// max_tokens; the answer's latency is the wall time of Provider::chat() as the harness sees it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "eval/metrics.h"
#include "providers/provider.h"

namespace sy::eval {

struct EvalExample {
    chat::Conversation prompt;  // messages before the reference turn, and the tools
    Expected expected;
    std::string request;        // the last user message (for reports)
};

// From a conversation whose last message is the assistant's reference answer; throws sy::Error
// (invalid_argument) naming `where` otherwise.
EvalExample make_example(const chat::Conversation & conv, const std::string & where);

// Reads at most `limit` examples (0: all) from a JSONL file; errors name the file and line.
std::vector<EvalExample> load_examples(const std::string & path, int64_t limit = 0);

struct EvalProgress {
    int64_t done = 0, total = 0, errors = 0;
    double elapsed_s = 0;
};

struct EvalParams {
    std::string model;         // ChatRequest::model (a local provider reads an adapter name from it)
    int32_t concurrency = 1;   // requests in flight
    int32_t max_tokens = 256;
    bool logprobs = false;     // ask for token logprobs (a remote model's confidence)
    // Allow several calls per answer; unset: allowed when any reference answer has several.
    std::optional<bool> parallel_tool_calls;
    // Give up when each of the first N answered requests failed (an endpoint that is down).
    int32_t abort_after_errors = 5;
    // Called after each example, from the worker threads but never concurrently.
    std::function<void(const EvalProgress &)> on_progress;
};

// Confidence of an answer: a local model's router confidence (the decision for a text answer, the
// lowest call's overall confidence for calls); else, with token logprobs, exp(sum of logprobs) — the
// probability of the whole answer; else nullopt.
std::optional<double> answer_confidence(const providers::ChatResponse & r);

// One outcome per example, in input order. Provider errors become PredictionKind_error outcomes; throws
// sy::Error(unavailable) with the first error when the run was abandoned (see abort_after_errors) or
// every request failed.
std::vector<ExampleOutcome> run_eval(providers::Provider & provider, const std::vector<EvalExample> & examples,
                                     const EvalParams & params);

}  // namespace sy::eval
