// Cost of the evaluated model per 1,000 requests, from the tokens the run used and the price table
// (traces/prices.h): a remote model at its own list price, a local model at the table's local estimate.
// Beside it, the same traffic on a reference cloud model, and for a local router the blended cost of
// routing at the recommended threshold: the router runs on every request and the share it is not
// confident about (1 - coverage) is sent to the cloud model as well.
#pragma once

#include <optional>
#include <string>

#include "eval/metrics.h"
#include "traces/prices.h"

namespace sy::eval {

struct CostParams {
    traces::PriceTable prices = traces::default_price_table();
    std::string model;                    // the evaluated model's name (price lookup for a remote model)
    bool local = false;
    std::string cloud_model = "gpt-4o";   // reference for the comparison
};

struct CostSummary {
    int64_t n_requests = 0;               // answered requests the token counts come from
    double mean_prompt_tokens = 0, mean_completion_tokens = 0;
    std::string priced_as;                // "local estimate" or the price-table key that matched
    std::optional<traces::ModelPrice> price;
    std::optional<double> per_1k_usd;     // the evaluated model; absent when a remote model has no price
    std::string cloud_model;
    std::optional<traces::ModelPrice> cloud_price;
    std::optional<double> cloud_per_1k_usd;    // the same tokens at the reference cloud price
    std::optional<double> routed_coverage;     // local only: coverage at the recommended threshold
    std::optional<double> routed_per_1k_usd;   // local on every request + (1 - coverage) * cloud
    std::optional<double> savings_per_1k_usd;  // cloud - routed (local) or cloud - evaluated (remote)
    std::string price_table_taken;
};

// Per 1k requests: 1000 * cost_usd(price, mean prompt tokens, mean completion tokens).
CostSummary compute_cost(const Metrics & m, int64_t n_answered, const CostParams & params);

}  // namespace sy::eval
