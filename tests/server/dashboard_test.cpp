// The dashboard over real HTTP: the embedded page and its files at / and /dashboard/*, the JSON it polls
// (/admin/dashboard/summary, traces with every filter and paging, one trace, the evaluation report),
// the feedback round trip through POST /v1/feedback, bearer keys, tracing off, and dashboard.enabled false.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <fstream>

#include "server/serve_util.h"

namespace sy::test {
namespace {

namespace fs = std::filesystem;

ojson chat(const std::string & text, bool tools) {
    ojson body = {{"model", "router"},
                  {"messages", ojson::array({{{"role", "user"}, {"content", text}}})},
                  {"max_tokens", 16},
                  {"temperature", 0}};
    if (tools) {
        body["tools"] = small_tools();
        body["parallel_tool_calls"] = false;
        body["max_tokens"] = 64;
    }
    return body;
}

ojson get_json(httplib::Client & c, const std::string & path, int want_status = 200) {
    auto r = c.Get(path.c_str());
    if (!r) throw std::runtime_error("no response for " + path);
    EXPECT_EQ(r->status, want_status) << path << ": " << r->body;
    EXPECT_NE(r->get_header_value("Content-Type").find("application/json"), std::string::npos) << path;
    return ojson::parse(r->body);
}

void write_file(const fs::path & p, const std::string & text) {
    std::ofstream out(p, std::ios::binary);
    out << text;
}

// A server with tracing on, its store in a fresh file.
struct TracedServer {
    fs::path dir;
    std::unique_ptr<ServeProcess> serve;
    explicit TracedServer(const std::string & name, const std::string & extra = "") {
        dir = server_scratch() / name;
        fs::create_directories(dir);
        serve = std::make_unique<ServeProcess>("-m " + tiny_model() + " -c 1024 --traces " + (dir / "traces.db").string() + " " + extra);
    }
};

// Waits until the trace list holds `n` traces (the writer commits in the background).
ojson wait_for_traces(httplib::Client & c, int64_t n) {
    ojson j;
    for (int i = 0; i < 200; ++i) {
        j = get_json(c, "/admin/dashboard/traces?limit=200");
        if (j["total"] == n) return j;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "trace list never reached " << n << ": " << j.dump();
    return j;
}

TEST(Dashboard, ServesEmbeddedPageAndFiles) {
    auto c = default_server().client();
    auto r = c->Get("/");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
    EXPECT_NE(r->body.find("<title>Switchyard</title>"), std::string::npos);
    EXPECT_NE(r->body.find("/dashboard/app.js"), std::string::npos);
    EXPECT_EQ(r->body.find("http://"), std::string::npos) << "the page loads nothing from elsewhere";
    EXPECT_EQ(r->body.find("https://"), std::string::npos);

    auto js = c->Get("/dashboard/app.js");
    ASSERT_TRUE(js);
    ASSERT_EQ(js->status, 200);
    EXPECT_EQ(js->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
    EXPECT_NE(js->body.find("/admin/dashboard/summary"), std::string::npos);
    auto css = c->Get("/dashboard/style.css");
    ASSERT_TRUE(css);
    ASSERT_EQ(css->status, 200);
    EXPECT_EQ(css->get_header_value("Content-Type"), "text/css; charset=utf-8");

    // Revalidation by ETag.
    const std::string etag = js->get_header_value("ETag");
    ASSERT_FALSE(etag.empty());
    auto again = c->Get("/dashboard/app.js", httplib::Headers{{"If-None-Match", etag}});
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 304);
    EXPECT_TRUE(again->body.empty());

    auto missing = c->Get("/dashboard/nope.js");
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->status, 404);
    auto traversal = c->Get("/dashboard/..%2Fserver.cpp");
    ASSERT_TRUE(traversal);
    EXPECT_EQ(traversal->status, 404);
}

TEST(Dashboard, SummaryCountsRequests) {
    TracedServer s("summary");
    auto c = s.serve->client();
    ojson j = get_json(*c, "/admin/dashboard/summary");
    EXPECT_EQ(j["requests"]["total"], 0);
    EXPECT_EQ(j["requests"]["rate_per_s"], 0.0);
    EXPECT_TRUE(j["served_by"]["local_share"].is_null());
    EXPECT_TRUE(j["latency_ms"]["p50"].is_null());
    EXPECT_EQ(j["window_s"], 300);
    EXPECT_EQ(j["threshold"], 0.8);
    EXPECT_EQ(j["tracing"]["enabled"], true);
    EXPECT_EQ(j["tracing"]["backend"], "sqlite");
    EXPECT_EQ(j["confidence"]["bins"].size(), 10u);
    EXPECT_EQ(j["requests"]["series"]["counts"].size(), 60u);
    EXPECT_EQ(j["cost"]["cloud_model"], "gpt-4o");
    EXPECT_EQ(j["cost"]["priced"], true);
    EXPECT_EQ(j["eval_report"], false);

    int with_confidence = 0;
    for (int i = 0; i < 4; ++i) {
        auto r = post_json(*c, "/v1/chat/completions", chat("Create a task number " + std::to_string(i), i % 2 == 0));
        ASSERT_TRUE(r);
        ASSERT_EQ(r->status, 200) << r->body;
        if (!r->get_header_value("X-Switchyard-Confidence").empty()) ++with_confidence;
    }
    auto bad = c->Post("/v1/chat/completions", "{not json", "application/json");  // counted as an error
    ASSERT_TRUE(bad);
    ASSERT_EQ(bad->status, 400);
    ASSERT_TRUE(c->Get("/v1/models"));  // not a model request: not counted

    // The server records a request after its response has gone out, so the client can be faster than the
    // recorder: wait (bounded) until the last one is in.
    for (int tries = 0; tries < 200; ++tries) {
        j = get_json(*c, "/admin/dashboard/summary");
        if (j["requests"]["total"] == 5) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(j["requests"]["total"], 5);
    EXPECT_EQ(j["requests"]["errors"], 1);
    EXPECT_EQ(j["requests"]["in_window"], 5);
    EXPECT_EQ(j["requests"]["last_minute"], 5);
    EXPECT_GT(j["requests"]["rate_per_s"].get<double>(), 0.0);
    int64_t in_series = 0;
    for (const auto & n : j["requests"]["series"]["counts"]) in_series += n.get<int64_t>();
    EXPECT_EQ(in_series, 5);
    EXPECT_EQ(j["served_by"]["local"], 4);
    EXPECT_EQ(j["served_by"]["fallback"], 0);
    EXPECT_EQ(j["served_by"]["local_share"], 1.0);
    EXPECT_EQ(j["latency_ms"]["n"], 4);
    const double p50 = j["latency_ms"]["p50"], p95 = j["latency_ms"]["p95"], p99 = j["latency_ms"]["p99"];
    EXPECT_GT(p50, 0.0);
    EXPECT_LE(p50, p95);
    EXPECT_LE(p95, p99);
    EXPECT_EQ(j["confidence"]["n"], with_confidence);
    int64_t in_bins = 0;
    for (const auto & n : j["confidence"]["bins"]) in_bins += n.get<int64_t>();
    EXPECT_EQ(in_bins, with_confidence);
    int64_t in_reasons = 0;
    for (const auto & [k, v] : j["reasons"].items()) in_reasons += v.get<int64_t>();
    EXPECT_EQ(in_reasons, 4);
    EXPECT_GT(j["cost"]["tokens"]["local"]["in"].get<int64_t>(), 0);
    EXPECT_GT(j["cost"]["saved_usd"].get<double>(), 0.0);
    EXPECT_GT(j["cost"]["cloud_only_per_1k_usd"].get<double>(), j["cost"]["with_switchyard_per_1k_usd"].get<double>());
    EXPECT_TRUE(j["shadow"]["exact_agreement"].is_null());

    // window: a number of seconds, 0 = everything kept; bad values are a 400 naming the parameter.
    EXPECT_EQ(get_json(*c, "/admin/dashboard/summary?window=0")["requests"]["in_window"], 5);
    ojson e = get_json(*c, "/admin/dashboard/summary?window=soon", 400);
    EXPECT_EQ(e["error"]["param"], "window");
    e = get_json(*c, "/admin/dashboard/summary?window=-5", 400);
    EXPECT_EQ(e["error"]["param"], "window");
}

TEST(Dashboard, TraceBrowserFiltersPagesAndFeedback) {
    TracedServer s("traces");
    auto c = s.serve->client();
    std::vector<std::string> ids;
    const char * texts[] = {"Plan the zebra picnic", "Water the plants", "Call the plumber", "Buy ZEBRA stripes paint"};
    for (int i = 0; i < 4; ++i) {
        auto r = post_json(*c, "/v1/chat/completions", chat(texts[i], i < 2));
        ASSERT_TRUE(r);
        ASSERT_EQ(r->status, 200) << r->body;
        ids.push_back(r->get_header_value("X-Switchyard-Trace-Id"));
        ASSERT_FALSE(ids.back().empty());
        std::this_thread::sleep_for(std::chrono::milliseconds(3));  // distinct arrival times
    }
    ojson all = wait_for_traces(*c, 4);
    ASSERT_EQ(all["traces"].size(), 4u);
    // Newest first, with previews.
    EXPECT_EQ(all["traces"][0]["id"], ids[3]);
    EXPECT_EQ(all["traces"][3]["id"], ids[0]);
    EXPECT_EQ(all["traces"][3]["request"], "Plan the zebra picnic");
    EXPECT_EQ(all["traces"][0]["served_by"], "local");
    for (const char * key : {"time_ms", "model", "router_decision", "confidence", "served_reason", "latency_ms", "feedback_rating", "answer"})
        EXPECT_TRUE(all["traces"][0].contains(key)) << key;
    const std::string model = all["traces"][0]["model"];
    const std::string tool = all["traces"][3]["router_decision"];

    // Paging.
    ojson page = get_json(*c, "/admin/dashboard/traces?limit=2&offset=1");
    EXPECT_EQ(page["total"], 4);
    ASSERT_EQ(page["traces"].size(), 2u);
    EXPECT_EQ(page["traces"][0]["id"], ids[2]);
    EXPECT_EQ(page["traces"][1]["id"], ids[1]);
    EXPECT_EQ(get_json(*c, "/admin/dashboard/traces?offset=10")["traces"].size(), 0u);

    // Filters.
    auto total = [&](const std::string & query) { return get_json(*c, "/admin/dashboard/traces?" + query)["total"].get<int64_t>(); };
    EXPECT_EQ(total("served_by=local"), 4);
    EXPECT_EQ(total("served_by=fallback"), 0);
    EXPECT_EQ(total("model=" + model), 4);
    EXPECT_EQ(total("model=nobody"), 0);
    EXPECT_GE(total("tool=" + tool), 1);
    EXPECT_EQ(total("q=zebra"), 2);  // case-insensitive
    EXPECT_EQ(total("q=plumber"), 1);
    EXPECT_EQ(total("q=100%25"), 0);  // LIKE wildcards in the needle are literal
    EXPECT_EQ(total("since=" + std::to_string(all["traces"][1]["time_ms"].get<int64_t>())), 2);
    EXPECT_EQ(total("until=" + std::to_string(all["traces"][3]["time_ms"].get<int64_t>())), 0);
    EXPECT_EQ(total("errors=hide"), 4);
    EXPECT_EQ(total("feedback=without"), 4);
    EXPECT_EQ(total("feedback=with"), 0);

    // Feedback through the ordinary route, seen by the browser.
    auto fb = post_json(*c, "/v1/feedback", {{"trace_id", ids[1]}, {"rating", 1}});
    ASSERT_TRUE(fb);
    ASSERT_EQ(fb->status, 200) << fb->body;
    fb = post_json(*c, "/v1/feedback", {{"trace_id", ids[2]}, {"rating", -1}, {"corrected", {{"role", "assistant"}, {"content", "fixed"}}}});
    ASSERT_TRUE(fb);
    ASSERT_EQ(fb->status, 200) << fb->body;
    EXPECT_EQ(total("feedback=with"), 2);
    EXPECT_EQ(total("feedback=without"), 2);
    EXPECT_EQ(total("feedback=positive"), 1);
    const ojson rated = get_json(*c, "/admin/dashboard/traces?feedback=positive")["traces"][0];
    EXPECT_EQ(rated["id"], ids[1]);
    EXPECT_EQ(rated["feedback_rating"], 1);

    // One trace, whole.
    const ojson t = get_json(*c, "/admin/dashboard/traces/" + ids[2]);
    EXPECT_EQ(t["id"], ids[2]);
    EXPECT_EQ(t["feedback_rating"], -1);
    EXPECT_EQ(t["feedback_correction"]["content"], "fixed");
    ASSERT_TRUE(t["messages"].is_array());
    EXPECT_EQ(t["messages"][0]["content"], "Call the plumber");
    EXPECT_EQ(get_json(*c, "/admin/dashboard/summary")["tracing"]["feedback"], 2);

    // Bad parameters: 400 naming them; an unknown id: 404.
    for (const char * q : {"limit=0", "limit=201", "limit=x", "offset=-1", "since=yesterday", "served_by=cloud", "feedback=maybe", "errors=some"}) {
        const ojson e = get_json(*c, std::string("/admin/dashboard/traces?") + q, 400);
        const std::string param = std::string(q).substr(0, std::string(q).find('='));
        EXPECT_EQ(e["error"]["param"], param) << q;
    }
    const ojson nf = get_json(*c, "/admin/dashboard/traces/does-not-exist", 404);
    EXPECT_EQ(nf["error"]["code"], "trace_not_found");
}

TEST(Dashboard, TracingOffIsAClearError) {
    auto c = default_server().client();
    const ojson j = get_json(*c, "/admin/dashboard/summary");
    EXPECT_EQ(j["tracing"]["enabled"], false);
    const ojson e = get_json(*c, "/admin/dashboard/traces", 400);
    EXPECT_NE(e["error"]["message"].get<std::string>().find("tracing is off"), std::string::npos);
    get_json(*c, "/admin/dashboard/traces/abc", 400);
}

TEST(Dashboard, BearerKeysGuardTheData) {
    ServeProcess s("-m " + tiny_model() + " -c 256 --api-key-env SY_DASH_KEY", "SY_DASH_KEY=sekrit");
    auto c = s.client();
    auto page = c->Get("/");
    ASSERT_TRUE(page);
    EXPECT_EQ(page->status, 200) << "the page itself holds no data";
    auto js = c->Get("/dashboard/app.js");
    ASSERT_TRUE(js);
    EXPECT_EQ(js->status, 200);
    for (const char * path : {"/admin/dashboard/summary", "/admin/dashboard/traces", "/admin/dashboard/eval"}) {
        auto r = c->Get(path);
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 401) << path;
        auto ok = c->Get(path, httplib::Headers{{"Authorization", "Bearer sekrit"}});
        ASSERT_TRUE(ok);
        EXPECT_NE(ok->status, 401) << path;
    }
}

TEST(Dashboard, EvalReportNewestInFolder) {
    const fs::path dir = server_scratch() / "reports";
    fs::create_directories(dir);
    write_file(dir / "old.json", R"({"n_examples": 10, "tool_selection_accuracy": 0.5})");
    write_file(dir / "new.json", R"({"n_examples": 20, "tool_selection_accuracy": 0.975, "run": {"model": "r.gguf"}})");
    write_file(dir / "new.html", "<html><body>full report</body></html>");
    write_file(dir / "notes.txt", "not a report");
    const auto now = fs::file_time_type::clock::now();
    fs::last_write_time(dir / "old.json", now - std::chrono::hours(2));
    fs::last_write_time(dir / "new.json", now - std::chrono::hours(1));

    ServeProcess s("-m " + tiny_model() + " -c 256 --eval-report " + dir.string());
    auto c = s.client();
    ojson j = get_json(*c, "/admin/dashboard/eval");
    EXPECT_EQ(j["configured"], true);
    EXPECT_EQ(j["file"], "new.json");
    EXPECT_EQ(j["html"], true);
    EXPECT_EQ(j["report"]["tool_selection_accuracy"], 0.975);
    EXPECT_TRUE(j["message"].is_null());
    EXPECT_EQ(get_json(*c, "/admin/dashboard/summary")["eval_report"], true);
    auto html = c->Get("/admin/dashboard/eval.html");
    ASSERT_TRUE(html);
    EXPECT_EQ(html->status, 200);
    EXPECT_NE(html->body.find("full report"), std::string::npos);

    // A newer broken report: shown as a message, never a crash or a 5xx.
    write_file(dir / "broken.json", "{\"n_examples\": ");
    fs::last_write_time(dir / "broken.json", now);
    j = get_json(*c, "/admin/dashboard/eval");
    EXPECT_EQ(j["file"], "broken.json");
    EXPECT_TRUE(j["report"].is_null());
    EXPECT_NE(j["message"].get<std::string>().find("not a valid evaluation report"), std::string::npos);
    auto no_html = c->Get("/admin/dashboard/eval.html");
    ASSERT_TRUE(no_html);
    EXPECT_EQ(no_html->status, 404);
}

TEST(Dashboard, EvalReportNotConfiguredOrMissing) {
    auto c = default_server().client();
    ojson j = get_json(*c, "/admin/dashboard/eval");
    EXPECT_EQ(j["configured"], false);
    EXPECT_TRUE(j["report"].is_null());
    EXPECT_NE(j["message"].get<std::string>().find("--eval-report"), std::string::npos);

    ServeProcess s("-m " + tiny_model() + " -c 256 --eval-report " + (server_scratch() / "nowhere.json").string());
    j = get_json(*s.client(), "/admin/dashboard/eval");
    EXPECT_EQ(j["configured"], true);
    EXPECT_TRUE(j["report"].is_null());
    EXPECT_NE(j["message"].get<std::string>().find("no evaluation report found"), std::string::npos);
}

TEST(Dashboard, DisabledInConfig) {
    const fs::path dir = server_scratch() / "disabled";
    fs::create_directories(dir);
    write_file(dir / "gw.yaml", "models:\n  tiny:\n    path: " + tiny_model() + "\n    n_ctx: 256\ndashboard:\n  enabled: false\n");
    ServeProcess s("--config " + (dir / "gw.yaml").string());
    auto c = s.client();
    auto r = c->Get("/");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body.find("<html"), std::string::npos);
    auto d = c->Get("/admin/dashboard/summary");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->status, 404);
}

}  // namespace
}  // namespace sy::test
