// Training data for the example agent's *responder*: the model that words the reply once a tool has run.
//
// Each router example (train/datagen.h) whose last assistant turn is one tool call is played against a
// real task list (TaskStore on an in-memory SQLite database, seeded with a few tasks so ids, lists and
// searches find something), the tool's JSON result — or the error the gateway's executor would feed back —
// is appended as the tool message, and a reply that states what happened, in the result's own words
// (ids, titles, dates, counts), closes the conversation. Examples whose answer is already text (small
// talk, out-of-scope requests) are kept as they are: the responder answers those too.
//
// Deterministic for a given input and seed.
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

namespace sy::examples {

// `router_examples`: {"messages", "tools"} objects (tool-call arguments as JSON strings, as the generator
// writes them). Throws sy::Error on a malformed example.
std::vector<nlohmann::ordered_json> make_responder_examples(const std::vector<nlohmann::ordered_json> & router_examples,
                                                            uint64_t seed);

// The reply text for one tool result (exposed for tests): `result` is the tool's JSON answer, or
// {"error": ...} when it failed.
std::string responder_reply(const std::string & tool, const nlohmann::ordered_json & args,
                            const nlohmann::ordered_json & result, uint64_t variant);

}  // namespace sy::examples
