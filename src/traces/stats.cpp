// StatsAccumulator and its JSON/text renderings. Cost model (docs/traces.md):
//   cloud_only      = Σ over all traces  price(cloud_model, prompt, completion)
//   with_switchyard = Σ local traces price(local, ...) + Σ fallback/external traces price(cloud_model, ...)
//   monthly row (V requests) = V × mean tokens per request × (fr × cloud + (1 − fr) × local)
#include "traces/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/error.h"

namespace sy::traces {

StatsAccumulator::StatsAccumulator(PriceTable prices, CostParams cost) : prices_(std::move(prices)), params_(std::move(cost)) {}

void StatsAccumulator::add(const Trace & t) {
    if (t.time_ms > 0) {  // imported logs may carry no time
        if (s_.first_ms == 0 || t.time_ms < s_.first_ms) s_.first_ms = t.time_ms;
        if (t.time_ms > s_.last_ms) s_.last_ms = t.time_ms;
    }
    ++s_.n_traces;
    if (!t.succeeded()) ++s_.n_errors;
    ++s_.by_tool[t.router_decision.empty() ? "unknown" : t.router_decision];
    switch (t.served_by) {
        case ServedBy::ServedBy_local: ++s_.n_local; break;
        case ServedBy::ServedBy_fallback: ++s_.n_fallback; break;
        case ServedBy::ServedBy_external: ++s_.n_external; break;
    }
    if (t.shadow_agreement) {
        ++s_.n_shadow;
        if (*t.shadow_agreement) ++s_.n_shadow_agree;
    }
    if (t.feedback_rating) {
        ++s_.n_feedback;
        rating_sum_ += *t.feedback_rating;
        if (*t.feedback_rating > 0) ++s_.n_feedback_positive;
    }
    s_.prompt_tokens += t.prompt_tokens;
    s_.completion_tokens += t.completion_tokens;
    s_.recorded_cloud_usd += t.cost_cloud_usd;
    s_.recorded_local_usd += t.cost_local_usd;
    if (t.latency.total_ms > 0) latencies_.push_back(t.latency.total_ms);
    if (t.served_by == ServedBy::ServedBy_local) {
        local_prompt_ += t.prompt_tokens;
        local_completion_ += t.completion_tokens;
    } else {
        other_prompt_ += t.prompt_tokens;
        other_completion_ += t.completion_tokens;
    }
}

namespace {
double percentile(std::vector<double> v, double p) {  // nearest rank
    std::sort(v.begin(), v.end());
    const size_t k = (size_t)std::ceil(p * (double)v.size());
    return v[std::min(v.size() - 1, k == 0 ? 0 : k - 1)];
}
}  // namespace

TraceStats StatsAccumulator::stats() const {
    TraceStats s = s_;
    if (s.n_local + s.n_fallback > 0) s.fallback_rate = (double)s.n_fallback / (double)(s.n_local + s.n_fallback);
    if (s.n_shadow > 0) s.shadow_agreement = (double)s.n_shadow_agree / (double)s.n_shadow;
    if (s.n_feedback > 0) s.mean_rating = rating_sum_ / (double)s.n_feedback;
    if (!latencies_.empty()) {
        s.latency_p50_ms = percentile(latencies_, 0.50);
        s.latency_p95_ms = percentile(latencies_, 0.95);
    }
    return s;
}

CostReport StatsAccumulator::cost() const {
    CostReport c;
    c.cloud_model = params_.cloud_model;
    auto cp = prices_.find(params_.cloud_model);
    if (!cp) throw Error(ErrorKind::ErrorKind_invalid_argument, "cost: model '" + params_.cloud_model + "' is not in the price table (add it or pick another with --cloud-model)");
    c.cloud_price = *cp;
    c.local_price = prices_.local;
    const TraceStats s = stats();
    c.fallback_rate = params_.fallback_rate ? *params_.fallback_rate : s.fallback_rate.value_or(0.0);
    c.fallback_rate_assumed = !params_.fallback_rate && !s.fallback_rate;
    c.cloud_only_usd = cost_usd(c.cloud_price, s.prompt_tokens, s.completion_tokens);
    c.with_switchyard_usd = cost_usd(c.local_price, local_prompt_, local_completion_) + cost_usd(c.cloud_price, other_prompt_, other_completion_);
    c.savings_usd = c.cloud_only_usd - c.with_switchyard_usd;
    c.observed_days = s.n_traces ? std::max(1.0, (double)(s.last_ms - s.first_ms) / 86400000.0) : 0.0;

    if (s.n_traces > 0) {
        const double mean_in = (double)s.prompt_tokens / (double)s.n_traces;
        const double mean_out = (double)s.completion_tokens / (double)s.n_traces;
        const double cloud_req = (mean_in * c.cloud_price.input_per_1m + mean_out * c.cloud_price.output_per_1m) / 1e6;
        const double local_req = (mean_in * c.local_price.input_per_1m + mean_out * c.local_price.output_per_1m) / 1e6;
        auto row = [&](int64_t v) {
            CostRow r;
            r.requests_per_month = v;
            r.cloud_only_usd = (double)v * cloud_req;
            r.with_switchyard_usd = (double)v * (c.fallback_rate * cloud_req + (1 - c.fallback_rate) * local_req);
            r.savings_usd = r.cloud_only_usd - r.with_switchyard_usd;
            return r;
        };
        c.monthly.push_back(row((int64_t)std::llround((double)s.n_traces / c.observed_days * 30.0)));
        for (int64_t v : params_.monthly_volumes) c.monthly.push_back(row(v));
    }
    return c;
}

nlohmann::ordered_json stats_to_json(const TraceStats & s) {
    using J = nlohmann::ordered_json;
    auto opt = [](const std::optional<double> & v) { return v ? J(*v) : J(nullptr); };
    J j;
    j["n_traces"] = s.n_traces;
    j["n_errors"] = s.n_errors;
    j["by_tool"] = J::object();
    for (const auto & [k, v] : s.by_tool) j["by_tool"][k] = v;
    j["served_by"] = {{"local", s.n_local}, {"fallback", s.n_fallback}, {"external", s.n_external}};
    j["fallback_rate"] = opt(s.fallback_rate);
    j["shadow"] = {{"n", s.n_shadow}, {"agree", s.n_shadow_agree}, {"agreement", opt(s.shadow_agreement)}};
    j["feedback"] = {{"n", s.n_feedback}, {"positive", s.n_feedback_positive}, {"mean_rating", opt(s.mean_rating)}};
    j["tokens"] = {{"prompt", s.prompt_tokens}, {"completion", s.completion_tokens}};
    j["recorded_cost_usd"] = {{"cloud", s.recorded_cloud_usd}, {"local", s.recorded_local_usd}};
    j["latency_ms"] = {{"p50", opt(s.latency_p50_ms)}, {"p95", opt(s.latency_p95_ms)}};
    j["first_ms"] = s.first_ms;
    j["last_ms"] = s.last_ms;
    return j;
}

nlohmann::ordered_json cost_to_json(const CostReport & c) {
    using J = nlohmann::ordered_json;
    J j;
    j["cloud_model"] = c.cloud_model;
    j["cloud_price_per_1m"] = {{"input", c.cloud_price.input_per_1m}, {"output", c.cloud_price.output_per_1m}};
    j["local_price_per_1m"] = {{"input", c.local_price.input_per_1m}, {"output", c.local_price.output_per_1m}};
    j["fallback_rate"] = c.fallback_rate;
    j["fallback_rate_assumed"] = c.fallback_rate_assumed;
    j["cloud_only_usd"] = c.cloud_only_usd;
    j["with_switchyard_usd"] = c.with_switchyard_usd;
    j["savings_usd"] = c.savings_usd;
    j["observed_days"] = c.observed_days;
    j["monthly"] = J::array();
    for (const auto & r : c.monthly)
        j["monthly"].push_back({{"requests_per_month", r.requests_per_month},
                                {"cloud_only_usd", r.cloud_only_usd},
                                {"with_switchyard_usd", r.with_switchyard_usd},
                                {"savings_usd", r.savings_usd}});
    return j;
}

namespace {
std::string fmt(const char * f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}
std::string pct(const std::optional<double> & v) { return v ? fmt("%.1f%%", *v * 100) : std::string("n/a"); }
}  // namespace

std::string stats_to_text(const TraceStats & s) {
    std::string o;
    o += "traces: " + std::to_string(s.n_traces) + " (" + std::to_string(s.n_errors) + " with errors)\n";
    o += "served by: local " + std::to_string(s.n_local) + ", fallback " + std::to_string(s.n_fallback) + ", external " +
         std::to_string(s.n_external) + "; fallback rate " + pct(s.fallback_rate) + "\n";
    o += "shadow agreement: " + pct(s.shadow_agreement) + " of " + std::to_string(s.n_shadow) + "\n";
    o += "feedback: " + std::to_string(s.n_feedback) + " traces, " + std::to_string(s.n_feedback_positive) + " positive, mean rating " +
         (s.mean_rating ? fmt("%.2f", *s.mean_rating) : std::string("n/a")) + "\n";
    o += "tokens: " + std::to_string(s.prompt_tokens) + " prompt, " + std::to_string(s.completion_tokens) + " completion\n";
    if (s.latency_p50_ms) o += "latency: p50 " + fmt("%.1f", *s.latency_p50_ms) + " ms, p95 " + fmt("%.1f", *s.latency_p95_ms) + " ms\n";
    o += "by tool:\n";
    std::vector<std::pair<std::string, int64_t>> rows(s.by_tool.begin(), s.by_tool.end());
    std::stable_sort(rows.begin(), rows.end(), [](const auto & a, const auto & b) { return a.second > b.second; });
    for (const auto & [k, v] : rows) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "  %-32s %10lld  %5.1f%%\n", k.c_str(), (long long)v, 100.0 * (double)v / (double)std::max<int64_t>(1, s.n_traces));
        o += buf;
    }
    return o;
}

std::string cost_to_text(const CostReport & c) {
    std::string o;
    o += "cost (reference cloud model " + c.cloud_model + ": $" + fmt("%.2f", c.cloud_price.input_per_1m) + " in / $" +
         fmt("%.2f", c.cloud_price.output_per_1m) + " out per 1M tokens; local $" + fmt("%.3f", c.local_price.input_per_1m) + " / $" +
         fmt("%.3f", c.local_price.output_per_1m) + ")\n";
    o += "observed traffic over " + fmt("%.1f", c.observed_days) + " days: all-cloud $" + fmt("%.4f", c.cloud_only_usd) +
         ", with switchyard $" + fmt("%.4f", c.with_switchyard_usd) + ", saved $" + fmt("%.4f", c.savings_usd) + "\n";
    o += "monthly projection at fallback rate " + fmt("%.1f%%", c.fallback_rate * 100) +
         (c.fallback_rate_assumed ? " (no local/fallback traffic observed: assumed; set it with --fallback-rate)" : "") + ":\n";
    o += "  requests/month      all-cloud $   with switchyard $      savings $\n";
    for (size_t i = 0; i < c.monthly.size(); ++i) {
        const auto & r = c.monthly[i];
        char buf[200];
        std::snprintf(buf, sizeof buf, "  %14lld %14.2f %19.2f %14.2f%s\n", (long long)r.requests_per_month, r.cloud_only_usd,
                      r.with_switchyard_usd, r.savings_usd, i == 0 ? "  (observed rate)" : "");
        o += buf;
    }
    return o;
}

}  // namespace sy::traces
