// What a from-scratch router's linear aids decide before its network decodes a request (docs/training.md,
// R6-R8). Serving (providers/local_provider.cpp), `switchyard run --tools` and the router evaluation
// (train/router_eval.cpp) all go through plan_route, so they cannot drift.
//   - The intent classifier (chat/intent_classifier.h) shortlists the tools the grammar offers, when the
//     request's tool_choice leaves the choice open, or, when its best choice is a text answer (tool_choice
//     auto), allows text only; and it fixes each offered tool's enum and boolean arguments and decides
//     which optional ones are written.
//   - The slot tagger (chat/slot_tagger.h) and the classifier decide the free-text copy fields: a field is
//     written when the tagger found spans for it and the classifier (where it decides that field) agrees;
//     a string then copies one of the spans whole, an array is exactly the spans found, in order. Else
//     it is left out unless the schema requires it.
//   - An integer copy field (a task id) is one of the numbers the tagger's number picker found for it in
//     the request; with none, one an earlier turn gave under the same key or a number of the request.
//     A date copy field is one of the dates the request names, when it names one.
// Only the grammar narrows: the prompt lists every tool as the request gave them. The network still
// decides between a call and a text answer where the classifier chose a tool, picks within the
// shortlist, and chooses among the ids, dates and spans left.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "chat/chat_format.h"
#include "chat/intent_classifier.h"
#include "chat/slot_tagger.h"
#include "grammar/confidence.h"
#include "grammar/tool_call.h"

namespace sy::chat {

struct RouterPlan {
    ojson grammar_tools = ojson::array();                    // the tools array to compile the grammar from
    std::map<std::string, std::vector<std::string>> spans;   // for GrammarConstraint::set_field_copy_spans
    std::optional<std::vector<IntentDecision>> shortlist;    // set when the classifier chose
    // tool_choice auto and the classifier's best choice is a text answer: the grammar allows text only
    // (compile it with tool_choice "none"); text_probability is the classifier's.
    bool text_only = false;
    double text_probability = 0;
    std::map<std::string, std::vector<ArgumentDecision>> arguments;  // by tool, for the offered tools
};

// conv: the request (its tools and messages up to the turn to answer). copy_fields: the model's copy
// fields as "tool.path" (grammar/copy.h); the tagger's rule applies to those only. copy_sources: the
// texts they copy from (ChatFormat::copy_sources); an optional date copy field is left out when they hold
// no YYYY-MM-DD date. tool_choice: the request's; a named function or "none" is kept as it is (no
// shortlist), "auto" may become a text answer when the classifier's best choice is one. shortlist_tools: tool_choice is auto or
// required (a named function or "none" keeps the request's choice).
// today: the day the request's date phrases resolve against (ChatFormat::today_of); with it, a date copy
// field is one of the dates the request names, when it names one ("can it be due dec 28 instead?" cannot
// copy a due date of an earlier turn).
RouterPlan plan_route(const Conversation & conv, const IntentClassifier * intent, const SlotTagger * tagger,
                      const std::set<std::string> & copy_fields, const std::vector<std::string> & copy_sources,
                      grammar::ToolChoiceMode tool_choice, std::optional<int64_t> today = std::nullopt);

// Folds the plan into a routed answer's confidence (grammar/confidence.h): each call's name confidence
// becomes at most the shortlist share of the tool it called, an argument the classifier fixed at most the
// classifier's probability, and the call's overall confidence the minimum of its parts and of every
// argument decision taken for that tool (a field left out included); a text answer the classifier chose
// gets at most its probability as the decision. `called`: the tools called, in order.
void temper_confidence(grammar::OutputConfidence & c, const std::vector<std::string> & called, const RouterPlan & plan);

}  // namespace sy::chat
