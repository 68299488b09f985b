// Ollama-compatible routes, black-box: /api/version, /api/tags, /api/show, /api/ps shapes; /api/chat and
// /api/generate with NDJSON streaming (the default) and without, tools with object arguments, "format"
// json and schema, options, keep_alive accepted, images refused.
#include <gtest/gtest.h>

#include "server/serve_util.h"

namespace sy::test {
namespace {

ojson ollama_chat(const std::string & text) {
    return {{"model", "responder"}, {"messages", ojson::array({{{"role", "user"}, {"content", text}}})},
            {"options", {{"temperature", 0}, {"num_predict", 8}, {"seed", 3}, {"top_k", 20}, {"num_ctx", 4096}}}, {"keep_alive", "5m"}};
}

TEST(Ollama, VersionTagsShowPs) {
    auto c = default_server().client();
    auto v = c->Get("/api/version");
    ASSERT_TRUE(v);
    EXPECT_TRUE(json_of(v)["version"].is_string());

    auto t = c->Get("/api/tags");
    ASSERT_TRUE(t);
    ASSERT_EQ(t->status, 200) << t->body;
    bool found = false;
    const ojson tags = json_of(t);
    for (const auto & m : tags["models"]) {
        EXPECT_TRUE(m["name"].is_string());
        EXPECT_TRUE(m["details"].is_object());
        found |= m["name"] == "tiny";
    }
    EXPECT_TRUE(found) << t->body;

    auto s = post_json(*c, "/api/show", {{"model", "tiny"}});
    ASSERT_TRUE(s);
    ASSERT_EQ(s->status, 200) << s->body;
    const ojson j = json_of(s);
    EXPECT_TRUE(j["details"].is_object());
    EXPECT_TRUE(j["model_info"].is_object());
    bool tools = false;
    for (const auto & cap : j["capabilities"]) tools |= cap == "tools";
    auto alias = post_json(*c, "/api/show", {{"model", "router"}});
    ASSERT_TRUE(alias);
    EXPECT_EQ(alias->status, 200) << alias->body;
    EXPECT_TRUE(tools) << s->body;
    auto latest = post_json(*c, "/api/show", {{"name", "tiny:latest"}});
    ASSERT_TRUE(latest);
    EXPECT_EQ(latest->status, 200) << latest->body;

    auto p = c->Get("/api/ps");
    ASSERT_TRUE(p);
    ASSERT_EQ(p->status, 200);
    EXPECT_FALSE(json_of(p)["models"].empty());
}

TEST(Ollama, ChatStreamsNdjsonByDefault) {
    auto c = default_server().client();
    ojson body = ollama_chat("Say something.");
    auto plain_body = body;
    plain_body["stream"] = false;
    auto plain = post_json(*c, "/api/chat", plain_body);
    ASSERT_TRUE(plain);
    ASSERT_EQ(plain->status, 200) << plain->body;
    const ojson pj = json_of(plain);
    EXPECT_EQ(pj["done"], true);
    EXPECT_EQ(pj["message"]["role"], "assistant");
    EXPECT_GT(pj["prompt_eval_count"].get<int>(), 0);

    auto r = post_json(*c, "/api/chat", body);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/x-ndjson");
    const auto lines = ndjson_lines(r->body);
    ASSERT_GE(lines.size(), 1u);
    std::string content;
    for (size_t i = 0; i < lines.size(); ++i) {
        EXPECT_EQ(lines[i]["done"], i + 1 == lines.size()) << lines[i].dump();
        EXPECT_TRUE(lines[i]["created_at"].is_string());
        content += lines[i]["message"]["content"].get<std::string>();
    }
    const ojson & last = lines.back();
    EXPECT_TRUE(last["done_reason"] == "stop" || last["done_reason"] == "length");
    EXPECT_TRUE(last["eval_count"].is_number());
    EXPECT_TRUE(last["total_duration"].is_number());
    EXPECT_EQ(content, pj["message"]["content"].get<std::string>());
}

TEST(Ollama, ChatToolCallsHaveObjectArguments) {
    auto c = default_server().client();
    ojson body = ollama_chat("Find tasks about groceries.");
    body["model"] = "router";
    body["stream"] = false;
    body["options"]["num_predict"] = 64;
    body["tool_choice"] = "required";  // switchyard's extensions of the Ollama API
    body["parallel_tool_calls"] = false;
    body["tools"] = ojson::array({small_tools()[1]});
    auto r = post_json(*c, "/api/chat", body);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const ojson msg = json_of(r)["message"];
    ASSERT_TRUE(msg.contains("tool_calls")) << msg.dump();
    const ojson & call = msg["tool_calls"][0];
    EXPECT_EQ(call["function"]["name"], "complete_task");
    EXPECT_TRUE(call["function"]["arguments"].is_object()) << msg.dump();
    EXPECT_TRUE(call["function"]["arguments"]["id"].is_number_integer()) << msg.dump();
    // Earlier turns with object arguments and a tool result are accepted.
    ojson turn = ollama_chat("Thanks");
    turn["stream"] = false;
    turn["messages"] = ojson::array({{{"role", "user"}, {"content", "find milk"}},
                                     {{"role", "assistant"}, {"content", ""}, {"tool_calls", ojson::array({{{"function", {{"name", "complete_task"}, {"arguments", {{"id", 4}}}}}}})}},
                                     {{"role", "tool"}, {"content", "[]"}, {"tool_name", "complete_task"}}});
    turn["tools"] = body["tools"];
    auto t = post_json(*c, "/api/chat", turn);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->status, 200) << t->body;
}

TEST(Ollama, FormatJsonAndSchema) {
    auto c = default_server().client();
    ojson body = ollama_chat("A JSON object please.");
    body["stream"] = false;
    body["options"]["num_predict"] = 48;
    body["format"] = "json";
    auto r = post_json(*c, "/api/chat", body);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const std::string content = json_of(r)["message"]["content"];
    if (json_of(r)["done_reason"] == "stop") {
        EXPECT_TRUE(ojson::parse(content).is_object()) << content;
    }

    body["format"] = {{"type", "object"}, {"properties", {{"ok", {{"type", "boolean"}}}}}, {"required", {"ok"}}};
    auto s = post_json(*c, "/api/chat", body);
    ASSERT_TRUE(s);
    ASSERT_EQ(s->status, 200) << s->body;
    const ojson v = ojson::parse(json_of(s)["message"]["content"].get<std::string>());
    EXPECT_TRUE(v["ok"].is_boolean());
}

TEST(Ollama, Generate) {
    auto c = default_server().client();
    ojson body = {{"model", "responder"}, {"prompt", "Why is the sky blue?"}, {"stream", false}, {"options", {{"num_predict", 6}, {"temperature", 0}}}};
    auto r = post_json(*c, "/api/generate", body);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const ojson j = json_of(r);
    EXPECT_TRUE(j["response"].is_string());
    EXPECT_EQ(j["done"], true);

    body["stream"] = true;
    auto s = post_json(*c, "/api/generate", body);
    ASSERT_TRUE(s);
    ASSERT_EQ(s->status, 200) << s->body;
    const auto lines = ndjson_lines(s->body);
    std::string text;
    for (const auto & l : lines) text += l["response"].get<std::string>();
    EXPECT_EQ(lines.back()["done"], true);
    EXPECT_EQ(text, j["response"].get<std::string>());

    auto load = post_json(*c, "/api/generate", {{"model", "responder"}});
    ASSERT_TRUE(load);
    EXPECT_EQ(load->status, 200) << load->body;
    EXPECT_EQ(json_of(load)["done"], true);
}

TEST(Ollama, ImagesRefused) {
    auto c = default_server().client();
    ojson body = ollama_chat("What is in this picture?");
    body["messages"][0]["images"] = ojson::array({"aGVsbG8="});
    auto r = post_json(*c, "/api/chat", body);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    EXPECT_NE(json_of(r)["error"].get<std::string>().find("images"), std::string::npos) << r->body;
}

}  // namespace
}  // namespace sy::test
