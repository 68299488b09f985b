// JSON Schema -> grammar expressions (see schema.h). Objects keep declared property order; optional
// properties are built right to left as rest(i, emitted) so that commas are exact and the expression stays
// linear in the number of properties: rest(i, e) = [","if e] kv_i rest(i+1, true) | rest(i+1, e).
#include "grammar/schema.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

#include "common/error.h"
#include "grammar/number_range.h"
#include "grammar/regex.h"

namespace sy::grammar {

namespace {

const std::set<std::string> kAnnotations = {"title", "description", "$schema", "$id", "$comment", "default",
                                            "examples", "deprecated", "readOnly", "writeOnly", "$defs",
                                            "definitions"};
const std::set<std::string> kKeywords = {
    "type", "properties", "required", "additionalProperties", "items", "prefixItems", "minItems", "maxItems",
    "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "minLength", "maxLength", "pattern", "format",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"};
const std::set<std::string> kTypes = {"string", "integer", "number", "boolean", "null", "object", "array"};

constexpr int64_t kMaxUnrolled = 4096;   // minLength/maxLength
constexpr int64_t kMaxItemsUnrolled = 1000;

std::string escape_pointer(const std::string & key) {
    std::string out;
    for (char c : key) {
        if (c == '~') out += "~0";
        else if (c == '/') out += "~1";
        else out.push_back(c);
    }
    return out;
}

[[noreturn]] void unsupported(const std::string & what, const std::string & ptr) {
    throw Error(ErrorKind::ErrorKind_unsupported, what + " at " + ptr);
}
[[noreturn]] void invalid(const std::string & what, const std::string & ptr) {
    throw Error(ErrorKind::ErrorKind_invalid_argument, "invalid JSON Schema: " + what + " at " + ptr);
}

int64_t get_count(const ojson & s, const char * key, const std::string & ptr) {
    const ojson & v = s.at(key);
    if (!v.is_number_integer() && !(v.is_number_float() && v.get<double>() == std::floor(v.get<double>())))
        invalid(std::string("'") + key + "' must be a non-negative integer", ptr + "/" + key);
    double d = v.get<double>();
    if (d < 0) invalid(std::string("'") + key + "' must be a non-negative integer", ptr + "/" + key);
    return (int64_t)std::min(d, 9e15);
}

const char * format_regex(const std::string & f) {
    if (f == "date") return "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";
    if (f == "time") return "^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$";
    if (f == "date-time")
        return "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]+)?"
               "(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$";
    if (f == "uuid") return "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
    if (f == "email") return "^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+$";
    return nullptr;
}

void dump_into(const ojson & v, Whitespace ws, std::string & out) {
    if (ws == Whitespace::Whitespace_compact || !(v.is_object() || v.is_array())) {
        out += v.dump(-1, ' ', false, ojson::error_handler_t::replace);
        return;
    }
    if (v.is_object()) {
        out.push_back('{');
        bool first = true;
        for (auto it = v.begin(); it != v.end(); ++it) {
            if (!first) out += ", ";
            first = false;
            out += json_quote(it.key());
            out += ": ";
            dump_into(it.value(), ws, out);
        }
        out.push_back('}');
    } else {
        out.push_back('[');
        for (size_t i = 0; i < v.size(); ++i) {
            if (i) out += ", ";
            dump_into(v[i], ws, out);
        }
        out.push_back(']');
    }
}

}  // namespace

std::string dump_json(const ojson & value, Whitespace ws) {
    std::string out;
    dump_into(value, ws, out);
    return out;
}

SchemaCompiler::SchemaCompiler(RuleSet & rs, const ojson & root, std::string root_pointer, SchemaOptions opt)
    : rs_(rs), root_(root), root_pointer_(std::move(root_pointer)), opt_(opt) {}

int32_t SchemaCompiler::colon() { return rs_.literal(opt_.whitespace == Whitespace::Whitespace_compact ? ":" : ": "); }
int32_t SchemaCompiler::comma() { return rs_.literal(opt_.whitespace == Whitespace::Whitespace_compact ? "," : ", "); }

int32_t SchemaCompiler::any_value() {
    if (!any_rule_) {
        any_rule_ = rs_.add_rule("any JSON value");
        int32_t v = rs_.ref(*any_rule_);
        int32_t kv = rs_.seq({rs_.json_string(0, std::nullopt), colon(), v});
        int32_t obj = rs_.seq({rs_.byte('{'), rs_.optional(rs_.seq({kv, rs_.star(rs_.seq({comma(), kv}))})), rs_.byte('}')});
        int32_t arr = rs_.seq({rs_.byte('['), rs_.optional(rs_.seq({v, rs_.star(rs_.seq({comma(), v}))})), rs_.byte(']')});
        rs_.define(*any_rule_, rs_.alt({obj, arr, rs_.json_string(0, std::nullopt), rs_.json_number(), rs_.literal("true"),
                                        rs_.literal("false"), rs_.literal("null")}));
    }
    return rs_.ref(*any_rule_);
}

int32_t SchemaCompiler::any_object() {
    int32_t kv = rs_.seq({rs_.json_string(0, std::nullopt), colon(), any_value()});
    return rs_.seq({rs_.byte('{'), rs_.optional(rs_.seq({kv, rs_.star(rs_.seq({comma(), kv}))})), rs_.byte('}')});
}

namespace {

// oneOf demands that exactly one branch matches. The grammar can only generate "some branch", so oneOf is
// accepted when no value can match two branches: the branches' JSON types are pairwise disjoint, or they are
// objects told apart by a required property whose const/enum values are pairwise disjoint.
std::set<std::string> branch_types(const ojson & b) {
    std::set<std::string> out;
    auto add_value = [&](const ojson & v) {
        if (v.is_null()) out.insert("null");
        else if (v.is_boolean()) out.insert("boolean");
        else if (v.is_number()) out.insert("number");
        else if (v.is_string()) out.insert("string");
        else if (v.is_array()) out.insert("array");
        else out.insert("object");
    };
    if (!b.is_object()) return {"?"};
    if (b.contains("const")) { add_value(b["const"]); return out; }
    if (b.contains("enum") && b["enum"].is_array()) { for (const auto & v : b["enum"]) add_value(v); return out; }
    if (!b.contains("type")) return {"?"};
    const ojson & t = b["type"];
    for (const ojson & x : t.is_array() ? t : ojson::array({t})) {
        if (!x.is_string()) return {"?"};
        const std::string n = x.get<std::string>();
        out.insert(n == "integer" ? "number" : n);
    }
    return out;
}

std::optional<std::vector<ojson>> discriminator_values(const ojson & b, const std::string & prop) {
    if (!b.is_object() || !b.contains("properties") || !b["properties"].is_object() || !b["properties"].contains(prop))
        return std::nullopt;
    bool required = false;
    if (b.contains("required") && b["required"].is_array())
        for (const auto & r : b["required"]) required = required || r == prop;
    if (!required) return std::nullopt;
    const ojson & ps = b["properties"][prop];
    if (ps.is_object() && ps.contains("const")) return std::vector<ojson>{ps["const"]};
    if (ps.is_object() && ps.contains("enum") && ps["enum"].is_array())
        return std::vector<ojson>(ps["enum"].begin(), ps["enum"].end());
    return std::nullopt;
}

bool one_of_branches_disjoint(const ojson & branches) {
    std::vector<std::set<std::string>> types;
    bool disjoint = true;
    for (const auto & b : branches) types.push_back(branch_types(b));
    for (size_t i = 0; i < types.size() && disjoint; ++i)
        for (size_t j = i + 1; j < types.size() && disjoint; ++j)
            for (const auto & t : types[i])
                if (t == "?" || types[j].count(t) || types[j].count("?")) { disjoint = false; break; }
    if (disjoint) return true;
    if (!branches[0].is_object() || !branches[0].contains("properties") || !branches[0]["properties"].is_object()) return false;
    for (auto it = branches[0]["properties"].begin(); it != branches[0]["properties"].end(); ++it) {
        std::vector<ojson> seen;
        bool ok = true;
        for (const auto & b : branches) {
            auto vals = discriminator_values(b, it.key());
            if (!vals) { ok = false; break; }
            for (const auto & v : *vals) {
                if (std::find(seen.begin(), seen.end(), v) != seen.end()) { ok = false; break; }
            }
            if (!ok) break;
            seen.insert(seen.end(), vals->begin(), vals->end());
        }
        if (ok) return true;
    }
    return false;
}

}  // namespace

int32_t SchemaCompiler::value(const ojson & s, const std::string & ptr) {
    if (s.is_boolean()) return s.get<bool>() ? any_value() : rs_.nothing();
    if (!s.is_object()) invalid("a schema must be an object or a boolean", ptr);
    if (++depth_ > 200) throw Error(ErrorKind::ErrorKind_limit, "JSON Schema nested too deeply at " + ptr);
    struct DepthGuard {
        int & d;
        ~DepthGuard() { --d; }
    } guard{depth_};

    for (auto it = s.begin(); it != s.end(); ++it)
        if (!kKeywords.count(it.key()) && !kAnnotations.count(it.key()))
            unsupported("unsupported JSON Schema keyword '" + it.key() + "'", ptr + "/" + escape_pointer(it.key()));

    if (s.contains("$ref")) {
        for (auto it = s.begin(); it != s.end(); ++it)
            if (it.key() != "$ref" && !kAnnotations.count(it.key()))
                unsupported("'$ref' together with '" + it.key() + "'", ptr + "/" + escape_pointer(it.key()));
        if (!s["$ref"].is_string()) invalid("'$ref' must be a string", ptr + "/$ref");
        return ref_value(s["$ref"].get<std::string>(), ptr + "/$ref");
    }
    if (s.contains("allOf")) return value(merge_all_of(s, ptr), ptr);
    if (s.contains("anyOf") && s.contains("oneOf")) unsupported("'anyOf' together with 'oneOf'", ptr);
    for (const char * key : {"anyOf", "oneOf"}) {
        if (!s.contains(key)) continue;
        const ojson & branches = s[key];
        if (!branches.is_array() || branches.empty()) invalid(std::string("'") + key + "' must be a non-empty array", ptr + "/" + key);
        if (std::string(key) == "oneOf" && branches.size() > 1 && !one_of_branches_disjoint(branches))
            unsupported("'oneOf' whose branches may overlap (exactly-one cannot be enforced; make the branches disjoint "
                        "by type or by a required const/enum property, or use anyOf)", ptr + "/oneOf");
        ojson siblings = ojson::object();
        for (auto it = s.begin(); it != s.end(); ++it)
            if (it.key() != key && !kAnnotations.count(it.key())) siblings[it.key()] = it.value();
        std::vector<int32_t> alts;
        for (size_t i = 0; i < branches.size(); ++i) {
            std::string bptr = ptr + "/" + key + "/" + std::to_string(i);
            if (siblings.empty()) {
                alts.push_back(value(branches[i], bptr));
            } else {
                ojson merged = {{"allOf", ojson::array({siblings, branches[i]})}};
                alts.push_back(value(merge_all_of(merged, bptr), bptr));
            }
        }
        return rs_.alt(std::move(alts));
    }
    if (s.contains("const")) return rs_.literal(dump_json(s["const"], opt_.whitespace));
    if (s.contains("enum")) {
        const ojson & e = s["enum"];
        if (!e.is_array() || e.empty()) invalid("'enum' must be a non-empty array", ptr + "/enum");
        std::vector<int32_t> alts;
        for (const ojson & v : e) alts.push_back(rs_.literal(dump_json(v, opt_.whitespace)));
        return rs_.alt(std::move(alts));
    }

    std::vector<std::string> types;
    if (s.contains("type")) {
        const ojson & t = s["type"];
        if (t.is_string()) types.push_back(t.get<std::string>());
        else if (t.is_array())
            for (const ojson & x : t) {
                if (!x.is_string()) invalid("'type' entries must be strings", ptr + "/type");
                types.push_back(x.get<std::string>());
            }
        else invalid("'type' must be a string or an array of strings", ptr + "/type");
        for (const std::string & x : types)
            if (!kTypes.count(x)) invalid("unknown type '" + x + "'", ptr + "/type");
        if (types.empty()) invalid("'type' must not be empty", ptr + "/type");
    } else {
        // No type: the types the present keywords describe (a tightening of JSON Schema, which would also
        // accept values of other types), or any value when there are none.
        auto has = [&](std::initializer_list<const char *> ks) {
            for (const char * k : ks)
                if (s.contains(k)) return true;
            return false;
        };
        if (has({"properties", "required", "additionalProperties"})) types.push_back("object");
        if (has({"items", "prefixItems", "minItems", "maxItems"})) types.push_back("array");
        if (has({"minLength", "maxLength", "pattern", "format"})) types.push_back("string");
        if (has({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})) types.push_back("number");
        if (types.empty()) return any_value();
    }
    std::vector<int32_t> alts;
    for (const std::string & t : types) alts.push_back(value_typed(s, ptr, t));
    return rs_.alt(std::move(alts));
}

int32_t SchemaCompiler::value_typed(const ojson & s, const std::string & ptr, const std::string & type) {
    if (type == "string") return string_value(s, ptr);
    if (type == "integer") return integer_value(s, ptr);
    if (type == "number") return number_value(s, ptr);
    if (type == "boolean") return rs_.alt({rs_.literal("true"), rs_.literal("false")});
    if (type == "null") return rs_.literal("null");
    if (type == "object") return object_value(s, ptr, nullptr);
    if (type == "array") return array_value(s, ptr);
    invalid("unknown type '" + type + "'", ptr + "/type");
}

int32_t SchemaCompiler::string_value(const ojson & s, const std::string & ptr) {
    int64_t min_len = s.contains("minLength") ? get_count(s, "minLength", ptr) : 0;
    std::optional<int64_t> max_len;
    if (s.contains("maxLength")) max_len = get_count(s, "maxLength", ptr);
    bool lengths = s.contains("minLength") || s.contains("maxLength");
    std::string pattern;
    std::string pattern_ptr;
    if (s.contains("pattern")) {
        if (!s["pattern"].is_string()) invalid("'pattern' must be a string", ptr + "/pattern");
        if (lengths) unsupported("'pattern' together with minLength/maxLength", ptr + "/pattern");
        if (s.contains("format")) unsupported("'pattern' together with 'format'", ptr + "/pattern");
        pattern = s["pattern"].get<std::string>();
        pattern_ptr = ptr + "/pattern";
    } else if (s.contains("format")) {
        if (!s["format"].is_string()) invalid("'format' must be a string", ptr + "/format");
        std::string f = s["format"].get<std::string>();
        const char * re = format_regex(f);
        if (!re) unsupported("unsupported format '" + f + "' (supported: date, time, date-time, uuid, email)", ptr + "/format");
        if (lengths) unsupported("'format' together with minLength/maxLength", ptr + "/format");
        pattern = re;
        pattern_ptr = ptr + "/format";
    }
    if (!pattern_ptr.empty()) {
        int32_t content = 0;
        try {
            content = compile_pattern(rs_, pattern);
        } catch (const Error & e) {
            throw Error(e.kind(), std::string(e.what()) + " (at " + pattern_ptr + ")");
        }
        if (const uint16_t tag = copy_tag(false))
            return rs_.seq({rs_.byte('"'), rs_.tagged(rs_.seq({content, rs_.byte('"')}), tag)});
        return rs_.seq({rs_.byte('"'), content, rs_.byte('"')});
    }
    if (max_len && *max_len < min_len) invalid("maxLength < minLength", ptr);
    if (min_len > kMaxUnrolled || (max_len && *max_len > kMaxUnrolled))
        throw Error(ErrorKind::ErrorKind_limit, "minLength/maxLength above " + std::to_string(kMaxUnrolled) +
                                                    " is not supported at " + ptr);
    std::optional<int32_t> mx;
    if (max_len) mx = (int32_t)*max_len;
    if (const uint16_t tag = copy_tag(false)) {
        // The opening quote stays outside the tag: a position is "in a copy string" exactly when the
        // next byte is content or the closing quote.
        return rs_.seq({rs_.byte('"'), rs_.tagged(rs_.seq({rs_.repeat(rs_.json_string_char(), (int32_t)min_len, mx),
                                                            rs_.byte('"')}),
                                                  tag)});
    }
    return rs_.json_string((int32_t)min_len, mx);
}

int32_t SchemaCompiler::integer_value(const ojson & s, const std::string & ptr) {
    std::optional<int64_t> lo, hi;
    auto num = [&](const char * k) {
        if (!s[k].is_number()) invalid(std::string("'") + k + "' must be a number", ptr + "/" + k);
        return std::clamp(s[k].get<double>(), -9e15, 9e15);
    };
    auto tighten_lo = [&](int64_t v) { lo = lo ? std::max(*lo, v) : v; };
    auto tighten_hi = [&](int64_t v) { hi = hi ? std::min(*hi, v) : v; };
    if (s.contains("minimum")) tighten_lo((int64_t)std::ceil(num("minimum")));
    if (s.contains("exclusiveMinimum")) tighten_lo((int64_t)std::floor(num("exclusiveMinimum")) + 1);
    if (s.contains("maximum")) tighten_hi((int64_t)std::floor(num("maximum")));
    if (s.contains("exclusiveMaximum")) tighten_hi((int64_t)std::ceil(num("exclusiveMaximum")) - 1);
    if (lo && hi && *lo > *hi) invalid("empty integer range", ptr);
    const int32_t value = !lo && !hi ? rs_.json_integer() : integer_range(rs_, lo, hi);
    // A copy integer: its digits are tagged; the byte after them closes the span (copy.h).
    if (const uint16_t tag = copy_tag(true)) return rs_.tagged(value, tag);
    return value;
}

uint16_t SchemaCompiler::copy_tag(bool integer) {
    if (ref_depth_ != 0 || !opt_.copy_fields.count(path_)) return 0;
    TagInfo info = arg_tag_ ? *arg_tag_ : TagInfo{};
    info.kind = TagKind::TagKind_copy;
    info.copy_integer = integer;
    if (!arg_tag_) info.arg = path_;
    return rs_.add_tag(info);
}

int32_t SchemaCompiler::number_value(const ojson & s, const std::string & ptr) {
    for (const char * k : {"exclusiveMinimum", "exclusiveMaximum"})
        if (s.contains(k)) unsupported(std::string("'") + k + "' on a number (allowed on integers)", ptr + "/" + k);
    std::optional<int64_t> lo, hi;
    for (const char * k : {"minimum", "maximum"}) {
        if (!s.contains(k)) continue;
        if (!s[k].is_number()) invalid(std::string("'") + k + "' must be a number", ptr + "/" + k);
        double d = s[k].get<double>();
        if (d != std::floor(d) || std::fabs(d) > 9e15)
            unsupported(std::string("non-integer '") + k + "' on a number (integer bounds only)", ptr + "/" + k);
        (k[1] == 'i' ? lo : hi) = (int64_t)d;
    }
    if (!lo && !hi) return rs_.json_number();
    if (lo && hi && *lo > *hi) invalid("empty number range", ptr);
    return number_range(rs_, lo, hi);
}

int32_t SchemaCompiler::object(const ojson & schema, const std::string & pointer,
                               const std::function<uint16_t(const std::string &)> & tag_of) {
    const ojson * s = &schema;
    ojson merged;
    if (s->is_object() && s->contains("allOf")) {
        merged = merge_all_of(*s, pointer);
        s = &merged;
    }
    if (!s->is_object() || s->contains("$ref") || s->contains("anyOf") || s->contains("oneOf") ||
        (s->contains("type") && (*s)["type"] != "object"))
        return value(*s, pointer);
    for (auto it = s->begin(); it != s->end(); ++it)
        if (!kKeywords.count(it.key()) && !kAnnotations.count(it.key()))
            unsupported("unsupported JSON Schema keyword '" + it.key() + "'", pointer + "/" + escape_pointer(it.key()));
    return object_value(*s, pointer, &tag_of);
}

int32_t SchemaCompiler::object_value(const ojson & s, const std::string & ptr,
                                     const std::function<uint16_t(const std::string &)> * tag_of) {
    static const ojson kEmpty = ojson::object();
    const ojson & props = s.contains("properties") ? s["properties"] : kEmpty;
    if (!props.is_object()) invalid("'properties' must be an object", ptr + "/properties");
    std::set<std::string> required;
    if (s.contains("required")) {
        if (!s["required"].is_array()) invalid("'required' must be an array", ptr + "/required");
        for (const ojson & r : s["required"]) {
            if (!r.is_string()) invalid("'required' entries must be strings", ptr + "/required");
            if (!props.contains(r.get<std::string>()))
                unsupported("required property '" + r.get<std::string>() + "' is not declared in 'properties'",
                            ptr + "/required");
            required.insert(r.get<std::string>());
        }
    }
    // Extra keys: as declared; when not declared, any for a bare {"type":"object"}, else the policy default.
    std::optional<int32_t> extra_value;
    if (s.contains("additionalProperties")) {
        const ojson & ap = s["additionalProperties"];
        if (ap.is_boolean()) {
            if (ap.get<bool>()) extra_value = any_value();
        } else {
            extra_value = value(ap, ptr + "/additionalProperties");
        }
    } else if (!s.contains("properties") || opt_.additional_properties_default) {
        extra_value = any_value();
    }

    std::vector<int32_t> kv;
    std::vector<bool> req;
    for (auto it = props.begin(); it != props.end(); ++it) {
        const std::string saved_path = path_;
        path_ = path_.empty() ? it.key() : path_ + "." + it.key();
        std::optional<uint16_t> arg_tag;
        if (tag_of) {
            arg_tag = (*tag_of)(it.key());  // before the value: a copy tag inside gets a larger number
            arg_tag_ = rs_.tags()[*arg_tag];
        }
        int32_t v = value(it.value(), ptr + "/properties/" + escape_pointer(it.key()));
        if (tag_of) {
            v = rs_.tagged(v, *arg_tag);
            arg_tag_.reset();
        }
        path_ = saved_path;
        kv.push_back(rs_.seq({rs_.literal(json_quote(it.key())), colon(), v}));
        req.push_back(required.count(it.key()) > 0);
    }
    size_t n = kv.size();
    // rest[i][e]: properties i.. given whether one was already written (e = 1).
    std::vector<std::array<int32_t, 2>> rest(n + 1);
    for (int e = 0; e < 2; ++e) {
        if (!extra_value) {
            rest[n][e] = rs_.empty();
            continue;
        }
        int32_t extra_kv = rs_.seq({rs_.json_string(0, std::nullopt), colon(), *extra_value});
        int32_t more = rs_.star(rs_.seq({comma(), extra_kv}));
        rest[n][e] = e ? more : rs_.optional(rs_.seq({extra_kv, more}));
    }
    for (size_t i = n; i-- > 0;) {
        for (int e = 0; e < 2; ++e) {
            int32_t item = e ? rs_.seq({comma(), kv[i]}) : kv[i];
            int32_t take = rs_.seq({item, rest[i + 1][1]});
            rest[i][e] = req[i] ? take : rs_.alt({take, rest[i + 1][e]});
        }
    }
    return rs_.seq({rs_.byte('{'), rest[0][0], rs_.byte('}')});
}

int32_t SchemaCompiler::array_value(const ojson & s, const std::string & ptr) {
    static const ojson kEmpty = ojson::array();
    const ojson & prefix = s.contains("prefixItems") ? s["prefixItems"] : kEmpty;
    if (!prefix.is_array()) invalid("'prefixItems' must be an array", ptr + "/prefixItems");
    int64_t k = (int64_t)prefix.size();
    int64_t min = s.contains("minItems") ? get_count(s, "minItems", ptr) : 0;
    std::optional<int64_t> max;
    if (s.contains("maxItems")) max = get_count(s, "maxItems", ptr);
    std::optional<int32_t> item;
    const std::string saved_path = path_;
    path_ += "[]";
    if (!s.contains("items")) item = any_value();
    else if (s["items"].is_boolean() && !s["items"].get<bool>()) max = max ? std::min(*max, k) : k;
    else item = value(s["items"], ptr + "/items");
    std::vector<int32_t> elems;
    for (int64_t i = 0; i < k; ++i) elems.push_back(value(prefix[i], ptr + "/prefixItems/" + std::to_string(i)));
    path_ = saved_path;
    if (min > kMaxItemsUnrolled || (max && *max > kMaxItemsUnrolled))
        throw Error(ErrorKind::ErrorKind_limit, "minItems/maxItems above " + std::to_string(kMaxItemsUnrolled) +
                                                    " is not supported at " + ptr);
    if (max && *max < min) return rs_.nothing();

    // Tail: items after the prefix, count in [lo, hi].
    int32_t tail;
    int64_t lo = std::max<int64_t>(0, min - k);
    std::optional<int64_t> hi;
    if (max) hi = *max - k;
    if (!item || (hi && *hi <= 0)) {
        tail = lo == 0 ? rs_.empty() : rs_.nothing();
    } else {
        std::optional<int32_t> hi32;
        if (hi) hi32 = (int32_t)*hi;
        int32_t sep_item = rs_.seq({comma(), *item});
        if (k > 0) {
            tail = rs_.repeat(sep_item, (int32_t)lo, hi32);
        } else {
            std::optional<int32_t> hi_rest;
            if (hi32) hi_rest = *hi32 - 1;
            int32_t rest_lo = lo >= 1 ? (int32_t)lo - 1 : 0;
            int32_t some = rs_.seq({*item, rs_.repeat(sep_item, rest_lo, hi_rest)});
            tail = lo >= 1 ? some : rs_.alt({rs_.empty(), some});
        }
    }
    int32_t body = tail;
    for (int64_t i = k; i-- > 0;) {
        if (max && i >= *max) {
            body = rs_.empty();
            continue;
        }
        int32_t it = i > 0 ? rs_.seq({comma(), elems[i]}) : elems[i];
        int32_t take = rs_.seq({it, body});
        body = i >= min ? rs_.alt({rs_.empty(), take}) : take;
    }
    return rs_.seq({rs_.byte('['), body, rs_.byte(']')});
}

int32_t SchemaCompiler::ref_value(const std::string & ref, const std::string & ptr) {
    if (ref.empty() || ref[0] != '#') unsupported("only local '$ref' (starting with '#') is supported, got '" + ref + "'", ptr);
    if (auto it = ref_rules_.find(ref); it != ref_rules_.end()) return rs_.ref(it->second);
    const ojson * target = nullptr;
    try {
        target = &root_.at(ojson::json_pointer(ref.substr(1)));
    } catch (const std::exception &) {
        invalid("'$ref' target '" + ref + "' does not exist", ptr);
    }
    int32_t rule = rs_.add_rule(root_pointer_ + ref.substr(1));
    ref_rules_[ref] = rule;
    ++ref_depth_;
    int32_t body = value(*target, root_pointer_ + ref.substr(1));
    --ref_depth_;
    rs_.define(rule, body);
    return rs_.ref(rule);
}

ojson SchemaCompiler::merge_all_of(const ojson & s, const std::string & ptr) {
    ojson out = ojson::object();
    for (auto it = s.begin(); it != s.end(); ++it)
        if (it.key() != "allOf" && !kAnnotations.count(it.key())) out[it.key()] = it.value();
    const ojson & subs = s["allOf"];
    if (!subs.is_array() || subs.empty()) invalid("'allOf' must be a non-empty array", ptr + "/allOf");
    for (size_t i = 0; i < subs.size(); ++i) {
        std::string sptr = ptr + "/allOf/" + std::to_string(i);
        ojson sub = subs[i];
        for (int hops = 0; sub.is_object() && sub.contains("$ref"); ++hops) {
            if (hops > 32) invalid("'$ref' chain too long in allOf", sptr);
            std::string ref = sub["$ref"].is_string() ? sub["$ref"].get<std::string>() : "";
            if (ref.empty() || ref[0] != '#') unsupported("only local '$ref' is supported in allOf", sptr);
            ojson rest = sub;
            rest.erase("$ref");
            try {
                sub = root_.at(ojson::json_pointer(ref.substr(1)));
            } catch (const std::exception &) {
                invalid("'$ref' target '" + ref + "' does not exist", sptr);
            }
            for (auto it = rest.begin(); it != rest.end(); ++it)
                if (!kAnnotations.count(it.key())) sub[it.key()] = it.value();
        }
        if (sub.is_boolean()) {
            if (sub.get<bool>()) continue;
            unsupported("'false' inside allOf", sptr);
        }
        if (!sub.is_object()) invalid("allOf entries must be schemas", sptr);
        if (sub.contains("allOf")) sub = merge_all_of(sub, sptr);
        for (auto it = sub.begin(); it != sub.end(); ++it) {
            const std::string & key = it.key();
            if (kAnnotations.count(key)) continue;
            if (!kKeywords.count(key)) unsupported("unsupported JSON Schema keyword '" + key + "'", sptr + "/" + escape_pointer(key));
            if (key == "properties") {
                ojson & props = out["properties"];
                if (props.is_null()) props = ojson::object();
                for (auto p = it.value().begin(); p != it.value().end(); ++p) {
                    if (props.contains(p.key()) && props[p.key()] != p.value())
                        unsupported("property '" + p.key() + "' declared differently in two allOf branches",
                                    sptr + "/properties/" + escape_pointer(p.key()));
                    props[p.key()] = p.value();
                }
            } else if (key == "required") {
                ojson & req = out["required"];
                if (req.is_null()) req = ojson::array();
                for (const ojson & r : it.value())
                    if (std::find(req.begin(), req.end(), r) == req.end()) req.push_back(r);
            } else if (!out.contains(key)) {
                out[key] = it.value();
            } else if (out[key] != it.value()) {
                unsupported("'" + key + "' with conflicting values in allOf", sptr + "/" + escape_pointer(key));
            }
        }
    }
    return out;
}

std::shared_ptr<const Grammar> compile_json_schema(const ojson & schema, const SchemaOptions & opt) {
    RuleSet rs;
    SchemaCompiler sc(rs, schema, "#", opt);
    int32_t entry = rs.add_rule("root");
    rs.define(entry, sc.value(schema, "#"));
    rs.entry = entry;
    return Grammar::build(rs, "json-schema");
}

std::shared_ptr<const Grammar> compile_json_object(const SchemaOptions & opt) {
    RuleSet rs;
    ojson empty = ojson::object();
    SchemaCompiler sc(rs, empty, "#", opt);
    int32_t entry = rs.add_rule("root");
    rs.define(entry, sc.any_object());
    rs.entry = entry;
    return Grammar::build(rs, "json-object");
}

}  // namespace sy::grammar
