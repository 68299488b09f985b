// A plain JSON Schema validator for tool-call arguments (the draft 2020-12 keywords tool schemas use):
// type (string or list; "integer" accepts whole-valued numbers), enum, const, properties, required,
// additionalProperties (bool or schema), patternProperties is NOT supported (ignored), items (schema),
// prefixItems, minItems/maxItems, uniqueItems, minLength/maxLength (in code points), pattern (ECMAScript,
// unanchored search), minimum/maximum/exclusiveMinimum/exclusiveMaximum (numbers), multipleOf, anyOf/
// oneOf/allOf/not, and $ref to "#/$defs/NAME" or "#/definitions/NAME" of the root schema. Unknown keywords
// (format, description, title, default, ...) are ignored, as the spec asks of annotations.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace sy::dataset {

using ojson = nlohmann::ordered_json;

// nullopt when value is valid; else the first problem as "$.path: what".
std::optional<std::string> validate_json_schema(const ojson & value, const ojson & schema);

}  // namespace sy::dataset
