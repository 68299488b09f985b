// Judging one example (see compare.h).
#include "eval/compare.h"

#include <algorithm>
#include <map>

#include "common/error.h"
#include "dataset/schema_validate.h"
#include "grammar/tool_call.h"

namespace sy::eval {

const char * prediction_kind_name(PredictionKind k) {
    switch (k) {
        case PredictionKind::PredictionKind_text: return "text";
        case PredictionKind::PredictionKind_calls: return "calls";
        case PredictionKind::PredictionKind_malformed: return "malformed";
        case PredictionKind::PredictionKind_error: return "error";
    }
    return "?";
}

Expected expected_from_message(const chat::Message & assistant) {
    Expected e;
    for (const chat::ToolCall & c : assistant.tool_calls) e.calls.push_back({c.name, c.arguments});
    if (e.calls.empty()) e.text = assistant.content;
    return e;
}

namespace {

size_t skip_space(const std::string & s, size_t i) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r')) ++i;
    return i;
}

bool starts_with_at(const std::string & s, size_t i, std::string_view what) {
    return s.compare(i, what.size(), what) == 0;
}

// Calls written as text: hermes-wrapped, or bare JSON objects (compact / llama3). nullopt: plain text.
std::optional<Prediction> calls_in_text(const std::string & text) {
    const size_t i = skip_space(text, 0);
    std::vector<grammar::ToolCallFormat> formats;
    if (starts_with_at(text, i, "<tool_call>")) {
        formats.push_back(grammar::ToolCallFormat::hermes());
    } else if (starts_with_at(text, i, "{")) {
        const size_t j = skip_space(text, i + 1);
        if (!starts_with_at(text, j, "\"name\"")) return std::nullopt;
        const bool parameters = text.find("\"parameters\"") != std::string::npos && text.find("\"arguments\"") == std::string::npos;
        formats.push_back(parameters ? grammar::ToolCallFormat::llama3_json() : grammar::ToolCallFormat::compact());
        formats.push_back(parameters ? grammar::ToolCallFormat::compact() : grammar::ToolCallFormat::llama3_json());
    } else {
        return std::nullopt;
    }
    Prediction p;
    for (const auto & f : formats) {
        try {
            const grammar::ParsedOutput out = grammar::parse_tool_output(text, f);
            if (out.tool_calls.empty()) continue;
            p.kind = PredictionKind::PredictionKind_calls;
            for (const auto & c : out.tool_calls) p.calls.push_back({c.name, c.arguments});
            return p;
        } catch (const Error &) {
        }
    }
    p.kind = PredictionKind::PredictionKind_malformed;
    p.text = text;
    return p;
}

std::string collapse_lower(const std::string & s) {
    std::string out;
    bool space = false;
    for (char c : s) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            space = true;
            continue;
        }
        if (space && !out.empty()) out += ' ';
        space = false;
        out += (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    return out;
}

}  // namespace

Prediction classify_answer(const chat::Message & message) {
    Prediction p;
    if (!message.tool_calls.empty()) {
        p.kind = PredictionKind::PredictionKind_calls;
        for (const chat::ToolCall & c : message.tool_calls) {
            ojson args = c.arguments;
            if (args.is_string()) {
                const std::string raw = args.get<std::string>();
                args = ojson::parse(raw, nullptr, false);
                if (args.is_discarded()) args = ojson(raw);
            }
            if (!args.is_object()) {
                p.kind = PredictionKind::PredictionKind_malformed;
                p.calls.clear();
                p.text = c.name + " " + (c.arguments.is_string() ? c.arguments.get<std::string>() : c.arguments.dump());
                return p;
            }
            p.calls.push_back({c.name, std::move(args)});
        }
        return p;
    }
    if (auto in_text = calls_in_text(message.content)) return *in_text;
    p.text = message.content;
    return p;
}

bool arguments_equal_strict(const ojson & a, const ojson & b) { return a.dump() == b.dump(); }

ojson normalise_value(const ojson & v) {
    if (v.is_object()) {
        std::vector<std::string> keys;
        for (const auto & [k, _] : v.items()) keys.push_back(k);
        std::sort(keys.begin(), keys.end());
        ojson out = ojson::object();
        for (const auto & k : keys) out[k] = normalise_value(v.at(k));
        return out;
    }
    if (v.is_array()) {
        ojson out = ojson::array();
        for (const auto & e : v) out.push_back(normalise_value(e));
        return out;
    }
    if (v.is_number()) return ojson(v.get<double>());
    if (v.is_string()) return ojson(collapse_lower(v.get<std::string>()));
    return v;
}

bool arguments_equal_normalised(const ojson & a, const ojson & b) { return normalise_value(a) == normalise_value(b); }

std::vector<std::optional<size_t>> match_calls(const std::vector<Call> & expected, const std::vector<Call> & predicted) {
    std::vector<std::optional<size_t>> pair(expected.size());
    std::vector<bool> used(predicted.size(), false);
    for (int pass = 0; pass < 2; ++pass) {  // pass 0: same name and equal arguments; pass 1: same name
        for (size_t e = 0; e < expected.size(); ++e) {
            if (pair[e]) continue;
            for (size_t p = 0; p < predicted.size(); ++p) {
                if (used[p] || predicted[p].name != expected[e].name) continue;
                if (pass == 0 && !arguments_equal_normalised(predicted[p].arguments, expected[e].arguments)) continue;
                pair[e] = p;
                used[p] = true;
                break;
            }
        }
    }
    return pair;
}

ExampleScore score_example(const Expected & expected, const Prediction & predicted, const ojson & tools) {
    ExampleScore s;
    const bool has_calls = predicted.kind == PredictionKind::PredictionKind_calls;
    const std::vector<Call> none;
    const std::vector<Call> & pred = has_calls ? predicted.calls : none;

    if (expected.calls.empty()) {
        s.tool_correct = predicted.kind == PredictionKind::PredictionKind_text;
    } else if (has_calls) {
        std::vector<std::string> a, b;
        for (const auto & c : expected.calls) a.push_back(c.name);
        for (const auto & c : pred) b.push_back(c.name);
        std::sort(a.begin(), a.end());
        std::sort(b.begin(), b.end());
        s.tool_correct = a == b;
    }

    const auto pairs = match_calls(expected.calls, pred);
    if (!expected.calls.empty() && s.tool_correct) {
        s.args_strict = s.args_normalised = true;
        for (size_t e = 0; e < expected.calls.size(); ++e) {
            SY_ASSERT(pairs[e].has_value());
            const ojson & got = pred[*pairs[e]].arguments;
            s.args_strict = s.args_strict && arguments_equal_strict(got, expected.calls[e].arguments);
            s.args_normalised = s.args_normalised && arguments_equal_normalised(got, expected.calls[e].arguments);
        }
    }

    if (has_calls) {
        std::vector<grammar::ToolSpec> specs;
        if (tools.is_array() && !tools.empty()) specs = grammar::parse_tools(tools);
        for (const Call & c : pred) {
            auto it = std::find_if(specs.begin(), specs.end(), [&](const grammar::ToolSpec & t) { return t.name == c.name; });
            if (it == specs.end() || dataset::validate_json_schema(c.arguments, it->parameters)) s.schema_valid = false;
        }
    }

    std::map<std::pair<std::string, std::string>, ArgumentTally> tally;
    auto entry = [&](const std::string & tool, const std::string & arg) -> ArgumentTally & {
        ArgumentTally & t = tally[{tool, arg}];
        t.tool = tool;
        t.argument = arg;
        return t;
    };
    for (const Call & c : pred)
        for (const auto & [k, _] : c.arguments.items()) ++entry(c.name, k).n_predicted;
    for (size_t e = 0; e < expected.calls.size(); ++e) {
        const Call & want = expected.calls[e];
        if (!want.arguments.is_object()) continue;
        for (const auto & [k, v] : want.arguments.items()) {
            ArgumentTally & t = entry(want.name, k);
            ++t.n_expected;
            if (!pairs[e]) continue;
            const ojson & got = pred[*pairs[e]].arguments;
            auto it = got.find(k);
            if (it != got.end() && arguments_equal_normalised(*it, v)) ++t.n_correct;
        }
    }
    for (auto & [_, t] : tally) s.arguments.push_back(std::move(t));
    return s;
}

std::string expected_label(const Expected & e) { return e.calls.empty() ? "none" : e.calls.front().name; }

std::string predicted_label(const Prediction & p) {
    switch (p.kind) {
        case PredictionKind::PredictionKind_text: return "none";
        case PredictionKind::PredictionKind_calls: return p.calls.front().name;
        case PredictionKind::PredictionKind_malformed: return "malformed";
        case PredictionKind::PredictionKind_error: return "error";
    }
    return "?";
}

}  // namespace sy::eval
