// Shared by the trace tests: a fresh store per backend (SQLite in a temp file; PostgreSQL at
// SY_TEST_PG_URL with its tables dropped first) and a fully populated sample trace.
#pragma once

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "traces/store.h"

namespace sy::traces::test {

inline std::string temp_path(const std::string & stem) {
    static std::atomic<int> n{0};
    auto p = std::filesystem::temp_directory_path() /
             ("sy_" + stem + "_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    std::filesystem::remove_all(p);
    return p.string();
}

inline const char * pg_url() {
    const char * u = std::getenv("SY_TEST_PG_URL");
    return (u && *u) ? u : nullptr;
}

// Drops our tables so each PostgreSQL test starts from an empty database.
inline void pg_reset(const char * url) {
    PGconn * c = PQconnectdb(url);
    if (PQstatus(c) == CONNECTION_OK) {
        PQclear(PQexec(c, "SET client_min_messages TO WARNING"));
        PQclear(PQexec(c, "DROP TABLE IF EXISTS feedback, traces, schema_version CASCADE"));
    }
    PQfinish(c);
}

inline Trace sample_trace(const std::string & id, int64_t time_ms) {
    Trace t;
    t.id = id;
    t.time_ms = time_ms;
    t.api = "openai.chat";
    t.model = "router-135m";
    t.adapter = "acme-v3";
    t.messages = ojson::parse(R"([
        {"role":"system","content":"You are a helpful agent."},
        {"role":"user","content":"Weather in Paris, in celsius?"},
        {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",
          "function":{"name":"get_weather","arguments":"{\"city\":\"Paris\",\"unit\":\"c\"}"}}]}])");
    t.tools = ojson::parse(R"([{"type":"function","function":{"name":"get_weather","description":"Current weather",
        "parameters":{"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["c","f"]}},
        "required":["city"]}}}])");
    t.tools_fingerprint = tools_fingerprint(t.tools);
    t.router_decision = "get_weather";
    t.confidence = 0.9731;
    t.confidence_parts = ojson{{"tool", 0.999}, {"arguments", 0.974}};
    t.served_by = ServedBy::ServedBy_fallback;
    t.served_reason = "low_confidence";
    t.shadow_result = ojson::parse(R"({"role":"assistant","content":"It is sunny."})");
    t.shadow_agreement = false;
    t.tool_results = ojson::parse(R"([{"tool_call_id":"call_1","name":"get_weather","ok":true,"content":"18C sunny"}])");
    t.latency = {1.25, 40.5, 120.0625, 162.5};
    t.prompt_tokens = 312;
    t.completion_tokens = 27;
    t.cost_cloud_usd = 0.001051;
    t.cost_local_usd = 0.0000123;
    t.n_retries = 1;
    t.error = "";
    return t;
}

}  // namespace sy::traces::test
