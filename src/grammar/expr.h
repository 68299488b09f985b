// Grammar expressions: the intermediate form between JSON Schema (or a regex, or the tool-call layout) and
// the byte automaton of automaton.h. Not the automaton itself, and nothing here knows about tokens.
//
// A RuleSet is a list of named rules; each rule body is an expression tree over bytes:
//   bytes  — one byte from a set of ranges        seq    — concatenation
//   alt    — alternatives                          repeat — body repeated min..max times (max optional)
//   ref    — another rule (may be recursive)       tagged — body whose bytes carry a semantic tag
// Expressions live in one pool and are referenced by index, so a sub-expression can be shared (the NFA
// builder memoises on it, which keeps e.g. "optional properties in order" linear in size).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sy::grammar {

enum class ExprKind { ExprKind_bytes, ExprKind_seq, ExprKind_alt, ExprKind_repeat, ExprKind_ref, ExprKind_tagged };

struct ByteRange {
    uint8_t lo = 0;
    uint8_t hi = 0;  // inclusive
};

struct Expr {
    ExprKind kind = ExprKind::ExprKind_seq;
    std::vector<ByteRange> ranges;   // bytes
    std::vector<int32_t> children;   // seq, alt: the parts; repeat, tagged: children[0] is the body
    int32_t min = 0;                 // repeat
    std::optional<int32_t> max;      // repeat; nullopt = unbounded
    int32_t rule = 0;                // ref
    uint16_t tag = 0;                // tagged
};

// What a tagged stretch of output means; the confidence tracker attributes probabilities by it.
enum class TagKind {
    TagKind_structure,  // punctuation, keys, wrappers: forced or nearly so
    TagKind_text,       // free-text answer (tool_choice auto/none)
    TagKind_decision,   // bytes that still decide "text or tool call" (assigned by the automaton builder)
    TagKind_name,       // the tool name
    TagKind_argument,   // the value of one top-level argument of a tool
    TagKind_copy,       // the content and closing quote of a copy-field string, or the digits of a copy-field
                        // integer (copy.h); tool and arg name the top-level argument it belongs to (confidence
                        // counts it toward that argument)
};

struct TagInfo {
    TagKind kind = TagKind::TagKind_structure;
    int32_t tool = 0;     // name, argument: index of the tool
    std::string arg;      // argument: property name
    bool copy_integer = false;  // TagKind_copy: an integer's digits (the span closes on the byte after them)
};

struct Rule {
    std::string name;                // for messages and dumps, e.g. "#/$defs/node"
    std::optional<int32_t> body;     // set once defined (a rule may be referenced before)
};

class RuleSet {
public:
    RuleSet();

    // Builders; each returns the index of a new expression.
    int32_t bytes(std::vector<ByteRange> ranges);
    int32_t byte(uint8_t b) { return bytes({{b, b}}); }
    int32_t literal(std::string_view s);                     // "" is the empty sequence
    int32_t seq(std::vector<int32_t> parts);
    int32_t alt(std::vector<int32_t> parts);                 // no parts: matches nothing
    int32_t repeat(int32_t body, int32_t min, std::optional<int32_t> max);
    int32_t optional(int32_t body) { return repeat(body, 0, 1); }
    int32_t star(int32_t body) { return repeat(body, 0, std::nullopt); }
    int32_t plus(int32_t body) { return repeat(body, 1, std::nullopt); }
    int32_t ref(int32_t rule);
    int32_t tagged(int32_t body, uint16_t tag);
    int32_t empty() { return seq({}); }
    int32_t nothing() { return alt({}); }

    int32_t add_rule(std::string name);                      // undefined until define()
    void define(int32_t rule, int32_t body);
    uint16_t add_tag(TagInfo info);                          // tag 0 is TagKind_structure

    // Common pieces of JSON text.
    int32_t utf8_char();          // one well-formed UTF-8 scalar (any code point, controls included)
    int32_t json_string_char();   // one JSON string character: unescaped (no '"', '\\', < 0x20) or escape
    int32_t json_string(int32_t min_chars, std::optional<int32_t> max_chars);
    int32_t json_integer();       // -?(0|[1-9][0-9]*)
    int32_t json_number();        // integer, optional fraction, optional exponent of at most 2 digits
    int32_t digits(int32_t min, std::optional<int32_t> max);

    const Expr & expr(int32_t i) const { return pool_.at(i); }
    const std::vector<Rule> & rules() const { return rules_; }
    const std::vector<TagInfo> & tags() const { return tags_; }
    int32_t entry = 0;  // the rule a match starts in

private:
    int32_t push(Expr e);

    std::vector<Expr> pool_;
    std::vector<Rule> rules_;
    std::vector<TagInfo> tags_;
};

// A JSON string literal (quotes included) as the compact serializer writes it.
std::string json_quote(std::string_view s);

}  // namespace sy::grammar
