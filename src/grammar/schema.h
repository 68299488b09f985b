// JSON Schema (2020-12 subset) -> grammar. The supported keywords, the whitespace policy and the
// deliberate tightenings are documented in docs/grammar.md; in short:
//   type (string or list), properties (in declared order), required, additionalProperties (bool|schema),
//   items, prefixItems, minItems, maxItems, enum, const, anyOf, oneOf (as anyOf), allOf (merged),
//   $ref/$defs/definitions (local pointers, recursion allowed), minLength, maxLength, pattern (regex.h),
//   format (date, time, date-time, uuid, email), minimum/maximum (integers exact; numbers: integer bounds),
//   exclusiveMinimum/exclusiveMaximum (integers). Annotations (title, description, default, examples, ...)
//   are ignored. Any other keyword is an sy::Error(ErrorKind_unsupported) naming the keyword and its JSON
//   pointer, e.g. "unsupported JSON Schema keyword 'multipleOf' at #/properties/n/multipleOf".
//
// Keys must keep their declared order, so schemas are taken as nlohmann::ordered_json.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <unordered_map>

#include "grammar/automaton.h"
#include "grammar/expr.h"

namespace sy::grammar {

using ojson = nlohmann::ordered_json;

// Whitespace the grammar allows between JSON tokens. Both are deterministic (one spelling per value), which
// keeps jump-forward possible:
//   compact:               {"a":1,"b":[1,2]}
//   space_after_separators {"a": 1, "b": [1, 2]}   (Python json.dumps default; what Hermes/Qwen emit)
enum class Whitespace { Whitespace_compact, Whitespace_space_after_separators };

struct SchemaOptions {
    Whitespace whitespace = Whitespace::Whitespace_compact;
    // When a schema says nothing about additionalProperties: false = allow none (what tools mean; OpenAI's
    // strict mode), true = allow any extra key after the declared ones (JSON Schema's default).
    bool additional_properties_default = false;
    // Copy fields (copy.h): instance paths relative to the schema root ("title", "a.b", "tags[]") whose string
    // (plain, pattern or format) or integer values are tagged TagKind_copy, so a matcher with a
    // CopyConstraint restricts them to spans of the request's text. Values inside a $ref are never tagged.
    std::set<std::string> copy_fields;
};

std::shared_ptr<const Grammar> compile_json_schema(const ojson & schema, const SchemaOptions & opt = {});
// response_format {"type": "json_object"}: any JSON object.
std::shared_ptr<const Grammar> compile_json_object(const SchemaOptions & opt = {});
// The canonical text of a JSON value under a whitespace policy (what enum/const compile to).
std::string dump_json(const ojson & value, Whitespace ws);

// Lower level: compiles schemas into an existing RuleSet (the tool-call grammar uses one per tool).
class SchemaCompiler {
public:
    // `root` is the document $ref pointers resolve against; it must outlive the compiler.
    SchemaCompiler(RuleSet & rs, const ojson & root, std::string root_pointer, SchemaOptions opt);

    // Expression of one JSON value valid under `schema` (found at JSON pointer `pointer`).
    int32_t value(const ojson & schema, const std::string & pointer);
    // As value() for an object schema, with each top-level property value wrapped in tag_of(name).
    int32_t object(const ojson & schema, const std::string & pointer,
                   const std::function<uint16_t(const std::string &)> & tag_of);
    int32_t any_value();   // any JSON value (a recursive rule)
    int32_t any_object();

private:
    int32_t value_typed(const ojson & schema, const std::string & pointer, const std::string & type);
    int32_t string_value(const ojson & s, const std::string & ptr);
    int32_t integer_value(const ojson & s, const std::string & ptr);
    // The copy tag for the value at path_ when it is a copy field (0 when not).
    uint16_t copy_tag(bool integer);
    int32_t number_value(const ojson & s, const std::string & ptr);
    int32_t object_value(const ojson & s, const std::string & ptr,
                         const std::function<uint16_t(const std::string &)> * tag_of);
    int32_t array_value(const ojson & s, const std::string & ptr);
    int32_t ref_value(const std::string & ref, const std::string & ptr);
    ojson merge_all_of(const ojson & s, const std::string & ptr);
    int32_t colon();
    int32_t comma();

    RuleSet & rs_;
    const ojson & root_;
    std::string root_pointer_;
    SchemaOptions opt_;
    std::unordered_map<std::string, int32_t> ref_rules_;
    std::optional<int32_t> any_rule_;
    int depth_ = 0;
    std::string path_;               // instance path of the value being compiled (copy fields)
    int ref_depth_ = 0;              // > 0 inside a $ref rule (shared by several paths: no copy tags)
    std::optional<TagInfo> arg_tag_;  // the top-level argument being compiled (tool grammars)
};

}  // namespace sy::grammar
