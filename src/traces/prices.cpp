// Price table: defaults, JSON load/save, prefix lookup.
#include "traces/prices.h"

#include <fstream>

#include "common/error.h"

namespace sy::traces {

std::optional<ModelPrice> PriceTable::find(const std::string & model) const {
    if (auto it = models.find(model); it != models.end()) return it->second;
    const ModelPrice * best = nullptr;
    size_t best_len = 0;
    for (const auto & [name, price] : models) {
        if (name.size() > best_len && model.rfind(name, 0) == 0) {
            best = &price;
            best_len = name.size();
        }
    }
    if (best) return *best;
    return std::nullopt;
}

double cost_usd(const ModelPrice & p, int64_t prompt_tokens, int64_t completion_tokens) {
    return ((double)prompt_tokens * p.input_per_1m + (double)completion_tokens * p.output_per_1m) / 1e6;
}

// List prices for standard (non-batch, non-cached) API use; see docs/traces.md for date and sources.
// Update by editing a copy of examples/prices.json and passing --prices.
PriceTable default_price_table() {
    PriceTable t;
    t.taken = "2025-06-01";
    t.source = "openai.com/api/pricing, anthropic.com/pricing, ai.google.dev/gemini-api/docs/pricing";
    t.local = {0.02, 0.02};  // rough power + amortised CPU server cost of a small local model
    t.models = {
        {"gpt-4o", {2.50, 10.00}},          {"gpt-4o-mini", {0.15, 0.60}},
        {"gpt-4.1", {2.00, 8.00}},          {"gpt-4.1-mini", {0.40, 1.60}},
        {"gpt-4.1-nano", {0.10, 0.40}},     {"gpt-4-turbo", {10.00, 30.00}},
        {"gpt-4", {30.00, 60.00}},          {"gpt-3.5-turbo", {0.50, 1.50}},
        {"o3-mini", {1.10, 4.40}},          {"claude-3-5-sonnet", {3.00, 15.00}},
        {"claude-3-5-haiku", {0.80, 4.00}}, {"claude-3-opus", {15.00, 75.00}},
        {"claude-sonnet-4", {3.00, 15.00}}, {"gemini-1.5-pro", {1.25, 5.00}},
        {"gemini-2.0-flash", {0.10, 0.40}},
    };
    return t;
}

namespace {
ModelPrice price_from_json(const nlohmann::ordered_json & j, const std::string & where) {
    if (!j.is_object()) throw Error(ErrorKind::ErrorKind_invalid_file, "price table: " + where + " must be an object");
    ModelPrice p;
    for (auto [key, dst] : {std::pair{"input_per_1m", &p.input_per_1m}, std::pair{"output_per_1m", &p.output_per_1m}}) {
        auto it = j.find(key);
        if (it == j.end() || !it->is_number() || it->get<double>() < 0)
            throw Error(ErrorKind::ErrorKind_invalid_file, "price table: " + where + "." + key + " must be a number >= 0");
        *dst = it->get<double>();
    }
    return p;
}
}  // namespace

PriceTable price_table_from_json(const nlohmann::ordered_json & j) {
    if (!j.is_object() || !j.contains("models") || !j["models"].is_object())
        throw Error(ErrorKind::ErrorKind_invalid_file, "price table: expected {\"models\": {NAME: {\"input_per_1m\", \"output_per_1m\"}}}");
    PriceTable t;
    t.taken = j.value("taken", "");
    t.source = j.value("source", "");
    if (j.contains("local")) t.local = price_from_json(j["local"], "local");
    for (const auto & [name, v] : j["models"].items()) t.models[name] = price_from_json(v, "models." + name);
    return t;
}

PriceTable load_price_table(const std::string & path) {
    std::ifstream in(path);
    if (!in) throw Error(ErrorKind::ErrorKind_io, "cannot open price table '" + path + "'");
    try {
        return price_table_from_json(nlohmann::ordered_json::parse(in));
    } catch (const nlohmann::json::exception & e) {
        throw Error(ErrorKind::ErrorKind_invalid_file, "price table '" + path + "': invalid JSON (" + e.what() + ")");
    } catch (const Error & e) {
        throw Error(e.kind(), path + ": " + e.what());
    }
}

nlohmann::ordered_json price_table_to_json(const PriceTable & t) {
    nlohmann::ordered_json j;
    j["taken"] = t.taken;
    j["source"] = t.source;
    j["local"] = {{"input_per_1m", t.local.input_per_1m}, {"output_per_1m", t.local.output_per_1m}};
    j["models"] = nlohmann::ordered_json::object();
    for (const auto & [n, p] : t.models) j["models"][n] = {{"input_per_1m", p.input_per_1m}, {"output_per_1m", p.output_per_1m}};
    return j;
}

}  // namespace sy::traces
