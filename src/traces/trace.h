// The trace record: everything the gateway learns about one request (what was asked, what the router
// decided and how sure it was, who served it, how long it took, what it cost, what went wrong) plus the
// feedback a user may attach later. Plain structs; JSON lives in trace_json.cpp. Not the store itself
// (store.h) and not the writer (writer.h).
//
// `messages` holds the whole conversation in OpenAI chat format, INCLUDING the assistant turn(s) that
// answered the request, so one trace is one OpenAI fine-tuning line ({"messages", "tools"}).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace sy::traces {

using ojson = nlohmann::ordered_json;

// Who produced the answer: the local model, the fallback (cloud) model, or another system whose logs were
// imported (OpenAI logs, LangSmith runs).
enum class ServedBy { ServedBy_local, ServedBy_fallback, ServedBy_external };
const char * served_by_name(ServedBy s);
std::optional<ServedBy> served_by_from_name(std::string_view name);

struct Latency {
    double queue_ms = 0;
    double prefill_ms = 0;
    double decode_ms = 0;
    double total_ms = 0;
};

struct Trace {
    std::string id;        // unique; the writer fills a random 32-hex id when empty
    int64_t time_ms = 0;   // request arrival, Unix epoch milliseconds
    std::string api;       // "openai.chat", "ollama.chat", "import.openai", "import.langsmith", ...
    std::string model;     // model name the client asked for / that served it
    std::string adapter;   // LoRA adapter name, empty when none
    ojson messages = ojson::array();  // OpenAI messages, request + answer
    ojson tools = ojson::array();     // OpenAI tools array
    std::string tools_fingerprint;    // tools_fingerprint(tools); filled by the writer/importers when empty
    std::string router_decision;      // tool name the router chose, "none" for a direct reply, "" unknown
    std::optional<double> confidence;           // overall router confidence in [0, 1]
    ojson confidence_parts = ojson::object();   // e.g. {"tool": 0.99, "arguments": 0.93}
    ServedBy served_by = ServedBy::ServedBy_local;
    std::string served_reason;        // "confident", "low_confidence", "local_error", ...
    ojson shadow_result = nullptr;    // the shadow model's answer (assistant message), null when no shadow
    std::optional<bool> shadow_agreement;
    ojson tool_results = ojson::array();  // [{"tool_call_id", "name", "ok", "content"}, ...]
    Latency latency;
    int64_t prompt_tokens = 0;
    int64_t completion_tokens = 0;
    double cost_cloud_usd = 0;        // what the request costs (or would cost) on the cloud model
    double cost_local_usd = 0;        // estimated local cost
    int32_t n_retries = 0;            // tool-call attempts repeated after a malformed/failed call
    std::string error;                // empty: succeeded

    // Filled on read from the feedback table (latest feedback wins); ignored on insert.
    std::optional<int32_t> feedback_rating;
    ojson feedback_correction = nullptr;

    bool succeeded() const { return error.empty(); }
};

// Feedback on one trace (POST /v1/feedback). rating: the caller's scale, e.g. -1/+1 or 1..5.
// corrected: optional corrected answer (an assistant message object, or a string content).
struct Feedback {
    std::string trace_id;
    int32_t rating = 0;
    ojson corrected = nullptr;
    int64_t time_ms = 0;  // 0: now
};

// Stable fingerprint of a tools array: 16 hex digits of FNV-1a 64 over its compact JSON dump.
std::string tools_fingerprint(const ojson & tools);
// 32 random hex digits.
std::string new_trace_id();
int64_t now_ms();

// Names of the tools called by the assistant turns of `messages`, in order (may repeat).
std::vector<std::string> called_tools(const ojson & messages);

// Lossless JSON form of a trace (every field; snake_case keys) and back. from_json throws sy::Error.
ojson trace_to_json(const Trace & t);
Trace trace_from_json(const ojson & j);

}  // namespace sy::traces
