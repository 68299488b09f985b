#include "chat/grounding.h"

#include <algorithm>
#include <cctype>
#include <unordered_map>
#include <unordered_set>

namespace sy::chat {
namespace {

bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }

// The enum and const strings anywhere in a JSON schema.
void collect_labels(const ojson & schema, std::unordered_set<std::string> & out, int depth = 0) {
    if (depth > 64) return;
    if (schema.is_object()) {
        for (const auto & [k, v] : schema.items()) {
            if (k == "enum" && v.is_array()) {
                for (const ojson & e : v)
                    if (e.is_string()) out.insert(e.get<std::string>());
            } else if (k == "const" && v.is_string()) {
                out.insert(v.get<std::string>());
            } else {
                collect_labels(v, out, depth + 1);
            }
        }
    } else if (schema.is_array()) {
        for (const ojson & e : schema) collect_labels(e, out, depth + 1);
    }
}

struct ValueSet {
    std::vector<std::string> out;
    std::unordered_set<std::string> seen;
    std::unordered_set<std::string> labels;  // enum and const strings of the tools: never quoted
    std::unordered_map<std::string, int32_t> quoted_uses;
    int64_t max_count = -1;

    void add(std::string v) {
        if (v.empty() || v.size() > kMaxGroundedValue || !seen.insert(v).second) return;
        out.push_back(std::move(v));
    }
    void add_string(const std::string & s) {
        add(s);
        // Quoted: text (a title, a query), not a label and not a date or a number written as a string.
        const bool has_letter = std::any_of(s.begin(), s.end(), [](char ch) {
            return std::isalpha((unsigned char)ch) || (unsigned char)ch >= 0x80;
        });
        if (has_letter && !labels.count(s)) {
            std::string q = "\"" + s + "\"";
            ++quoted_uses[q];
            add(std::move(q));
        }
        if (s.find(' ') == std::string::npos) return;  // a date or an id stays whole
        for (size_t i = 0; i < s.size();) {
            if (!is_digit((uint8_t)s[i])) {
                ++i;
                continue;
            }
            size_t j = i;
            while (j < s.size() && is_digit((uint8_t)s[j])) ++j;
            add(s.substr(i, j - i));
            i = j;
        }
    }
    void add_json(const ojson & v) {
        if (v.is_string()) {
            add_string(v.get<std::string>());
        } else if (v.is_number()) {
            add(v.dump());
        } else if (v.is_array()) {
            max_count = std::max<int64_t>(max_count, std::min<int64_t>((int64_t)v.size(), kMaxGroundedCount));
            for (const ojson & e : v) add_json(e);
        } else if (v.is_object()) {
            for (const auto & [k, e] : v.items()) add_json(e);
        }
    }
};

}  // namespace

std::vector<std::string> reply_values(const std::vector<Message> & messages, const ojson & tools,
                                      std::vector<int32_t> * uses) {
    size_t from = 0;
    for (size_t i = messages.size(); i-- > 0;)
        if (messages[i].role == "user") {
            from = i + 1;
            break;
        }
    ValueSet vs;
    if (tools.is_array())
        for (const ojson & t : tools)
            if (t.is_object() && t.contains("function") && t["function"].is_object() && t["function"].contains("parameters"))
                collect_labels(t["function"]["parameters"], vs.labels);
    bool any_tool = false;
    for (size_t i = from; i < messages.size(); ++i) {
        const Message & m = messages[i];
        if (m.role == "assistant") {
            for (const ToolCall & c : m.tool_calls) vs.add_json(c.arguments);
        } else if (m.role == "tool") {
            any_tool = true;
            const ojson j = ojson::parse(m.content, nullptr, false);
            if (j.is_discarded()) {
                vs.add_string(m.content);
            } else {
                vs.add_json(j);
            }
        }
    }
    if (!any_tool) return {};
    for (int64_t n = 0; n <= vs.max_count; ++n) vs.add(std::to_string(n));
    if (uses) {
        uses->clear();
        for (const std::string & v : vs.out) {
            const auto it = vs.quoted_uses.find(v);
            uses->push_back(it == vs.quoted_uses.end() ? 0 : it->second);
        }
    }
    return std::move(vs.out);
}

GroundedText::GroundedText(std::vector<std::string> values) : values_(std::move(values)), starts_(256) {
    if (values_.size() > 0xFFFF) values_.resize(0xFFFF);
    numeric_.assign(values_.size(), false);
    for (uint32_t i = 0; i < values_.size(); ++i) {
        std::string & v = values_[i];
        if (v.size() > 0xFFFF) v.resize(0xFFFF);
        if (v.empty()) continue;
        if (std::any_of(v.begin(), v.end(), [](char c) { return grounded_only_byte((uint8_t)c); }))
            starts_[(uint8_t)v[0]].push_back(i);
        numeric_[i] = std::all_of(v.begin(), v.end(), [](char c) { return is_digit((uint8_t)c) || c == '.'; }) &&
                      is_digit((uint8_t)v[0]);
    }
}

bool GroundedText::step(State & s, uint8_t c, std::vector<uint32_t> & next, const std::vector<int32_t> * remaining,
                        std::vector<uint32_t> * completed) const {
    next.clear();
    bool by_copy = false, by_byte = false;  // how the text can be free after c
    for (uint32_t p : s.live) {
        const uint32_t v = p >> 16, k = p & 0xFFFF;
        if ((uint8_t)values_[v][k] != c) continue;
        if (k + 1 == values_[v].size()) {
            by_copy = true;  // the copy is whole
            if (completed) completed->push_back(v);
        } else {
            next.push_back(v << 16 | (k + 1));
        }
    }
    if (s.free) {
        if (!grounded_only_byte(c)) by_byte = true;
        if (!s.after_copy)
            for (uint32_t v : starts_[c]) {
                if (remaining && v < remaining->size() && (*remaining)[v] == 0) continue;  // used up
                if (s.after_hash && !numeric_[v]) continue;  // "#" numbers: an id, never a date
                if (values_[v].size() == 1) {
                    by_copy = true;
                    if (completed) completed->push_back(v);
                } else {
                    next.push_back(v << 16 | 1u);
                }
            }
    }
    std::sort(next.begin(), next.end());
    next.erase(std::unique(next.begin(), next.end()), next.end());
    s.live.swap(next);
    s.free = by_copy || by_byte;
    s.after_copy = by_copy && !by_byte;
    s.after_hash = by_byte && c == '#';
    return !s.dead();
}

bool GroundedText::advance(State & s, std::string_view bytes, const std::vector<int32_t> * remaining,
                           std::vector<uint32_t> * completed) const {
    thread_local std::vector<uint32_t> scratch;
    for (char c : bytes)
        if (!step(s, (uint8_t)c, scratch, remaining, completed)) return false;
    return !s.dead();
}

std::vector<std::string> stated_values(std::string_view text) {
    std::vector<std::string> out;
    for (size_t i = 0; i < text.size();) {
        const uint8_t c = (uint8_t)text[i];
        if (c == '"') {
            const size_t close = text.find('"', i + 1);
            const size_t end = close == std::string_view::npos ? text.size() : close + 1;
            out.emplace_back(text.substr(i, end - i));
            i = end;
        } else if (is_digit(c)) {
            size_t j = i;
            while (j < text.size()) {
                if (is_digit((uint8_t)text[j])) {
                    ++j;
                } else if (j + 1 < text.size() && std::string_view("-:./").find(text[j]) != std::string_view::npos &&
                           is_digit((uint8_t)text[j + 1])) {
                    j += 2;
                } else {
                    break;
                }
            }
            out.emplace_back(text.substr(i, j - i));
            i = j;
        } else {
            ++i;
        }
    }
    return out;
}

std::vector<std::string> ungrounded_values(std::string_view text, const std::vector<std::string> & values) {
    const std::unordered_set<std::string_view> known(values.begin(), values.end());
    std::vector<std::string> out;
    for (std::string & v : stated_values(text)) {
        const bool quoted = v.front() == '"';
        const bool closed = quoted && v.size() >= 2 && v.back() == '"';
        const std::string_view inner = closed ? std::string_view(v).substr(1, v.size() - 2) : std::string_view();
        if (known.count(v) || (closed && known.count(inner))) continue;
        out.push_back(std::move(v));
    }
    return out;
}

}  // namespace sy::chat
