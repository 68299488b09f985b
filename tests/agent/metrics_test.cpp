// Metrics rendering in the Prometheus text format: HELP/TYPE lines, label order and escaping, cumulative
// histogram buckets with le="+Inf", _sum and _count, *_fn metrics, and concurrent updates.
#include <gtest/gtest.h>

#include <thread>

#include "agent/metrics.h"

using namespace sy::agent;

namespace {

bool has_line(const std::string & text, const std::string & line) {
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST(Metrics, CounterAndGauge) {
    Metrics m;
    m.counter("switchyard_requests_total", "Requests answered");
    m.gauge("switchyard_queue", "Queue depth");
    m.inc("switchyard_requests_total", {{"api", "openai.chat"}, {"served_by", "local"}});
    m.inc("switchyard_requests_total", {{"api", "openai.chat"}, {"served_by", "local"}}, 2);
    m.inc("switchyard_requests_total", {{"api", "ollama.chat"}, {"served_by", "fallback"}});
    m.set("switchyard_queue", {}, 7);
    m.set("switchyard_queue", {}, 3.5);
    const std::string r = m.render();
    EXPECT_TRUE(has_line(r, "# HELP switchyard_requests_total Requests answered")) << r;
    EXPECT_TRUE(has_line(r, "# TYPE switchyard_requests_total counter")) << r;
    EXPECT_TRUE(has_line(r, "switchyard_requests_total{api=\"openai.chat\",served_by=\"local\"} 3")) << r;
    EXPECT_TRUE(has_line(r, "switchyard_requests_total{api=\"ollama.chat\",served_by=\"fallback\"} 1")) << r;
    EXPECT_TRUE(has_line(r, "# TYPE switchyard_queue gauge")) << r;
    EXPECT_TRUE(has_line(r, "switchyard_queue 3.5")) << r;
    EXPECT_EQ(m.value("switchyard_requests_total", {{"api", "openai.chat"}, {"served_by", "local"}}), 3.0);
    EXPECT_EQ(m.value("switchyard_requests_total", {{"api", "nope"}}), 0.0);
}

TEST(Metrics, HistogramBucketsAreCumulative) {
    Metrics m;
    m.histogram("lat_seconds", "Latency", {0.5, 0.125, 1.0});  // unsorted on purpose
    for (double v : {0.0625, 0.125, 0.25, 0.75, 2.0}) m.observe("lat_seconds", {{"api", "a"}}, v);
    const std::string r = m.render();
    EXPECT_TRUE(has_line(r, "# TYPE lat_seconds histogram")) << r;
    EXPECT_TRUE(has_line(r, "lat_seconds_bucket{api=\"a\",le=\"0.125\"} 2")) << r;  // le is inclusive: 0.125 counts
    EXPECT_TRUE(has_line(r, "lat_seconds_bucket{api=\"a\",le=\"0.5\"} 3")) << r;
    EXPECT_TRUE(has_line(r, "lat_seconds_bucket{api=\"a\",le=\"1\"} 4")) << r;
    EXPECT_TRUE(has_line(r, "lat_seconds_bucket{api=\"a\",le=\"+Inf\"} 5")) << r;
    EXPECT_TRUE(has_line(r, "lat_seconds_sum{api=\"a\"} 3.1875")) << r;
    EXPECT_TRUE(has_line(r, "lat_seconds_count{api=\"a\"} 5")) << r;
    EXPECT_EQ(m.value("lat_seconds", {{"api", "a"}}), 5.0);
    // Bucket lines come in increasing le order, +Inf last.
    EXPECT_LT(r.find("le=\"0.125\""), r.find("le=\"0.5\""));
    EXPECT_LT(r.find("le=\"1\""), r.find("le=\"+Inf\""));
}

TEST(Metrics, HistogramWithoutLabels) {
    Metrics m;
    m.histogram("conf", "Confidence", {0.5, 1});
    m.observe("conf", {}, 0.9);
    const std::string r = m.render();
    EXPECT_TRUE(has_line(r, "conf_bucket{le=\"0.5\"} 0")) << r;
    EXPECT_TRUE(has_line(r, "conf_bucket{le=\"1\"} 1")) << r;
    EXPECT_TRUE(has_line(r, "conf_bucket{le=\"+Inf\"} 1")) << r;
    EXPECT_TRUE(has_line(r, "conf_sum 0.9")) << r;
    EXPECT_TRUE(has_line(r, "conf_count 1")) << r;
}

TEST(Metrics, EscapesLabelValuesAndHelp) {
    Metrics m;
    m.counter("c_total", "Help with \\ backslash\nand newline");
    m.inc("c_total", {{"reason", "a \"quoted\" \\ value\nnext"}});
    const std::string r = m.render();
    EXPECT_TRUE(has_line(r, "# HELP c_total Help with \\\\ backslash\\nand newline")) << r;
    EXPECT_TRUE(has_line(r, "c_total{reason=\"a \\\"quoted\\\" \\\\ value\\nnext\"} 1")) << r;
}

TEST(Metrics, FunctionsAreReadAtRenderTime) {
    Metrics m;
    double dropped = 0;
    m.counter_fn("dropped_total", "Dropped", [&] { return dropped; });
    m.gauge_fn("depth", "Depth", [] { return 4.0; });
    dropped = 12;
    const std::string r = m.render();
    EXPECT_TRUE(has_line(r, "# TYPE dropped_total counter")) << r;
    EXPECT_TRUE(has_line(r, "dropped_total 12")) << r;
    EXPECT_TRUE(has_line(r, "# TYPE depth gauge")) << r;
    EXPECT_TRUE(has_line(r, "depth 4")) << r;
    EXPECT_EQ(m.value("dropped_total"), 12.0);
}

TEST(Metrics, ConcurrentIncrementsAreNotLost) {
    Metrics m;
    m.counter("n_total", "N");
    m.histogram("h", "H", {1});
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t)
        ts.emplace_back([&] {
            for (int i = 0; i < 10000; ++i) {
                m.inc("n_total", {{"k", "v"}});
                m.observe("h", {}, 0.5);
            }
        });
    for (auto & t : ts) t.join();
    EXPECT_EQ(m.value("n_total", {{"k", "v"}}), 40000.0);
    EXPECT_EQ(m.value("h"), 40000.0);
}
