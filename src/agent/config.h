// The gateway's configuration: one YAML file (every key documented in examples/switchyard.yaml), or the
// defaults `switchyard serve -m MODEL.gguf` builds (one local model in every role). Parsing validates
// everything up front and throws sy::Error naming the key path ("models.router.path: file not found").
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sy::agent {

using ojson = nlohmann::ordered_json;

struct ModelConfig {
    std::string name;  // key under `models:`
    enum class Kind { Kind_local, Kind_remote } kind = Kind::Kind_local;
    // local
    std::string path;                              // GGUF
    std::map<std::string, std::string> adapters;   // name -> GGUF adapter path
    int32_t n_slots = 4, n_ctx = 2048, n_batch = 512, n_threads = 2;
    int32_t max_tokens = 1024;
    bool grounded_replies = false;  // replies to tool results state only their values (LocalModelParams)
    // remote
    std::string base_url, remote_model;
    std::string api_key_env;   // name of the environment variable holding the key
    std::string api_key;       // resolved from api_key_env at load; empty: no Authorization header
    std::chrono::milliseconds timeout{30000};
    int32_t retries = 2;
    int32_t breaker_failures = 5;                     // consecutive failed requests that open the circuit
    std::chrono::milliseconds breaker_cooldown{30000};  // how long an open circuit skips the endpoint
};

// Server-side executor of a tool: an HTTP call to an allow-listed host.
struct ExecutorConfig {
    std::string method = "POST";  // GET | POST | PUT | PATCH | DELETE
    // URL template: {name} is replaced by the URL-encoded argument `name`; for POST/PUT/PATCH the
    // arguments object is also the JSON body.
    std::string url;
    std::chrono::milliseconds timeout{5000};
    size_t max_response_bytes = 65536;
    std::map<std::string, std::string> headers;  // extra request headers (values may use ${ENV} at load)
};

struct ToolConfig {
    std::string name, description;
    ojson parameters = ojson::object();  // JSON Schema
    std::optional<ExecutorConfig> executor;
};

struct RoutesConfig {  // role -> model name; empty = role not configured
    std::string router, responder, summarizer, fallback;
};

struct RouterConfig {
    double confidence_threshold = 0.8;
    double shadow_sample_rate = 0.0;     // share of locally served requests also sent to the fallback
    int32_t max_agent_steps = 5;         // /v1/agent/chat loop bound
    bool execute_tools = false;          // run server-side executors for plain /v1/chat/completions too
    bool check_tools_fingerprint = true; // tools the router was not trained on -> fallback
};

struct ServerConfig {
    std::string host = "127.0.0.1";
    int port = 8080;
    std::vector<std::string> api_key_envs;  // env variables holding accepted bearer keys; none = open
    std::vector<std::string> api_keys;      // resolved at load
    std::vector<std::string> admin_key_envs;  // keys for /admin/*; none = same as api keys
    std::vector<std::string> admin_keys;
    size_t max_body_bytes = 4 << 20;
    int32_t max_tokens = 4096;              // cap on any request's max_tokens
    std::chrono::milliseconds request_timeout{120000};
    int32_t n_http_threads = 32;
    std::vector<std::string> allowed_tool_hosts;  // executors may call only these hosts ("host" or "host:port")
};

struct TraceConfig {
    std::string url;  // "" = tracing off; a path, sqlite:PATH or postgresql://...
    size_t queue_capacity = 10000;
};

struct PricesConfig {
    std::string file;  // price table JSON (examples/prices.json format); empty = built-in defaults
    std::string cloud_model = "gpt-4o";  // what the fallback's traffic is priced as
};

struct DashboardConfig {
    bool enabled = true;        // the page at / and the /admin/dashboard/* JSON routes
    std::string eval_report;    // an evaluation report JSON file, or a folder whose newest *.json is shown; "" = none
};

struct GatewayConfig {
    std::vector<ModelConfig> models;
    RoutesConfig roles;
    std::vector<ToolConfig> tools;
    RouterConfig router;
    ServerConfig server;
    TraceConfig traces;
    PricesConfig prices;
    DashboardConfig dashboard;

    const ModelConfig * find_model(const std::string & name) const;
    ojson tools_json() const;  // the configured tools as an OpenAI tools array
};

// Reads and validates; environment variables are resolved here (a missing API key variable is an error
// for a remote model that names one). Relative paths are resolved against the file's directory.
GatewayConfig load_config(const std::string & yaml_path);
GatewayConfig parse_config(const std::string & yaml_text, const std::string & base_dir);
// `serve -m MODEL.gguf`: one local model named after the file stem in every role but fallback.
GatewayConfig default_config(const std::string & model_path);

}  // namespace sy::agent
