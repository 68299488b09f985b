// Grounded replies: a reply to a tool result may state only the values that result (or the call that
// produced it) holds. A small responder words "Marked task #12 \"renew my passport\" as done." well but
// copies values badly ("#55 \"port Mare\""); held to this rule at decoding time, it cannot.
//
// The rule, over bytes. The values of a turn (reply_values) are the scalars of the tool calls' arguments
// and of the tool results since the last user message: each string, and the same string in double
// quotes; each number as its JSON text; each array's length and every count below it ("You have 3
// tasks", "and 2 more"); and the digit runs inside strings that contain a space (an error's "HTTP 404").
// A text is grounded when it splits into
//   - free bytes: anything but an ASCII digit or '"';
//   - whole copies of values: a value's bytes, exactly. A copy may not begin right where another ended
//     (a free byte comes between), so "12" and "3" never make "123", nor "#12" run into "\"buy milk\"".
//     Right after a '#' only a number is copied ("#12", never "#2025-03-14"), and the constraint lets a
//     quoted string be copied only as often as the calls and results hold it (reply_values' `uses`).
// So every digit and every double quote of a grounded text belongs to a copied value: numbers, dates and
// quoted titles are the tool result's own. Words outside quotes are free (the responder's phrasing).
//
// GroundedText follows a text byte by byte as a set of live positions (a nondeterministic automaton):
// `free` (between copies) and, per value being copied, how many of its bytes are matched. The engine's
// constraint (engine/grounded_constraint.h) masks the tokens that would leave no live position.
// ungrounded_values() is the same rule as a check on a finished reply (the evaluator's grounded-reply
// rate): the numbers and quoted strings of a text that are not values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chat/chat_format.h"

namespace sy::chat {

// The values a reply to the last turn's tool results may state (see above): from the messages after the
// last user message, the assistant's tool-call arguments and the tool messages' content (JSON, or plain
// text taken as one string). Deduplicated, in first-seen order; values longer than kMaxGroundedValue
// bytes and counts above kMaxGroundedCount are left out. Empty when no tool message follows the last user
// message. Only text gets a quoted form: not a string without letters (a date, a number written as a
// string), nor one that is an enum or const value of a parameter of `tools` (an OpenAI tools array): a
// label such as "medium" or "done" is stated, not quoted, so a quote opens a title or a query (a small
// responder unsure of an unseen title had quoted the priority instead).
// `uses`, when given, gets per value how often a reply may copy it: a quoted string as often as the
// calls and results hold the string (a list of tasks names each title once, so a reply cannot list one
// task twice), every other value without limit (0).
constexpr size_t kMaxGroundedValue = 1024;
constexpr int64_t kMaxGroundedCount = 1000;
std::vector<std::string> reply_values(const std::vector<Message> & messages, const ojson & tools = ojson(),
                                      std::vector<int32_t> * uses = nullptr);

class GroundedText {
public:
    explicit GroundedText(std::vector<std::string> values);

    struct State {
        bool free = true;         // between copies: free bytes or a new copy may follow
        bool after_copy = false;  // free only because a copy just ended: a free byte must come next
        bool after_hash = false;  // the last byte was a free '#': only a number may be copied next
        std::vector<uint32_t> live;  // value << 16 | bytes matched (1 .. size - 1), sorted, unique
        bool dead() const { return !free && live.empty(); }
    };
    State start() const { return {}; }
    // Follows `bytes` from `s`; false (and `s` dead) when no split of the text so far is grounded.
    // remaining: per value, the copies still allowed (< 0: any number), or null for no limit; completed:
    // gets the values whose copy ended within `bytes`.
    bool advance(State & s, std::string_view bytes, const std::vector<int32_t> * remaining = nullptr,
                 std::vector<uint32_t> * completed = nullptr) const;
    // The text so far may end here (no copy is half done).
    static bool can_end(const State & s) { return s.free; }

    const std::vector<std::string> & values() const { return values_; }

private:
    bool step(State & s, uint8_t c, std::vector<uint32_t> & next, const std::vector<int32_t> * remaining,
              std::vector<uint32_t> * completed) const;

    std::vector<std::string> values_;
    // Per first byte, the values a copy may start with it: only values with a digit or '"' (a copy of any
    // other value reads the same as free bytes).
    std::vector<std::vector<uint32_t>> starts_;
    std::vector<bool> numeric_;  // the value is a number: digits, maybe with a '.'
};

// Byte is one that only a copied value may hold: an ASCII digit or '"'.
inline bool grounded_only_byte(uint8_t c) { return (c >= '0' && c <= '9') || c == '"'; }

// The values a text states, in order: its numbers (digit runs, with '-', ':', '.' or '/' between digits:
// "2025-03-14", "3.5") and double-quoted strings (with their quotes; an unclosed quote's rest is one).
std::vector<std::string> stated_values(std::string_view text);
// The stated values of `text` that are not among `values` (a quoted string counts when it is a value with
// or without its quotes), in order.
std::vector<std::string> ungrounded_values(std::string_view text, const std::vector<std::string> & values);

}  // namespace sy::chat
