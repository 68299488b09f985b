// RemoteProvider against a real HTTP peer on loopback (tests/agent/fake_openai.h): the request it sends,
// JSON and SSE answers (content deltas, tool-call fragments by index, usage from the last chunk), retries
// on 5xx/429 but not on 4xx, timeouts, a refused connection, a stream cut mid-way, cancellation, and the
// circuit breaker's open → trial → closed cycle. Also the URL parser.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "agent/fake_openai.h"
#include "common/error.h"
#include "providers/remote_provider.h"

using namespace sy;
using namespace sy::providers;
using sy::test::FakeCall;
using sy::test::FakeOpenAI;
using sy::test::FakeReply;

namespace {

RemoteModelParams params_for(const FakeOpenAI & f) {
    RemoteModelParams p;
    p.name = "cloud";
    p.base_url = f.base_url();
    p.model = "gpt-test";
    p.api_key = "sk-test";
    p.timeout = std::chrono::milliseconds(2000);
    p.retries = 2;
    p.retry_backoff = std::chrono::milliseconds(5);
    return p;
}

ChatRequest hello() {
    ChatRequest r;
    r.messages.push_back({"user", "hello", {}, "", ""});
    return r;
}

ojson weather_tools() {
    return ojson::parse(R"([{"type":"function","function":{"name":"get_weather","parameters":{"type":"object",
        "properties":{"city":{"type":"string"}},"required":["city"]}}}])");
}

// A loopback port nothing listens on: bound once to get a free number, then closed.
int closed_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    ::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

}  // namespace

TEST(RemoteProvider, SendsOpenAIRequestAndReadsJsonAnswer) {
    FakeOpenAI f([](const ojson &, int) {
        FakeReply r;
        r.content = "hi there";
        r.prompt_tokens = 21;
        r.completion_tokens = 3;
        return r;
    });
    RemoteProvider p(params_for(f));
    ChatRequest req = hello();
    req.messages.insert(req.messages.begin(), chat::Message{"system", "be brief", {}, "", ""});
    req.messages.push_back({"assistant", "", {{"call_1", "get_weather", {{"city", "Paris"}}}}, "", ""});
    req.messages.push_back({"tool", "{\"temp\":21}", {}, "call_1", "get_weather"});
    req.tools = weather_tools();
    req.tool_choice = "auto";
    req.gen.max_tokens = 50;
    req.gen.temperature = 0.5f;
    req.gen.top_k = 40;  // not an OpenAI field: must not be sent
    const ChatResponse r = p.chat(req);
    EXPECT_EQ(r.message.role, "assistant");
    EXPECT_EQ(r.message.content, "hi there");
    EXPECT_EQ(r.finish_reason, "stop");
    EXPECT_EQ(r.usage.prompt_tokens, 21);
    EXPECT_EQ(r.usage.completion_tokens, 3);
    EXPECT_EQ(r.model, "cloud");

    ASSERT_EQ(f.hits(), 1);
    const ojson b = f.bodies()[0];
    EXPECT_EQ(b["model"], "gpt-test");
    EXPECT_EQ(b["max_tokens"], 50);
    EXPECT_FALSE(b.contains("top_k"));
    EXPECT_FALSE(b.contains("stream"));
    EXPECT_EQ(b["tools"], weather_tools());
    EXPECT_EQ(b["tool_choice"], "auto");
    ASSERT_EQ(b["messages"].size(), 4u);
    EXPECT_EQ(b["messages"][2]["tool_calls"][0]["function"]["arguments"], "{\"city\":\"Paris\"}");  // a JSON string
    EXPECT_EQ(b["messages"][3]["role"], "tool");
    EXPECT_EQ(b["messages"][3]["tool_call_id"], "call_1");
    EXPECT_EQ(f.auth_headers()[0], "Bearer sk-test");
}

TEST(RemoteProvider, ParsesToolCallsFromJson) {
    FakeOpenAI f([](const ojson &, int) {
        FakeReply r;
        r.calls = {{"get_weather", {{"city", "Oslo"}}}, {"get_weather", {{"city", "Rome"}}}};
        return r;
    });
    RemoteProvider p(params_for(f));
    ChatRequest req = hello();
    req.tools = weather_tools();
    const ChatResponse r = p.chat(req);
    ASSERT_EQ(r.message.tool_calls.size(), 2u);
    EXPECT_EQ(r.message.tool_calls[0].name, "get_weather");
    EXPECT_EQ(r.message.tool_calls[0].id, "call_fake0");
    EXPECT_EQ(r.message.tool_calls[0].arguments, (ojson{{"city", "Oslo"}}));
    EXPECT_EQ(r.message.tool_calls[1].arguments, (ojson{{"city", "Rome"}}));
    EXPECT_EQ(r.finish_reason, "tool_calls");
}

TEST(RemoteProvider, StreamsContentDeltasToolCallsAndUsage) {
    FakeOpenAI f([](const ojson &, int) {
        FakeReply r;
        r.content = "Checking both cities now.";
        r.calls = {{"get_weather", {{"city", "Oslo"}}}, {"get_weather", {{"city", "Buenos Aires"}}}};
        r.prompt_tokens = 40;
        r.completion_tokens = 25;
        return r;
    });
    RemoteProvider p(params_for(f));
    ChatRequest req = hello();
    req.tools = weather_tools();
    std::vector<std::string> deltas;
    const ChatResponse r = p.chat(req, [&](std::string_view d) {
        deltas.emplace_back(d);
        return true;
    });
    std::string joined;
    for (const auto & d : deltas) joined += d;
    EXPECT_GT(deltas.size(), 3u);
    EXPECT_EQ(joined, "Checking both cities now.");
    EXPECT_EQ(r.message.content, joined);
    ASSERT_EQ(r.message.tool_calls.size(), 2u);
    EXPECT_EQ(r.message.tool_calls[1].id, "call_fake1");
    EXPECT_EQ(r.message.tool_calls[0].arguments, (ojson{{"city", "Oslo"}}));
    EXPECT_EQ(r.message.tool_calls[1].arguments, (ojson{{"city", "Buenos Aires"}}));
    EXPECT_EQ(r.finish_reason, "tool_calls");
    EXPECT_EQ(r.usage.prompt_tokens, 40);
    EXPECT_EQ(r.usage.completion_tokens, 25);
    const ojson b = f.bodies()[0];
    EXPECT_EQ(b["stream"], true);
    EXPECT_EQ(b["stream_options"]["include_usage"], true);
}

TEST(RemoteProvider, CancelStopsTheStream) {
    FakeOpenAI f([](const ojson &, int) {
        FakeReply r;
        r.content = std::string(300, 'x');
        return r;
    });
    RemoteProvider p(params_for(f));
    int n = 0;
    const ChatResponse r = p.chat(hello(), [&](std::string_view) { return ++n < 2; });
    EXPECT_EQ(n, 2);
    EXPECT_LT(r.message.content.size(), 300u);
    EXPECT_EQ(f.hits(), 1);
    EXPECT_FALSE(p.circuit_open());
}

TEST(RemoteProvider, RetriesServerErrorsAnd429) {
    FakeOpenAI f([](const ojson &, int n) {
        FakeReply r;
        if (n == 0) r.status = 500, r.error_message = "boom";
        else if (n == 1) r.status = 429, r.error_message = "slow down";
        else r.content = "ok";
        return r;
    });
    RemoteProvider p(params_for(f));
    EXPECT_EQ(p.chat(hello()).message.content, "ok");
    EXPECT_EQ(f.hits(), 3);
}

TEST(RemoteProvider, GivesUpAfterRetriesAsUnavailable) {
    FakeOpenAI f([](const ojson &, int) {
        FakeReply r;
        r.status = 503;
        r.error_message = "overloaded";
        return r;
    });
    RemoteProvider p(params_for(f));
    try {
        p.chat(hello());
        FAIL() << "expected an error";
    } catch (const Error & e) {
        EXPECT_EQ(e.kind(), ErrorKind::ErrorKind_unavailable);
        EXPECT_NE(std::string(e.what()).find("overloaded"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("3 attempts"), std::string::npos) << e.what();
    }
    EXPECT_EQ(f.hits(), 3);
}

TEST(RemoteProvider, ClientErrorIsNotRetriedAndCarriesTheMessage) {
    FakeOpenAI f([](const ojson &, int) {
        FakeReply r;
        r.status = 400;
        r.error_message = "Invalid schema for function 'get_weather'";
        return r;
    });
    RemoteProvider p(params_for(f));
    try {
        p.chat(hello());
        FAIL() << "expected an error";
    } catch (const Error & e) {
        EXPECT_EQ(e.kind(), ErrorKind::ErrorKind_invalid_argument);
        EXPECT_NE(std::string(e.what()).find("Invalid schema for function"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("HTTP 400"), std::string::npos) << e.what();
    }
    EXPECT_EQ(f.hits(), 1);
    EXPECT_FALSE(p.circuit_open());
}

TEST(RemoteProvider, TimeoutIsUnavailable) {
    FakeOpenAI f([](const ojson &, int) {
        FakeReply r;
        r.delay_ms = 600;
        r.content = "late";
        return r;
    });
    RemoteModelParams prm = params_for(f);
    prm.timeout = std::chrono::milliseconds(150);
    prm.retries = 0;
    RemoteProvider p(prm);
    const auto t0 = std::chrono::steady_clock::now();
    try {
        p.chat(hello());
        FAIL() << "expected an error";
    } catch (const Error & e) {
        EXPECT_EQ(e.kind(), ErrorKind::ErrorKind_unavailable);
        EXPECT_NE(std::string(e.what()).find("timed out"), std::string::npos) << e.what();
    }
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(550));
}

TEST(RemoteProvider, StreamMayOutliveTheTimeoutWhileEventsFlow) {
    FakeOpenAI f([](const ojson &, int) {
        FakeReply r;
        r.content = "one two three four";  // 7 events of 3 bytes, 60 ms apart: ~600 ms in all
        r.event_delay_ms = 60;
        return r;
    });
    RemoteModelParams prm = params_for(f);
    prm.timeout = std::chrono::milliseconds(250);
    prm.retries = 0;
    RemoteProvider p(prm);
    std::string got;
    const ChatResponse r = p.chat(hello(), [&](std::string_view d) {
        got += d;
        return true;
    });
    EXPECT_EQ(got, "one two three four");
    EXPECT_EQ(r.finish_reason, "stop");
}

TEST(RemoteProvider, ConnectionRefusedIsUnavailable) {
    RemoteModelParams prm;
    prm.name = "down";
    prm.base_url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/v1";
    prm.model = "m";
    prm.retries = 1;
    prm.retry_backoff = std::chrono::milliseconds(1);
    RemoteProvider p(prm);
    try {
        p.chat(hello());
        FAIL() << "expected an error";
    } catch (const Error & e) {
        EXPECT_EQ(e.kind(), ErrorKind::ErrorKind_unavailable);
        EXPECT_NE(std::string(e.what()).find("down"), std::string::npos) << e.what();
    }
}

TEST(RemoteProvider, StreamCutAfterContentIsNotRetried) {
    FakeOpenAI f([](const ojson &, int) {
        FakeReply r;
        r.content = "abcdefghijkl";
        r.cut_stream = true;
        return r;
    });
    RemoteProvider p(params_for(f));
    std::string got;
    try {
        p.chat(hello(), [&](std::string_view d) {
            got += d;
            return true;
        });
        FAIL() << "expected an error";
    } catch (const Error & e) {
        EXPECT_EQ(e.kind(), ErrorKind::ErrorKind_unavailable);
        EXPECT_NE(std::string(e.what()).find("mid-stream"), std::string::npos) << e.what();
    }
    EXPECT_EQ(got, "abc");
    EXPECT_EQ(f.hits(), 1);  // the caller already has bytes: no second attempt
}

TEST(RemoteProvider, CircuitBreakerOpensThenATrialClosesIt) {
    std::atomic<bool> healthy{false};
    FakeOpenAI f([&](const ojson &, int) {
        FakeReply r;
        if (!healthy) r.status = 500, r.error_message = "down";
        else r.content = "back";
        return r;
    });
    RemoteModelParams prm = params_for(f);
    prm.retries = 0;
    prm.breaker_failures = 2;
    prm.breaker_cooldown = std::chrono::milliseconds(500);
    RemoteProvider p(prm);
    EXPECT_THROW(p.chat(hello()), Error);
    EXPECT_FALSE(p.circuit_open());
    EXPECT_THROW(p.chat(hello()), Error);
    EXPECT_TRUE(p.circuit_open());
    // Open: refused without a request.
    try {
        p.chat(hello());
        FAIL() << "expected an error";
    } catch (const Error & e) {
        EXPECT_EQ(e.kind(), ErrorKind::ErrorKind_unavailable);
        EXPECT_NE(std::string(e.what()).find("circuit is open"), std::string::npos) << e.what();
    }
    EXPECT_EQ(f.hits(), 2);
    // After the cooldown a failed trial re-opens it at once.
    std::this_thread::sleep_for(std::chrono::milliseconds(550));
    EXPECT_THROW(p.chat(hello()), Error);
    EXPECT_EQ(f.hits(), 3);
    EXPECT_TRUE(p.circuit_open());
    // A successful trial closes it.
    healthy = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(550));
    EXPECT_EQ(p.chat(hello()).message.content, "back");
    EXPECT_FALSE(p.circuit_open());
    EXPECT_EQ(p.chat(hello()).message.content, "back");
    EXPECT_EQ(f.hits(), 5);
}

TEST(RemoteProvider, KeepAliveConnectionsServeManyRequests) {
    FakeOpenAI f([](const ojson &, int n) {
        FakeReply r;
        r.content = "n" + std::to_string(n);
        return r;
    });
    RemoteProvider p(params_for(f));
    for (int i = 0; i < 20; ++i) EXPECT_EQ(p.chat(hello()).message.content, "n" + std::to_string(i));
    EXPECT_EQ(f.hits(), 20);
}

TEST(RemoteProvider, RejectsBadBaseUrl) {
    RemoteModelParams prm;
    prm.name = "x";
    prm.model = "m";
    for (const char * u : {"ftp://host/v1", "api.openai.com/v1", "http://", "http://user@host/v1", "http://host:99999/v1"}) {
        prm.base_url = u;
        EXPECT_THROW(RemoteProvider{prm}, Error) << u;
    }
}

TEST(HttpUrl, Parses) {
    auto u = parse_http_url("https://API.OpenAI.com/v1");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->scheme, "https");
    EXPECT_EQ(u->host, "api.openai.com");
    EXPECT_EQ(u->port, 443);
    EXPECT_EQ(u->target, "/v1");
    EXPECT_EQ(u->origin(), "https://api.openai.com:443");
    u = parse_http_url("http://127.0.0.1:8081");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->port, 8081);
    EXPECT_TRUE(u->explicit_port);
    EXPECT_EQ(u->target, "/");
    u = parse_http_url("http://[::1]:9000/a?b=c#frag");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->host, "::1");
    EXPECT_EQ(u->target, "/a?b=c");
    EXPECT_EQ(u->origin(), "http://[::1]:9000");
    EXPECT_FALSE(parse_http_url("http://a:b@host/"));
    EXPECT_FALSE(parse_http_url("file:///etc/passwd"));
    EXPECT_FALSE(parse_http_url("http://host:0/"));
}
