// Test-only JSON Schema validator; see json_validator.h.
#include "json_validator.h"

#include <cmath>
#include <regex>

namespace sy::grammar::test {

using oj = nlohmann::ordered_json;

namespace {

size_t n_code_points(const std::string & s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

bool has_type(const oj & v, const std::string & t) {
    if (t == "null") return v.is_null();
    if (t == "boolean") return v.is_boolean();
    if (t == "string") return v.is_string();
    if (t == "object") return v.is_object();
    if (t == "array") return v.is_array();
    if (t == "number") return v.is_number();
    if (t == "integer") return v.is_number_integer() || (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
    return false;
}

const char * format_re(const std::string & f) {
    // Independent spellings of the same formats.
    if (f == "date") return R"(\d{4}-(0[1-9]|1[012])-(0[1-9]|[12]\d|3[01]))";
    if (f == "time") return R"(([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+\-]([01]\d|2[0-3]):[0-5]\d))";
    if (f == "date-time")
        return R"(\d{4}-(0[1-9]|1[012])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+\-]([01]\d|2[0-3]):[0-5]\d))";
    if (f == "uuid") return R"([0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})";
    if (f == "email") return R"([A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+)";
    return nullptr;
}

}  // namespace

std::optional<std::string> validate(const oj & v, const oj & s, const oj & root) {
    if (s.is_boolean()) return s.get<bool>() ? std::nullopt : std::optional<std::string>("false schema");
    if (s.contains("$ref")) {
        std::string ref = s["$ref"].get<std::string>();
        return validate(v, root.at(oj::json_pointer(ref.substr(1))), root);
    }
    if (s.contains("allOf"))
        for (const oj & sub : s["allOf"])
            if (auto e = validate(v, sub, root)) return "allOf: " + *e;
    if (s.contains("anyOf")) {
        bool ok = false;
        for (const oj & sub : s["anyOf"]) ok = ok || !validate(v, sub, root);
        if (!ok) return "anyOf: no branch matches " + v.dump();
    }
    if (s.contains("oneOf")) {
        int n = 0;
        for (const oj & sub : s["oneOf"]) n += !validate(v, sub, root);
        if (n != 1) return "oneOf: " + std::to_string(n) + " branches match " + v.dump();
    }
    if (s.contains("const") && s["const"] != v) return "const mismatch: " + v.dump();
    if (s.contains("enum")) {
        bool ok = false;
        for (const oj & e : s["enum"]) ok = ok || e == v;
        if (!ok) return "not in enum: " + v.dump();
    }
    if (s.contains("type")) {
        bool ok = false;
        if (s["type"].is_string()) ok = has_type(v, s["type"]);
        else
            for (const oj & t : s["type"]) ok = ok || has_type(v, t);
        if (!ok) return "wrong type: " + v.dump() + " for " + s["type"].dump();
    }
    if (v.is_string()) {
        std::string str = v.get<std::string>();
        size_t n = n_code_points(str);
        if (s.contains("minLength") && n < s["minLength"].get<size_t>()) return "too short: " + v.dump();
        if (s.contains("maxLength") && n > s["maxLength"].get<size_t>()) return "too long: " + v.dump();
        if (s.contains("pattern") && !std::regex_search(str, std::regex(s["pattern"].get<std::string>(), std::regex::ECMAScript)))
            return "pattern mismatch: " + v.dump();
        if (s.contains("format")) {
            const char * re = format_re(s["format"]);
            if (!re || !std::regex_match(str, std::regex(re))) return "format mismatch: " + v.dump();
        }
    }
    if (v.is_number()) {
        double x = v.get<double>();
        if (s.contains("minimum") && x < s["minimum"].get<double>()) return "below minimum: " + v.dump();
        if (s.contains("maximum") && x > s["maximum"].get<double>()) return "above maximum: " + v.dump();
        if (s.contains("exclusiveMinimum") && x <= s["exclusiveMinimum"].get<double>()) return "not above exclusiveMinimum";
        if (s.contains("exclusiveMaximum") && x >= s["exclusiveMaximum"].get<double>()) return "not below exclusiveMaximum";
    }
    if (v.is_object()) {
        if (s.contains("required"))
            for (const oj & r : s["required"])
                if (!v.contains(r.get<std::string>())) return "missing required " + r.dump();
        for (auto it = v.begin(); it != v.end(); ++it) {
            if (s.contains("properties") && s["properties"].contains(it.key())) {
                if (auto e = validate(it.value(), s["properties"][it.key()], root)) return it.key() + ": " + *e;
            } else if (s.contains("additionalProperties")) {
                if (auto e = validate(it.value(), s["additionalProperties"], root)) return "additional " + it.key() + ": " + *e;
            }
        }
    }
    if (v.is_array()) {
        size_t k = 0;
        if (s.contains("prefixItems")) {
            k = s["prefixItems"].size();
            for (size_t i = 0; i < std::min(k, v.size()); ++i)
                if (auto e = validate(v[i], s["prefixItems"][i], root)) return "prefixItems[" + std::to_string(i) + "]: " + *e;
        }
        if (s.contains("items"))
            for (size_t i = k; i < v.size(); ++i)
                if (auto e = validate(v[i], s["items"], root)) return "items[" + std::to_string(i) + "]: " + *e;
        if (s.contains("minItems") && v.size() < s["minItems"].get<size_t>()) return "too few items";
        if (s.contains("maxItems") && v.size() > s["maxItems"].get<size_t>()) return "too many items";
    }
    return std::nullopt;
}

}  // namespace sy::grammar::test
