// Cost per 1,000 requests (see cost.h).
#include "eval/cost.h"

namespace sy::eval {

CostSummary compute_cost(const Metrics & m, int64_t n_answered, const CostParams & params) {
    CostSummary c;
    c.n_requests = n_answered;
    c.price_table_taken = params.prices.taken;
    c.cloud_model = params.cloud_model;
    if (n_answered > 0) {
        c.mean_prompt_tokens = (double)m.prompt_tokens / (double)n_answered;
        c.mean_completion_tokens = (double)m.completion_tokens / (double)n_answered;
    }
    auto per_1k = [&](const traces::ModelPrice & p) {
        return 1000.0 * (c.mean_prompt_tokens * p.input_per_1m + c.mean_completion_tokens * p.output_per_1m) / 1e6;
    };
    if (params.local) {
        c.priced_as = "local estimate";
        c.price = params.prices.local;
    } else if (auto p = params.prices.find(params.model)) {
        c.priced_as = params.model;
        c.price = *p;
    }
    if (c.price) c.per_1k_usd = per_1k(*c.price);
    c.cloud_price = params.prices.find(params.cloud_model);
    if (c.cloud_price) c.cloud_per_1k_usd = per_1k(*c.cloud_price);
    if (params.local && c.per_1k_usd && c.cloud_per_1k_usd && m.recommended) {
        c.routed_coverage = m.recommended->coverage;
        c.routed_per_1k_usd = *c.per_1k_usd + (1.0 - m.recommended->coverage) * *c.cloud_per_1k_usd;
        c.savings_per_1k_usd = *c.cloud_per_1k_usd - *c.routed_per_1k_usd;
    } else if (!params.local && c.per_1k_usd && c.cloud_per_1k_usd) {
        c.savings_per_1k_usd = *c.cloud_per_1k_usd - *c.per_1k_usd;
    }
    return c;
}

}  // namespace sy::eval
