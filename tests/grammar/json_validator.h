// Test-only JSON Schema validator (the subset the grammar compiler supports, with JSON Schema's own
// semantics: oneOf means exactly one, additionalProperties defaults to true, minLength counts code points).
// Written independently of the compiler so property tests can check generated outputs against it.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace sy::grammar::test {

// nullopt when `instance` is valid under `schema` ($ref resolved against `root`), else the first reason.
std::optional<std::string> validate(const nlohmann::ordered_json & instance, const nlohmann::ordered_json & schema,
                                    const nlohmann::ordered_json & root);
inline std::optional<std::string> validate(const nlohmann::ordered_json & instance, const nlohmann::ordered_json & schema) {
    return validate(instance, schema, schema);
}

}  // namespace sy::grammar::test
