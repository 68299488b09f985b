// Copy-constrained strings: string arguments whose value must be a span of the request's own text (the slot
// values of an intent/slot router: a task title, a search query). This is a run-time constraint on top of
// the grammar, not part of it: the grammar still accepts any JSON string at a copy field; the matcher
// intersects its mask with the tokens that continue a span of a *source text* (GrammarMatcher::
// set_copy_constraint).
//
// Copy fields are named by instance paths relative to a tool's arguments (or a schema's root):
// "title", "filter.name" (nested object property), "tags[]" (array items); a tool grammar prefixes the
// tool name: "create_task.title", "create_task.tags[]". Strings (plain, or with a pattern or format, whose
// rule then also applies: a "format": "date" field copies an ISO date the request names) and integers are
// tagged; not enums, consts or combinators, nor anything inside a $ref, whose rule is shared by every
// place that uses it.
//
// Integers ("complete_task.id"): the digits must be a word-bounded span of a source, as for a string;
// what closes the span is the non-word byte after the digits (',' or '}') instead of a quote. So `"id":`
// continues with one of the numbers the request or a tool result wrote, whole.
//
// The rule. A copy string's content must be a span of one source text as JSON-escaped by the canonical
// serializer ('"' and '\\' escaped, control characters as \b \f \n \r \t or \u00XX, everything else raw
// UTF-8), which is also how the chat format renders arguments:
//   - a span starts at a word boundary: the start of the text or after a non-word byte;
//   - it ends (the closing quote) only at a word boundary: the end of the text or before a non-word byte;
//   - it is not empty;
// where word bytes are ASCII letters and digits and every byte >= 0x80 (so a span never starts or ends
// inside a UTF-8 sequence, nor inside an escape: escapes stand for non-word bytes). Example: source
// `Add "buy milk" to my list` (escaped `Add \"buy milk\" to my list`) allows `buy`, `buy milk`,
// `\"buy milk\"`, `my list`, but not `uy`, `buy mi`, or `` (empty).
//
// The constraint tracks the set of live positions (where in which source the content read so far could
// continue) as bytes are accepted; a token may continue the span, or end it with the closing quote and run
// on into the structure that follows (`",`), which the grammar checks. When no source can continue — the
// grammar and the copy rule share no token, a source was exhausted by an unexpected accept, or there are no
// source texts — the string falls back to the plain grammar for the rest of that string, so decoding never
// dead-ends.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf.h"
#include "grammar/matcher.h"
#include "grammar/tool_call.h"

namespace sy::grammar {

// ASCII letters and digits, and every byte >= 0x80.
inline bool is_copy_word_byte(uint8_t c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c >= 0x80;
}

// Paths of the string and integer fields of a tool set ("tool.prop", "tool.a.b", "tool.prop[]") that can be
// copy fields, in schema order.
std::vector<std::string> copy_candidate_fields(const std::vector<ToolSpec> & tools);
// Calls fn(path, value) for each string or integer (as its JSON text) of `arguments` at a candidate path of
// `tool` (path as above).
void for_each_copy_candidate(const ToolSpec & tool, const ojson & arguments,
                             const std::function<void(const std::string & path, const std::string & value)> & fn);
// Whether `value` is a span of one of `sources` under the copy rule (non-empty, word boundaries).
bool is_copy_span(const std::vector<std::string> & sources, std::string_view value);

// GGUF metadata of a trained router or adapter: its copy fields (string array; train/outputs.h writes it).
inline constexpr const char * kCopyFieldsKey = "switchyard.router.copy_fields";
// The copy fields a model or adapter file records (empty when none); sy::Error(invalid_file) when the key
// is not an array of strings.
std::vector<std::string> read_copy_fields(const gguf::File & file);

// Per-request data of the copy rule: the escaped source texts in one buffer with the positions where a span
// may start and end, bound to a vocabulary. Immutable; the per-position state lives in the matcher.
class CopyConstraint {
public:
    // whole: a span is a whole source (it starts at a source's first byte and ends at its last), as for the
    // spans a router's slot tagger found (chat/slot_tagger.h); otherwise any word-bounded span of one.
    CopyConstraint(std::shared_ptr<const TokenTable> tokens, const std::vector<std::string> & sources, bool whole = false);

    const TokenTable & tokens() const { return *tokens_; }
    bool empty() const { return starts_.empty(); }  // no source text with a span in it
    // Escaped sources, each followed by a 0 byte (never valid inside a JSON string).
    const std::string & text() const { return text_; }
    bool can_start(uint32_t p) const { return (flags_[p] & kStart) != 0; }
    bool can_end(uint32_t p) const { return (flags_[p] & kEnd) != 0; }
    const std::vector<uint32_t> & starts() const { return starts_; }

    // ORs into `words` the tokens whose bytes, read from any position of `live` (with `any_read`: whether
    // the content so far is non-empty), continue a span or close it at a span end (what follows the quote
    // is not checked). Appends to `crossing` the tokens added because they close the string.
    // `integer`: the span is an integer's digits, closed by any non-word byte instead of a quote.
    void add_allowed(const std::vector<uint32_t> & live, bool any_read, bool integer, uint32_t * words,
                     std::vector<TokenId> & crossing) const;

private:
    static constexpr uint8_t kStart = 1, kEnd = 2;
    std::shared_ptr<const TokenTable> tokens_;
    std::string text_;
    std::vector<uint8_t> flags_;     // [text_.size() + 1]
    std::vector<uint32_t> starts_;   // positions with kStart, ascending
};

}  // namespace sy::grammar
