// Every client-input error path of the server, black-box: malformed JSON, invalid UTF-8, oversized body,
// unknown model and route, bad or missing key, invalid tool schema, context overflow, fields of the wrong
// type — each with the right 4xx in its API's error shape, and no 5xx for any of a battery of bad inputs.
#include <gtest/gtest.h>

#include "server/serve_util.h"

namespace sy::test {
namespace {

// OpenAI error shape: {"error": {"message", "type", "param", "code"}}.
void expect_openai_error(const httplib::Result & r, int status, const std::string & code = "") {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << r->body;
    const ojson j = ojson::parse(r->body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r->body;
    ASSERT_TRUE(j.contains("error") && j["error"].is_object()) << r->body;
    EXPECT_TRUE(j["error"]["message"].is_string());
    EXPECT_TRUE(j["error"]["type"].is_string());
    EXPECT_TRUE(j["error"].contains("param"));
    EXPECT_TRUE(j["error"].contains("code"));
    if (!code.empty()) {
        EXPECT_EQ(j["error"]["code"], code) << r->body;
    }
}

void expect_ollama_error(const httplib::Result & r, int status) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << r->body;
    const ojson j = ojson::parse(r->body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r->body;
    EXPECT_TRUE(j["error"].is_string()) << r->body;
}

ojson chat_body(const std::string & text = "hi") {
    return {{"model", "responder"}, {"messages", ojson::array({{{"role", "user"}, {"content", text}}})}, {"max_tokens", 4}};
}

TEST(ServerErrors, MalformedJson) {
    auto c = default_server().client();
    expect_openai_error(c->Post("/v1/chat/completions", "{\"model\": \"responder\", ", "application/json"), 400);
    expect_openai_error(c->Post("/v1/chat/completions", "[1, 2]", "application/json"), 400);
    expect_openai_error(c->Post("/v1/chat/completions", "", "application/json"), 400);
    expect_ollama_error(c->Post("/api/chat", "not json", "application/json"), 400);
}

TEST(ServerErrors, InvalidUtf8) {
    auto c = default_server().client();
    const std::string body = "{\"model\":\"responder\",\"messages\":[{\"role\":\"user\",\"content\":\"bad \xC3\x28 byte\"}]}";
    auto r = c->Post("/v1/chat/completions", body, "application/json");
    expect_openai_error(r, 400);
    EXPECT_NE(ojson::parse(r->body)["error"]["message"].get<std::string>().find("UTF-8"), std::string::npos);
    const std::string surrogate = "{\"model\":\"responder\",\"messages\":[{\"role\":\"user\",\"content\":\"\xED\xA0\x80\"}]}";
    expect_openai_error(c->Post("/v1/chat/completions", surrogate, "application/json"), 400);
    expect_ollama_error(c->Post("/api/chat", body, "application/json"), 400);
}

TEST(ServerErrors, OversizedBody) {
    ServeProcess s("-m " + tiny_model() + " -c 256 --max-body-bytes 65536");
    auto c = s.client();
    const std::string big = chat_body(std::string(100000, 'a')).dump();
    expect_openai_error(c->Post("/v1/chat/completions", big, "application/json"), 413, "request_too_large");
    expect_ollama_error(c->Post("/api/chat", big, "application/json"), 413);
    auto ok = post_json(*c, "/v1/chat/completions", chat_body());
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200) << ok->body;
}

TEST(ServerErrors, UnknownModelAndRoute) {
    auto c = default_server().client();
    ojson body = chat_body();
    body["model"] = "no-such-model";
    expect_openai_error(post_json(*c, "/v1/chat/completions", body), 404, "model_not_found");
    expect_ollama_error(post_json(*c, "/api/chat", body), 404);
    expect_ollama_error(post_json(*c, "/api/show", {{"model", "nope"}}), 404);
    expect_openai_error(c->Get("/v1/nothing-here"), 404);
    expect_ollama_error(c->Get("/api/nothing-here"), 404);
}

TEST(ServerErrors, BearerKeys) {
    ServeProcess s("-m " + tiny_model() + " -c 256 --api-key-env SY_TEST_KEY", "SY_TEST_KEY=sekrit");
    auto c = s.client();
    expect_openai_error(post_json(*c, "/v1/chat/completions", chat_body()), 401, "invalid_api_key");
    expect_ollama_error(c->Get("/api/tags"), 401);
    httplib::Headers wrong = {{"Authorization", "Bearer nope"}};
    expect_openai_error(c->Post("/v1/chat/completions", wrong, chat_body().dump(), "application/json"), 401);
    httplib::Headers right = {{"Authorization", "Bearer sekrit"}};
    auto ok = c->Post("/v1/chat/completions", right, chat_body().dump(), "application/json");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200) << ok->body;
    auto h = c->Get("/health");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->status, 200);
    expect_openai_error(post_json(*c, "/admin/adapters", {{"model", "tiny"}, {"name", "a"}, {"path", "/nonexistent.gguf"}}), 401);
}

TEST(ServerErrors, InvalidToolSchema) {
    auto c = default_server().client();
    ojson body = chat_body();
    body["model"] = "router";
    body["tools"] = ojson::array({{{"type", "function"},
                                   {"function", {{"name", "f"}, {"parameters", {{"type", "object"}, {"properties", {{"n", {{"type", "number"}, {"multipleOf", 3}}}}}}}}}}});
    expect_openai_error(post_json(*c, "/v1/chat/completions", body), 400, "invalid_tool_schema");
    body["tools"] = "not an array";
    expect_openai_error(post_json(*c, "/v1/chat/completions", body), 400);
    body["tools"] = ojson::array({{{"type", "function"}, {"function", {{"description", "no name"}}}}});
    expect_openai_error(post_json(*c, "/v1/chat/completions", body), 400);
    body["tools"] = task_tools();
    body["tool_choice"] = {{"type", "function"}, {"function", {{"name", "not_a_tool"}}}};
    expect_openai_error(post_json(*c, "/v1/chat/completions", body), 400);
    body.erase("tool_choice");
    body["response_format"] = {{"type", "json_schema"}, {"json_schema", {{"name", "x"}, {"schema", {{"type", "object"}, {"patternProperties", {}}}}}}};
    expect_openai_error(post_json(*c, "/v1/chat/completions", body), 400);
    ojson ollama = {{"model", "router"}, {"stream", false}, {"messages", body["messages"]},
                    {"tools", ojson::array({{{"type", "function"}, {"function", {{"name", "g"}, {"parameters", {{"type", "object"}, {"properties", {{"s", {{"type", "string"}, {"contentEncoding", "base64"}}}}}}}}}}})}};
    expect_ollama_error(post_json(*c, "/api/chat", ollama), 400);
}

TEST(ServerErrors, ContextOverflow) {
    auto c = default_server().client();  // 512 positions per slot
    std::string long_text;
    for (int i = 0; i < 1500; ++i) long_text += "word" + std::to_string(i) + " ";
    auto r = post_json(*c, "/v1/chat/completions", chat_body(long_text));
    expect_openai_error(r, 400, "context_length_exceeded");
    ojson ollama = {{"model", "responder"}, {"stream", false}, {"messages", chat_body(long_text)["messages"]}};
    expect_ollama_error(post_json(*c, "/api/chat", ollama), 400);
}

TEST(ServerErrors, WrongFieldTypes) {
    auto c = default_server().client();
    const std::vector<std::pair<std::string, ojson>> cases = {
        {"temperature", "hot"}, {"temperature", 9}, {"top_p", 2}, {"max_tokens", 0}, {"max_tokens", "ten"},
        {"stop", 5}, {"seed", 1.5}, {"stream", "yes"}, {"n", 3}, {"top_logprobs", 50}, {"messages", "hi"},
        {"tool_choice", 7}, {"response_format", {{"type", "xml"}}}, {"logprobs", 1}};
    for (const auto & [key, value] : cases) {
        ojson body = chat_body();
        body[key] = value;
        auto r = post_json(*c, "/v1/chat/completions", body);
        SCOPED_TRACE(key + "=" + value.dump());
        expect_openai_error(r, 400);
    }
    expect_openai_error(post_json(*c, "/v1/chat/completions", {{"model", "responder"}, {"messages", ojson::array()}}), 400);
    expect_openai_error(post_json(*c, "/v1/chat/completions", {{"model", "responder"}, {"messages", ojson::array({{{"role", "wizard"}, {"content", "x"}}})}}), 400);
    expect_openai_error(post_json(*c, "/v1/completions", {{"model", "responder"}, {"prompt", ojson::array({1, 2, 3})}}), 400);
}

TEST(ServerErrors, NoServerErrorForAnyBadInput) {
    auto c = default_server().client();
    const std::vector<std::string> paths = {"/v1/chat/completions", "/v1/completions", "/v1/agent/chat", "/v1/feedback",
                                            "/api/chat", "/api/generate", "/api/show", "/admin/adapters"};
    const std::vector<std::string> bodies = {
        "", "null", "0", "\"s\"", "{}", "{\"model\":null}", "{\"model\":5,\"messages\":5}", "{\"messages\":[null]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"x\"}}]}]}",
        "{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{\"name\":\"f\",\"arguments\":\"{bad\"}}]}]}",
        "{\"model\":\"responder\",\"prompt\":\"\",\"images\":[\"aGk=\"]}",
        "{\"model\":\"responder\",\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"images\":[\"aGk=\"]}]}",
        "{\"model\":\"responder\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"options\":{\"num_predict\":\"x\"}}",
        "{\"model\":\"responder\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"format\":42}",
        "{\"trace_id\":5,\"rating\":\"good\"}", "{\"model\":\"tiny\",\"name\":\"a\",\"path\":\"/nonexistent/a.gguf\"}",
        "{\"model\":\"responder\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":1e300}",
        "{\"model\":\"responder\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"seed\":18446744073709551615}",
        std::string(2000, '['), "{\"a\":\"\\ud800\"}"};
    for (const auto & p : paths) {
        for (const auto & b : bodies) {
            auto r = c->Post(p.c_str(), b, "application/json");
            ASSERT_TRUE(r) << p << " " << b;
            EXPECT_LT(r->status, 500) << p << " " << b << " -> " << r->body;
        }
    }
    expect_openai_error(c->Delete("/admin/adapters/tiny/none"), 404);
    expect_openai_error(c->Delete("/admin/adapters/nomodel/none"), 404);
}

}  // namespace
}  // namespace sy::test
