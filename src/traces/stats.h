// Traffic statistics over traces (counts by tool, fallback rate, shadow agreement, feedback, latency,
// tokens) and the cost report: what the observed traffic costs with every request on the cloud model,
// what it costs with Switchyard (local, fallback at the cloud price), the savings, and a monthly
// projection at the observed fallback rate. Accumulates one trace at a time (a store scan never needs all
// traces in memory).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "traces/prices.h"
#include "traces/trace.h"

namespace sy::traces {

struct TraceStats {
    int64_t n_traces = 0;
    int64_t n_errors = 0;
    std::map<std::string, int64_t> by_tool;  // router_decision ("none" = direct reply, "" → "unknown")
    int64_t n_local = 0, n_fallback = 0, n_external = 0;
    std::optional<double> fallback_rate;     // fallback / (local + fallback); unset without gateway traffic
    int64_t n_shadow = 0, n_shadow_agree = 0;
    std::optional<double> shadow_agreement;  // agree / with a shadow result
    int64_t n_feedback = 0;                  // traces with feedback
    int64_t n_feedback_positive = 0;         // latest rating > 0
    std::optional<double> mean_rating;
    int64_t prompt_tokens = 0, completion_tokens = 0;
    double recorded_cloud_usd = 0, recorded_local_usd = 0;  // as the gateway recorded them
    std::optional<double> latency_p50_ms, latency_p95_ms;   // total latency of traces that have one
    int64_t first_ms = 0, last_ms = 0;     // over traces with a time (time_ms > 0); 0 when none
};

struct CostParams {
    std::string cloud_model = "gpt-4o";     // the reference model all traffic would go to without Switchyard
    std::optional<double> fallback_rate;    // overrides the observed rate for the projection
    std::vector<int64_t> monthly_volumes = {100000, 1000000, 10000000};  // requests/month rows besides the observed one
};

struct CostRow {
    int64_t requests_per_month = 0;
    double cloud_only_usd = 0;
    double with_switchyard_usd = 0;
    double savings_usd = 0;
};

struct CostReport {
    std::string cloud_model;
    ModelPrice cloud_price, local_price;
    double fallback_rate = 0;              // used for the projection
    bool fallback_rate_assumed = false;    // neither given nor observed (0 used)
    double cloud_only_usd = 0;             // observed traffic, every request at the cloud price
    double with_switchyard_usd = 0;        // local at the local price; fallback/external at the cloud price
    double savings_usd = 0;
    double observed_days = 0;
    std::vector<CostRow> monthly;          // first row: the observed traffic rate
};

class StatsAccumulator {
public:
    explicit StatsAccumulator(PriceTable prices = default_price_table(), CostParams cost = {});
    void add(const Trace & t);
    TraceStats stats() const;
    CostReport cost() const;  // throws sy::Error when cost.cloud_model is not in the price table

private:
    PriceTable prices_;
    CostParams params_;
    TraceStats s_;
    std::vector<double> latencies_;
    double rating_sum_ = 0;
    int64_t local_prompt_ = 0, local_completion_ = 0, other_prompt_ = 0, other_completion_ = 0;
};

nlohmann::ordered_json stats_to_json(const TraceStats & s);
nlohmann::ordered_json cost_to_json(const CostReport & c);
std::string stats_to_text(const TraceStats & s);
std::string cost_to_text(const CostReport & c);

}  // namespace sy::traces
