// The router's plan before decoding (see router_plan.h).
#include "chat/router_plan.h"

#include <algorithm>

#include "chat/dates.h"

namespace sy::chat {
namespace {

bool is_required(const ojson & params, const std::string & field) {
    if (!params.contains("required") || !params["required"].is_array()) return false;
    for (const ojson & r : params["required"])
        if (r.is_string() && r.get<std::string>() == field) return true;
    return false;
}

// Leaves an argument out: its property and any requirement of it go.
void drop(ojson & params, const std::string & field) {
    params["properties"].erase(field);
    ojson & req = params["required"];
    for (auto it = req.begin(); it != req.end();)
        it = (it->is_string() && it->get<std::string>() == field) ? req.erase(it) : it + 1;
}

void require(ojson & params, const std::string & field) {
    if (is_required(params, field)) return;
    if (!params.contains("required") || !params["required"].is_array()) params["required"] = ojson::array();
    params["required"].push_back(field);
}

// Every integer under key `key` in `j`, at any depth, in document order.
void integers_under(const ojson & j, const std::string & key, ojson & out) {
    if (j.is_object()) {
        for (auto it = j.begin(); it != j.end(); ++it) {
            if (it.key() == key && it.value().is_number_integer() &&
                std::find(out.begin(), out.end(), it.value()) == out.end())
                out.push_back(it.value());
            integers_under(it.value(), key, out);
        }
    } else if (j.is_array()) {
        for (const ojson & x : j) integers_under(x, key, out);
    }
}

// The integers an earlier turn gave under `key`: the arguments of the assistant's calls and the tool
// results that are JSON ("it" in "can it be due friday instead?" is the task the last turn made).
ojson earlier_integers(const Conversation & conv, const std::string & key) {
    ojson out = ojson::array();
    size_t last_user = conv.messages.size();
    for (size_t i = conv.messages.size(); i-- > 0;)
        if (conv.messages[i].role == "user") {
            last_user = i;
            break;
        }
    for (size_t i = 0; i < last_user; ++i) {
        const Message & m = conv.messages[i];
        for (const ToolCall & c : m.tool_calls) integers_under(c.arguments, key, out);
        if (m.role == "tool") integers_under(ojson::parse(m.content, nullptr, false), key, out);
    }
    return out;
}

// Narrows one tool's parameters schema in place.
void narrow(const std::string & tool, ojson & params, const std::vector<ArgumentDecision> & decisions,
            const std::map<std::string, std::vector<std::string>> & spans, const std::set<std::string> & copy_fields,
            bool tagged, bool has_date, const Conversation & conv, std::string_view request,
            const std::vector<std::string> & request_dates) {
    if (!params.is_object() || !params.contains("properties") || !params["properties"].is_object()) return;
    // An ordered_json object is a vector: make "required" exist first, so adding it cannot move `props`.
    if (!params.contains("required") || !params["required"].is_array()) params["required"] = ojson::array();
    ojson & props = params["properties"];
    const ojson schema_required = params["required"];  // what the schema itself requires
    auto optional = [&](const std::string & f) {
        return std::find(schema_required.begin(), schema_required.end(), ojson(f)) == schema_required.end();
    };
    // An optional date copy field with no ISO date in the request's copy sources has nothing to copy.
    if (!has_date)
        for (auto it = props.begin(); it != props.end();) {
            const std::string f = it.key();
            const bool copy = copy_fields.count(tool + "." + f) > 0;
            if (copy && it.value().is_object() && it.value().value("format", "") == "date" && optional(f))
                it = props.erase(it);
            else
                ++it;
        }
    // A date copy field is one of the dates the request names, when it names one.
    if (!request_dates.empty())
        for (auto it = props.begin(); it != props.end(); ++it)
            if (copy_fields.count(tool + "." + it.key()) && it.value().is_object() && it.value().value("format", "") == "date") {
                ojson values = ojson::array();
                for (const std::string & d : request_dates)
                    if (std::find(values.begin(), values.end(), ojson(d)) == values.end()) values.push_back(d);
                it.value() = values.size() == 1 ? ojson{{"const", values[0]}} : ojson{{"enum", values}};
            }
    for (const ArgumentDecision & d : decisions) {
        if (!props.contains(d.field)) continue;
        if (d.value) props[d.field] = ojson{{"const", *d.value}};
        if (d.present) require(params, d.field);
        else if (optional(d.field)) drop(params, d.field);
    }
    if (!tagged) return;
    for (const std::string & f : tagger_fields(params)) {
        // Copy fields are "tool.path"; an array's items are "tool.tags[]".
        if (!copy_fields.count(tool + "." + f) && !copy_fields.count(tool + "." + f + "[]")) continue;
        const auto it = spans.find(f);
        const bool found = it != spans.end() && !it->second.empty();
        // Written when the tagger found spans for it and the classifier, where it decided, agrees: each
        // alone writes tags nobody asked for ("it is due" -> ["is"]; a classifier's "tags" with no span
        // to copy -> any word).
        if (found && props.contains(f)) require(params, f);
        else if (optional(f)) drop(params, f);
        if (found && props.contains(f) && props[f].value("type", "") == "array") {
            ojson items = ojson::array();
            for (const std::string & s : it->second)
                if (std::find(items.begin(), items.end(), ojson(s)) == items.end()) items.push_back(s);
            props[f] = ojson{{"const", items}};
        }
    }
    // An integer copy field is one of the numbers the tagger found for it in the request. With none, it is
    // a number an earlier turn gave under the same name ("remove it" takes its id from the task the last
    // turn made) or any number of the request; with neither, any number of the conversation.
    auto number = [](std::string_view s) -> std::optional<int64_t> {
        if (s.empty() || s.size() > 18 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return std::nullopt;
        return std::stoll(std::string(s));
    };
    // The request's numbers outside its date phrases: the 26 of "October 26" is no id.
    std::set<std::string, std::less<>> request_numbers;
    {
        const std::vector<DateMention> dates = find_dates(request, 0);
        for (const TaggerWord & w : tagger_words(request))
            if (std::none_of(dates.begin(), dates.end(), [&](const DateMention & d) { return w.begin >= d.begin && w.end <= d.end; }))
                request_numbers.emplace(request.substr(w.begin, w.end - w.begin));
    }
    for (const std::string & f : tagger_number_fields(params)) {
        if (!copy_fields.count(tool + "." + f) || !props.contains(f)) continue;
        ojson values = ojson::array();
        auto add = [&](std::string_view s) {
            if (!request_numbers.count(s)) return;
            if (const std::optional<int64_t> v = number(s); v && std::find(values.begin(), values.end(), ojson(*v)) == values.end())
                values.push_back(*v);
        };
        if (const auto it = spans.find(f); it != spans.end())
            for (const std::string & s : it->second) add(s);
        if (values.empty()) {
            values = earlier_integers(conv, f);
            if (!values.empty())
                for (const std::string & w : request_numbers) add(w);
        }
        if (values.empty()) continue;
        props[f] = values.size() == 1 ? ojson{{"const", values[0]}} : ojson{{"enum", values}};
        if (!spans.count(f) || spans.at(f).empty()) continue;
        require(params, f);
    }
}

}  // namespace

RouterPlan plan_route(const Conversation & conv, const IntentClassifier * intent, const SlotTagger * tagger,
                      const std::set<std::string> & copy_fields, const std::vector<std::string> & copy_sources,
                      grammar::ToolChoiceMode tool_choice, std::optional<int64_t> today) {
    const bool shortlist_tools = tool_choice == grammar::ToolChoiceMode::ToolChoiceMode_auto ||
                                 tool_choice == grammar::ToolChoiceMode::ToolChoiceMode_required;
    RouterPlan plan;
    const bool has_date = std::any_of(copy_sources.begin(), copy_sources.end(),
                                      [](const std::string & s) { return find_iso_date(s).has_value(); });
    plan.grammar_tools = conv.tools.is_array() ? conv.tools : ojson::array();
    const bool tagged = tagger && !copy_fields.empty();
    if (tagged) plan.spans = tagger->tag_request(conv);
    std::string_view request;
    for (size_t i = conv.messages.size(); i-- > 0;)
        if (conv.messages[i].role == "user") {
            request = conv.messages[i].content;
            break;
        }
    if (intent && shortlist_tools) plan.shortlist = intent->shortlist(conv, kIntentShortlistMass);
    if (intent && plan.shortlist && tool_choice == grammar::ToolChoiceMode::ToolChoiceMode_auto)
        if (const std::optional<IntentDecision> d = intent->decide(conv, true); d && d->tool.empty()) {
            plan.text_only = true;
            plan.text_probability = d->probability;
        }
    if (!intent && !tagged) return plan;
    std::vector<std::string> request_dates;
    if (today)
        for (const DateMention & d : find_dates(request, *today)) request_dates.push_back(d.iso);
    ojson out = ojson::array();
    for (const ojson & tool : plan.grammar_tools) {
        const std::string name = tool_name(tool);
        if (plan.shortlist && std::none_of(plan.shortlist->begin(), plan.shortlist->end(),
                                           [&](const IntentDecision & d) { return d.tool == name; }))
            continue;
        ojson t = tool;
        ojson & fn = t.is_object() && t.contains("function") ? t["function"] : t;
        if (tagged && fn.is_object() && fn.contains("parameters"))
            // A free-text copy field the schema requires gets the tagger's best span when it found none.
            for (const std::string & f : tagger_fields(fn["parameters"])) {
                std::vector<std::string> & found = plan.spans[f];
                if (!found.empty() || !is_required(fn["parameters"], f) || !copy_fields.count(name + "." + f)) continue;
                if (std::optional<std::string> best = tagger->best_span(request, f)) found.push_back(std::move(*best));
            }
        if (intent) plan.arguments[name] = intent->arguments(conv, name);
        if (fn.is_object() && fn.contains("parameters"))
            narrow(name, fn["parameters"], plan.arguments[name], plan.spans, copy_fields, tagged, has_date, conv, request,
                   request_dates);
        out.push_back(std::move(t));
    }
    plan.grammar_tools = std::move(out);
    return plan;
}

void temper_confidence(grammar::OutputConfidence & c, const std::vector<std::string> & called, const RouterPlan & plan) {
    if (plan.text_only && !c.is_tool_call) c.decision = std::min(c.decision, plan.text_probability);
    for (size_t i = 0; i < c.calls.size() && i < called.size(); ++i) {
        grammar::CallConfidence & call = c.calls[i];
        if (plan.shortlist) {
            double share = 0;
            for (const IntentDecision & d : *plan.shortlist)
                if (d.tool == called[i]) share = d.probability;
            call.name = std::min(call.name, share);
        }
        call.overall = std::min(call.decision, call.name);
        const auto it = plan.arguments.find(called[i]);
        if (it != plan.arguments.end())
            for (const ArgumentDecision & d : it->second) {
                call.overall = std::min(call.overall, d.probability);
                if (d.value)
                    for (grammar::ArgumentConfidence & a : call.arguments)
                        if (a.name == d.field) a.confidence = std::min(a.confidence, d.probability);
            }
        for (const grammar::ArgumentConfidence & a : call.arguments) call.overall = std::min(call.overall, a.confidence);
    }
}

}  // namespace sy::chat
