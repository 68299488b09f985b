// JSON Schema validation of tool-call arguments. Recursive over the schema; errors carry a JSONPath-like
// location. Compiled patterns are cached per thread (a dataset has few distinct schemas).
#include "dataset/schema_validate.h"

#include <cmath>
#include <regex>
#include <unordered_map>

namespace sy::dataset {
namespace {

using Err = std::optional<std::string>;

size_t utf8_length(const std::string & s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

bool type_matches(const ojson & v, const std::string & t) {
    if (t == "object") return v.is_object();
    if (t == "array") return v.is_array();
    if (t == "string") return v.is_string();
    if (t == "boolean") return v.is_boolean();
    if (t == "null") return v.is_null();
    if (t == "number") return v.is_number();
    if (t == "integer") {
        if (v.is_number_integer()) return true;
        if (!v.is_number_float()) return false;
        const double d = v.get<double>();
        return std::isfinite(d) && d == std::floor(d);
    }
    return false;
}

const std::regex & cached_regex(const std::string & pattern) {
    thread_local std::unordered_map<std::string, std::regex> cache;
    auto it = cache.find(pattern);
    if (it == cache.end()) it = cache.emplace(pattern, std::regex(pattern, std::regex::ECMAScript)).first;
    return it->second;
}

class Validator {
public:
    explicit Validator(const ojson & root) : root_(root) {}

    Err check(const ojson & v, const ojson & s, const std::string & path, int depth = 0) {
        if (depth > 64) return path + ": schema nesting too deep (recursive $ref?)";
        if (s.is_boolean()) return s.get<bool>() ? Err() : Err(path + ": not allowed (schema false)");
        if (!s.is_object()) return std::nullopt;
        if (auto r = s.find("$ref"); r != s.end() && r->is_string()) {
            const ojson * target = resolve(r->get<std::string>());
            if (!target) return path + ": unresolvable $ref '" + r->get<std::string>() + "'";
            if (Err e = check(v, *target, path, depth + 1)) return e;
        }
        if (auto t = s.find("type"); t != s.end()) {
            bool ok = false;
            if (t->is_string()) ok = type_matches(v, *t);
            else if (t->is_array())
                for (const auto & x : *t) ok = ok || (x.is_string() && type_matches(v, x));
            if (!ok) return path + ": expected type " + t->dump() + ", got " + v.type_name();
        }
        if (auto e = s.find("enum"); e != s.end() && e->is_array()) {
            bool found = false;
            for (const auto & x : *e) found = found || x == v;
            if (!found) return path + ": " + v.dump() + " is not one of " + e->dump();
        }
        if (auto c = s.find("const"); c != s.end() && *c != v) return path + ": must equal " + c->dump();
        if (v.is_object()) {
            if (Err e = check_object(v, s, path, depth)) return e;
        } else if (v.is_array()) {
            if (Err e = check_array(v, s, path, depth)) return e;
        } else if (v.is_string()) {
            const size_t n = utf8_length(v.get_ref<const std::string &>());
            if (auto m = s.find("minLength"); m != s.end() && m->is_number() && (double)n < m->get<double>())
                return path + ": shorter than minLength " + m->dump();
            if (auto m = s.find("maxLength"); m != s.end() && m->is_number() && (double)n > m->get<double>())
                return path + ": longer than maxLength " + m->dump();
            if (auto p = s.find("pattern"); p != s.end() && p->is_string()) {
                try {
                    if (!std::regex_search(v.get_ref<const std::string &>(), cached_regex(*p)))
                        return path + ": does not match pattern " + p->dump();
                } catch (const std::regex_error &) {
                    return path + ": schema pattern " + p->dump() + " is not a valid regular expression";
                }
            }
        } else if (v.is_number()) {
            const double x = v.get<double>();
            auto num = [&](const char * k) -> std::optional<double> {
                auto it = s.find(k);
                return it != s.end() && it->is_number() ? std::optional<double>(it->get<double>()) : std::nullopt;
            };
            if (auto m = num("minimum"); m && x < *m) return path + ": below minimum " + s["minimum"].dump();
            if (auto m = num("maximum"); m && x > *m) return path + ": above maximum " + s["maximum"].dump();
            if (auto m = num("exclusiveMinimum"); m && x <= *m) return path + ": not above exclusiveMinimum " + s["exclusiveMinimum"].dump();
            if (auto m = num("exclusiveMaximum"); m && x >= *m) return path + ": not below exclusiveMaximum " + s["exclusiveMaximum"].dump();
            if (auto m = num("multipleOf"); m && *m > 0) {
                const double q = x / *m;
                if (std::fabs(q - std::round(q)) > 1e-9 * std::max(1.0, std::fabs(q))) return path + ": not a multiple of " + s["multipleOf"].dump();
            }
        }
        if (auto a = s.find("allOf"); a != s.end() && a->is_array())
            for (const auto & sub : *a)
                if (Err e = check(v, sub, path, depth + 1)) return e;
        if (auto a = s.find("anyOf"); a != s.end() && a->is_array()) {
            bool any = false;
            for (const auto & sub : *a) any = any || !check(v, sub, path, depth + 1);
            if (!any) return path + ": matches none of anyOf";
        }
        if (auto a = s.find("oneOf"); a != s.end() && a->is_array()) {
            int n = 0;
            for (const auto & sub : *a) n += check(v, sub, path, depth + 1) ? 0 : 1;
            if (n != 1) return path + ": matches " + std::to_string(n) + " of oneOf (exactly 1 required)";
        }
        if (auto a = s.find("not"); a != s.end() && !check(v, *a, path, depth + 1)) return path + ": matches the 'not' schema";
        return std::nullopt;
    }

private:
    const ojson * resolve(const std::string & ref) {
        for (const char * prefix : {"#/$defs/", "#/definitions/"}) {
            const std::string p = prefix;
            if (ref.rfind(p, 0) == 0) {
                const std::string key = p.substr(2, p.size() - 3);  // "$defs" / "definitions"
                auto d = root_.find(key);
                if (d == root_.end() || !d->is_object()) return nullptr;
                auto it = d->find(ref.substr(p.size()));
                return it == d->end() ? nullptr : &*it;
            }
        }
        if (ref == "#") return &root_;
        return nullptr;
    }

    Err check_object(const ojson & v, const ojson & s, const std::string & path, int depth) {
        if (auto r = s.find("required"); r != s.end() && r->is_array())
            for (const auto & k : *r)
                if (k.is_string() && !v.contains(k.get<std::string>())) return path + ": missing required property '" + k.get<std::string>() + "'";
        const auto props = s.find("properties");
        const bool has_props = props != s.end() && props->is_object();
        const auto addl = s.find("additionalProperties");
        for (const auto & [k, val] : v.items()) {
            const std::string p = path + "." + k;
            if (has_props && props->contains(k)) {
                if (Err e = check(val, (*props)[k], p, depth + 1)) return e;
            } else if (addl != s.end()) {
                if (addl->is_boolean() && !addl->get<bool>()) return path + ": unexpected property '" + k + "'";
                if (addl->is_object())
                    if (Err e = check(val, *addl, p, depth + 1)) return e;
            }
        }
        if (auto m = s.find("minProperties"); m != s.end() && m->is_number() && (double)v.size() < m->get<double>())
            return path + ": fewer than minProperties " + m->dump();
        if (auto m = s.find("maxProperties"); m != s.end() && m->is_number() && (double)v.size() > m->get<double>())
            return path + ": more than maxProperties " + m->dump();
        return std::nullopt;
    }

    Err check_array(const ojson & v, const ojson & s, const std::string & path, int depth) {
        size_t first_items = 0;
        if (auto pi = s.find("prefixItems"); pi != s.end() && pi->is_array()) {
            for (size_t i = 0; i < pi->size() && i < v.size(); ++i)
                if (Err e = check(v[i], (*pi)[i], path + "[" + std::to_string(i) + "]", depth + 1)) return e;
            first_items = pi->size();
        }
        if (auto it = s.find("items"); it != s.end() && (it->is_object() || it->is_boolean()))
            for (size_t i = first_items; i < v.size(); ++i)
                if (Err e = check(v[i], *it, path + "[" + std::to_string(i) + "]", depth + 1)) return e;
        if (auto m = s.find("minItems"); m != s.end() && m->is_number() && (double)v.size() < m->get<double>())
            return path + ": fewer than minItems " + m->dump();
        if (auto m = s.find("maxItems"); m != s.end() && m->is_number() && (double)v.size() > m->get<double>())
            return path + ": more than maxItems " + m->dump();
        if (auto u = s.find("uniqueItems"); u != s.end() && u->is_boolean() && u->get<bool>())
            for (size_t i = 0; i < v.size(); ++i)
                for (size_t j = i + 1; j < v.size(); ++j)
                    if (v[i] == v[j]) return path + ": items " + std::to_string(i) + " and " + std::to_string(j) + " are equal (uniqueItems)";
        return std::nullopt;
    }

    const ojson & root_;
};

}  // namespace

std::optional<std::string> validate_json_schema(const ojson & value, const ojson & schema) {
    return Validator(schema).check(value, schema, "$");
}

}  // namespace sy::dataset
