// Grammar expression builders and the JSON lexical pieces (strings, numbers) shared by every compiler.
#include "grammar/expr.h"

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace sy::grammar {

RuleSet::RuleSet() { tags_.push_back(TagInfo{}); }

int32_t RuleSet::push(Expr e) {
    pool_.push_back(std::move(e));
    return (int32_t)pool_.size() - 1;
}

int32_t RuleSet::bytes(std::vector<ByteRange> ranges) {
    Expr e;
    e.kind = ExprKind::ExprKind_bytes;
    e.ranges = std::move(ranges);
    return push(std::move(e));
}

int32_t RuleSet::literal(std::string_view s) {
    std::vector<int32_t> parts;
    parts.reserve(s.size());
    for (char c : s) parts.push_back(byte((uint8_t)c));
    if (parts.size() == 1) return parts[0];
    return seq(std::move(parts));
}

int32_t RuleSet::seq(std::vector<int32_t> parts) {
    Expr e;
    e.kind = ExprKind::ExprKind_seq;
    e.children = std::move(parts);
    return push(std::move(e));
}

int32_t RuleSet::alt(std::vector<int32_t> parts) {
    if (parts.size() == 1) return parts[0];
    Expr e;
    e.kind = ExprKind::ExprKind_alt;
    e.children = std::move(parts);
    return push(std::move(e));
}

int32_t RuleSet::repeat(int32_t body, int32_t min, std::optional<int32_t> max) {
    SY_ASSERT(min >= 0 && (!max || *max >= min));
    if (min == 1 && max && *max == 1) return body;
    Expr e;
    e.kind = ExprKind::ExprKind_repeat;
    e.children = {body};
    e.min = min;
    e.max = max;
    return push(std::move(e));
}

int32_t RuleSet::ref(int32_t rule) {
    SY_ASSERT(rule >= 0 && rule < (int32_t)rules_.size());
    Expr e;
    e.kind = ExprKind::ExprKind_ref;
    e.rule = rule;
    return push(std::move(e));
}

int32_t RuleSet::tagged(int32_t body, uint16_t tag) {
    Expr e;
    e.kind = ExprKind::ExprKind_tagged;
    e.children = {body};
    e.tag = tag;
    return push(std::move(e));
}

int32_t RuleSet::add_rule(std::string name) {
    rules_.push_back(Rule{std::move(name), std::nullopt});
    return (int32_t)rules_.size() - 1;
}

void RuleSet::define(int32_t rule, int32_t body) {
    SY_ASSERT(rule >= 0 && rule < (int32_t)rules_.size() && !rules_[rule].body);
    rules_[rule].body = body;
}

uint16_t RuleSet::add_tag(TagInfo info) {
    SY_ASSERT(tags_.size() < 65535);
    tags_.push_back(std::move(info));
    return (uint16_t)(tags_.size() - 1);
}

// Well-formed UTF-8 (Unicode 15, table 3-7), lead byte first.
static int32_t utf8_multibyte(RuleSet & rs) {
    auto cont = [&] { return rs.bytes({{0x80, 0xBF}}); };
    return rs.alt({
        rs.seq({rs.bytes({{0xC2, 0xDF}}), cont()}),
        rs.seq({rs.byte(0xE0), rs.bytes({{0xA0, 0xBF}}), cont()}),
        rs.seq({rs.bytes({{0xE1, 0xEC}, {0xEE, 0xEF}}), cont(), cont()}),
        rs.seq({rs.byte(0xED), rs.bytes({{0x80, 0x9F}}), cont()}),
        rs.seq({rs.byte(0xF0), rs.bytes({{0x90, 0xBF}}), cont(), cont()}),
        rs.seq({rs.bytes({{0xF1, 0xF3}}), cont(), cont(), cont()}),
        rs.seq({rs.byte(0xF4), rs.bytes({{0x80, 0x8F}}), cont(), cont()}),
    });
}

int32_t RuleSet::utf8_char() { return alt({bytes({{0x00, 0x7F}}), utf8_multibyte(*this)}); }

int32_t RuleSet::json_string_char() {
    int32_t plain = bytes({{0x20, 0x21}, {0x23, 0x5B}, {0x5D, 0x7F}});
    int32_t hex = bytes({{'0', '9'}, {'A', 'F'}, {'a', 'f'}});
    int32_t esc = seq({byte('\\'), alt({bytes({{'"', '"'}, {'\\', '\\'}, {'/', '/'}, {'b', 'b'}, {'f', 'f'},
                                              {'n', 'n'}, {'r', 'r'}, {'t', 't'}}),
                                       seq({byte('u'), hex, hex, hex, hex})})});
    return alt({plain, utf8_multibyte(*this), esc});
}

int32_t RuleSet::json_string(int32_t min_chars, std::optional<int32_t> max_chars) {
    return seq({byte('"'), repeat(json_string_char(), min_chars, max_chars), byte('"')});
}

int32_t RuleSet::digits(int32_t min, std::optional<int32_t> max) { return repeat(bytes({{'0', '9'}}), min, max); }

int32_t RuleSet::json_integer() {
    return seq({optional(byte('-')), alt({byte('0'), seq({bytes({{'1', '9'}}), digits(0, std::nullopt)})})});
}

int32_t RuleSet::json_number() {
    int32_t frac = optional(seq({byte('.'), digits(1, std::nullopt)}));
    int32_t exp = optional(seq({bytes({{'e', 'e'}, {'E', 'E'}}), optional(bytes({{'+', '+'}, {'-', '-'}})),
                                digits(1, 2)}));
    return seq({json_integer(), frac, exp});
}

std::string json_quote(std::string_view s) {
    return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace sy::grammar
