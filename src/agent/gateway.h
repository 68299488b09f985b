// The routing pipeline (DESIGN "The loop it serves"): owns the configured providers, decides per request
// which model answers, runs shadow comparisons, executes server-side tools in the agent loop, records a
// trace of every request, and keeps the metrics. HTTP-free: server/ parses requests into
// providers::ChatRequest and renders AgentResult in each API's shape.
//
// Decision for a chat request (reasons are the `served_reason` of the trace and the X-Switchyard-Reason
// header):
//   last message is a tool result             -> responder                       "tool_result"
//   request has tools, router configured:
//     router's tools fingerprint differs       -> fallback                        "untrained_tools"
//     router error (overflow, ...)             -> fallback                        "local_error"
//     confidence <  threshold                  -> fallback                        "low_confidence"
//     confidence >= threshold                  -> router's answer                 "confident"
//   no tools                                   -> responder                       "no_tools"
//   a role missing falls through to the next configured one (responder -> router -> fallback).
//   Without a fallback, a low-confidence answer is served locally ("low_confidence_no_fallback").
// The router's output is buffered, so the decision is made before the first streamed byte; the
// responder and the fallback stream live.
// The other reasons:
//   "requested_model"         the client named a model/adapter (RequestOptions::force_model); no fallback
//   "completion"              a raw prompt (ChatRequest::prompt) -> responder
//   "no_router"               tools but no router role -> fallback, else responder
//   "remote_router"           the router role is a remote model (no confidence to judge): its answer
//   "untrained_tools_no_fallback"  fingerprint differs and there is no fallback: the router anyway
//   "<reason>_fallback_failed"     the fallback failed (after its retries, before any byte streamed) and
//                                  the local answer was served; for "untrained_tools" the router then runs
// A local responder error (overflow, ...) also goes to the fallback ("local_error"); a request error
// (invalid_argument) never does. tool_choice "none" counts as no tools.
//
// Shadow runs: with router.shadow_sample_rate > 0, that share of "confident" single-step router answers
// is sent to the fallback on a background thread after chat() returns; tool-name and exact-argument
// agreement go to switchyard_shadow_agreement_total{kind="tool"|"exact",agree} and the trace
// (shadow_result, shadow_agreement = exact agreement), which is written when the shadow finishes.
//
// Metrics (render_metrics): switchyard_requests_total{api,served_by,reason},
// switchyard_request_errors_total{api,kind}, switchyard_tokens_total{direction,served_by},
// switchyard_request_duration_seconds{api,served_by}, switchyard_router_duration_seconds,
// switchyard_router_confidence, switchyard_fallbacks_total{reason}, switchyard_fallback_errors_total{reason},
// switchyard_shadow_requests_total{outcome}, switchyard_shadow_agreement_total{kind,agree},
// switchyard_tool_executions_total{tool,ok}, switchyard_engine_queue_depth{model},
// switchyard_engine_active_sequences{model}, switchyard_remote_circuit_open{model},
// switchyard_traces_{dropped,written,failed}_total.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/config.h"
#include "agent/metrics.h"
#include "providers/provider.h"
#include "traces/trace.h"

namespace sy::traces {
class TraceWriter;
class TraceStore;
}  // namespace sy::traces

namespace sy::agent {

struct Decision {
    std::string model;      // provider that served
    traces::ServedBy served_by = traces::ServedBy::ServedBy_local;
    std::string reason;
    std::string router_decision;  // tool name, "none", or "" when the router did not run
    std::optional<double> confidence;
    ojson confidence_parts = ojson::object();
};

struct RequestOptions {
    std::string api = "openai.chat";  // for traces and metrics: openai.chat, openai.completions, ollama.chat, ...
    bool execute_tools = false;       // run server-side executors in a loop (/v1/agent/chat)
    std::optional<std::string> force_model;  // a model/adapter the client named explicitly (not a role alias)
    // Optional: the id the request's trace gets (the server puts it in a header before streaming); empty =
    // the gateway makes one. Ignored when tracing is off.
    std::string trace_id;
    // Optional: called once from inside chat() when the serving model is chosen, before the first delta
    // (the server sends its X-Switchyard-* headers from it when streaming). model/served_by/reason are
    // final there; confidence may already be set.
    std::function<void(const Decision &)> on_decision;
};

struct AgentResult {
    providers::ChatResponse response;
    Decision decision;
    std::string trace_id;                   // "" when tracing is off
    std::vector<chat::Message> executed;    // agent loop: the assistant tool calls and tool results added
    int32_t n_steps = 1;
};

class Gateway {
public:
    explicit Gateway(GatewayConfig config);  // loads every model; throws sy::Error
    ~Gateway();

    // Thread-safe. Throws sy::Error (see Provider::chat) when no model can answer.
    AgentResult chat(providers::ChatRequest req, const RequestOptions & opts = {},
                     const providers::DeltaFn & on_delta = {});

    // Models and adapters clients may name, plus role aliases ("router", "responder", "fallback").
    std::vector<providers::ModelEntry> models() const;
    providers::Provider * provider(const std::string & name) const;  // nullptr when unknown

    // POST /v1/feedback. Throws invalid_argument for an unknown trace id or when tracing is off.
    void feedback(const traces::Feedback & fb);
    // Admin: load/replace/unload an adapter on a local model (atomic swap).
    void load_adapter(const std::string & model, const std::string & adapter, const std::string & path);
    void unload_adapter(const std::string & model, const std::string & adapter);

    Metrics & metrics();
    std::string render_metrics() const;  // Prometheus text, including engine and trace-writer gauges
    const GatewayConfig & config() const;
    traces::TraceStore * trace_store() const;  // nullptr when tracing is off
    void flush_traces();                       // tests: wait until queued traces are written

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sy::agent
