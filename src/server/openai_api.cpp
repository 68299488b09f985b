// OpenAI-compatible routes: POST /v1/chat/completions, POST /v1/agent/chat (the same with server-side tool
// execution), POST /v1/completions, GET /v1/models, POST /v1/feedback. Requests are read into
// providers::ChatRequest here; responses and SSE chunks are rendered here; everything between is the
// gateway's.
//
// Streaming (SSE, "data: {...}\n\n" events, ending with "data: [DONE]"): a first chunk with the assistant
// role, one chunk per content delta, then per tool call a chunk with {index, id, type, function.name,
// arguments: ""} followed by one with the arguments, a final chunk with finish_reason (and logprobs when
// asked), and with stream_options.include_usage a last chunk with empty choices and the usage.
#include <httplib.h>

#include "chat/chat_format.h"
#include "server/chat_run.h"
#include "server/routes.h"

namespace sy::server {
namespace {

struct ParsedChat {
    providers::ChatRequest req;
    agent::RequestOptions opts;
    std::string model;  // as the client named it
    bool stream = false;
    bool include_usage = false;
};

void read_generation(ServerContext & ctx, const ojson & body, providers::GenerationOptions & gen) {
    if (auto v = opt_number(body, "temperature", 0.0, 2.0)) gen.temperature = (float)*v;
    if (auto v = opt_number(body, "top_p", 0.0, 1.0)) gen.top_p = (float)*v;
    if (auto v = opt_int(body, "top_k", 0, 1 << 20)) gen.top_k = (int32_t)*v;  // accepted as an extension
    if (auto v = opt_number(body, "min_p", 0.0, 1.0)) gen.min_p = (float)*v;
    (void)opt_number(body, "frequency_penalty", -2.0, 2.0);  // accepted, not applied
    (void)opt_number(body, "presence_penalty", -2.0, 2.0);
    if (auto v = opt_number(body, "repetition_penalty", 0.0, 10.0)) gen.repeat_penalty = (float)*v;
    if (auto v = opt_int(body, "seed", INT64_MIN, INT64_MAX)) gen.seed = (uint64_t)*v;
    std::optional<int64_t> max_tokens = opt_int(body, "max_tokens", 1, INT32_MAX);
    if (auto v = opt_int(body, "max_completion_tokens", 1, INT32_MAX)) max_tokens = v;
    gen.max_tokens = cap_max_tokens(ctx, max_tokens);
    if (body.contains("stop")) gen.stop = read_stop(body["stop"], "stop");
    if (auto n = opt_int(body, "n", 1, 128); n && *n != 1) bad_request("n", "only n = 1 is supported");
}

void read_stream(const ojson & body, ParsedChat & p) {
    p.stream = opt_bool(body, "stream").value_or(false);
    if (body.contains("stream_options") && !body["stream_options"].is_null()) {
        const ojson & so = body["stream_options"];
        if (!so.is_object()) bad_request("stream_options", "must be an object");
        p.include_usage = opt_bool(so, "include_usage").value_or(false);
    }
}

ParsedChat parse_chat(ServerContext & ctx, const ojson & body, const char * api) {
    ParsedChat p;
    p.opts.api = api;
    p.model = opt_string(body, "model").value_or("");
    p.req.model = resolve_model(ctx, p.model, p.opts);
    if (!body.contains("messages")) bad_request("messages", "is required");
    p.req.messages = chat::parse_messages(body["messages"]);
    if (p.req.messages.empty()) bad_request("messages", "must hold at least one message");
    if (body.contains("functions") || body.contains("function_call"))
        bad_request("functions", "the legacy functions API is not supported; send tools and tool_choice");
    p.req.tools = body.contains("tools") && !body["tools"].is_null() ? body["tools"] : ojson::array();
    p.req.tool_choice = body.contains("tool_choice") ? body["tool_choice"] : ojson(nullptr);
    p.req.parallel_tool_calls = opt_bool(body, "parallel_tool_calls").value_or(true);
    check_tools(ctx, p.req.tools, p.req.tool_choice, p.req.parallel_tool_calls);
    p.req.response_format = body.contains("response_format") ? body["response_format"] : ojson(nullptr);
    check_response_format(ctx, p.req.response_format);
    read_generation(ctx, body, p.req.gen);
    p.req.gen.logprobs = opt_bool(body, "logprobs").value_or(false);
    if (auto v = opt_int(body, "top_logprobs", 0, 20)) {
        if (!p.req.gen.logprobs && *v > 0) bad_request("top_logprobs", "needs \"logprobs\": true");
        p.req.gen.top_logprobs = (int32_t)*v;
    }
    read_stream(body, p);
    return p;
}

// ---- rendering ----

ojson token_bytes(const std::string & s) {
    ojson b = ojson::array();
    for (unsigned char c : s) b.push_back((int)c);
    return b;
}

ojson render_logprobs(const std::vector<providers::TokenLogprobInfo> & lps) {
    ojson content = ojson::array();
    for (const auto & t : lps) {
        ojson top = ojson::array();
        for (const auto & x : t.top) top.push_back({{"token", x.token}, {"logprob", x.logprob}, {"bytes", token_bytes(x.token)}});
        content.push_back({{"token", t.token}, {"logprob", t.logprob}, {"bytes", token_bytes(t.token)}, {"top_logprobs", top}});
    }
    return {{"content", content}, {"refusal", nullptr}};
}

ojson render_tool_call(const chat::ToolCall & c) {
    return {{"id", c.id}, {"type", "function"}, {"function", {{"name", c.name}, {"arguments", dump_json(c.arguments)}}}};
}

ojson render_message(const chat::Message & m) {
    ojson j = {{"role", m.role}};
    if (m.role == "assistant") {
        j["content"] = m.content.empty() && !m.tool_calls.empty() ? ojson(nullptr) : ojson(m.content);
        if (!m.tool_calls.empty()) {
            ojson calls = ojson::array();
            for (const auto & c : m.tool_calls) calls.push_back(render_tool_call(c));
            j["tool_calls"] = calls;
        }
        j["refusal"] = nullptr;
    } else {
        j["content"] = m.content;
        if (!m.tool_call_id.empty()) j["tool_call_id"] = m.tool_call_id;
        if (!m.name.empty()) j["name"] = m.name;
    }
    return j;
}

ojson render_usage(const providers::Usage & u) {
    return {{"prompt_tokens", u.prompt_tokens},
            {"completion_tokens", u.completion_tokens},
            {"total_tokens", u.prompt_tokens + u.completion_tokens},
            {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens}}}};
}

std::string served_model(const agent::AgentResult & r, const std::string & fallback_name) {
    if (!r.response.model.empty()) return r.response.model;
    if (!r.decision.model.empty()) return r.decision.model;
    return fallback_name;
}

ojson render_completion(const agent::AgentResult & r, const ParsedChat & p, const std::string & id, bool agent_loop) {
    ojson choice = {{"index", 0},
                    {"message", render_message(r.response.message)},
                    {"logprobs", p.req.gen.logprobs ? render_logprobs(r.response.logprobs) : ojson(nullptr)},
                    {"finish_reason", r.response.finish_reason.empty() ? "stop" : r.response.finish_reason}};
    ojson j = {{"id", id},
               {"object", "chat.completion"},
               {"created", unix_seconds()},
               {"model", served_model(r, p.model)},
               {"choices", ojson::array({choice})},
               {"usage", render_usage(r.response.usage)},
               {"system_fingerprint", nullptr}};
    if (agent_loop) {
        ojson executed = ojson::array();
        for (const auto & m : r.executed) executed.push_back(render_message(m));
        j["switchyard"] = {{"steps", r.n_steps}, {"executed", executed}};
    }
    return j;
}

std::string sse_event(const ojson & j) { return "data: " + dump_json(j) + "\n\n"; }

// Streams one chat run as SSE chunks (see the file comment).
void stream_chat(ServerContext & ctx, httplib::Response & res, ParsedChat p) {
    const auto deadline = ChatRun::Clock::now() + ctx.cfg.request_timeout;
    if (ctx.gateway.trace_store() && p.opts.trace_id.empty()) p.opts.trace_id = random_hex(32);
    const std::string trace_id = p.opts.trace_id;
    const bool want_logprobs = p.req.gen.logprobs;
    auto run = ChatRun::start(ctx, std::move(p.req), p.opts);
    if (!run->wait_started(deadline)) {
        run->cancel();
        throw request_timeout(ctx);
    }
    if (run->ended() && run->error()) std::rethrow_exception(run->error());  // a proper 4xx before any byte
    const std::optional<agent::Decision> decision = run->decision();
    if (decision) set_decision_headers(res, *decision, run->ended() ? run->result().trace_id : trace_id);
    res.set_header("Cache-Control", "no-cache");

    const std::string id = "chatcmpl-" + random_hex(24);
    const int64_t created = unix_seconds();
    const std::string model = decision && !decision->model.empty() ? decision->model : p.model;
    const bool include_usage = p.include_usage;
    auto provider = [&ctx, run, id, created, model, include_usage, want_logprobs, deadline](size_t, httplib::DataSink & sink) {
        auto chunk = [&](ojson delta, ojson finish, ojson logprobs = nullptr) {
            ojson j = {{"id", id}, {"object", "chat.completion.chunk"}, {"created", created}, {"model", model},
                       {"system_fingerprint", nullptr},
                       {"choices", ojson::array({{{"index", 0}, {"delta", std::move(delta)}, {"logprobs", std::move(logprobs)},
                                                  {"finish_reason", std::move(finish)}}})}};
            if (include_usage) j["usage"] = nullptr;
            const std::string s = sse_event(j);
            return sink.write(s.data(), s.size());
        };
        auto finish_stream = [&] {
            static const std::string done = "data: [DONE]\n\n";
            sink.write(done.data(), done.size());
            sink.done();
            return true;
        };
        if (!chunk({{"role", "assistant"}, {"content", ""}}, nullptr)) {
            run->cancel();
            return false;
        }
        std::string streamed;
        while (auto piece = run->next_delta(deadline)) {
            streamed += *piece;
            if (!chunk({{"content", *piece}}, nullptr)) {
                run->cancel();
                return false;
            }
        }
        if (run->timed_out() || !run->ended()) {
            run->cancel();
            const std::string s = sse_event(ojson::parse(error_body(classify(std::make_exception_ptr(request_timeout(ctx))), ApiStyle::ApiStyle_openai)));
            sink.write(s.data(), s.size());
            return finish_stream();
        }
        if (run->error()) {
            const std::string s = sse_event(ojson::parse(error_body(classify(run->error()), ApiStyle::ApiStyle_openai)));
            sink.write(s.data(), s.size());
            return finish_stream();
        }
        const agent::AgentResult & r = run->result();
        const std::string & content = r.response.message.content;
        // Content the gateway did not stream (a buffered router answer) goes out now.
        if (content.size() > streamed.size() && content.compare(0, streamed.size(), streamed) == 0)
            chunk({{"content", content.substr(streamed.size())}}, nullptr);
        else if (streamed.empty() && !content.empty())
            chunk({{"content", content}}, nullptr);
        const auto & calls = r.response.message.tool_calls;
        for (size_t i = 0; i < calls.size(); ++i) {
            chunk({{"tool_calls", ojson::array({{{"index", i}, {"id", calls[i].id}, {"type", "function"},
                                                 {"function", {{"name", calls[i].name}, {"arguments", ""}}}}})}},
                  nullptr);
            chunk({{"tool_calls", ojson::array({{{"index", i}, {"function", {{"arguments", dump_json(calls[i].arguments)}}}}})}},
                  nullptr);
        }
        const std::string fr = r.response.finish_reason.empty() ? "stop" : r.response.finish_reason;
        chunk(ojson::object(), fr, want_logprobs ? render_logprobs(r.response.logprobs) : ojson(nullptr));
        if (include_usage) {
            const std::string s = sse_event({{"id", id}, {"object", "chat.completion.chunk"}, {"created", created},
                                             {"model", model}, {"system_fingerprint", nullptr},
                                             {"choices", ojson::array()}, {"usage", render_usage(r.response.usage)}});
            sink.write(s.data(), s.size());
        }
        return finish_stream();
    };
    res.set_chunked_content_provider("text/event-stream", provider, [run](bool) { run->cancel(); });
}

ojson executable_tools(ServerContext & ctx) {
    ojson tools = ojson::array();
    for (const agent::ToolConfig & t : ctx.gateway.config().tools) {
        if (!t.executor) continue;
        ojson fn = {{"name", t.name}};
        if (!t.description.empty()) fn["description"] = t.description;
        fn["parameters"] = t.parameters;
        tools.push_back({{"type", "function"}, {"function", std::move(fn)}});
    }
    return tools;
}

void handle_chat(ServerContext & ctx, const httplib::Request & http_req, httplib::Response & res, bool agent_loop) {
    const ojson body = parse_json_body(http_req);
    ParsedChat p = parse_chat(ctx, body, agent_loop ? "openai.agent" : "openai.chat");
    if (agent_loop) {
        p.opts.execute_tools = true;
        // An agent request without tools gets the configured tools that have executors: the server runs them.
        if (!body.contains("tools") || body["tools"].is_null()) p.req.tools = executable_tools(ctx);
    }
    if (p.stream) return stream_chat(ctx, res, std::move(p));
    if (ctx.gateway.trace_store()) p.opts.trace_id = random_hex(32);
    const agent::AgentResult r = run_chat(ctx, p.req, p.opts);
    set_decision_headers(res, r.decision, r.trace_id);
    res.set_content(dump_json(render_completion(r, p, "chatcmpl-" + random_hex(24), agent_loop)), "application/json");
}

// ---- /v1/completions ----

ojson completion_logprobs(const std::vector<providers::TokenLogprobInfo> & lps) {
    ojson tokens = ojson::array(), token_lps = ojson::array(), tops = ojson::array(), offsets = ojson::array();
    size_t offset = 0;
    for (const auto & t : lps) {
        tokens.push_back(t.token);
        token_lps.push_back(t.logprob);
        ojson top = ojson::object();
        for (const auto & x : t.top) top[x.token] = x.logprob;
        tops.push_back(top);
        offsets.push_back(offset);
        offset += t.token.size();
    }
    return {{"tokens", tokens}, {"token_logprobs", token_lps}, {"top_logprobs", tops}, {"text_offset", offsets}};
}

void handle_completions(ServerContext & ctx, const httplib::Request & http_req, httplib::Response & res) {
    const ojson body = parse_json_body(http_req);
    ParsedChat p;
    p.opts.api = "openai.completions";
    p.model = opt_string(body, "model").value_or("");
    p.req.model = resolve_model(ctx, p.model, p.opts);
    if (!body.contains("prompt")) bad_request("prompt", "is required");
    const ojson & prompt = body["prompt"];
    if (prompt.is_string()) {
        p.req.prompt = prompt.get<std::string>();
    } else if (prompt.is_array() && prompt.size() == 1 && prompt[0].is_string()) {
        p.req.prompt = prompt[0].get<std::string>();
    } else {
        bad_request("prompt", "must be a string or an array of one string (token arrays and batches are not supported)");
    }
    if (p.req.prompt->empty()) bad_request("prompt", "must not be empty");
    if (opt_bool(body, "echo").value_or(false)) bad_request("echo", "is not supported");
    if (auto b = opt_int(body, "best_of", 1, 128); b && *b != 1) bad_request("best_of", "only best_of = 1 is supported");
    read_generation(ctx, body, p.req.gen);
    if (auto v = opt_int(body, "logprobs", 0, 20)) {
        p.req.gen.logprobs = true;
        p.req.gen.top_logprobs = (int32_t)*v;
    }
    read_stream(body, p);
    if (ctx.gateway.trace_store()) p.opts.trace_id = random_hex(32);
    const std::string id = "cmpl-" + random_hex(24);
    const int64_t created = unix_seconds();
    if (!p.stream) {
        const agent::AgentResult r = run_chat(ctx, p.req, p.opts);
        set_decision_headers(res, r.decision, r.trace_id);
        ojson choice = {{"text", r.response.message.content}, {"index", 0},
                        {"logprobs", p.req.gen.logprobs ? completion_logprobs(r.response.logprobs) : ojson(nullptr)},
                        {"finish_reason", r.response.finish_reason.empty() ? "stop" : r.response.finish_reason}};
        res.set_content(dump_json({{"id", id}, {"object", "text_completion"}, {"created", created},
                                   {"model", served_model(r, p.model)}, {"choices", ojson::array({choice})},
                                   {"usage", render_usage(r.response.usage)}}),
                        "application/json");
        return;
    }
    const auto deadline = ChatRun::Clock::now() + ctx.cfg.request_timeout;
    const std::string trace_id = p.opts.trace_id;
    auto run = ChatRun::start(ctx, std::move(p.req), p.opts);
    if (!run->wait_started(deadline)) {
        run->cancel();
        throw request_timeout(ctx);
    }
    if (run->ended() && run->error()) std::rethrow_exception(run->error());
    const std::optional<agent::Decision> decision = run->decision();
    if (decision) set_decision_headers(res, *decision, run->ended() ? run->result().trace_id : trace_id);
    res.set_header("Cache-Control", "no-cache");
    const std::string model = decision && !decision->model.empty() ? decision->model : p.model;
    const bool include_usage = p.include_usage;
    auto provider = [&ctx, run, id, created, model, include_usage, deadline](size_t, httplib::DataSink & sink) {
        auto chunk = [&](const std::string & text, ojson finish) {
            ojson j = {{"id", id}, {"object", "text_completion"}, {"created", created}, {"model", model},
                       {"choices", ojson::array({{{"text", text}, {"index", 0}, {"logprobs", nullptr}, {"finish_reason", std::move(finish)}}})}};
            if (include_usage) j["usage"] = nullptr;
            const std::string s = sse_event(j);
            return sink.write(s.data(), s.size());
        };
        std::string streamed;
        while (auto piece = run->next_delta(deadline)) {
            streamed += *piece;
            if (!chunk(*piece, nullptr)) {
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
            const std::string s = sse_event(ojson::parse(error_body(classify(err), ApiStyle::ApiStyle_openai)));
            sink.write(s.data(), s.size());
        } else {
            const agent::AgentResult & r = run->result();
            const std::string & content = r.response.message.content;
            if (content.size() > streamed.size() && content.compare(0, streamed.size(), streamed) == 0)
                chunk(content.substr(streamed.size()), nullptr);
            chunk("", r.response.finish_reason.empty() ? "stop" : r.response.finish_reason);
            if (include_usage) {
                const std::string s = sse_event({{"id", id}, {"object", "text_completion"}, {"created", created}, {"model", model},
                                                 {"choices", ojson::array()}, {"usage", render_usage(r.response.usage)}});
                sink.write(s.data(), s.size());
            }
        }
        static const std::string done = "data: [DONE]\n\n";
        sink.write(done.data(), done.size());
        sink.done();
        return true;
    };
    res.set_chunked_content_provider("text/event-stream", provider, [run](bool) { run->cancel(); });
}

// ---- /v1/models, /v1/feedback ----

void handle_models(ServerContext & ctx, httplib::Response & res) {
    ojson data = ojson::array();
    for (const auto & m : ctx.gateway.models()) {
        ojson e = {{"id", m.id}, {"object", "model"}, {"created", 0}, {"owned_by", "switchyard"}, {"kind", m.kind}};
        if (!m.parent.empty()) {
            e["parent"] = m.parent;
            e["root"] = m.parent;
        }
        if (!m.details.empty()) e["details"] = m.details;
        data.push_back(std::move(e));
    }
    res.set_content(dump_json({{"object", "list"}, {"data", data}}), "application/json");
}

void handle_feedback(ServerContext & ctx, const httplib::Request & http_req, httplib::Response & res) {
    const ojson body = parse_json_body(http_req);
    traces::Feedback fb;
    fb.trace_id = opt_string(body, "trace_id").value_or("");
    if (fb.trace_id.empty()) bad_request("trace_id", "is required (the X-Switchyard-Trace-Id header of the response)");
    const auto rating = opt_int(body, "rating", -1000000, 1000000);
    if (!rating) bad_request("rating", "is required (an integer, e.g. 1 good, -1 bad)");
    fb.rating = (int32_t)*rating;
    if (body.contains("corrected")) fb.corrected = body["corrected"];
    if (!ctx.gateway.trace_store())
        throw HttpError(400, "invalid_request_error", "tracing is off on this server: start it with traces.url (or --traces) to record feedback",
                        "trace_id");
    ctx.gateway.feedback(fb);
    res.set_content(dump_json({{"ok", true}, {"trace_id", fb.trace_id}}), "application/json");
}

}  // namespace

void add_openai_routes(httplib::Server & http, ServerContext & ctx) {
    const ApiStyle s = ApiStyle::ApiStyle_openai;
    add_route(http, Method::Method_post, "/v1/chat/completions", "/v1/chat/completions", s,
              [&ctx](const httplib::Request & q, httplib::Response & r) { handle_chat(ctx, q, r, false); });
    add_route(http, Method::Method_post, "/v1/agent/chat", "/v1/agent/chat", s,
              [&ctx](const httplib::Request & q, httplib::Response & r) { handle_chat(ctx, q, r, true); });
    add_route(http, Method::Method_post, "/v1/completions", "/v1/completions", s,
              [&ctx](const httplib::Request & q, httplib::Response & r) { handle_completions(ctx, q, r); });
    add_route(http, Method::Method_get, "/v1/models", "/v1/models", s,
              [&ctx](const httplib::Request &, httplib::Response & r) { handle_models(ctx, r); });
    add_route(http, Method::Method_post, "/v1/feedback", "/v1/feedback", s,
              [&ctx](const httplib::Request & q, httplib::Response & r) { handle_feedback(ctx, q, r); });
}

}  // namespace sy::server
