// Tool-call grammar construction, tool_choice handling and the output parser (see tool_call.h).
#include "grammar/tool_call.h"

#include <set>

#include "common/error.h"

namespace sy::grammar {

ToolCallFormat ToolCallFormat::llama3_json() {
    ToolCallFormat f;
    f.name = "llama3-json";
    f.call_open = "";
    f.call_close = "";
    f.call_separator = "; ";
    f.args_key = "parameters";
    return f;
}

ToolCallFormat ToolCallFormat::compact() {
    ToolCallFormat f;
    f.name = "compact";
    f.call_open = "";
    f.call_close = "";
    f.call_separator = "\n";
    f.whitespace = Whitespace::Whitespace_compact;
    return f;
}

std::string ToolCallFormat::marker() const { return call_open + "{" + json_quote(name_key); }

ToolChoice ToolChoice::parse(const ojson & v) {
    ToolChoice c;
    if (v.is_null()) return c;
    if (v.is_string()) {
        std::string s = v.get<std::string>();
        if (s == "auto") c.mode = ToolChoiceMode::ToolChoiceMode_auto;
        else if (s == "none") c.mode = ToolChoiceMode::ToolChoiceMode_none;
        else if (s == "required") c.mode = ToolChoiceMode::ToolChoiceMode_required;
        else throw Error(ErrorKind::ErrorKind_invalid_argument,
                         "tool_choice must be \"auto\", \"none\", \"required\" or {\"type\":\"function\",...}, got \"" + s + "\"");
        return c;
    }
    if (v.is_object() && v.value("type", "") == "function" && v.contains("function") && v["function"].is_object() &&
        v["function"].contains("name") && v["function"]["name"].is_string()) {
        c.mode = ToolChoiceMode::ToolChoiceMode_function;
        c.function = v["function"]["name"].get<std::string>();
        return c;
    }
    throw Error(ErrorKind::ErrorKind_invalid_argument,
                "tool_choice must be \"auto\", \"none\", \"required\" or {\"type\":\"function\",\"function\":{\"name\":...}}, got " +
                    v.dump());
}

std::vector<ToolSpec> parse_tools(const ojson & tools) {
    if (tools.is_null()) return {};
    if (!tools.is_array()) throw Error(ErrorKind::ErrorKind_invalid_argument, "tools must be an array");
    std::vector<ToolSpec> out;
    std::set<std::string> names;
    for (size_t i = 0; i < tools.size(); ++i) {
        const ojson & t = tools[i];
        std::string where = "tools[" + std::to_string(i) + "]";
        const ojson * fn = &t;
        if (t.is_object() && t.contains("function")) {
            if (t.contains("type") && t["type"] != "function")
                throw Error(ErrorKind::ErrorKind_invalid_argument, where + ".type must be \"function\"");
            fn = &t["function"];
            where += ".function";
        }
        if (!fn->is_object() || !fn->contains("name") || !(*fn)["name"].is_string() || (*fn)["name"].get<std::string>().empty())
            throw Error(ErrorKind::ErrorKind_invalid_argument, where + " needs a non-empty string \"name\"");
        ToolSpec spec;
        spec.name = (*fn)["name"].get<std::string>();
        if (!names.insert(spec.name).second)
            throw Error(ErrorKind::ErrorKind_invalid_argument, "duplicate tool name '" + spec.name + "' at " + where);
        spec.parameters = fn->contains("parameters") ? (*fn)["parameters"] : ojson{{"type", "object"}, {"properties", ojson::object()}};
        out.push_back(std::move(spec));
    }
    return out;
}

// UTF-8 text that does not start with `marker` (an ASCII string).
static int32_t text_without_prefix(RuleSet & rs, const std::string & marker, uint16_t text_tag) {
    std::vector<int32_t> alts = {rs.empty()};
    for (size_t i = 0; i < marker.size(); ++i) {
        uint8_t c = (uint8_t)marker[i];
        std::vector<ByteRange> other;
        if (c > 0) other.push_back({0, (uint8_t)(c - 1)});
        if (c < 0x7F) other.push_back({(uint8_t)(c + 1), 0x7F});
        int32_t any_but_c = rs.alt({rs.bytes(other), rs.expr(rs.utf8_char()).children[1]});
        int32_t diverge = rs.seq({rs.literal(marker.substr(0, i)), any_but_c, rs.star(rs.utf8_char())});
        alts.push_back(diverge);
        if (i > 0) alts.push_back(rs.literal(marker.substr(0, i)));
    }
    return rs.tagged(rs.alt(std::move(alts)), text_tag);
}

std::shared_ptr<const Grammar> compile_tool_grammar(const std::vector<ToolSpec> & tools, const ToolChoice & choice,
                                                    const ToolGrammarOptions & opt) {
    const ToolCallFormat & f = opt.format;
    std::string known;
    for (const ToolSpec & t : tools) known += (known.empty() ? "" : ", ") + t.name;
    if (choice.mode == ToolChoiceMode::ToolChoiceMode_function) {
        bool found = false;
        for (const ToolSpec & t : tools) found = found || t.name == choice.function;
        if (!found)
            throw Error(ErrorKind::ErrorKind_invalid_argument, "tool_choice names unknown tool '" + choice.function +
                                                                   "' (known: " + (known.empty() ? "none" : known) + ")");
    }
    if (choice.mode == ToolChoiceMode::ToolChoiceMode_required && tools.empty())
        throw Error(ErrorKind::ErrorKind_invalid_argument, "tool_choice \"required\" needs at least one tool");
    for (const std::string * s : {&f.call_open, &f.name_key})
        for (char c : *s)
            if ((uint8_t)c >= 0x80)
                throw Error(ErrorKind::ErrorKind_invalid_argument, "tool-call format '" + f.name + "': markers must be ASCII");

    RuleSet rs;
    SchemaOptions so;
    so.whitespace = f.whitespace;
    const char * colon = f.whitespace == Whitespace::Whitespace_compact ? ":" : ": ";
    const char * comma = f.whitespace == Whitespace::Whitespace_compact ? "," : ", ";
    uint16_t text_tag = rs.add_tag(TagInfo{TagKind::TagKind_text, 0, ""});

    std::vector<int32_t> call_alts;
    std::vector<std::unique_ptr<SchemaCompiler>> compilers;  // keep alive: they own rule memo tables
    bool any_tool = choice.mode != ToolChoiceMode::ToolChoiceMode_none;
    for (size_t i = 0; any_tool && i < tools.size(); ++i) {
        const ToolSpec & t = tools[i];
        if (choice.mode == ToolChoiceMode::ToolChoiceMode_function && t.name != choice.function) continue;
        uint16_t name_tag = rs.add_tag(TagInfo{TagKind::TagKind_name, (int32_t)i, ""});
        std::string ptr = "tools[" + std::to_string(i) + "].function.parameters#";
        SchemaOptions tool_so = so;
        const std::string prefix = t.name + ".";
        for (const std::string & f : opt.copy_fields)
            if (f.size() > prefix.size() && f.compare(0, prefix.size(), prefix) == 0) tool_so.copy_fields.insert(f.substr(prefix.size()));
        compilers.push_back(std::make_unique<SchemaCompiler>(rs, t.parameters, ptr, tool_so));
        auto tag_of = [&rs, i](const std::string & arg) {
            return rs.add_tag(TagInfo{TagKind::TagKind_argument, (int32_t)i, arg});
        };
        int32_t args = compilers.back()->object(t.parameters, ptr, tag_of);
        call_alts.push_back(rs.seq({
            rs.literal(f.call_open + "{" + json_quote(f.name_key) + colon),
            rs.tagged(rs.literal(json_quote(t.name)), name_tag),
            rs.literal(comma + json_quote(f.args_key) + colon),
            args,
            rs.literal("}" + f.call_close),
        }));
    }
    std::vector<int32_t> outputs;
    if (!call_alts.empty()) {
        int32_t one = rs.alt(std::move(call_alts));
        bool parallel = opt.parallel && choice.mode != ToolChoiceMode::ToolChoiceMode_function;
        outputs.push_back(parallel ? rs.seq({one, rs.star(rs.seq({rs.literal(f.call_separator), one}))}) : one);
    }
    if (choice.mode == ToolChoiceMode::ToolChoiceMode_auto || choice.mode == ToolChoiceMode::ToolChoiceMode_none)
        outputs.push_back(text_without_prefix(rs, f.marker(), text_tag));
    int32_t entry = rs.add_rule("tool output");
    rs.define(entry, rs.alt(std::move(outputs)));
    rs.entry = entry;
    return Grammar::build(rs, "tools");
}

std::shared_ptr<const Grammar> compile_tool_grammar(const ojson & tools, const ojson & tool_choice, bool parallel,
                                                    const ToolCallFormat & format) {
    ToolGrammarOptions opt;
    opt.format = format;
    opt.parallel = parallel;
    return compile_tool_grammar(parse_tools(tools), ToolChoice::parse(tool_choice), opt);
}

std::shared_ptr<const Grammar> compile_tool_grammar(const ojson & tools, const ojson & tool_choice, bool parallel,
                                                    const ToolCallFormat & format, const std::set<std::string> & copy_fields) {
    ToolGrammarOptions opt;
    opt.format = format;
    opt.parallel = parallel;
    opt.copy_fields = copy_fields;
    return compile_tool_grammar(parse_tools(tools), ToolChoice::parse(tool_choice), opt);
}

uint64_t tool_grammar_key(const ojson & tools, const ojson & tool_choice, bool parallel, const ToolCallFormat & f,
                          const std::set<std::string> & copy_fields) {
    std::string s = tools.dump() + '\x1f' + tool_choice.dump() + '\x1f' + (parallel ? "1" : "0") + '\x1f' + f.call_open +
                    '\x1f' + f.call_close + '\x1f' + f.call_separator + '\x1f' + f.name_key + '\x1f' + f.args_key +
                    '\x1f' + (f.whitespace == Whitespace::Whitespace_compact ? "c" : "s");
    for (const std::string & c : copy_fields) s += '\x1e' + c;  // none: the key stays what it was
    uint64_t h = 1469598103934665603ull;
    for (char c : s) h = (h ^ (uint8_t)c) * 1099511628211ull;
    return h;
}

// End of the JSON object starting at text[pos] == '{' (index one past its '}'), or npos.
static size_t object_end(std::string_view text, size_t pos) {
    int depth = 0;
    bool in_string = false;
    for (size_t i = pos; i < text.size(); ++i) {
        char c = text[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        else if (c == '{' || c == '[') ++depth;
        else if (c == '}' || c == ']') {
            if (--depth == 0) return i + 1;
        }
    }
    return std::string_view::npos;
}

static size_t skip_ws(std::string_view t, size_t i) {
    while (i < t.size() && (t[i] == ' ' || t[i] == '\n' || t[i] == '\t' || t[i] == '\r')) ++i;
    return i;
}

static bool starts_with_trimmed(std::string_view t, size_t & i, std::string_view what) {
    // Whitespace inside the wrapper strings is matched loosely (models vary in newlines).
    size_t j = i;
    for (size_t k = 0; k < what.size();) {
        char w = what[k];
        if (w == ' ' || w == '\n' || w == '\t' || w == '\r') {
            ++k;
            continue;
        }
        j = skip_ws(t, j);
        if (j >= t.size() || t[j] != w) return false;
        ++j;
        ++k;
    }
    i = j;
    return true;
}

ParsedOutput parse_tool_output(std::string_view text, const ToolCallFormat & f) {
    ParsedOutput out;
    size_t i = skip_ws(text, 0);
    size_t probe = i;
    bool is_call = starts_with_trimmed(text, probe, f.marker());
    if (!is_call) {
        out.content = std::string(text);
        return out;
    }
    auto bad = [&](const std::string & why) {
        throw Error(ErrorKind::ErrorKind_invalid_argument, "malformed tool call at byte " + std::to_string(i) + ": " + why);
    };
    while (true) {
        if (!starts_with_trimmed(text, i, f.call_open)) bad("expected '" + f.call_open + "'");
        i = skip_ws(text, i);
        if (i >= text.size() || text[i] != '{') bad("expected '{'");
        size_t end = object_end(text, i);
        if (end == std::string_view::npos) bad("unterminated JSON object");
        ojson obj;
        try {
            obj = ojson::parse(text.substr(i, end - i));
        } catch (const std::exception & e) {
            bad(std::string("invalid JSON: ") + e.what());
        }
        if (!obj.contains(f.name_key) || !obj[f.name_key].is_string()) bad("missing string \"" + f.name_key + "\"");
        ParsedToolCall call;
        call.name = obj[f.name_key].get<std::string>();
        ojson args = obj.contains(f.args_key) ? obj[f.args_key] : ojson::object();
        if (args.is_string()) {
            try {
                args = ojson::parse(args.get<std::string>());
            } catch (const std::exception &) {
                bad("\"" + f.args_key + "\" is a string that is not JSON");
            }
        }
        if (!args.is_object()) bad("\"" + f.args_key + "\" must be an object");
        call.arguments = std::move(args);
        out.tool_calls.push_back(std::move(call));
        i = end;
        if (!starts_with_trimmed(text, i, f.call_close)) bad("expected '" + f.call_close + "'");
        if (skip_ws(text, i) >= text.size()) break;
        size_t save = i;
        if (!starts_with_trimmed(text, i, f.call_separator)) i = save;
        size_t probe2 = i;
        if (!starts_with_trimmed(text, probe2, f.marker())) bad("unexpected text after a tool call");
    }
    return out;
}

}  // namespace sy::grammar
