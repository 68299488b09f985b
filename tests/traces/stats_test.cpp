// Stats and cost on a hand-checked set of four traces, and the price table (lookup, JSON, shipped file).
#include <gtest/gtest.h>

#include "common/error.h"
#include "traces/stats.h"

namespace sy::traces {
namespace {

Trace make(ServedBy by, const char * decision, int64_t in, int64_t out, int64_t time_ms) {
    Trace t;
    t.served_by = by;
    t.router_decision = decision;
    t.prompt_tokens = in;
    t.completion_tokens = out;
    t.time_ms = time_ms;
    return t;
}

PriceTable test_prices() {
    PriceTable p;
    p.local = {0.1, 0.1};
    p.models["m"] = {2.0, 10.0};
    return p;
}

TEST(TraceStats, HandChecked) {
    const int64_t day = 86400000;
    Trace a = make(ServedBy::ServedBy_local, "get_weather", 1000, 100, day);
    a.shadow_agreement = true;
    a.feedback_rating = 5;
    a.latency.total_ms = 100;
    Trace b = make(ServedBy::ServedBy_local, "none", 2000, 200, 2 * day);
    b.shadow_agreement = false;
    b.latency.total_ms = 200;
    Trace c = make(ServedBy::ServedBy_fallback, "get_weather", 1000, 100, 3 * day);
    c.error = "timeout";
    c.latency.total_ms = 300;
    Trace d = make(ServedBy::ServedBy_fallback, "book", 4000, 600, 3 * day);
    d.feedback_rating = -1;

    CostParams cp;
    cp.cloud_model = "m";
    cp.monthly_volumes = {100000};
    StatsAccumulator acc(test_prices(), cp);
    for (const auto * t : {&a, &b, &c, &d}) acc.add(*t);
    const TraceStats s = acc.stats();
    EXPECT_EQ(s.n_traces, 4);
    EXPECT_EQ(s.n_errors, 1);
    EXPECT_EQ(s.by_tool.at("get_weather"), 2);
    EXPECT_EQ(s.by_tool.at("none"), 1);
    EXPECT_EQ(s.by_tool.at("book"), 1);
    EXPECT_DOUBLE_EQ(*s.fallback_rate, 0.5);
    EXPECT_DOUBLE_EQ(*s.shadow_agreement, 0.5);
    EXPECT_EQ(s.n_feedback, 2);
    EXPECT_EQ(s.n_feedback_positive, 1);
    EXPECT_DOUBLE_EQ(*s.mean_rating, 2.0);
    EXPECT_EQ(s.prompt_tokens, 8000);
    EXPECT_EQ(s.completion_tokens, 1000);
    EXPECT_DOUBLE_EQ(*s.latency_p50_ms, 200);  // nearest rank over {100, 200, 300}
    EXPECT_DOUBLE_EQ(*s.latency_p95_ms, 300);

    const CostReport r = acc.cost();
    EXPECT_NEAR(r.cloud_only_usd, 0.026, 1e-12);          // (8000·2 + 1000·10) / 1e6
    EXPECT_NEAR(r.with_switchyard_usd, 0.01733, 1e-12);   // local (3000+300)·0.1/1e6 + cloud (5000·2 + 700·10)/1e6
    EXPECT_NEAR(r.savings_usd, 0.00867, 1e-12);
    EXPECT_DOUBLE_EQ(r.observed_days, 2.0);
    ASSERT_EQ(r.monthly.size(), 2u);
    EXPECT_EQ(r.monthly[0].requests_per_month, 60);       // 4 requests / 2 days · 30
    EXPECT_NEAR(r.monthly[0].cloud_only_usd, 0.39, 1e-12);
    EXPECT_NEAR(r.monthly[0].with_switchyard_usd, 0.20175, 1e-12);
    EXPECT_EQ(r.monthly[1].requests_per_month, 100000);
    EXPECT_NEAR(r.monthly[1].cloud_only_usd, 650.0, 1e-9);     // 100000 · (2000·2 + 250·10)/1e6
    EXPECT_NEAR(r.monthly[1].with_switchyard_usd, 336.25, 1e-9);
    EXPECT_NEAR(r.monthly[1].savings_usd, 313.75, 1e-9);

    const auto j = cost_to_json(r);
    EXPECT_EQ(j["monthly"][1]["requests_per_month"], 100000);
    EXPECT_NE(cost_to_text(r).find("(observed rate)"), std::string::npos);
    EXPECT_EQ(stats_to_json(s)["by_tool"]["get_weather"], 2);

    CostParams unknown;
    unknown.cloud_model = "nope";
    StatsAccumulator bad(test_prices(), unknown);
    EXPECT_THROW(bad.cost(), Error);
}

TEST(PriceTable, PrefixLookupAndJson) {
    const PriceTable d = default_price_table();
    EXPECT_DOUBLE_EQ(d.find("gpt-4o-2024-08-06")->input_per_1m, 2.50);
    EXPECT_DOUBLE_EQ(d.find("gpt-4o-mini-2024-07-18")->input_per_1m, 0.15);  // longest prefix wins
    EXPECT_FALSE(d.find("llama-3-8b").has_value());
    const PriceTable back = price_table_from_json(price_table_to_json(d));
    EXPECT_EQ(back.models.size(), d.models.size());
    EXPECT_DOUBLE_EQ(back.find("claude-3-5-sonnet")->output_per_1m, 15.0);
    EXPECT_THROW(price_table_from_json(nlohmann::ordered_json::parse(R"({"models": {"x": {"input_per_1m": -1, "output_per_1m": 1}}})")), Error);
    // The shipped example file parses and matches the built-in defaults.
    const PriceTable file = load_price_table(std::string(SY_SOURCE_DIR) + "/examples/prices.json");
    EXPECT_EQ(price_table_to_json(file), price_table_to_json(d));
    EXPECT_DOUBLE_EQ(cost_usd({2.5, 10}, 1000000, 500000), 7.5);
}

}  // namespace
}  // namespace sy::traces

namespace sy::traces {
namespace {
TEST(TraceStats, TimelessTracesDoNotStretchTheSpan) {
    StatsAccumulator acc(test_prices(), {.cloud_model = "m"});
    acc.add(make(ServedBy::ServedBy_external, "none", 10, 1, 0));  // imported without a time
    acc.add(make(ServedBy::ServedBy_external, "none", 10, 1, 5 * 86400000LL));
    acc.add(make(ServedBy::ServedBy_external, "none", 10, 1, 8 * 86400000LL));
    const auto s = acc.stats();
    EXPECT_EQ(s.first_ms, 5 * 86400000LL);
    const auto c = acc.cost();
    EXPECT_DOUBLE_EQ(c.observed_days, 3.0);
    EXPECT_EQ(c.monthly[0].requests_per_month, 30);  // 3 requests / 3 days · 30
    EXPECT_TRUE(c.fallback_rate_assumed);
    EXPECT_DOUBLE_EQ(c.with_switchyard_usd, c.cloud_only_usd);  // external traffic is cloud traffic
}
}  // namespace
}  // namespace sy::traces
