// Evaluating a router the way it is served: for each conversation, everything before its last assistant
// message is rendered with the chat format (generation prompt added), the model decodes greedily under
// the tool grammar (grammar::compile_tool_grammar, tool_choice "auto"), and grammar::parse_tool_output's
// result is compared with that last message:
//   tool selection — the same tool, or no call where the reference answers in text;
//   exact arguments — among reference calls, the same tool with equal arguments (key order ignored);
//   false calls — among references answered in text, the ones where the model called a tool;
//   invalid — outputs that do not parse as a finished answer (e.g. cut off by the token limit).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chat/chat_format.h"
#include "engine/model.h"

namespace sy::train {

struct RouterEval {
    int64_t n = 0;               // conversations evaluated
    int64_t n_calls = 0;         // whose reference is a tool call
    int64_t tool_correct = 0;    // right tool, or correctly no tool
    int64_t args_exact = 0;      // reference calls reproduced exactly
    int64_t false_calls = 0;     // a tool call where the reference answers in text
    int64_t invalid = 0;         // output that is no finished, parseable answer
    int64_t n_tokens = 0;        // generated tokens (sampled + forced)
    double seconds = 0.0;
    std::vector<std::string> failures;  // the first few mistakes, "user text -> got / want"

    double tool_accuracy() const { return n ? (double)tool_correct / (double)n : 0.0; }
    double args_accuracy() const { return n_calls ? (double)args_exact / (double)n_calls : 0.0; }
    // Over the references answered in text (n - n_calls).
    double false_call_rate() const { return n > n_calls ? (double)false_calls / (double)(n - n_calls) : 0.0; }
};

// Conversations must end with an assistant message. Throws sy::Error otherwise.
// Copy fields (grammar/copy.h): the model's recorded switchyard.router.copy_fields unless `copy_fields` is
// given (an empty list: none); each request's copy sources are format.copy_sources of its prompt, as served.
RouterEval evaluate_router(const engine::Model & model, const std::vector<chat::Conversation> & convs,
                           const chat::ChatFormat & format, int32_t n_threads, size_t max_failures = 20,
                           const std::optional<std::vector<std::string>> & copy_fields = std::nullopt);

}  // namespace sy::train
