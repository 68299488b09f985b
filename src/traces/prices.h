// The price table: $ per 1M input and output tokens per cloud model, plus the local cost estimate, read
// from an editable JSON file (examples/prices.json) or the built-in defaults (dated and sourced in
// docs/traces.md). Lookup is exact, then the longest table key that the model name starts with
// ("gpt-4o-2024-08-06" → "gpt-4o", "gpt-4o-mini-2024-07-18" → "gpt-4o-mini").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace sy::traces {

struct ModelPrice {
    double input_per_1m = 0;   // USD per 1M prompt tokens
    double output_per_1m = 0;  // USD per 1M completion tokens
};

struct PriceTable {
    std::string taken;   // when the prices were read, e.g. "2025-06-01"
    std::string source;  // where from
    ModelPrice local;    // estimated cost of a local request (power, amortised hardware) per 1M tokens
    std::map<std::string, ModelPrice> models;

    std::optional<ModelPrice> find(const std::string & model) const;
};

double cost_usd(const ModelPrice & p, int64_t prompt_tokens, int64_t completion_tokens);

PriceTable default_price_table();
// {"taken": "...", "source": "...", "local": {"input_per_1m": x, "output_per_1m": y},
//  "models": {"NAME": {"input_per_1m": x, "output_per_1m": y}, ...}}. Throws sy::Error naming the field.
PriceTable price_table_from_json(const nlohmann::ordered_json & j);
PriceTable load_price_table(const std::string & path);
nlohmann::ordered_json price_table_to_json(const PriceTable & t);

}  // namespace sy::traces
