// OpenAI-compatible routes, black-box: shapes of /v1/chat/completions (plain, tools, json_schema, logprobs),
// SSE framing of streamed content and tool calls, /v1/completions, /v1/models, /v1/agent/chat, feedback,
// /health and /metrics, against `switchyard serve` with a tiny random-weight model.
#include <gtest/gtest.h>

#include <set>

#include "server/serve_util.h"

namespace sy::test {
namespace {

ojson user_chat(const std::string & model, const std::string & text, int max_tokens = 8) {
    return {{"model", model}, {"messages", ojson::array({{{"role", "user"}, {"content", text}}})}, {"max_tokens", max_tokens},
            {"temperature", 0}};
}

TEST(OpenAi, HealthAndModels) {
    auto c = default_server().client();
    auto h = c->Get("/health");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->status, 200);
    EXPECT_EQ(json_of(h)["status"], "ok");

    auto m = c->Get("/v1/models");
    ASSERT_TRUE(m);
    ASSERT_EQ(m->status, 200) << m->body;
    const ojson j = json_of(m);
    EXPECT_EQ(j["object"], "list");
    std::set<std::string> ids;
    for (const auto & e : j["data"]) {
        EXPECT_EQ(e["object"], "model");
        ids.insert(e["id"].get<std::string>());
    }
    EXPECT_TRUE(ids.count("tiny")) << m->body;
    EXPECT_TRUE(ids.count("router")) << m->body;
}

TEST(OpenAi, ChatCompletionShapeAndHeaders) {
    auto c = default_server().client();
    auto r = post_json(*c, "/v1/chat/completions", user_chat("responder", "Say hello."));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const ojson j = json_of(r);
    EXPECT_EQ(j["object"], "chat.completion");
    EXPECT_EQ(j["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
    ASSERT_EQ(j["choices"].size(), 1u);
    const ojson & ch = j["choices"][0];
    EXPECT_EQ(ch["message"]["role"], "assistant");
    EXPECT_TRUE(ch["message"]["content"].is_string());
    EXPECT_TRUE(ch["finish_reason"] == "stop" || ch["finish_reason"] == "length") << ch.dump();
    EXPECT_GT(j["usage"]["prompt_tokens"].get<int>(), 0);
    EXPECT_LE(j["usage"]["completion_tokens"].get<int>(), 8);
    EXPECT_EQ(j["usage"]["total_tokens"].get<int>(),
              j["usage"]["prompt_tokens"].get<int>() + j["usage"]["completion_tokens"].get<int>());
    EXPECT_EQ(r->get_header_value("X-Switchyard-Served-By"), "local");
    EXPECT_FALSE(r->get_header_value("X-Switchyard-Model").empty());
    EXPECT_FALSE(r->get_header_value("X-Switchyard-Reason").empty());
}

TEST(OpenAi, ToolChoiceRequiredGivesSchemaValidCall) {
    auto c = default_server().client();
    ojson body = user_chat("router", "Add a task: buy milk, high priority.", 64);
    body["tools"] = small_tools();
    body["parallel_tool_calls"] = false;
    body["tool_choice"] = "required";
    auto r = post_json(*c, "/v1/chat/completions", body);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const ojson j = json_of(r);
    const ojson & msg = j["choices"][0]["message"];
    EXPECT_EQ(j["choices"][0]["finish_reason"], "tool_calls") << r->body;
    ASSERT_TRUE(msg["tool_calls"].is_array() && !msg["tool_calls"].empty()) << r->body;
    const ojson & call = msg["tool_calls"][0];
    EXPECT_EQ(call["type"], "function");
    EXPECT_EQ(call["id"].get<std::string>().rfind("call_", 0), 0u);
    std::set<std::string> names;
    for (const auto & t : body["tools"]) names.insert(t["function"]["name"].get<std::string>());
    EXPECT_TRUE(names.count(call["function"]["name"].get<std::string>()));
    ASSERT_TRUE(call["function"]["arguments"].is_string());
    EXPECT_TRUE(ojson::parse(call["function"]["arguments"].get<std::string>()).is_object());
}

TEST(OpenAi, NamedToolChoice) {
    auto c = default_server().client();
    ojson body = user_chat("router", "Finish task 3.", 48);
    body["tools"] = small_tools();
    body["parallel_tool_calls"] = false;
    body["tool_choice"] = {{"type", "function"}, {"function", {{"name", "complete_task"}}}};
    auto r = post_json(*c, "/v1/chat/completions", body);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const ojson call = json_of(r)["choices"][0]["message"]["tool_calls"][0];
    EXPECT_EQ(call["function"]["name"], "complete_task");
    const ojson args = ojson::parse(call["function"]["arguments"].get<std::string>());
    EXPECT_TRUE(args["id"].is_number_integer()) << args.dump();
}

TEST(OpenAi, JsonSchemaResponseFormat) {
    auto c = default_server().client();
    ojson body = user_chat("responder", "Give me a city.", 96);
    body["response_format"] = {{"type", "json_schema"},
                               {"json_schema", {{"name", "city"}, {"strict", true},
                                                {"schema", {{"type", "object"},
                                                            {"properties", {{"name", {{"type", "string"}, {"maxLength", 8}}}, {"rank", {{"type", "integer"}, {"minimum", 0}, {"maximum", 99}}}}},
                                                            {"required", {"name", "rank"}}, {"additionalProperties", false}}}}}};
    auto r = post_json(*c, "/v1/chat/completions", body);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const ojson j = json_of(r);
    const ojson v = ojson::parse(j["choices"][0]["message"]["content"].get<std::string>());
    EXPECT_TRUE(v["name"].is_string());
    EXPECT_TRUE(v["rank"].is_number_integer());
}

TEST(OpenAi, LogprobsWithTop) {
    auto c = default_server().client();
    ojson body = user_chat("responder", "Count.", 4);
    body["logprobs"] = true;
    body["top_logprobs"] = 3;
    auto r = post_json(*c, "/v1/chat/completions", body);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const ojson lp = json_of(r)["choices"][0]["logprobs"];
    ASSERT_TRUE(lp.is_object()) << r->body;
    ASSERT_FALSE(lp["content"].empty());
    for (const auto & t : lp["content"]) {
        EXPECT_LE(t["logprob"].get<double>(), 0.0);
        EXPECT_LE(t["top_logprobs"].size(), 3u);
        EXPECT_TRUE(t["bytes"].is_array());
    }
}

TEST(OpenAi, StreamFramingMatchesNonStreamed) {
    auto c = default_server().client();
    ojson body = user_chat("responder", "Tell me something.", 12);
    body["seed"] = 7;
    auto plain = post_json(*c, "/v1/chat/completions", body);
    ASSERT_TRUE(plain);
    ASSERT_EQ(plain->status, 200) << plain->body;
    const std::string expected = json_of(plain)["choices"][0]["message"]["content"];

    body["stream"] = true;
    body["stream_options"] = {{"include_usage", true}};
    auto r = post_json(*c, "/v1/chat/completions", body);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type").rfind("text/event-stream", 0), 0u);
    EXPECT_EQ(r->get_header_value("X-Switchyard-Served-By"), "local");
    const auto events = sse_data(r->body);
    ASSERT_GE(events.size(), 4u);
    EXPECT_EQ(events.back(), "[DONE]");
    const ojson first = ojson::parse(events[0]);
    EXPECT_EQ(first["object"], "chat.completion.chunk");
    EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
    std::string content;
    std::string finish;
    for (size_t i = 0; i + 2 < events.size(); ++i) {
        const ojson ch = ojson::parse(events[i]);
        EXPECT_TRUE(ch.contains("usage") && ch["usage"].is_null());
        const ojson & choice = ch["choices"][0];
        if (choice["delta"].contains("content")) content += choice["delta"]["content"].get<std::string>();
        if (!choice["finish_reason"].is_null()) finish = choice["finish_reason"];
    }
    EXPECT_EQ(content, expected);
    EXPECT_TRUE(finish == "stop" || finish == "length");
    const ojson usage_chunk = ojson::parse(events[events.size() - 2]);
    EXPECT_TRUE(usage_chunk["choices"].empty());
    EXPECT_GT(usage_chunk["usage"]["prompt_tokens"].get<int>(), 0);
}

TEST(OpenAi, StreamedToolCallDeltas) {
    auto c = default_server().client();
    ojson body = user_chat("router", "Delete task 9.", 48);
    body["tools"] = small_tools();
    body["parallel_tool_calls"] = false;
    body["tool_choice"] = {{"type", "function"}, {"function", {{"name", "complete_task"}}}};
    body["stream"] = true;
    auto r = post_json(*c, "/v1/chat/completions", body);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const auto events = sse_data(r->body);
    ASSERT_EQ(events.back(), "[DONE]");
    std::string id, name, args, finish;
    for (size_t i = 0; i + 1 < events.size(); ++i) {
        const ojson ch = ojson::parse(events[i]);
        const ojson & choice = ch["choices"][0];
        if (!choice["finish_reason"].is_null()) finish = choice["finish_reason"];
        if (!choice["delta"].contains("tool_calls")) continue;
        const ojson & tc = choice["delta"]["tool_calls"][0];
        EXPECT_EQ(tc["index"], 0);
        if (tc.contains("id")) {
            EXPECT_TRUE(id.empty()) << "id sent twice";
            id = tc["id"];
            EXPECT_EQ(tc["type"], "function");
            name = tc["function"]["name"];
        }
        args += tc["function"]["arguments"].get<std::string>();
    }
    EXPECT_EQ(id.rfind("call_", 0), 0u);
    EXPECT_EQ(name, "complete_task");
    EXPECT_TRUE(ojson::parse(args)["id"].is_number_integer()) << args;
    EXPECT_EQ(finish, "tool_calls");
}

TEST(OpenAi, StopAndSeedAccepted) {
    auto c = default_server().client();
    ojson body = user_chat("responder", "Go.", 16);
    body["stop"] = ojson::array({"\n", "."});
    body["seed"] = 42;
    body["temperature"] = 0.7;
    body["top_p"] = 0.9;
    auto a = post_json(*c, "/v1/chat/completions", body);
    auto b = post_json(*c, "/v1/chat/completions", body);
    ASSERT_TRUE(a && b);
    ASSERT_EQ(a->status, 200) << a->body;
    const std::string ca = json_of(a)["choices"][0]["message"]["content"];
    EXPECT_EQ(ca, json_of(b)["choices"][0]["message"]["content"].get<std::string>()) << "same seed, same text";
    EXPECT_EQ(ca.find('\n'), std::string::npos);
}

TEST(OpenAi, Completions) {
    auto c = default_server().client();
    auto r = post_json(*c, "/v1/completions", {{"model", "responder"}, {"prompt", ojson::array({"Once upon"})}, {"max_tokens", 6}, {"temperature", 0}});
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const ojson j = json_of(r);
    EXPECT_EQ(j["object"], "text_completion");
    EXPECT_TRUE(j["choices"][0]["text"].is_string());

    auto s = post_json(*c, "/v1/completions", {{"model", "responder"}, {"prompt", "Once upon"}, {"max_tokens", 6}, {"temperature", 0}, {"stream", true}});
    ASSERT_TRUE(s);
    ASSERT_EQ(s->status, 200) << s->body;
    const auto events = sse_data(s->body);
    EXPECT_EQ(events.back(), "[DONE]");
    std::string text;
    for (size_t i = 0; i + 1 < events.size(); ++i) text += ojson::parse(events[i])["choices"][0]["text"].get<std::string>();
    EXPECT_EQ(text, j["choices"][0]["text"].get<std::string>());
}

TEST(OpenAi, AgentChatReportsSteps) {
    auto c = default_server().client();
    auto r = post_json(*c, "/v1/agent/chat", user_chat("responder", "Hi.", 4));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const ojson j = json_of(r);
    EXPECT_EQ(j["object"], "chat.completion");
    EXPECT_GE(j["switchyard"]["steps"].get<int>(), 1);
    EXPECT_TRUE(j["switchyard"]["executed"].is_array());
}

TEST(OpenAi, FeedbackNeedsTracing) {
    auto c = default_server().client();
    auto r = post_json(*c, "/v1/feedback", {{"trace_id", "0123"}, {"rating", 1}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << r->body;
    EXPECT_TRUE(json_of(r)["error"]["message"].is_string());
}

TEST(OpenAi, FeedbackOnATrace) {
    const std::string db = (server_scratch() / "traces.db").string();
    ServeProcess s("-m " + tiny_model() + " -c 512 --traces " + db);
    auto c = s.client();
    auto r = post_json(*c, "/v1/chat/completions", user_chat("responder", "Hello.", 4));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const std::string trace_id = r->get_header_value("X-Switchyard-Trace-Id");
    ASSERT_FALSE(trace_id.empty());
    // The trace is written asynchronously; retry briefly until it is in the store.
    int status = 0;
    for (int i = 0; i < 50 && status != 200; ++i) {
        auto f = post_json(*c, "/v1/feedback", {{"trace_id", trace_id}, {"rating", -1}, {"corrected", {{"role", "assistant"}, {"content", "Hi!"}}}});
        ASSERT_TRUE(f);
        status = f->status;
        if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(status, 200);
    auto bad = post_json(*c, "/v1/feedback", {{"trace_id", trace_id}});
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->status, 400);
    c.reset();  // close the kept-alive connection so shutdown does not wait for it
    EXPECT_EQ(s.stop(), 0) << s.log();
}

TEST(OpenAi, MetricsCountRequests) {
    auto c = default_server().client();
    ASSERT_TRUE(c->Get("/health"));
    auto r = post_json(*c, "/v1/chat/completions", user_chat("responder", "x", 2));
    ASSERT_TRUE(r);
    const std::string chat_count = "switchyard_http_requests_total{route=\"/v1/chat/completions\",status=\"200\"}";
    const std::string m = metrics_with(*c, chat_count);
    EXPECT_NE(m.find(chat_count), std::string::npos) << m;
    EXPECT_NE(m.find("switchyard_http_request_duration_seconds_bucket{route=\"/health\""), std::string::npos);
}

TEST(OpenAi, CleanShutdownOnSigterm) {
    ServeProcess s("-m " + tiny_model() + " -c 256");
    auto c = s.client();
    ASSERT_TRUE(c->Get("/health"));
    c.reset();
    EXPECT_EQ(s.stop(), 0) << s.log();
    EXPECT_NE(s.log().find("stopped"), std::string::npos) << s.log();
}

}  // namespace
}  // namespace sy::test
