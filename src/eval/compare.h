// Judging one example: what the model answered (a text answer, well-formed tool calls, a malformed call
// or a provider error) and how it compares with the reference assistant turn. Pure functions; the
// aggregate metrics are in metrics.h, the definitions in docs/eval.md.
//
// Argument equality comes in two strengths:
//   strict      — the two arguments objects serialise to the same compact JSON: same keys in the same
//                 order, same value types (1 and 1.0 differ), strings byte for byte;
//   normalised  — after normalise_value(): object keys sorted, every number a double (1 == 1.0), every
//                 string trimmed, inner whitespace runs collapsed to one space and ASCII letters lower-
//                 cased; array order kept, object keys themselves unchanged.
// Example: {"b": " Buy  Milk", "a": 1} vs {"a": 1.0, "b": "buy milk"}: strict no, normalised yes.
//
// Calls of one example are paired by name (match_calls): each reference call takes the first unpaired
// predicted call with the same name and normalised-equal arguments, else the first unpaired one with the
// same name; so the order of parallel calls does not matter.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat_format.h"

namespace sy::eval {

using ojson = nlohmann::ordered_json;

struct Call {
    std::string name;
    ojson arguments = ojson::object();
};

enum class PredictionKind {
    PredictionKind_text,       // answered without a tool call
    PredictionKind_calls,      // one or more well-formed calls (arguments are JSON objects)
    PredictionKind_malformed,  // tried to call a tool but the call does not parse
    PredictionKind_error,      // the provider failed (timeout, unavailable, ...): no answer at all
};
const char * prediction_kind_name(PredictionKind k);

struct Prediction {
    PredictionKind kind = PredictionKind::PredictionKind_text;
    std::vector<Call> calls;  // PredictionKind_calls
    std::string text;         // the text answer, the malformed output or the error message
};

// The reference: the calls of the last assistant turn (empty: a "no tool" example).
struct Expected {
    std::vector<Call> calls;
    std::string text;  // the reference text answer (no calls)
};
Expected expected_from_message(const chat::Message & assistant);

// Classifies an assistant answer. Calls come from `message.tool_calls`; arguments given as a JSON string
// are parsed, and a string that does not parse to an object makes the whole answer malformed. Without
// tool_calls, a content that starts with a tool-call marker of a known format (hermes "<tool_call>",
// llama3 / compact '{"name"') is parsed as calls (servers that return calls as text) and is malformed
// when it does not parse; any other content is a text answer.
Prediction classify_answer(const chat::Message & message);

// Strict and normalised equality of two argument objects (see the file comment).
bool arguments_equal_strict(const ojson & a, const ojson & b);
ojson normalise_value(const ojson & v);
bool arguments_equal_normalised(const ojson & a, const ojson & b);

// For each reference call, the index of its paired predicted call (nullopt: none left with its name).
std::vector<std::optional<size_t>> match_calls(const std::vector<Call> & expected, const std::vector<Call> & predicted);

struct ArgumentTally {
    std::string tool, argument;
    int64_t n_predicted = 0;  // times the model gave this argument (in a well-formed call)
    int64_t n_expected = 0;   // times the reference has it
    int64_t n_correct = 0;    // given, paired with a reference call that has it, and normalised-equal
};

struct ExampleScore {
    bool tool_correct = false;     // no call where none expected; or the same multiset of tool names
    bool args_strict = false;      // tool_correct, a call expected, every paired call strictly equal
    bool args_normalised = false;  // the same with normalised equality
    bool schema_valid = true;      // every predicted call names a listed tool and its arguments validate
    std::vector<ArgumentTally> arguments;  // one entry per (tool, argument) touched by this example
};

// `tools` (OpenAI tools array) is used for schema validity only; may be empty.
ExampleScore score_example(const Expected & expected, const Prediction & predicted, const ojson & tools);

// The confusion-matrix label of an example: the first call's tool name or "none" (reference); the
// prediction adds "malformed" and "error".
std::string expected_label(const Expected & e);
std::string predicted_label(const Prediction & p);

}  // namespace sy::eval
