// Trace helpers: names of ServedBy, fingerprints, ids, the called-tools walk and the lossless JSON form.
#include "traces/trace.h"

#include <chrono>
#include <cstdio>
#include <mutex>
#include <random>

#include "common/error.h"

namespace sy::traces {

const char * served_by_name(ServedBy s) {
    switch (s) {
        case ServedBy::ServedBy_local: return "local";
        case ServedBy::ServedBy_fallback: return "fallback";
        case ServedBy::ServedBy_external: return "external";
    }
    return "local";
}

std::optional<ServedBy> served_by_from_name(std::string_view name) {
    if (name == "local") return ServedBy::ServedBy_local;
    if (name == "fallback") return ServedBy::ServedBy_fallback;
    if (name == "external") return ServedBy::ServedBy_external;
    return std::nullopt;
}

std::string tools_fingerprint(const ojson & tools) {
    if (!tools.is_array() || tools.empty()) return "";
    const std::string s = tools.dump();
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : s) {
        h ^= c;
        h *= 0x100000001b3ull;
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)h);
    return buf;
}

std::string new_trace_id() {
    // One generator per thread, seeded from the OS; ids only need to be unique, not secret.
    thread_local std::mt19937_64 rng([] {
        std::random_device rd;
        return ((uint64_t)rd() << 32) ^ rd() ^ (uint64_t)std::chrono::steady_clock::now().time_since_epoch().count();
    }());
    char buf[33];
    std::snprintf(buf, sizeof buf, "%016llx%016llx", (unsigned long long)rng(), (unsigned long long)rng());
    return buf;
}

int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::vector<std::string> called_tools(const ojson & messages) {
    std::vector<std::string> out;
    if (!messages.is_array()) return out;
    for (const auto & m : messages) {
        if (!m.is_object() || m.value("role", "") != "assistant") continue;
        auto it = m.find("tool_calls");
        if (it == m.end() || !it->is_array()) continue;
        for (const auto & c : *it) {
            if (!c.is_object()) continue;
            auto f = c.find("function");
            if (f != c.end() && f->is_object() && f->contains("name") && (*f)["name"].is_string())
                out.push_back((*f)["name"].get<std::string>());
        }
    }
    return out;
}

ojson trace_to_json(const Trace & t) {
    ojson j = ojson::object();
    j["id"] = t.id;
    j["time_ms"] = t.time_ms;
    j["api"] = t.api;
    j["model"] = t.model;
    j["adapter"] = t.adapter;
    j["messages"] = t.messages;
    j["tools"] = t.tools;
    j["tools_fingerprint"] = t.tools_fingerprint;
    j["router_decision"] = t.router_decision;
    j["confidence"] = t.confidence ? ojson(*t.confidence) : ojson(nullptr);
    j["confidence_parts"] = t.confidence_parts;
    j["served_by"] = served_by_name(t.served_by);
    j["served_reason"] = t.served_reason;
    j["shadow_result"] = t.shadow_result;
    j["shadow_agreement"] = t.shadow_agreement ? ojson(*t.shadow_agreement) : ojson(nullptr);
    j["tool_results"] = t.tool_results;
    j["latency_ms"] = {{"queue", t.latency.queue_ms},
                       {"prefill", t.latency.prefill_ms},
                       {"decode", t.latency.decode_ms},
                       {"total", t.latency.total_ms}};
    j["prompt_tokens"] = t.prompt_tokens;
    j["completion_tokens"] = t.completion_tokens;
    j["cost_cloud_usd"] = t.cost_cloud_usd;
    j["cost_local_usd"] = t.cost_local_usd;
    j["n_retries"] = t.n_retries;
    j["error"] = t.error;
    j["feedback_rating"] = t.feedback_rating ? ojson(*t.feedback_rating) : ojson(nullptr);
    j["feedback_correction"] = t.feedback_correction;
    return j;
}

Trace trace_from_json(const ojson & j) {
    if (!j.is_object()) throw Error(ErrorKind::ErrorKind_invalid_file, "trace: expected a JSON object");
    Trace t;
    try {
        t.id = j.value("id", "");
        t.time_ms = j.value("time_ms", (int64_t)0);
        t.api = j.value("api", "");
        t.model = j.value("model", "");
        t.adapter = j.value("adapter", "");
        if (j.contains("messages")) t.messages = j["messages"];
        if (j.contains("tools") && !j["tools"].is_null()) t.tools = j["tools"];
        t.tools_fingerprint = j.value("tools_fingerprint", "");
        t.router_decision = j.value("router_decision", "");
        if (j.contains("confidence") && j["confidence"].is_number()) t.confidence = j["confidence"].get<double>();
        if (j.contains("confidence_parts") && j["confidence_parts"].is_object()) t.confidence_parts = j["confidence_parts"];
        const std::string sb = j.value("served_by", "local");
        auto s = served_by_from_name(sb);
        if (!s) throw Error(ErrorKind::ErrorKind_invalid_file, "trace: served_by must be local, fallback or external, got '" + sb + "'");
        t.served_by = *s;
        t.served_reason = j.value("served_reason", "");
        if (j.contains("shadow_result")) t.shadow_result = j["shadow_result"];
        if (j.contains("shadow_agreement") && j["shadow_agreement"].is_boolean())
            t.shadow_agreement = j["shadow_agreement"].get<bool>();
        if (j.contains("tool_results") && j["tool_results"].is_array()) t.tool_results = j["tool_results"];
        if (j.contains("latency_ms") && j["latency_ms"].is_object()) {
            const auto & l = j["latency_ms"];
            t.latency.queue_ms = l.value("queue", 0.0);
            t.latency.prefill_ms = l.value("prefill", 0.0);
            t.latency.decode_ms = l.value("decode", 0.0);
            t.latency.total_ms = l.value("total", 0.0);
        }
        t.prompt_tokens = j.value("prompt_tokens", (int64_t)0);
        t.completion_tokens = j.value("completion_tokens", (int64_t)0);
        t.cost_cloud_usd = j.value("cost_cloud_usd", 0.0);
        t.cost_local_usd = j.value("cost_local_usd", 0.0);
        t.n_retries = j.value("n_retries", 0);
        t.error = j.value("error", "");
        if (j.contains("feedback_rating") && j["feedback_rating"].is_number_integer())
            t.feedback_rating = j["feedback_rating"].get<int32_t>();
        if (j.contains("feedback_correction")) t.feedback_correction = j["feedback_correction"];
    } catch (const nlohmann::json::exception & e) {
        throw Error(ErrorKind::ErrorKind_invalid_file, std::string("trace: bad field type: ") + e.what());
    }
    return t;
}

}  // namespace sy::traces
