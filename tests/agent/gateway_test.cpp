// The Gateway end to end with a tiny random-weight local model as router and responder and a real HTTP
// peer as fallback (the in-test OpenAI server of fake_openai.h, or a second `switchyard serve` process).
// The confidence threshold drives the decision deterministically: 0 = the router is always confident,
// 1 = never (the router's enum argument has probability < 1). Covers every row of the decision table,
// fallback failure paths, streaming with on_decision, shadow agreement, the agent loop with executors,
// traces and feedback, and the metrics.
#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>
#include <random>

#include "agent/fake_openai.h"
#include "agent/gateway.h"
#include "agent/gateway_impl.h"  // compare_answers
#include "common/error.h"
#include "engine/model.h"
#include "engine/model_init.h"
#include "engine/test_dir.h"
#include "gguf/gguf.h"
#include "gguf/types.h"
#include "server/serve_util.h"
#include "traces/store.h"

namespace fs = std::filesystem;
using namespace sy;
using namespace sy::agent;
using sy::test::FakeCall;
using sy::test::FakeOpenAI;
using sy::test::FakeReply;

namespace {

const std::string & tiny_path() {
    static const std::string p = [] {
        const std::string out = (sy::test::scratch_dir() / "gw_tiny.gguf").string();
        engine::InitParams ip;
        ip.dtype = "q8_0";
        ip.seed = 7;
        engine::init_random_model(ip, out);
        return out;
    }();
    return p;
}

// A LoRA adapter on ffn_up whose GGUF says it was trained for another tool set.
const std::string & adapter_path() {
    static const std::string p = [] {
        auto m = engine::Model::load(tiny_path());
        gguf::Writer w;
        w.set("general.architecture", gguf::Value::string(m->hparams().arch));
        w.set("general.type", gguf::Value::string("adapter"));
        w.set("adapter.type", gguf::Value::string("lora"));
        w.set("adapter.lora.alpha", gguf::Value::f32(4.0f));
        w.set("switchyard.tools_fingerprint", gguf::Value::string("0123456789abcdef"));
        std::mt19937 rng(3);
        std::normal_distribution<float> N(0.0f, 0.01f);
        static std::vector<std::vector<float>> keep;  // the writer references the data until write()
        for (int il = 0; il < m->hparams().n_layer; ++il) {
            const auto & base = m->layers()[il].w_up;
            std::vector<float> a((size_t)2 * base.n_in), b((size_t)base.n_out * 2);
            for (auto & x : a) x = N(rng);
            for (auto & x : b) x = N(rng);
            const std::string n = "blk." + std::to_string(il) + ".ffn_up.weight";
            const int64_t ne_a[2] = {base.n_in, 2}, ne_b[2] = {2, base.n_out};
            keep.push_back(std::move(a));
            w.add_tensor(n + ".lora_a", (uint32_t)DType::DType_f32, ne_a,
                         {reinterpret_cast<const uint8_t *>(keep.back().data()), keep.back().size() * 4});
            keep.push_back(std::move(b));
            w.add_tensor(n + ".lora_b", (uint32_t)DType::DType_f32, ne_b,
                         {reinterpret_cast<const uint8_t *>(keep.back().data()), keep.back().size() * 4});
        }
        const std::string out = (sy::test::scratch_dir() / "gw_adapter.gguf").string();
        w.write(out);
        return out;
    }();
    return p;
}

ojson priority_tools() {
    return ojson::parse(R"([{"type":"function","function":{"name":"set_priority","description":"Set the task priority.",
        "parameters":{"type":"object","properties":{"level":{"type":"string","enum":["low","medium","high"]}},
        "required":["level"],"additionalProperties":false}}}])");
}

providers::ChatRequest tool_request(const std::string & text = "make it urgent") {
    providers::ChatRequest r;
    r.messages.push_back({"user", text, {}, "", ""});
    r.tools = priority_tools();
    r.tool_choice = "required";
    r.parallel_tool_calls = false;
    r.gen.max_tokens = 200;
    return r;
}

providers::ChatRequest text_request() {
    providers::ChatRequest r;
    r.messages.push_back({"user", "hello", {}, "", ""});
    r.gen.max_tokens = 6;
    return r;
}

int trace_counter = 0;

struct GwSetup {
    double threshold = 0.0;
    double shadow = 0.0;
    bool fallback = true;
    std::string fallback_url;
    int32_t retries = 0;
    bool tracing = true;
    std::string router = "tiny";
    int32_t n_ctx = 2048;
};

GatewayConfig make_config(const GwSetup & s) {
    GatewayConfig g;
    ModelConfig local;
    local.name = "tiny";
    local.path = tiny_path();
    local.n_slots = 2;
    local.n_ctx = s.n_ctx;
    local.n_threads = 1;
    local.max_tokens = 256;
    if (s.router.find(':') != std::string::npos) local.adapters["trained"] = adapter_path();
    g.models.push_back(local);
    g.roles.router = s.router;
    g.roles.responder = "tiny";
    if (s.fallback) {
        ModelConfig cloud;
        cloud.name = "cloud";
        cloud.kind = ModelConfig::Kind::Kind_remote;
        cloud.base_url = s.fallback_url;
        cloud.remote_model = "gpt-test";
        cloud.timeout = std::chrono::milliseconds(5000);
        cloud.retries = s.retries;
        g.models.push_back(cloud);
        g.roles.fallback = "cloud";
    }
    g.router.confidence_threshold = s.threshold;
    g.router.shadow_sample_rate = s.shadow;
    if (s.tracing) g.traces.url = (sy::test::scratch_dir() / ("gw_traces_" + std::to_string(trace_counter++) + ".db")).string();
    return g;
}

FakeReply cloud_call(const std::string & level) {
    FakeReply r;
    r.calls = {{"set_priority", {{"level", level}}}};
    return r;
}

}  // namespace

TEST(Gateway, ConfidentRouterServesLocally) {
    FakeOpenAI cloud([](const ojson &, int) { return cloud_call("high"); });
    GwSetup s;
    s.threshold = 0.0;
    s.fallback_url = cloud.base_url();
    Gateway gw(make_config(s));
    const AgentResult r = gw.chat(tool_request());
    EXPECT_EQ(r.decision.reason, "confident");
    EXPECT_EQ(r.decision.served_by, traces::ServedBy::ServedBy_local);
    EXPECT_EQ(r.decision.model, "tiny");
    EXPECT_EQ(r.decision.router_decision, "set_priority");
    ASSERT_TRUE(r.decision.confidence);
    EXPECT_GT(*r.decision.confidence, 0.0);
    EXPECT_LT(*r.decision.confidence, 1.0);
    EXPECT_TRUE(r.decision.confidence_parts.contains("arguments")) << r.decision.confidence_parts.dump();
    ASSERT_EQ(r.response.message.tool_calls.size(), 1u);
    EXPECT_EQ(r.response.message.tool_calls[0].name, "set_priority");
    EXPECT_EQ(cloud.hits(), 0);
    EXPECT_FALSE(r.trace_id.empty());

    gw.flush_traces();
    const auto t = gw.trace_store()->get(r.trace_id);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->api, "openai.chat");
    EXPECT_EQ(t->model, "tiny");
    EXPECT_EQ(t->router_decision, "set_priority");
    EXPECT_EQ(t->served_by, traces::ServedBy::ServedBy_local);
    EXPECT_EQ(t->served_reason, "confident");
    ASSERT_TRUE(t->confidence);
    EXPECT_DOUBLE_EQ(*t->confidence, *r.decision.confidence);
    ASSERT_EQ(t->messages.size(), 2u);  // the request and the answer
    EXPECT_EQ(t->messages[1]["tool_calls"][0]["function"]["name"], "set_priority");
    EXPECT_EQ(t->tools, priority_tools());
    EXPECT_GT(t->prompt_tokens, 0);
    EXPECT_GT(t->completion_tokens, 0);
    EXPECT_GT(t->cost_cloud_usd, 0.0);
    EXPECT_GT(t->cost_local_usd, 0.0);
    EXPECT_GT(t->latency.total_ms, 0.0);
    EXPECT_TRUE(t->succeeded());

    Metrics & m = gw.metrics();
    EXPECT_EQ(m.value("switchyard_requests_total", {{"api", "openai.chat"}, {"served_by", "local"}, {"reason", "confident"}}), 1.0);
    EXPECT_EQ(m.value("switchyard_router_confidence"), 1.0);
    EXPECT_EQ(m.value("switchyard_tokens_total", {{"direction", "in"}, {"served_by", "local"}}), (double)t->prompt_tokens);
    const std::string text = gw.render_metrics();
    EXPECT_NE(text.find("switchyard_engine_queue_depth{model=\"tiny\"} 0"), std::string::npos) << text;
    EXPECT_NE(text.find("switchyard_traces_dropped_total 0"), std::string::npos) << text;
    EXPECT_NE(text.find("switchyard_router_confidence_bucket{le=\"+Inf\"} 1"), std::string::npos) << text;
    EXPECT_NE(text.find("switchyard_remote_circuit_open{model=\"cloud\"} 0"), std::string::npos) << text;
}

TEST(Gateway, LowConfidenceGoesToTheFallback) {
    FakeOpenAI cloud([](const ojson &, int) { return cloud_call("high"); });
    GwSetup s;
    s.threshold = 1.0;
    s.fallback_url = cloud.base_url();
    Gateway gw(make_config(s));
    const AgentResult r = gw.chat(tool_request());
    EXPECT_EQ(r.decision.reason, "low_confidence");
    EXPECT_EQ(r.decision.served_by, traces::ServedBy::ServedBy_fallback);
    EXPECT_EQ(r.decision.model, "cloud");
    EXPECT_EQ(r.decision.router_decision, "set_priority");  // what the router would have done
    ASSERT_TRUE(r.decision.confidence);
    EXPECT_LT(*r.decision.confidence, 1.0);
    ASSERT_EQ(r.response.message.tool_calls.size(), 1u);
    EXPECT_EQ(r.response.message.tool_calls[0].arguments, (ojson{{"level", "high"}}));
    ASSERT_EQ(cloud.hits(), 1);
    EXPECT_EQ(cloud.bodies()[0]["tools"], priority_tools());  // the fallback gets the same request
    EXPECT_EQ(cloud.bodies()[0]["tool_choice"], "required");
    EXPECT_EQ(gw.metrics().value("switchyard_fallbacks_total", {{"reason", "low_confidence"}}), 1.0);

    gw.flush_traces();
    const auto t = gw.trace_store()->get(r.trace_id);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->served_by, traces::ServedBy::ServedBy_fallback);
    EXPECT_EQ(t->served_reason, "low_confidence");
    EXPECT_EQ(t->model, "cloud");
    EXPECT_EQ(t->prompt_tokens, 11);  // the fallback's usage
    EXPECT_EQ(t->completion_tokens, 7);
    EXPECT_GT(t->cost_local_usd, 0.0);  // the rejected router run
}

TEST(Gateway, FallbackStreamsAfterTheDecision) {
    FakeOpenAI cloud([](const ojson &, int) {
        FakeReply r;
        r.content = "I will set it to high.";
        return r;
    });
    GwSetup s;
    s.threshold = 1.0;
    s.fallback_url = cloud.base_url();
    Gateway gw(make_config(s));
    std::vector<std::string> events;
    RequestOptions opts;
    opts.on_decision = [&](const Decision & d) { events.push_back("decision:" + d.reason + ":" + d.model); };
    std::string streamed;
    const AgentResult r = gw.chat(tool_request(), opts, [&](std::string_view d) {
        events.push_back("delta");
        streamed += d;
        return true;
    });
    ASSERT_GE(events.size(), 2u);
    EXPECT_EQ(events[0], "decision:low_confidence:cloud");  // before the first byte
    EXPECT_EQ(std::count(events.begin(), events.end(), events[0]), 1);
    EXPECT_EQ(streamed, "I will set it to high.");
    EXPECT_EQ(r.response.message.content, streamed);
}

TEST(Gateway, FailedFallbackServesTheLocalAnswer) {
    FakeOpenAI cloud([](const ojson &, int) {
        FakeReply r;
        r.status = 500;
        r.error_message = "cloud is down";
        return r;
    });
    GwSetup s;
    s.threshold = 1.0;
    s.fallback_url = cloud.base_url();
    s.retries = 1;
    Gateway gw(make_config(s));
    const AgentResult r = gw.chat(tool_request());
    EXPECT_EQ(r.decision.reason, "low_confidence_fallback_failed");
    EXPECT_EQ(r.decision.served_by, traces::ServedBy::ServedBy_local);
    ASSERT_EQ(r.response.message.tool_calls.size(), 1u);
    EXPECT_EQ(cloud.hits(), 2);  // its own retry
    EXPECT_EQ(gw.metrics().value("switchyard_fallback_errors_total", {{"reason", "low_confidence"}}), 1.0);
    gw.flush_traces();
    EXPECT_EQ(gw.trace_store()->get(r.trace_id)->served_reason, "low_confidence_fallback_failed");
}

TEST(Gateway, WithoutFallbackLowConfidenceIsServedLocally) {
    GwSetup s;
    s.threshold = 1.0;
    s.fallback = false;
    Gateway gw(make_config(s));
    const AgentResult r = gw.chat(tool_request());
    EXPECT_EQ(r.decision.reason, "low_confidence_no_fallback");
    EXPECT_EQ(r.decision.served_by, traces::ServedBy::ServedBy_local);
}

TEST(Gateway, NoToolsAndToolResultsGoToTheResponder) {
    FakeOpenAI cloud([](const ojson &, int) { return cloud_call("high"); });
    GwSetup s;
    s.threshold = 1.0;
    s.fallback_url = cloud.base_url();
    Gateway gw(make_config(s));
    std::string streamed;
    int decisions = 0;
    RequestOptions opts;
    opts.on_decision = [&](const Decision &) { ++decisions; };
    AgentResult r = gw.chat(text_request(), opts, [&](std::string_view d) {
        streamed += d;
        return true;
    });
    EXPECT_EQ(r.decision.reason, "no_tools");
    EXPECT_EQ(r.decision.served_by, traces::ServedBy::ServedBy_local);
    EXPECT_EQ(r.decision.router_decision, "");
    EXPECT_EQ(streamed, r.response.message.content);
    EXPECT_EQ(decisions, 1);

    providers::ChatRequest tr = tool_request();
    tr.messages.push_back({"assistant", "", {{"call_1", "set_priority", {{"level", "high"}}}}, "", ""});
    tr.messages.push_back({"tool", "{\"ok\":true}", {}, "call_1", "set_priority"});
    tr.tool_choice = "auto";
    r = gw.chat(tr);
    EXPECT_EQ(r.decision.reason, "tool_result");
    EXPECT_EQ(r.decision.served_by, traces::ServedBy::ServedBy_local);

    // tool_choice "none" is a request without tools.
    tr = tool_request();
    tr.tool_choice = "none";
    tr.gen.max_tokens = 4;
    EXPECT_EQ(gw.chat(tr).decision.reason, "no_tools");
    EXPECT_EQ(cloud.hits(), 0);
}

TEST(Gateway, LocalErrorGoesToTheFallback) {
    FakeOpenAI cloud([](const ojson &, int) {
        FakeReply r;
        r.content = "the cloud has a bigger context";
        return r;
    });
    GwSetup s;
    s.fallback_url = cloud.base_url();
    s.n_ctx = 64;
    Gateway gw(make_config(s));
    providers::ChatRequest big = text_request();
    big.messages[0].content = std::string(2000, 'a') + " long";
    AgentResult r = gw.chat(big);
    EXPECT_EQ(r.decision.reason, "local_error");
    EXPECT_EQ(r.decision.served_by, traces::ServedBy::ServedBy_fallback);
    EXPECT_EQ(r.response.message.content, "the cloud has a bigger context");

    providers::ChatRequest bigtools = tool_request(std::string(2000, 'b'));
    r = gw.chat(bigtools);
    EXPECT_EQ(r.decision.reason, "local_error");
    EXPECT_EQ(gw.metrics().value("switchyard_fallbacks_total", {{"reason", "local_error"}}), 2.0);
}

TEST(Gateway, UntrainedToolsGoToTheFallback) {
    FakeOpenAI cloud([](const ojson &, int) { return cloud_call("low"); });
    GwSetup s;
    s.threshold = 0.0;
    s.router = "tiny:trained";  // its adapter declares another tools fingerprint
    s.fallback_url = cloud.base_url();
    Gateway gw(make_config(s));
    AgentResult r = gw.chat(tool_request());
    EXPECT_EQ(r.decision.reason, "untrained_tools");
    EXPECT_EQ(r.decision.served_by, traces::ServedBy::ServedBy_fallback);
    EXPECT_EQ(r.decision.router_decision, "");  // the router did not run
    EXPECT_EQ(cloud.hits(), 1);

    // The same router with the check off answers (confidently, threshold 0), on its adapter.
    GatewayConfig g = make_config(s);
    g.router.check_tools_fingerprint = false;
    Gateway gw2(g);
    r = gw2.chat(tool_request());
    EXPECT_EQ(r.decision.reason, "confident");
    EXPECT_EQ(r.decision.model, "tiny:trained");
    gw2.flush_traces();
    const auto t = gw2.trace_store()->get(r.trace_id);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->model, "tiny");
    EXPECT_EQ(t->adapter, "trained");
}

TEST(Gateway, ShadowRecordsAgreementAfterTheAnswer) {
    std::mutex mu;
    std::string cloud_level = "no-such-level";
    FakeOpenAI cloud([&](const ojson &, int) {
        std::lock_guard lock(mu);
        return cloud_call(cloud_level);
    });
    GwSetup s;
    s.threshold = 0.0;
    s.shadow = 1.0;
    s.fallback_url = cloud.base_url();
    Gateway gw(make_config(s));

    // 1: same tool, other arguments.
    const AgentResult r1 = gw.chat(tool_request());
    EXPECT_EQ(r1.decision.reason, "confident");
    EXPECT_EQ(r1.decision.served_by, traces::ServedBy::ServedBy_local);
    gw.flush_traces();  // waits for the shadow run, then the trace
    EXPECT_EQ(cloud.hits(), 1);
    auto t1 = gw.trace_store()->get(r1.trace_id);
    ASSERT_TRUE(t1);
    ASSERT_TRUE(t1->shadow_agreement);
    EXPECT_FALSE(*t1->shadow_agreement);
    EXPECT_EQ(t1->shadow_result["tool_calls"][0]["function"]["name"], "set_priority");

    // 2: the cloud gives exactly the router's call (greedy decoding repeats it).
    {
        std::lock_guard lock(mu);
        cloud_level = r1.response.message.tool_calls.at(0).arguments.at("level").get<std::string>();
    }
    const AgentResult r2 = gw.chat(tool_request());
    gw.flush_traces();
    auto t2 = gw.trace_store()->get(r2.trace_id);
    ASSERT_TRUE(t2);
    ASSERT_TRUE(t2->shadow_agreement);
    EXPECT_TRUE(*t2->shadow_agreement);

    Metrics & m = gw.metrics();
    EXPECT_EQ(m.value("switchyard_shadow_requests_total", {{"outcome", "compared"}}), 2.0);
    EXPECT_EQ(m.value("switchyard_shadow_agreement_total", {{"kind", "tool"}, {"agree", "true"}}), 2.0);
    EXPECT_EQ(m.value("switchyard_shadow_agreement_total", {{"kind", "exact"}, {"agree", "true"}}), 1.0);
    EXPECT_EQ(m.value("switchyard_shadow_agreement_total", {{"kind", "exact"}, {"agree", "false"}}), 1.0);
    // Nothing but the router's answer went back to the client.
    EXPECT_EQ(r2.decision.served_by, traces::ServedBy::ServedBy_local);
}

TEST(Gateway, ShadowComparison) {
    chat::Message a, b;
    a.tool_calls = {{"1", "f", {{"x", 1}, {"y", "s"}}}, {"2", "g", ojson::object()}};
    b.tool_calls = {{"9", "g", ojson::object()}, {"8", "f", {{"y", "s"}, {"x", 1.0}}}};  // order and key order differ
    ShadowAgreement s = compare_answers(a, b);
    EXPECT_TRUE(s.tool);
    EXPECT_TRUE(s.exact);
    b.tool_calls[1].arguments["x"] = 2;
    s = compare_answers(a, b);
    EXPECT_TRUE(s.tool);
    EXPECT_FALSE(s.exact);
    b.tool_calls.pop_back();
    EXPECT_FALSE(compare_answers(a, b).tool);
    EXPECT_TRUE(compare_answers(chat::Message{}, chat::Message{}).exact);  // both answered in text
}

TEST(Gateway, AgentLoopExecutesToolsOnAllowedHosts) {
    httplib::Server tools_srv;
    std::thread th;
    struct Stop {  // stops the server even when an assertion returns early
        httplib::Server & s;
        std::thread & t;
        ~Stop() {
            s.stop();
            if (t.joinable()) t.join();
        }
    } stop{tools_srv, th};
    std::atomic<int> tool_hits{0};
    tools_srv.Post("/priority", [&](const httplib::Request & req, httplib::Response & res) {
        ++tool_hits;
        res.set_content(ojson{{"ok", true}, {"got", ojson::parse(req.body)}}.dump(), "application/json");
    });
    const int port = tools_srv.bind_to_any_port("127.0.0.1");
    th = std::thread([&] { tools_srv.listen_after_bind(); });
    while (!tools_srv.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

    for (const bool allowed : {true, false}) {
        GwSetup s;
        s.threshold = 0.0;
        s.fallback = false;
        GatewayConfig g = make_config(s);
        ToolConfig t;
        t.name = "set_priority";
        t.parameters = priority_tools()[0]["function"]["parameters"];
        ExecutorConfig e;
        e.method = "POST";
        e.url = "http://127.0.0.1:" + std::to_string(port) + "/priority";
        t.executor = e;
        g.tools.push_back(t);
        g.server.allowed_tool_hosts = {allowed ? "127.0.0.1" : "tools.example.com"};
        g.router.max_agent_steps = 3;
        Gateway gw(g);
        const int before = tool_hits.load();
        RequestOptions opts;
        opts.execute_tools = true;
        opts.api = "agent.chat";
        const AgentResult r = gw.chat(tool_request(), opts);
        EXPECT_GE(r.n_steps, 2);
        EXPECT_LE(r.n_steps, 3);
        ASSERT_GE(r.executed.size(), 2u);
        EXPECT_EQ(r.executed[0].role, "assistant");
        EXPECT_EQ(r.executed[0].tool_calls.at(0).name, "set_priority");
        EXPECT_EQ(r.executed[1].role, "tool");
        EXPECT_EQ(r.executed[1].tool_call_id, r.executed[0].tool_calls[0].id);
        if (allowed) {
            EXPECT_GE(tool_hits.load() - before, 1);
            const ojson result = ojson::parse(r.executed[1].content);
            EXPECT_EQ(result["ok"], true);
            EXPECT_EQ(result["got"], r.executed[0].tool_calls[0].arguments);
        } else {
            EXPECT_EQ(tool_hits.load(), before);  // nothing left the allow-list
            EXPECT_NE(r.executed[1].content.find("not in server.allowed_tool_hosts"), std::string::npos) << r.executed[1].content;
        }
        EXPECT_EQ(gw.metrics().value("switchyard_tool_executions_total", {{"tool", "set_priority"}, {"ok", allowed ? "true" : "false"}}),
                  (double)(r.executed.size() / 2));
        gw.flush_traces();
        const auto tr = gw.trace_store()->get(r.trace_id);
        ASSERT_TRUE(tr);
        EXPECT_EQ(tr->api, "agent.chat");
        EXPECT_EQ(tr->tool_results.size(), r.executed.size() / 2);
        EXPECT_EQ(tr->tool_results[0]["ok"], allowed);
        EXPECT_EQ(tr->messages.size(), 1 + r.executed.size() + 1);  // request, executed turns, final answer
    }
}

TEST(Gateway, ForcedModelAndUnknownModel) {
    FakeOpenAI cloud([](const ojson &, int) {
        FakeReply r;
        r.content = "from the cloud";
        return r;
    });
    GwSetup s;
    s.fallback_url = cloud.base_url();
    Gateway gw(make_config(s));
    RequestOptions opts;
    opts.force_model = "cloud";
    AgentResult r = gw.chat(tool_request(), opts);
    EXPECT_EQ(r.decision.reason, "requested_model");
    EXPECT_EQ(r.decision.served_by, traces::ServedBy::ServedBy_fallback);
    EXPECT_EQ(r.response.message.content, "from the cloud");
    opts.force_model = "gpt-5-ultra";
    try {
        gw.chat(tool_request(), opts);
        FAIL() << "expected an error";
    } catch (const Error & e) {
        EXPECT_EQ(e.kind(), ErrorKind::ErrorKind_invalid_argument);
        EXPECT_NE(std::string(e.what()).find("gpt-5-ultra"), std::string::npos);
    }
    EXPECT_EQ(gw.metrics().value("switchyard_request_errors_total", {{"api", "openai.chat"}, {"kind", "invalid_argument"}}), 1.0);

    // Models: the local model, the remote one and the role aliases.
    std::vector<std::string> ids;
    for (const auto & m : gw.models()) ids.push_back(m.id);
    for (const char * want : {"tiny", "cloud", "router", "responder", "fallback"})
        EXPECT_NE(std::find(ids.begin(), ids.end(), want), ids.end()) << want;
    EXPECT_EQ(gw.provider("fallback"), gw.provider("cloud"));
    EXPECT_EQ(gw.provider("nope"), nullptr);
}

TEST(Gateway, FallbackFailingMidStreamIsAnErrorAndATrace) {
    FakeOpenAI cloud([](const ojson &, int) {
        FakeReply r;
        r.content = "partial answer that breaks";
        r.cut_stream = true;
        return r;
    });
    GwSetup s;
    s.threshold = 1.0;
    s.fallback_url = cloud.base_url();
    s.retries = 2;
    Gateway gw(make_config(s));
    RequestOptions opts;
    opts.trace_id = "feedfacefeedfacefeedfacefeedface";
    std::string got;
    EXPECT_THROW(gw.chat(tool_request(), opts,
                         [&](std::string_view d) {
                             got += d;
                             return true;
                         }),
                 Error);
    EXPECT_FALSE(got.empty());
    EXPECT_EQ(cloud.hits(), 1);  // bytes went out: no retry, no local answer
    gw.flush_traces();
    const auto t = gw.trace_store()->get(opts.trace_id);
    ASSERT_TRUE(t);
    EXPECT_FALSE(t->succeeded());
    EXPECT_NE(t->error.find("unavailable"), std::string::npos) << t->error;
}

TEST(Gateway, Feedback) {
    FakeOpenAI cloud([](const ojson &, int) { return cloud_call("high"); });
    GwSetup s;
    s.fallback_url = cloud.base_url();
    Gateway gw(make_config(s));
    const AgentResult r = gw.chat(tool_request());
    traces::Feedback fb;
    fb.trace_id = r.trace_id;  // possibly still queued: feedback writes pending traces first
    fb.rating = -1;
    fb.corrected = {{"role", "assistant"}, {"content", "should have asked"}};
    gw.feedback(fb);
    const auto t = gw.trace_store()->get(r.trace_id);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->feedback_rating, -1);
    EXPECT_EQ(t->feedback_correction["content"], "should have asked");
    fb.trace_id = "0000";
    EXPECT_THROW(gw.feedback(fb), Error);

    GwSetup off = s;
    off.tracing = false;
    Gateway quiet(make_config(off));
    const AgentResult q = quiet.chat(text_request());
    EXPECT_EQ(q.trace_id, "");
    EXPECT_EQ(quiet.trace_store(), nullptr);
    fb.trace_id = r.trace_id;
    EXPECT_THROW(quiet.feedback(fb), Error);
}

TEST(Gateway, ConcurrentRequests) {
    FakeOpenAI cloud([](const ojson &, int) { return cloud_call("medium"); });
    GwSetup s;
    s.threshold = 0.5;
    s.fallback_url = cloud.base_url();
    Gateway gw(make_config(s));
    std::vector<std::thread> ts;
    std::atomic<int> ok{0};
    for (int i = 0; i < 4; ++i)
        ts.emplace_back([&, i] {
            const AgentResult r = gw.chat(i % 2 ? tool_request() : text_request());
            if (!r.decision.reason.empty()) ++ok;
        });
    for (auto & t : ts) t.join();
    EXPECT_EQ(ok.load(), 4);
    gw.flush_traces();
    EXPECT_EQ(gw.trace_store()->count({}), 4);
}

// The fallback is a second Switchyard: `switchyard serve` on loopback with the tiny model.
TEST(Gateway, SwitchyardServeAsTheFallback) {
    sy::test::ServeProcess remote("-m " + sy::test::tiny_model() + " -c 512 --slots 2");
    GwSetup s;
    s.threshold = 1.0;
    s.fallback_url = remote.url() + "/v1";
    GatewayConfig g = make_config(s);
    g.models[1].remote_model = fs::path(sy::test::tiny_model()).stem().string();
    Gateway gw(g);
    const AgentResult r = gw.chat(tool_request());
    EXPECT_EQ(r.decision.reason, "low_confidence");
    EXPECT_EQ(r.decision.served_by, traces::ServedBy::ServedBy_fallback);
    ASSERT_EQ(r.response.message.tool_calls.size(), 1u);  // the remote Switchyard honoured tool_choice "required"
    EXPECT_EQ(r.response.message.tool_calls[0].name, "set_priority");
    EXPECT_GT(r.response.usage.prompt_tokens, 0);

    std::string streamed;
    const AgentResult st = gw.chat(text_request(), {}, [&](std::string_view d) {
        streamed += d;
        return true;
    });
    EXPECT_EQ(st.decision.reason, "no_tools");  // local responder; the remote is only the fallback
    RequestOptions force;
    force.force_model = "cloud";
    streamed.clear();
    const AgentResult fr = gw.chat(text_request(), force, [&](std::string_view d) {
        streamed += d;
        return true;
    });
    EXPECT_EQ(fr.decision.served_by, traces::ServedBy::ServedBy_fallback);
    EXPECT_EQ(streamed, fr.response.message.content);  // streamed over SSE from the second process
}
