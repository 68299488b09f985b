// OpenAI chat JSONL lines and Chat Completions request/response pairs → Trace, and the shape check of an
// OpenAI messages array both rely on.
#include "common/error.h"
#include "traces/import.h"

namespace sy::traces {

namespace {
[[noreturn]] void bad(const std::string & path, const std::string & what) {
    throw Error(ErrorKind::ErrorKind_invalid_file, path + ": " + what);
}

void check_tools(const ojson & tools, const std::string & path) {
    if (!tools.is_array()) bad(path, "must be an array");
    for (size_t i = 0; i < tools.size(); ++i) {
        const auto & t = tools[i];
        const std::string p = path + "[" + std::to_string(i) + "]";
        if (!t.is_object() || !t.contains("function") || !t["function"].is_object()) bad(p, "expected {\"type\":\"function\",\"function\":{...}}");
        if (!t["function"].contains("name") || !t["function"]["name"].is_string()) bad(p + ".function.name", "missing or not a string");
    }
}

int64_t int_or(const ojson & j, const char * key, int64_t dflt) {
    auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<int64_t>() : dflt;
}
}  // namespace

void check_openai_messages(const ojson & messages) {
    if (!messages.is_array()) bad("messages", "must be an array");
    if (messages.empty()) bad("messages", "is empty");
    for (size_t i = 0; i < messages.size(); ++i) {
        const auto & m = messages[i];
        const std::string p = "messages[" + std::to_string(i) + "]";
        if (!m.is_object()) bad(p, "must be an object");
        if (!m.contains("role") || !m["role"].is_string()) bad(p + ".role", "missing or not a string");
        const std::string role = m["role"];
        if (role != "system" && role != "developer" && role != "user" && role != "assistant" && role != "tool" && role != "function")
            bad(p + ".role", "unknown role '" + role + "'");
        if (m.contains("content")) {
            const auto & c = m["content"];
            if (!c.is_string() && !c.is_null() && !c.is_array()) bad(p + ".content", "must be a string, null or an array of parts");
        }
        if (m.contains("tool_calls") && !m["tool_calls"].is_null()) {
            const auto & tc = m["tool_calls"];
            if (role != "assistant") bad(p + ".tool_calls", "only assistant messages carry tool_calls");
            if (!tc.is_array()) bad(p + ".tool_calls", "must be an array");
            for (size_t k = 0; k < tc.size(); ++k) {
                const std::string q = p + ".tool_calls[" + std::to_string(k) + "]";
                if (!tc[k].is_object() || !tc[k].contains("function") || !tc[k]["function"].is_object()) bad(q, "expected {\"function\":{...}}");
                const auto & f = tc[k]["function"];
                if (!f.contains("name") || !f["name"].is_string()) bad(q + ".function.name", "missing or not a string");
                if (f.contains("arguments") && !f["arguments"].is_string() && !f["arguments"].is_object())
                    bad(q + ".function.arguments", "must be a JSON string or an object");
            }
        }
    }
}

Trace trace_from_openai_example(const ojson & j) {
    if (!j.is_object()) bad("line", "must be a JSON object");
    if (!j.contains("messages")) bad("messages", "missing");
    check_openai_messages(j["messages"]);
    Trace t;
    t.api = "import.openai";
    t.served_by = ServedBy::ServedBy_external;
    t.messages = j["messages"];
    if (j.contains("tools") && !j["tools"].is_null()) {
        check_tools(j["tools"], "tools");
        t.tools = j["tools"];
    }
    if (j.contains("model") && j["model"].is_string()) t.model = j["model"];
    if (j.contains("id") && j["id"].is_string()) t.id = j["id"];
    // Our own export keeps extra trace fields under "metadata" when asked; read the common ones back.
    if (j.contains("metadata") && j["metadata"].is_object()) {
        const auto & md = j["metadata"];
        if (md.contains("model") && md["model"].is_string() && t.model.empty()) t.model = md["model"];
        if (md.contains("time_ms") && md["time_ms"].is_number_integer()) t.time_ms = md["time_ms"];
    }
    return t;
}

Trace trace_from_chat_pair(const ojson & j) {
    if (!j.is_object() || !j.contains("request") || !j.contains("response")) bad("line", "expected {\"request\": {...}, \"response\": {...}}");
    const auto & rq = j["request"];
    const auto & rs = j["response"];
    if (!rq.is_object()) bad("request", "must be an object");
    if (!rs.is_object()) bad("response", "must be an object");
    if (!rq.contains("messages")) bad("request.messages", "missing");
    check_openai_messages(rq["messages"]);
    Trace t;
    t.api = "import.pairs";
    t.served_by = ServedBy::ServedBy_external;
    t.messages = rq["messages"];
    if (rq.contains("tools") && !rq["tools"].is_null()) {
        check_tools(rq["tools"], "request.tools");
        t.tools = rq["tools"];
    }
    t.model = rs.value("model", rq.value("model", ""));
    if (rs.contains("id") && rs["id"].is_string()) t.id = rs["id"];
    if (rs.contains("created") && rs["created"].is_number()) t.time_ms = rs["created"].get<int64_t>() * 1000;
    if (j.contains("timestamp") && j["timestamp"].is_string())
        if (auto ms = parse_iso8601_ms(j["timestamp"])) t.time_ms = *ms;
    if (j.contains("latency_ms") && j["latency_ms"].is_number()) t.latency.total_ms = j["latency_ms"];
    if (rs.contains("error") && !rs["error"].is_null()) {
        const auto & e = rs["error"];
        t.error = e.is_object() ? e.value("message", e.dump()) : (e.is_string() ? e.get<std::string>() : e.dump());
        return t;
    }
    if (!rs.contains("choices") || !rs["choices"].is_array() || rs["choices"].empty()) bad("response.choices", "missing or empty");
    const auto & ch = rs["choices"][0];
    if (!ch.is_object() || !ch.contains("message") || !ch["message"].is_object()) bad("response.choices[0].message", "missing");
    ojson answer = ch["message"];
    if (!answer.contains("role")) answer["role"] = "assistant";
    ojson probe = ojson::array({answer});
    try {
        check_openai_messages(probe);
    } catch (const Error & e) {
        bad("response.choices[0]", e.what());
    }
    t.messages.push_back(answer);
    if (ch.contains("finish_reason") && ch["finish_reason"] == "length") t.error = "finish_reason=length";
    if (rs.contains("usage") && rs["usage"].is_object()) {
        t.prompt_tokens = int_or(rs["usage"], "prompt_tokens", 0);
        t.completion_tokens = int_or(rs["usage"], "completion_tokens", 0);
    }
    return t;
}

}  // namespace sy::traces
