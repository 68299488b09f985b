// Ollama-compatible routes: POST /api/chat, POST /api/generate, GET /api/tags, POST /api/show, GET /api/ps,
// GET /api/version. Differences from the OpenAI routes: streaming is on unless "stream": false and is NDJSON
// (one JSON object per line, the last with "done": true and the timing counters in nanoseconds); tool-call
// arguments are JSON objects, not strings; sampling settings come in "options"; "format" is "json" or a
// JSON Schema; keep_alive is accepted and ignored (models stay loaded); images are refused. Extension:
// /api/chat takes OpenAI's "tool_choice" and "parallel_tool_calls" (Ollama has neither), so a client can
// require exactly one tool call.
#include <httplib.h>

#include "chat/chat_format.h"
#include "server/chat_run.h"
#include "server/routes.h"

namespace sy::server {
namespace {

constexpr const char * kOllamaVersion = "0.6.2";  // the Ollama API level these routes follow

struct ParsedOllama {
    providers::ChatRequest req;
    agent::RequestOptions opts;
    std::string model;
    bool stream = true;
    bool is_generate = false;
};

void read_options(ServerContext & ctx, const ojson & body, providers::GenerationOptions & gen) {
    if (!body.contains("options") || body["options"].is_null()) return;
    const ojson & o = body["options"];
    if (!o.is_object()) bad_request("options", "must be an object");
    if (auto v = opt_number(o, "temperature", 0.0, 100.0)) gen.temperature = (float)*v;
    if (auto v = opt_number(o, "top_p", 0.0, 1.0)) gen.top_p = (float)*v;
    if (auto v = opt_int(o, "top_k", 0, 1 << 20)) gen.top_k = (int32_t)*v;
    if (auto v = opt_number(o, "min_p", 0.0, 1.0)) gen.min_p = (float)*v;
    if (auto v = opt_number(o, "repeat_penalty", 0.0, 10.0)) gen.repeat_penalty = (float)*v;
    if (auto v = opt_int(o, "seed", INT64_MIN, INT64_MAX)) gen.seed = (uint64_t)*v;
    if (auto v = opt_int(o, "num_predict", -2, INT32_MAX)) {
        // -1 (unbounded) and -2 (fill the context) mean "as many as allowed": the server's cap.
        gen.max_tokens = cap_max_tokens(ctx, *v > 0 ? *v : (int64_t)ctx.cfg.max_tokens);
        if (*v == 0) bad_request("options.num_predict", "must be positive, -1 or -2");
    }
    if (o.contains("stop")) gen.stop = read_stop(o["stop"], "options.stop");
    // num_ctx, num_thread, num_gpu, mirostat, ... are the server's business here: accepted, ignored.
}

ojson read_format(const ojson & body) {
    if (!body.contains("format") || body["format"].is_null()) return nullptr;
    const ojson & f = body["format"];
    if (f.is_string()) {
        if (f == "") return nullptr;
        if (f == "json") return {{"type", "json_object"}};
        bad_request("format", "must be \"json\" or a JSON Schema object");
    }
    if (!f.is_object()) bad_request("format", "must be \"json\" or a JSON Schema object");
    return {{"type", "json_schema"}, {"json_schema", {{"name", "format"}, {"schema", f}, {"strict", true}}}};
}

void reject_images(const ojson & holder, const std::string & where) {
    if (holder.contains("images") && !holder["images"].is_null() && !(holder["images"].is_array() && holder["images"].empty()))
        bad_request(where + ".images", "images are not supported: the served models are text-only");
}

// Ollama messages -> the OpenAI shape chat::parse_messages reads (tool_name -> name).
ojson to_openai_messages(const ojson & messages) {
    if (!messages.is_array()) bad_request("messages", "must be an array");
    ojson out = ojson::array();
    for (size_t i = 0; i < messages.size(); ++i) {
        const ojson & m = messages[i];
        const std::string where = "messages[" + std::to_string(i) + "]";
        if (!m.is_object()) bad_request(where, "must be an object");
        reject_images(m, where);
        ojson c = m;
        c.erase("images");
        c.erase("thinking");
        if (c.contains("tool_name") && !c.contains("name")) c["name"] = c["tool_name"];
        c.erase("tool_name");
        out.push_back(std::move(c));
    }
    return out;
}

ParsedOllama parse_common(ServerContext & ctx, const ojson & body, const char * api) {
    ParsedOllama p;
    p.opts.api = api;
    p.model = opt_string(body, "model").value_or("");
    if (p.model.empty()) bad_request("model", "is required (see GET /api/tags)");
    p.req.model = resolve_model(ctx, p.model, p.opts);
    p.stream = opt_bool(body, "stream").value_or(true);
    p.req.response_format = read_format(body);
    check_response_format(ctx, p.req.response_format);
    read_options(ctx, body, p.req.gen);
    return p;
}

ParsedOllama parse_chat(ServerContext & ctx, const ojson & body) {
    ParsedOllama p = parse_common(ctx, body, "ollama.chat");
    if (!body.contains("messages")) bad_request("messages", "is required");
    p.req.messages = chat::parse_messages(to_openai_messages(body["messages"]));
    if (p.req.messages.empty()) bad_request("messages", "must hold at least one message");
    p.req.tools = body.contains("tools") && !body["tools"].is_null() ? body["tools"] : ojson::array();
    // Extensions: OpenAI's tool_choice ("auto" | "none" | "required" | {"type":"function",...}) and
    // parallel_tool_calls (default true, as Ollama allows several calls).
    p.req.tool_choice = body.contains("tool_choice") ? body["tool_choice"] : ojson(nullptr);
    p.req.parallel_tool_calls = opt_bool(body, "parallel_tool_calls").value_or(true);
    check_tools(ctx, p.req.tools, p.req.tool_choice, p.req.parallel_tool_calls);
    return p;
}

ParsedOllama parse_generate(ServerContext & ctx, const ojson & body) {
    ParsedOllama p = parse_common(ctx, body, "ollama.generate");
    p.is_generate = true;
    reject_images(body, "$");
    const std::string prompt = opt_string(body, "prompt").value_or("");
    if (opt_bool(body, "raw").value_or(false)) {
        p.req.prompt = prompt;
    } else {
        if (auto sys = opt_string(body, "system"); sys && !sys->empty()) p.req.messages.push_back({"system", *sys, {}, "", ""});
        p.req.messages.push_back({"user", prompt, {}, "", ""});
    }
    if (auto suffix = opt_string(body, "suffix"); suffix && !suffix->empty()) bad_request("suffix", "fill-in-the-middle is not supported");
    return p;
}

int64_t ns(double ms) { return (int64_t)(ms * 1e6); }

std::string done_reason(const providers::ChatResponse & r) { return r.finish_reason == "length" ? "length" : "stop"; }

ojson render_tool_calls(const std::vector<chat::ToolCall> & calls) {
    ojson out = ojson::array();
    for (const auto & c : calls) out.push_back({{"function", {{"name", c.name}, {"arguments", c.arguments}}}});
    return out;
}

// The final object of a reply: counters and, for /api/chat, the whole message when not streaming.
ojson render_final(const ParsedOllama & p, const agent::AgentResult & r, const std::string & model, bool with_content) {
    const auto & resp = r.response;
    ojson j = {{"model", model}, {"created_at", rfc3339_now()}};
    if (p.is_generate) {
        j["response"] = with_content ? resp.message.content : "";
    } else {
        ojson msg = {{"role", "assistant"}, {"content", with_content ? resp.message.content : ""}};
        if (with_content && !resp.message.tool_calls.empty()) msg["tool_calls"] = render_tool_calls(resp.message.tool_calls);
        j["message"] = msg;
    }
    j["done_reason"] = done_reason(resp);
    j["done"] = true;
    j["total_duration"] = ns(resp.timing.total_ms);
    j["load_duration"] = 0;
    j["prompt_eval_count"] = resp.usage.prompt_tokens;
    j["prompt_eval_duration"] = ns(resp.timing.prefill_ms);
    j["eval_count"] = resp.usage.completion_tokens;
    j["eval_duration"] = ns(resp.timing.decode_ms);
    return j;
}

void stream_ndjson(ServerContext & ctx, httplib::Response & res, ParsedOllama p) {
    const auto deadline = ChatRun::Clock::now() + ctx.cfg.request_timeout;
    if (ctx.gateway.trace_store()) p.opts.trace_id = random_hex(32);
    const std::string trace_id = p.opts.trace_id;
    const bool is_generate = p.is_generate;
    auto run = ChatRun::start(ctx, p.req, p.opts);
    if (!run->wait_started(deadline)) {
        run->cancel();
        throw request_timeout(ctx);
    }
    if (run->ended() && run->error()) std::rethrow_exception(run->error());
    const std::optional<agent::Decision> decision = run->decision();
    if (decision) set_decision_headers(res, *decision, run->ended() ? run->result().trace_id : trace_id);
    const std::string model = p.model;
    auto provider = [&ctx, run, p = std::move(p), model, is_generate, deadline](size_t, httplib::DataSink & sink) {
        auto line = [&](const ojson & j) {
            const std::string s = dump_json(j) + "\n";
            return sink.write(s.data(), s.size());
        };
        auto piece_obj = [&](const std::string & text) {
            ojson j = {{"model", model}, {"created_at", rfc3339_now()}};
            if (is_generate) j["response"] = text;
            else j["message"] = {{"role", "assistant"}, {"content", text}};
            j["done"] = false;
            return j;
        };
        std::string streamed;
        while (auto piece = run->next_delta(deadline)) {
            streamed += *piece;
            if (!line(piece_obj(*piece))) {
                run->cancel();
                return false;
            }
        }
        std::exception_ptr err = run->error();
        if (run->timed_out() || !run->ended()) {
            run->cancel();
            err = std::make_exception_ptr(request_timeout(ctx));
        }
        if (err) {
            line({{"error", classify(err).message}});
        } else {
            const agent::AgentResult & r = run->result();
            const std::string & content = r.response.message.content;
            if (content.size() > streamed.size() && content.compare(0, streamed.size(), streamed) == 0)
                line(piece_obj(content.substr(streamed.size())));
            if (!is_generate && !r.response.message.tool_calls.empty()) {
                ojson j = piece_obj("");
                j["message"]["tool_calls"] = render_tool_calls(r.response.message.tool_calls);
                line(j);
            }
            line(render_final(p, r, model, false));
        }
        sink.done();
        return true;
    };
    res.set_chunked_content_provider("application/x-ndjson", provider, [run](bool) { run->cancel(); });
}

void handle_chat_or_generate(ServerContext & ctx, const httplib::Request & http_req, httplib::Response & res, bool generate) {
    const ojson body = parse_json_body(http_req);
    ParsedOllama p = generate ? parse_generate(ctx, body) : parse_chat(ctx, body);
    if (generate && (p.req.prompt ? p.req.prompt->empty() : p.req.messages.back().content.empty())) {
        // An empty prompt only loads the model in Ollama; ours are loaded at start.
        res.set_content(dump_json({{"model", p.model}, {"created_at", rfc3339_now()}, {"response", ""}, {"done", true}, {"done_reason", "load"}}),
                        "application/json");
        return;
    }
    if (p.stream) return stream_ndjson(ctx, res, std::move(p));
    if (ctx.gateway.trace_store()) p.opts.trace_id = random_hex(32);
    const agent::AgentResult r = run_chat(ctx, p.req, p.opts);
    set_decision_headers(res, r.decision, r.trace_id);
    res.set_content(dump_json(render_final(p, r, p.model, true)), "application/json");
}

// ---- model listing ----

std::string detail_string(const ojson & d, std::initializer_list<const char *> keys) {
    for (const char * k : keys) {
        if (!d.contains(k)) continue;
        const ojson & v = d[k];
        if (v.is_string()) return v.get<std::string>();
        if (v.is_number()) return dump_json(v);
    }
    return "";
}

int64_t detail_int(const ojson & d, std::initializer_list<const char *> keys) {
    for (const char * k : keys)
        if (d.contains(k) && d[k].is_number()) return d[k].get<int64_t>();
    return 0;
}

std::string parameter_size(const ojson & d) {
    const int64_t n = detail_int(d, {"n_params", "parameter_count", "parameters"});
    if (n <= 0) return detail_string(d, {"parameter_size"});
    char buf[32];
    if (n >= 1000000000) std::snprintf(buf, sizeof buf, "%.1fB", n / 1e9);
    else std::snprintf(buf, sizeof buf, "%.1fM", n / 1e6);
    return buf;
}

ojson ollama_details(const providers::ModelEntry & m) {
    const std::string family = detail_string(m.details, {"architecture", "arch", "family"});
    return {{"parent_model", m.parent},
            {"format", m.kind == "remote" ? "remote" : "gguf"},
            {"family", family},
            {"families", family.empty() ? ojson(nullptr) : ojson::array({family})},
            {"parameter_size", parameter_size(m.details)},
            {"quantization_level", detail_string(m.details, {"quantization", "file_type", "quantization_level"})}};
}

ojson ollama_entry(const providers::ModelEntry & m) {
    return {{"name", m.id},
            {"model", m.id},
            {"modified_at", "1970-01-01T00:00:00Z"},
            {"size", detail_int(m.details, {"file_size", "size"})},
            {"digest", detail_string(m.details, {"digest", "tools_fingerprint"})},
            {"details", ollama_details(m)}};
}

std::vector<providers::ModelEntry> servable_models(ServerContext & ctx) {
    std::vector<providers::ModelEntry> out;
    for (auto & m : ctx.gateway.models())
        if (m.kind != "alias") out.push_back(std::move(m));
    return out;
}

// Models, adapters and the role aliases ("router" routes, as on /v1/models).
void handle_tags(ServerContext & ctx, httplib::Response & res) {
    ojson models = ojson::array();
    for (const auto & m : ctx.gateway.models()) models.push_back(ollama_entry(m));
    res.set_content(dump_json({{"models", models}}), "application/json");
}

void handle_ps(ServerContext & ctx, httplib::Response & res) {
    ojson models = ojson::array();
    for (const auto & m : servable_models(ctx)) {
        if (m.kind == "remote") continue;
        ojson e = ollama_entry(m);
        e.erase("modified_at");
        e["expires_at"] = "2318-01-01T00:00:00Z";  // loaded for the server's lifetime
        e["size_vram"] = 0;
        models.push_back(std::move(e));
    }
    res.set_content(dump_json({{"models", models}}), "application/json");
}

void handle_show(ServerContext & ctx, const httplib::Request & http_req, httplib::Response & res) {
    const ojson body = parse_json_body(http_req);
    std::string name = opt_string(body, "model").value_or("");
    if (name.empty()) name = opt_string(body, "name").value_or("");
    if (name.empty()) bad_request("model", "is required");
    agent::RequestOptions unused;
    const std::string id = resolve_model(ctx, name, unused);
    for (const auto & m : ctx.gateway.models()) {
        if (m.id != id) continue;
        ojson caps = m.details.contains("capabilities") && m.details["capabilities"].is_array() ? m.details["capabilities"]
                                                                                                : ojson::array({"completion", "tools"});
        ojson info = ojson::object();
        for (auto it = m.details.begin(); it != m.details.end(); ++it)
            if (it.key() != "capabilities") info["switchyard." + it.key()] = it.value();
        const std::string family = detail_string(m.details, {"architecture", "arch", "family"});
        if (!family.empty()) info["general.architecture"] = family;
        res.set_content(dump_json({{"modelfile", "# served by switchyard\nFROM " + m.id + "\n"},
                                   {"parameters", ""},
                                   {"template", detail_string(m.details, {"chat_format"})},
                                   {"details", ollama_details(m)},
                                   {"model_info", info},
                                   {"capabilities", caps},
                                   {"modified_at", "1970-01-01T00:00:00Z"}}),
                        "application/json");
        return;
    }
    throw HttpError(404, "invalid_request_error", "model '" + name + "' not found", "model", "model_not_found");
}

}  // namespace

void add_ollama_routes(httplib::Server & http, ServerContext & ctx) {
    const ApiStyle s = ApiStyle::ApiStyle_ollama;
    add_route(http, Method::Method_post, "/api/chat", "/api/chat", s,
              [&ctx](const httplib::Request & q, httplib::Response & r) { handle_chat_or_generate(ctx, q, r, false); });
    add_route(http, Method::Method_post, "/api/generate", "/api/generate", s,
              [&ctx](const httplib::Request & q, httplib::Response & r) { handle_chat_or_generate(ctx, q, r, true); });
    add_route(http, Method::Method_get, "/api/tags", "/api/tags", s,
              [&ctx](const httplib::Request &, httplib::Response & r) { handle_tags(ctx, r); });
    add_route(http, Method::Method_get, "/api/ps", "/api/ps", s,
              [&ctx](const httplib::Request &, httplib::Response & r) { handle_ps(ctx, r); });
    add_route(http, Method::Method_post, "/api/show", "/api/show", s,
              [&ctx](const httplib::Request & q, httplib::Response & r) { handle_show(ctx, q, r); });
    add_route(http, Method::Method_get, "/api/version", "/api/version", s, [](const httplib::Request &, httplib::Response & r) {
        r.set_content(dump_json({{"version", kOllamaVersion}}), "application/json");
    });
}

}  // namespace sy::server
