// LangSmith runs → Trace. A run: {"id", "name", "run_type", "start_time", "end_time", "inputs", "outputs",
// "error", "extra": {"invocation_params": {"model", "tools", ...}, "metadata": {"ls_model_name", ...}},
// "prompt_tokens", "completion_tokens", ...}. Two message dialects appear in inputs/outputs:
//   OpenAI (runs from the wrapped OpenAI client): inputs.messages = [{"role", "content", ...}], outputs =
//     a chat completion ({"choices": [{"message": ...}], "usage": ...});
//   LangChain (chat model runs): inputs.messages = [[serialized message, ...]] where a serialized message is
//     {"lc": 1, "type": "constructor", "id": [..., "HumanMessage"], "kwargs": {"content", "tool_calls", ...}}
//     or a plain {"type": "human"|"ai"|"system"|"tool", "content", ...}; outputs = {"generations":
//     [[{"text", "message": serialized AI message}]], "llm_output": {"token_usage": ...}}.
// LangChain tool calls ({"name", "args", "id"}) become OpenAI tool_calls with arguments as a JSON string.
#include "common/error.h"
#include "traces/import.h"

namespace sy::traces {

namespace {

[[noreturn]] void bad(const std::string & path, const std::string & what) {
    throw Error(ErrorKind::ErrorKind_invalid_file, path + ": " + what);
}

std::string role_of_lc_type(const std::string & type) {
    // Class names ("HumanMessage", "AIMessageChunk") or short types ("human", "ai").
    auto starts = [&](const char * p) { return type.rfind(p, 0) == 0; };
    if (starts("Human") || type == "human" || type == "user") return "user";
    if (starts("AI") || type == "ai" || type == "assistant") return "assistant";
    if (starts("System") || type == "system") return "system";
    if (starts("Tool") || type == "tool") return "tool";
    if (starts("Function") || type == "function") return "tool";
    return "";
}

ojson content_of(const ojson & c) {
    if (c.is_string() || c.is_null()) return c;
    if (c.is_array()) {  // content blocks: keep the text ones joined
        std::string s;
        for (const auto & b : c) {
            if (b.is_string()) s += b.get<std::string>();
            else if (b.is_object() && b.value("type", "") == "text" && b.contains("text") && b["text"].is_string()) s += b["text"].get<std::string>();
        }
        return s;
    }
    return c.dump();
}

// One message in either dialect → OpenAI message.
ojson to_openai_message(const ojson & m, const std::string & path) {
    if (!m.is_object()) bad(path, "message must be an object");
    if (m.contains("role")) return m;  // already OpenAI style
    ojson body = m;
    std::string type;
    if (m.contains("lc") && m.contains("kwargs")) {
        body = m["kwargs"];
        if (m.contains("id") && m["id"].is_array() && !m["id"].empty() && m["id"].back().is_string()) type = m["id"].back();
        if (type.empty()) type = body.value("type", "");
    } else {
        type = m.value("type", "");
    }
    if (!body.is_object()) bad(path + ".kwargs", "must be an object");
    const std::string role = role_of_lc_type(type);
    if (role.empty()) bad(path, "unknown message type '" + type + "'");
    ojson out = ojson::object();
    out["role"] = role;
    out["content"] = content_of(body.contains("content") ? body["content"] : ojson(""));
    if (role == "assistant") {
        ojson calls = ojson::array();
        if (body.contains("tool_calls") && body["tool_calls"].is_array() && !body["tool_calls"].empty()) {
            for (const auto & c : body["tool_calls"]) {
                if (c.contains("function")) {  // already OpenAI style
                    calls.push_back(c);
                    continue;
                }
                if (!c.contains("name") || !c["name"].is_string()) bad(path + ".tool_calls", "a call without name");
                ojson args = c.contains("args") ? c["args"] : ojson::object();
                calls.push_back({{"id", c.value("id", "")},
                                 {"type", "function"},
                                 {"function", {{"name", c["name"]}, {"arguments", args.is_string() ? args.get<std::string>() : args.dump()}}}});
            }
        } else if (body.contains("additional_kwargs") && body["additional_kwargs"].is_object() &&
                   body["additional_kwargs"].contains("tool_calls") && body["additional_kwargs"]["tool_calls"].is_array()) {
            calls = body["additional_kwargs"]["tool_calls"];
        }
        if (!calls.empty()) {
            out["tool_calls"] = calls;
            if (out["content"] == "") out["content"] = nullptr;
        }
    }
    if (role == "tool") {
        if (body.contains("tool_call_id") && body["tool_call_id"].is_string()) out["tool_call_id"] = body["tool_call_id"];
        if (body.contains("name") && body["name"].is_string()) out["name"] = body["name"];
    }
    return out;
}

const ojson * find_path(const ojson & j, std::initializer_list<const char *> keys) {
    const ojson * cur = &j;
    for (const char * k : keys) {
        if (!cur->is_object()) return nullptr;
        auto it = cur->find(k);
        if (it == cur->end()) return nullptr;
        cur = &*it;
    }
    return cur;
}

std::optional<int64_t> time_of(const ojson & v) {
    if (v.is_number()) {
        const double x = v.get<double>();
        return (int64_t)(x > 1e11 ? x : x * 1000);  // ms or seconds since epoch
    }
    if (v.is_string()) return parse_iso8601_ms(v.get<std::string>());
    return std::nullopt;
}

}  // namespace

std::optional<Trace> trace_from_langsmith_run(const ojson & run) {
    if (!run.is_object()) bad("run", "must be a JSON object");
    const std::string run_type = run.value("run_type", "llm");
    if (run_type != "llm") return std::nullopt;
    if (!run.contains("inputs") || !run["inputs"].is_object()) bad("inputs", "missing or not an object");
    const auto & inputs = run["inputs"];

    Trace t;
    t.api = "import.langsmith";
    t.served_by = ServedBy::ServedBy_external;
    if (run.contains("id") && run["id"].is_string()) t.id = run["id"];

    // Messages: [...] or [[...]] (a batch of one).
    const ojson * msgs = find_path(inputs, {"messages"});
    if (!msgs || !msgs->is_array() || msgs->empty()) bad("inputs.messages", "missing or empty");
    const ojson & list = (*msgs)[0].is_array() ? (*msgs)[0] : *msgs;
    for (size_t i = 0; i < list.size(); ++i) t.messages.push_back(to_openai_message(list[i], "inputs.messages[" + std::to_string(i) + "]"));

    // Tools and model: the request's own, else the invocation parameters LangChain records.
    if (const ojson * tools = find_path(inputs, {"tools"}); tools && tools->is_array()) t.tools = *tools;
    else if (const ojson * it = find_path(run, {"extra", "invocation_params", "tools"}); it && it->is_array()) t.tools = *it;
    for (auto keys : {std::initializer_list<const char *>{"extra", "invocation_params", "model"},
                      std::initializer_list<const char *>{"extra", "invocation_params", "model_name"},
                      std::initializer_list<const char *>{"extra", "metadata", "ls_model_name"}}) {
        if (const ojson * m = find_path(run, keys); m && m->is_string() && t.model.empty()) t.model = *m;
    }
    if (t.model.empty()) t.model = inputs.value("model", "");

    if (run.contains("start_time"))
        if (auto s = time_of(run["start_time"])) {
            t.time_ms = *s;
            if (run.contains("end_time"))
                if (auto e = time_of(run["end_time"])) t.latency.total_ms = (double)(*e - *s);
        }

    if (run.contains("error") && run["error"].is_string() && !run["error"].get<std::string>().empty()) t.error = run["error"];

    // The answer.
    const ojson * outputs = find_path(run, {"outputs"});
    std::optional<ojson> answer;
    if (outputs && outputs->is_object()) {
        if (const ojson * ch = find_path(*outputs, {"choices"}); ch && ch->is_array() && !ch->empty() && (*ch)[0].contains("message")) {
            answer = to_openai_message((*ch)[0]["message"], "outputs.choices[0].message");
        } else if (const ojson * g = find_path(*outputs, {"generations"}); g && g->is_array() && !g->empty()) {
            const ojson & g0 = (*g)[0].is_array() ? ((*g)[0].empty() ? ojson() : (*g)[0][0]) : (*g)[0];
            if (g0.is_object() && g0.contains("message")) answer = to_openai_message(g0["message"], "outputs.generations[0][0].message");
            else if (g0.is_object() && g0.contains("text")) answer = ojson{{"role", "assistant"}, {"content", g0["text"]}};
        } else if (const ojson * o = find_path(*outputs, {"output"}); o && o->is_object()) {
            answer = to_openai_message(*o, "outputs.output");
        }
        const ojson * usage = find_path(*outputs, {"usage"});
        if (!usage) usage = find_path(*outputs, {"llm_output", "token_usage"});
        if (usage && usage->is_object()) {
            t.prompt_tokens = usage->value("prompt_tokens", usage->value("input_tokens", (int64_t)0));
            t.completion_tokens = usage->value("completion_tokens", usage->value("output_tokens", (int64_t)0));
        }
    }
    if (answer) t.messages.push_back(*answer);
    else if (t.error.empty()) bad("outputs", "no answer (expected choices[0].message or generations[0][0].message)");

    if (run.contains("prompt_tokens") && run["prompt_tokens"].is_number_integer()) t.prompt_tokens = run["prompt_tokens"];
    if (run.contains("completion_tokens") && run["completion_tokens"].is_number_integer()) t.completion_tokens = run["completion_tokens"];
    try {
        check_openai_messages(t.messages);
    } catch (const Error & e) {
        bad("run", e.what());
    }
    return t;
}

}  // namespace sy::traces
