// Confidence-gated fallback over real HTTP: a second `switchyard serve` process is the fallback of the
// first. Threshold 1.0 sends every tool request to it (headers say so, streamed or not); threshold 0 keeps
// it local; with the fallback gone the local answer is served instead of an error.
#include <gtest/gtest.h>

#include "server/serve_util.h"

namespace sy::test {
namespace {

ojson tool_request(bool stream) {
    return {{"model", "router"},
            {"messages", ojson::array({{{"role", "user"}, {"content", "Create a task to call mom, low priority."}}})},
            {"tools", small_tools()},
            {"parallel_tool_calls", false},
            {"max_tokens", 64},
            {"temperature", 0},
            {"stream", stream}};
}

TEST(Fallback, LowConfidenceGoesToSecondServer) {
    ServeProcess upstream("-m " + tiny_model() + " -c 1024");
    ServeProcess gw("-m " + tiny_model() + " -c 1024 --threshold 1.0 --fallback-url " + upstream.url() + "/v1 --fallback-model router");
    auto c = gw.client();
    auto r = post_json(*c, "/v1/chat/completions", tool_request(false));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body << gw.log();
    EXPECT_EQ(r->get_header_value("X-Switchyard-Served-By"), "fallback") << r->body;
    EXPECT_EQ(r->get_header_value("X-Switchyard-Reason"), "low_confidence");
    const ojson j = json_of(r);
    EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");

    auto s = post_json(*c, "/v1/chat/completions", tool_request(true));
    ASSERT_TRUE(s);
    ASSERT_EQ(s->status, 200) << s->body;
    EXPECT_EQ(s->get_header_value("X-Switchyard-Served-By"), "fallback");
    const auto events = sse_data(s->body);
    EXPECT_EQ(events.back(), "[DONE]");

    // The upstream saw the requests: its metrics count them.
    const std::string chat_count = "switchyard_http_requests_total{route=\"/v1/chat/completions\",status=\"200\"}";
    EXPECT_NE(metrics_with(*upstream.client(), chat_count).find(chat_count), std::string::npos);

    // Fallback gone: the local answer is served, never a 5xx for the client.
    upstream.stop();
    auto d = post_json(*c, "/v1/chat/completions", tool_request(false));
    ASSERT_TRUE(d);
    EXPECT_LT(d->status, 500) << d->body;
}

TEST(Fallback, ConfidentStaysLocal) {
    ServeProcess upstream("-m " + tiny_model() + " -c 1024");
    ServeProcess gw("-m " + tiny_model() + " -c 1024 --threshold 0 --fallback-url " + upstream.url() + "/v1 --fallback-model router");
    auto c = gw.client();
    ojson body = tool_request(false);
    body["tool_choice"] = "required";
    auto r = post_json(*c, "/v1/chat/completions", body);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->get_header_value("X-Switchyard-Served-By"), "local");
    EXPECT_EQ(r->get_header_value("X-Switchyard-Reason"), "confident");
    EXPECT_FALSE(r->get_header_value("X-Switchyard-Confidence").empty());
}

}  // namespace
}  // namespace sy::test

namespace sy::test {
namespace {

// A prompt too long for the local model AND refused by the fallback (too long there too) is the client's
// fault: a 4xx, never a 5xx.
TEST(Fallback, OverflowRefusedByBothIsAClientError) {
    ServeProcess upstream("-m " + tiny_model() + " -c 64");
    ServeProcess gw("-m " + tiny_model() + " -c 64 --fallback-url " + upstream.url() + "/v1 --fallback-model router");
    auto c = gw.client();
    ojson body = {{"model", "router"}, {"max_tokens", 8}};
    std::string long_text;
    for (int i = 0; i < 200; ++i) long_text += "word ";
    body["messages"] = ojson::array({{{"role", "user"}, {"content", long_text}}});
    auto r = post_json(*c, "/v1/chat/completions", body);
    ASSERT_TRUE(r);
    EXPECT_GE(r->status, 400) << r->body << gw.log();
    EXPECT_LT(r->status, 500) << r->body << gw.log();
    EXPECT_TRUE(json_of(r).contains("error")) << r->body;
}

}  // namespace
}  // namespace sy::server
