// Providers: one interface over the two kinds of model the gateway can call —
//   LocalProvider  (local_provider.h): a GGUF model (+ LoRA adapters) served by the engine scheduler, with
//                  the chat template, tool-call grammar, response_format grammar and router confidence;
//   RemoteProvider (remote_provider.h): any OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp server,
//                  Ollama, LiteLLM, another Switchyard) over HTTP, with timeout, retries and a circuit
//                  breaker.
// Requests and responses are plain structs in OpenAI chat semantics; JSON parsing of client requests
// happens in server/, not here. A provider is thread-safe: many HTTP threads call chat() at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat_format.h"
#include "grammar/confidence.h"

namespace sy::providers {

using ojson = nlohmann::ordered_json;

// Sampling and length options; unset members take the provider's defaults.
struct GenerationOptions {
    std::optional<float> temperature;
    std::optional<float> top_p;
    std::optional<int32_t> top_k;
    std::optional<float> min_p;
    std::optional<float> repeat_penalty;
    std::optional<uint64_t> seed;
    std::optional<int32_t> max_tokens;  // capped by the provider's limit
    std::vector<std::string> stop;
    bool logprobs = false;
    int32_t top_logprobs = 0;  // 0..20
};

struct ChatRequest {
    std::string model;  // the name the client asked for; for a local provider it may name an adapter
    std::vector<chat::Message> messages;
    ojson tools = ojson::array();       // OpenAI tools array
    ojson tool_choice = nullptr;        // null | "auto" | "none" | "required" | {"type":"function",...}
    bool parallel_tool_calls = true;
    // null | {"type":"text"} | {"type":"json_object"} | {"type":"json_schema","json_schema":{"name","schema","strict"}}
    ojson response_format = nullptr;
    GenerationOptions gen;
    // Raw completion (/v1/completions, /api/generate with raw): `prompt` is sent as is, no chat template;
    // messages/tools are then empty.
    std::optional<std::string> prompt;
};

struct TopLogprob {
    std::string token;
    double logprob = 0.0;
};
struct TokenLogprobInfo {
    std::string token;  // the token's text (may be a partial UTF-8 sequence)
    double logprob = 0.0;
    std::vector<TopLogprob> top;
};

struct Usage {
    int64_t prompt_tokens = 0;
    int64_t completion_tokens = 0;
    int64_t cached_tokens = 0;  // prompt tokens served from the prefix cache (local only)
};

struct Timing {
    double queue_ms = 0, prefill_ms = 0, decode_ms = 0, total_ms = 0;
};

struct ChatResponse {
    std::string model;            // the model that answered (provider's model name, adapter included)
    chat::Message message;        // role "assistant": content and/or tool_calls (ids "call_<hex>")
    std::string finish_reason;    // "stop" | "length" | "tool_calls"
    Usage usage;
    std::vector<TokenLogprobInfo> logprobs;          // when requested (post-constraint for local models)
    std::optional<grammar::OutputConfidence> confidence;  // local model decoding under the tool grammar
    Timing timing;
    std::string text;             // raw generated text (local) or content (remote), for traces/debugging
};

// Streaming: called with each new piece of assistant content as it is produced. Tool calls are not
// streamed through it: they arrive whole in ChatResponse::message (callers turn them into SSE deltas).
// Returning false cancels the request.
using DeltaFn = std::function<bool(std::string_view content_delta)>;

struct ModelEntry {
    std::string id;           // name clients use in "model"
    std::string parent;       // for an adapter: the base model's id; empty otherwise
    std::string kind;         // "local" | "remote" | "adapter"
    ojson details = ojson::object();  // architecture, parameter count, quantization, context length,
                                      // chat format, tools_fingerprint, file size, capabilities ...
};

class Provider {
public:
    virtual ~Provider() = default;
    virtual const std::string & name() const = 0;  // config name of this model
    virtual bool is_local() const = 0;

    // Throws sy::Error: invalid_argument (bad request for this model: unknown adapter, invalid schema,
    // unknown tool in tool_choice), limit (context overflow, queue full), unavailable (remote down, circuit
    // open, timeout — ErrorKind_unavailable), internal.
    virtual ChatResponse chat(const ChatRequest & req, const DeltaFn & on_delta = {}) = 0;

    // The model and, for local ones, every adapter loaded on it.
    virtual std::vector<ModelEntry> models() const = 0;
};

// "call_" + 24 random hex digits.
std::string new_tool_call_id();

}  // namespace sy::providers
