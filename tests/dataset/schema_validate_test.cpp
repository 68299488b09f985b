// The tool-argument JSON Schema validator on a table of hand-checked cases.
#include <gtest/gtest.h>

#include "dataset/schema_validate.h"

namespace sy::dataset {
namespace {

struct Case {
    const char * schema;
    const char * value;
    const char * error;  // nullptr: valid; else a substring of the message
};

TEST(SchemaValidate, Table) {
    const Case cases[] = {
        {R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})", R"({"city":"Oslo"})", nullptr},
        {R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})", R"({})", "$: missing required property 'city'"},
        {R"({"type":"object","properties":{"city":{"type":"string"}}})", R"({"city":3})", "$.city: expected type \"string\", got number"},
        {R"({"type":"object","additionalProperties":false,"properties":{"a":{}}})", R"({"a":1,"b":2})", "unexpected property 'b'"},
        {R"({"type":"object","additionalProperties":{"type":"integer"}})", R"({"a":1,"b":2.5})", "$.b: expected type"},
        {R"({"type":"integer"})", "3.0", nullptr},
        {R"({"type":"integer"})", "3.5", "expected type"},
        {R"({"type":["string","null"]})", "null", nullptr},
        {R"({"enum":["c","f"]})", R"("k")", "is not one of"},
        {R"({"const":7})", "7", nullptr},
        {R"({"type":"number","minimum":1,"maximum":5})", "0", "below minimum"},
        {R"({"type":"number","exclusiveMaximum":5})", "5", "not below exclusiveMaximum"},
        {R"({"type":"number","multipleOf":0.5})", "2.5", nullptr},
        {R"({"type":"number","multipleOf":0.5})", "2.2", "not a multiple"},
        {R"({"type":"string","minLength":2,"maxLength":3})", R"("é")", "shorter than minLength"},  // 1 code point, 2 bytes
        {R"({"type":"string","maxLength":3})", R"("ééé")", nullptr},
        {R"({"type":"string","pattern":"^[0-9]{4}$"})", R"("8812")", nullptr},
        {R"({"type":"string","pattern":"^[0-9]{4}$"})", R"("88a2")", "does not match pattern"},
        {R"({"type":"array","items":{"type":"string"},"minItems":1})", R"(["a",2])", "$[1]: expected type"},
        {R"({"type":"array","minItems":1})", "[]", "fewer than minItems"},
        {R"({"type":"array","uniqueItems":true})", "[1,2,1]", "uniqueItems"},
        {R"({"prefixItems":[{"type":"string"},{"type":"integer"}]})", R"(["a","b"])", "$[1]: expected type"},
        {R"({"anyOf":[{"type":"string"},{"type":"integer"}]})", "true", "matches none of anyOf"},
        {R"({"oneOf":[{"type":"integer"},{"type":"number"}]})", "1", "matches 2 of oneOf"},
        {R"({"oneOf":[{"type":"integer"},{"type":"string"}]})", "1", nullptr},
        {R"({"allOf":[{"minimum":0},{"maximum":10}]})", "11", "above maximum"},
        {R"({"not":{"type":"null"}})", "null", "matches the 'not' schema"},
        {R"({"$defs":{"u":{"enum":["c","f"]}},"type":"object","properties":{"unit":{"$ref":"#/$defs/u"}}})", R"({"unit":"f"})", nullptr},
        {R"({"$defs":{"u":{"enum":["c","f"]}},"type":"object","properties":{"unit":{"$ref":"#/$defs/u"}}})", R"({"unit":"x"})", "$.unit:"},
        {R"({"properties":{"x":{"$ref":"#/$defs/missing"}}})", R"({"x":1})", "unresolvable $ref"},
        {R"({"type":"object","properties":{"n":{"type":"object","properties":{"k":{"type":"boolean"}},"required":["k"]}}})", R"({"n":{}})", "$.n: missing required property 'k'"},
        {R"({"description":"no constraints","format":"email"})", R"("not an email")", nullptr},
        {"false", "1", "not allowed"},
    };
    for (const auto & c : cases) {
        const auto err = validate_json_schema(ojson::parse(c.value), ojson::parse(c.schema));
        if (!c.error) {
            EXPECT_FALSE(err.has_value()) << c.schema << " / " << c.value << ": " << err.value_or("");
        } else {
            ASSERT_TRUE(err.has_value()) << c.schema << " / " << c.value << " accepted";
            EXPECT_NE(err->find(c.error), std::string::npos) << *err << " (wanted " << c.error << ")";
        }
    }
}

}  // namespace
}  // namespace sy::dataset
