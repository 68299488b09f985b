#include "chat/chat_format.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include "chat/dates.h"
#include "grammar/schema.h"

namespace sy::chat {
namespace {

struct FormatRow {
    ChatFormatKind kind;
    const char * name;
};
constexpr std::array<FormatRow, 3> kFormats = {{
    {ChatFormatKind::ChatFormatKind_chatml, "chatml"},
    {ChatFormatKind::ChatFormatKind_llama3, "llama3"},
    {ChatFormatKind::ChatFormatKind_compact, "compact"},
}};
static_assert(kFormats.size() == 3);

[[noreturn]] void bad(const std::string & path, const std::string & msg) {
    throw Error(ErrorKind::ErrorKind_invalid_argument, path + ": " + msg);
}

std::string content_text(const ojson & c, const std::string & path) {
    if (c.is_null()) return "";
    if (c.is_string()) return c.get<std::string>();
    if (c.is_array()) {  // [{"type":"text","text":...}, ...]
        std::string out;
        for (size_t i = 0; i < c.size(); ++i) {
            const ojson & part = c[i];
            if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string())
                bad(path + "[" + std::to_string(i) + "]", "only text content parts are supported");
            out += part["text"].get<std::string>();
        }
        return out;
    }
    bad(path, "content must be a string, an array of text parts, or null");
}

std::string tools_listing(const ojson & tools) {
    std::string s;
    for (const ojson & t : tools) s += grammar::dump_json(t, grammar::Whitespace::Whitespace_space_after_separators) + "\n";
    return s;
}

}  // namespace

const ojson * find_tool_schema(const ojson & tools, const std::string & name) {
    if (!tools.is_array()) return nullptr;
    for (const ojson & t : tools) {
        const ojson & fn = t.contains("function") ? t["function"] : t;
        if (fn.is_object() && fn.value("name", "") == name && fn.contains("parameters")) return &fn["parameters"];
    }
    return nullptr;
}

std::string tool_name(const ojson & tool) {
    const ojson & fn = tool.is_object() && tool.contains("function") ? tool["function"] : tool;
    return fn.is_object() && fn.contains("name") && fn["name"].is_string() ? fn["name"].get<std::string>() : "";
}

const char * chat_format_name(ChatFormatKind k) { return kFormats[(int)k].name; }

std::optional<ChatFormatKind> chat_format_from_name(std::string_view name) {
    for (const auto & r : kFormats)
        if (name == r.name) return r.kind;
    return std::nullopt;
}

std::vector<Message> parse_messages(const ojson & messages) {
    if (!messages.is_array()) bad("messages", "must be an array");
    std::vector<Message> out;
    for (size_t i = 0; i < messages.size(); ++i) {
        const std::string path = "messages[" + std::to_string(i) + "]";
        const ojson & m = messages[i];
        if (!m.is_object()) bad(path, "must be an object");
        if (!m.contains("role") || !m["role"].is_string()) bad(path + ".role", "must be a string");
        Message msg;
        msg.role = m["role"].get<std::string>();
        if (msg.role == "developer") msg.role = "system";
        if (msg.role != "system" && msg.role != "user" && msg.role != "assistant" && msg.role != "tool")
            bad(path + ".role", "unknown role '" + msg.role + "' (system, user, assistant, tool)");
        if (m.contains("content")) msg.content = content_text(m["content"], path + ".content");
        if (m.contains("tool_calls") && !m["tool_calls"].is_null()) {
            if (msg.role != "assistant") bad(path + ".tool_calls", "only assistant messages carry tool_calls");
            const ojson & tcs = m["tool_calls"];
            if (!tcs.is_array()) bad(path + ".tool_calls", "must be an array");
            for (size_t k = 0; k < tcs.size(); ++k) {
                const std::string tp = path + ".tool_calls[" + std::to_string(k) + "]";
                const ojson & tc = tcs[k];
                if (!tc.is_object() || !tc.contains("function") || !tc["function"].is_object())
                    bad(tp, "must be {\"type\":\"function\",\"function\":{\"name\",\"arguments\"}}");
                const ojson & fn = tc["function"];
                if (!fn.contains("name") || !fn["name"].is_string()) bad(tp + ".function.name", "must be a string");
                ToolCall call;
                call.id = tc.value("id", "");
                call.name = fn["name"].get<std::string>();
                if (fn.contains("arguments")) {
                    const ojson & a = fn["arguments"];
                    if (a.is_string()) {
                        const std::string s = a.get<std::string>();
                        ojson parsed = ojson::parse(s.empty() ? std::string("{}") : s, nullptr, false);
                        if (parsed.is_discarded() || !parsed.is_object())
                            bad(tp + ".function.arguments", "is not a JSON object: " + s.substr(0, 80));
                        call.arguments = std::move(parsed);
                    } else if (a.is_object()) {
                        call.arguments = a;
                    } else {
                        bad(tp + ".function.arguments", "must be a JSON object or a string holding one");
                    }
                }
                msg.tool_calls.push_back(std::move(call));
            }
        }
        if (msg.role == "tool") {
            msg.tool_call_id = m.value("tool_call_id", "");
            msg.name = m.value("name", "");
        }
        out.push_back(std::move(msg));
    }
    return out;
}

Conversation parse_conversation(const ojson & j) {
    if (!j.is_object()) bad("$", "an example must be a JSON object with \"messages\"");
    if (!j.contains("messages")) bad("$", "missing \"messages\"");
    Conversation c;
    c.messages = parse_messages(j["messages"]);
    if (j.contains("tools") && !j["tools"].is_null()) {
        if (!j["tools"].is_array()) bad("tools", "must be an array");
        c.tools = j["tools"];
        grammar::parse_tools(c.tools);  // validates names and shapes
    }
    return c;
}

std::string Rendered::text() const {
    std::string s;
    for (const auto & seg : segments) s += seg.text;
    return s;
}

ChatFormat ChatFormat::detect(const gguf::File & file, const tok::Vocab & vocab) {
    if (auto f = file.get_string("switchyard.chat_format")) {
        if (auto k = chat_format_from_name(*f)) return ChatFormat(*k);
        throw Error(ErrorKind::ErrorKind_invalid_file, file.path() + ": unknown switchyard.chat_format '" + *f + "'");
    }
    if (auto t = file.get_string("tokenizer.chat_template")) {
        if (t->find("<|start_header_id|>") != std::string::npos) return ChatFormat(ChatFormatKind::ChatFormatKind_llama3);
        if (t->find("<|im_start|>") != std::string::npos) return ChatFormat(ChatFormatKind::ChatFormatKind_chatml);
    }
    if (vocab.find("<|start_header_id|>") && !vocab.find("<|im_start|>")) return ChatFormat(ChatFormatKind::ChatFormatKind_llama3);
    return ChatFormat(ChatFormatKind::ChatFormatKind_chatml);
}

grammar::ToolCallFormat ChatFormat::tool_call_format() const {
    switch (kind_) {
        case ChatFormatKind::ChatFormatKind_chatml: return grammar::ToolCallFormat::hermes();
        case ChatFormatKind::ChatFormatKind_llama3: return grammar::ToolCallFormat::llama3_json();
        case ChatFormatKind::ChatFormatKind_compact: return grammar::ToolCallFormat::compact();
    }
    return grammar::ToolCallFormat::hermes();
}

std::vector<std::string> ChatFormat::stop_strings() const {
    if (kind_ == ChatFormatKind::ChatFormatKind_llama3) return {"<|eot_id|>", "<|eom_id|>"};
    return {"<|im_end|>"};
}

ojson order_like_schema(const ojson & value, const ojson & schema) {
    if (!schema.is_object()) return value;
    if (value.is_object()) {
        const ojson * props = schema.contains("properties") && schema["properties"].is_object() ? &schema["properties"] : nullptr;
        ojson out = ojson::object();
        if (props)
            for (auto it = props->begin(); it != props->end(); ++it)
                if (value.contains(it.key())) out[it.key()] = order_like_schema(value[it.key()], it.value());
        const ojson * extra = schema.contains("additionalProperties") ? &schema["additionalProperties"] : nullptr;
        for (auto it = value.begin(); it != value.end(); ++it)
            if (!out.contains(it.key())) out[it.key()] = extra && extra->is_object() ? order_like_schema(it.value(), *extra) : it.value();
        return out;
    }
    if (value.is_array() && schema.contains("items") && schema["items"].is_object()) {
        ojson out = ojson::array();
        for (const ojson & v : value) out.push_back(order_like_schema(v, schema["items"]));
        return out;
    }
    return value;
}

std::string ChatFormat::render_tool_calls(const std::vector<ToolCall> & calls, const ojson & tools) const {
    const grammar::ToolCallFormat f = tool_call_format();
    std::string s;
    for (size_t i = 0; i < calls.size(); ++i) {
        const ojson * schema = find_tool_schema(tools, calls[i].name);
        ojson obj = ojson::object();
        obj[f.name_key] = calls[i].name;
        obj[f.args_key] = schema ? order_like_schema(calls[i].arguments, *schema) : calls[i].arguments;
        if (i) s += f.call_separator;
        s += f.call_open + grammar::dump_json(obj, f.whitespace) + f.call_close;
    }
    return s;
}

std::vector<std::string> ChatFormat::copy_sources(const Conversation & conv) const {
    std::vector<std::string> out;
    const bool compact = kind_ == ChatFormatKind::ChatFormatKind_compact;
    const int64_t today = compact ? today_of(conv) : 0;
    for (const Message & m : conv.messages) {
        if ((m.role == "user" || m.role == "tool") && !m.content.empty()) out.push_back(m.content);
        // The compact format writes the resolved dates under a user turn: they are copyable text too.
        if (compact && m.role == "user")
            for (const DateMention & d : find_dates(m.content, today))
                if (d.text != d.iso) out.push_back(d.iso);
    }
    return out;
}

std::string date_line(std::string_view text, int64_t today) {
    std::string line;
    for (const DateMention & d : find_dates(text, today)) {
        if (d.text == d.iso) continue;
        line += (line.empty() ? "\ndates: " : ", ") + d.text + " = " + d.iso;
    }
    return line;
}

int64_t ChatFormat::today_of(const Conversation & conv) const {
    for (const Message & m : conv.messages)
        if (m.role == "system") {
            if (auto d = find_iso_date(m.content)) return *d;
            break;
        }
    return today_ ? *today_ : local_today();
}

Rendered ChatFormat::render(const Conversation & conv, bool add_generation_prompt) const {
    Rendered r;
    auto plain = [&](std::string t) {
        if (!r.segments.empty() && !r.segments.back().train) r.segments.back().text += t;
        else r.segments.push_back({std::move(t), false});
    };
    const bool has_tools = conv.tools.is_array() && !conv.tools.empty();

    if (kind_ == ChatFormatKind::ChatFormatKind_llama3) {
        std::string system;
        size_t first = 0;
        if (!conv.messages.empty() && conv.messages[0].role == "system") { system = conv.messages[0].content; first = 1; }
        if (has_tools) {
            if (!system.empty()) system += "\n\n";
            system += "You can call the functions listed below. To call one, answer with only a JSON object of the form "
                      "{\"name\": function name, \"parameters\": object of argument values}; otherwise answer in plain text.\n\n" +
                      tools_listing(conv.tools);
        }
        if (!system.empty()) plain("<|start_header_id|>system<|end_header_id|>\n\n" + system + "<|eot_id|>");
        for (size_t i = first; i < conv.messages.size(); ++i) {
            const Message & m = conv.messages[i];
            if (m.role == "assistant") {
                plain("<|start_header_id|>assistant<|end_header_id|>\n\n");
                r.segments.push_back({(m.tool_calls.empty() ? m.content : render_tool_calls(m.tool_calls, conv.tools)) + "<|eot_id|>", true});
            } else {
                const std::string role = m.role == "tool" ? "ipython" : m.role;
                plain("<|start_header_id|>" + role + "<|end_header_id|>\n\n" + m.content + "<|eot_id|>");
            }
        }
        if (add_generation_prompt) plain("<|start_header_id|>assistant<|end_header_id|>\n\n");
        return r;
    }

    const bool compact = kind_ == ChatFormatKind::ChatFormatKind_compact;
    const int64_t today = compact ? today_of(conv) : 0;
    size_t first = 0;
    std::string system;
    if (!conv.messages.empty() && conv.messages[0].role == "system") { system = conv.messages[0].content; first = 1; }
    if (!compact && (has_tools || first == 1)) {
        if (system.empty()) system = "You are a helpful assistant.";
        if (has_tools)
            system += "\n\n# Tools\n\nYou may call the functions whose signatures are listed inside <tools></tools>:\n<tools>\n" +
                      tools_listing(conv.tools) +
                      "</tools>\n\nTo call a function, reply with a JSON object holding its name and arguments inside "
                      "<tool_call></tool_call> tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call>";
        plain("<|im_start|>system\n" + system + "<|im_end|>\n");
    }
    for (size_t i = first; i < conv.messages.size(); ++i) {
        const Message & m = conv.messages[i];
        if (m.role == "assistant") {
            plain("<|im_start|>assistant\n");
            r.segments.push_back({(m.tool_calls.empty() ? m.content : render_tool_calls(m.tool_calls, conv.tools)) + "<|im_end|>", true});
            plain("\n");
        } else if (m.role == "tool") {
            if (compact) plain("<|im_start|>tool\n" + m.content + "<|im_end|>\n");
            else plain("<|im_start|>user\n<tool_response>\n" + m.content + "\n</tool_response><|im_end|>\n");
        } else if (m.role == "system") {
            if (!compact) plain("<|im_start|>system\n" + m.content + "<|im_end|>\n");
        } else {
            plain("<|im_start|>user\n" + m.content + (compact ? date_line(m.content, today) : "") + "<|im_end|>\n");
        }
    }
    if (add_generation_prompt) plain("<|im_start|>assistant\n");
    return r;
}

TokenizedChat tokenize_rendered(const tok::Tokenizer & tokenizer, const Rendered & r, bool add_bos) {
    TokenizedChat out;
    tok::EncodeOptions eo;
    eo.parse_special = true;
    const auto & sp = tokenizer.vocab().special();
    if (add_bos && sp.bos) {
        out.tokens.push_back(*sp.bos);
        out.loss_mask.push_back(0);
    }
    for (const Segment & s : r.segments) {
        const std::vector<int32_t> ids = tokenizer.encode(s.text, eo);
        out.tokens.insert(out.tokens.end(), ids.begin(), ids.end());
        out.loss_mask.insert(out.loss_mask.end(), ids.size(), s.train ? 1 : 0);
    }
    return out;
}

std::string tools_fingerprint(const ojson & tools) {
    std::vector<std::pair<std::string, std::string>> rows;  // (name, canonical parameters)
    for (const grammar::ToolSpec & t : grammar::parse_tools(tools)) {
        const nlohmann::json sorted = nlohmann::json::parse(t.parameters.dump());  // std::map keys: sorted
        rows.emplace_back(t.name, sorted.dump());
    }
    std::sort(rows.begin(), rows.end());
    uint64_t h = 0xcbf29ce484222325ull;
    auto eat = [&](const std::string & s) {
        for (unsigned char c : s) {
            h ^= c;
            h *= 0x100000001b3ull;
        }
    };
    for (const auto & [name, params] : rows) eat(name + "\n" + params + "\n");
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)h);
    return buf;
}

}  // namespace sy::chat
