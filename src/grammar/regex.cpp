// Regex subset -> JSON string content expression (see regex.h). Recursive descent:
//   alt := seq ('|' seq)*      seq := (atom quantifier?)*      atom := char | class | '.' | '(' alt ')'
#include "grammar/regex.h"

#include <bitset>
#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace sy::grammar {

namespace {

constexpr int32_t kMaxRepeat = 1000;

// A set of characters: ASCII by bitmap, non-ASCII either "all" or a list of literal UTF-8 sequences.
struct CharSet {
    std::bitset<128> ascii;
    bool all_non_ascii = false;
    std::vector<std::string> non_ascii;

    void add_range(uint32_t lo, uint32_t hi) {
        for (uint32_t c = lo; c <= hi && c < 128; ++c) ascii.set(c);
    }
    void negate() {
        ascii.flip();
        SY_ASSERT(non_ascii.empty());
        all_non_ascii = !all_non_ascii;
    }
};

std::string utf8_encode(uint32_t cp) {
    std::string s;
    if (cp < 0x80) s.push_back((char)cp);
    else if (cp < 0x800) {
        s.push_back((char)(0xC0 | (cp >> 6)));
        s.push_back((char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        s.push_back((char)(0xE0 | (cp >> 12)));
        s.push_back((char)(0x80 | ((cp >> 6) & 0x3F)));
        s.push_back((char)(0x80 | (cp & 0x3F)));
    } else {
        s.push_back((char)(0xF0 | (cp >> 18)));
        s.push_back((char)(0x80 | ((cp >> 12) & 0x3F)));
        s.push_back((char)(0x80 | ((cp >> 6) & 0x3F)));
        s.push_back((char)(0x80 | (cp & 0x3F)));
    }
    return s;
}

// The JSON spelling of one ASCII character inside a string.
std::string json_spelling(uint8_t c) {
    switch (c) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\b': return "\\b";
    case '\f': return "\\f";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    default: break;
    }
    if (c < 0x20) {
        static const char * hex = "0123456789abcdef";
        return std::string("\\u00") + hex[c >> 4] + hex[c & 15];
    }
    return std::string(1, (char)c);
}

class RegexParser {
public:
    RegexParser(RuleSet & rs, std::string_view p) : rs_(rs), p_(p) {}

    int32_t parse() {
        bool anchored_start = eat('^');
        int32_t body = parse_alt();
        bool anchored_end = false;
        if (pos_ < p_.size() && p_[pos_] == '$' && pos_ + 1 == p_.size()) {
            anchored_end = true;
            ++pos_;
        }
        if (pos_ != p_.size()) fail(p_[pos_] == ')' ? "unbalanced ')'" : "unexpected character", ErrorKind::ErrorKind_invalid_argument);
        std::vector<int32_t> parts;
        if (!anchored_start) parts.push_back(rs_.star(rs_.json_string_char()));
        parts.push_back(body);
        if (!anchored_end) parts.push_back(rs_.star(rs_.json_string_char()));
        return rs_.seq(std::move(parts));
    }

private:
    [[noreturn]] void fail(const std::string & what, ErrorKind kind = ErrorKind::ErrorKind_unsupported) {
        throw Error(kind, "pattern '" + std::string(p_) + "': " + what + " at offset " + std::to_string(pos_));
    }
    bool eat(char c) {
        if (pos_ < p_.size() && p_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    bool at_end() const { return pos_ >= p_.size(); }

    // Reads one UTF-8 code point.
    uint32_t read_cp() {
        uint8_t c = (uint8_t)p_[pos_++];
        if (c < 0x80) return c;
        int n = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
        if (n == 0) fail("invalid UTF-8", ErrorKind::ErrorKind_invalid_argument);
        uint32_t cp = c & (0x3F >> n);
        for (int i = 0; i < n; ++i) {
            if (at_end()) fail("truncated UTF-8", ErrorKind::ErrorKind_invalid_argument);
            cp = (cp << 6) | ((uint8_t)p_[pos_++] & 0x3F);
        }
        return cp;
    }

    int32_t parse_alt() {
        std::vector<int32_t> alts = {parse_seq()};
        while (eat('|')) alts.push_back(parse_seq());
        return rs_.alt(std::move(alts));
    }

    int32_t parse_seq() {
        std::vector<int32_t> parts;
        while (!at_end() && p_[pos_] != '|' && p_[pos_] != ')') {
            if (p_[pos_] == '$' && pos_ + 1 == p_.size()) break;
            int32_t atom = parse_atom();
            parts.push_back(parse_quantifier(atom));
        }
        return rs_.seq(std::move(parts));
    }

    int32_t parse_int() {
        size_t start = pos_;
        int64_t v = 0;
        while (!at_end() && p_[pos_] >= '0' && p_[pos_] <= '9') {
            v = v * 10 + (p_[pos_++] - '0');
            if (v > 1000000) fail("repeat count too large");
        }
        if (pos_ == start) fail("expected a number in {}", ErrorKind::ErrorKind_invalid_argument);
        return (int32_t)v;
    }

    int32_t parse_quantifier(int32_t atom) {
        if (at_end()) return atom;
        int32_t min = 0;
        std::optional<int32_t> max;
        char c = p_[pos_];
        if (c == '*') {
            ++pos_;
        } else if (c == '+') {
            ++pos_;
            min = 1;
        } else if (c == '?') {
            ++pos_;
            max = 1;
        } else if (c == '{') {
            ++pos_;
            min = parse_int();
            if (eat(',')) {
                if (!at_end() && p_[pos_] != '}') max = parse_int();
            } else {
                max = min;
            }
            if (!eat('}')) fail("expected '}'", ErrorKind::ErrorKind_invalid_argument);
            if (max && *max < min) fail("{n,m} with m < n", ErrorKind::ErrorKind_invalid_argument);
            if (min > kMaxRepeat || (max && *max > kMaxRepeat)) fail("repeat count above 1000");
        } else {
            return atom;
        }
        eat('?');  // lazy: same language
        if (!at_end() && (p_[pos_] == '*' || p_[pos_] == '+' || p_[pos_] == '{'))
            fail("possessive or stacked quantifier");
        return rs_.repeat(atom, min, max);
    }

    // Class escapes shared by atoms and [...]: returns true and fills `set` for \d \w \s and friends.
    bool class_escape(char e, CharSet & set) {
        bool neg = false;
        switch (e) {
        case 'D': neg = true; [[fallthrough]];
        case 'd': set.add_range('0', '9'); break;
        case 'W': neg = true; [[fallthrough]];
        case 'w':
            set.add_range('0', '9');
            set.add_range('A', 'Z');
            set.add_range('a', 'z');
            set.add_range('_', '_');
            break;
        case 'S': neg = true; [[fallthrough]];
        case 's':
            for (char c : std::string(" \t\n\r\f\v")) set.add_range((uint8_t)c, (uint8_t)c);
            break;
        default: return false;
        }
        if (neg) set.negate();
        return true;
    }

    // After a backslash, a single literal character (code point).
    uint32_t escaped_char(char e) {
        switch (e) {
        case 'n': return '\n';
        case 'r': return '\r';
        case 't': return '\t';
        case 'f': return '\f';
        case 'v': return '\v';
        case '0': return 0;
        case 'u': {
            uint32_t cp = 0;
            for (int i = 0; i < 4; ++i) {
                if (at_end() || !std::isxdigit((unsigned char)p_[pos_])) fail("bad \\u escape", ErrorKind::ErrorKind_invalid_argument);
                char h = p_[pos_++];
                cp = cp * 16 + (uint32_t)(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
            }
            return cp;
        }
        case 'b': fail("word boundary \\b");
        case 'B': fail("\\B");
        case 'p':
        case 'P': fail("Unicode property escape");
        case 'k': fail("named backreference");
        default: break;
        }
        if (e >= '1' && e <= '9') fail("backreference");
        if (std::isalnum((unsigned char)e)) fail(std::string("escape \\") + e);
        return (uint8_t)e;
    }

    int32_t parse_atom() {
        char c = p_[pos_];
        if (c == '(') {
            ++pos_;
            if (eat('?')) {
                if (!eat(':')) fail("lookaround or named group");
            }
            int32_t inner = parse_alt();
            if (!eat(')')) fail("missing ')'", ErrorKind::ErrorKind_invalid_argument);
            return inner;
        }
        if (c == '[') return charset_expr(parse_class());
        if (c == '.') {
            ++pos_;
            CharSet s;
            s.add_range('\n', '\n');
            s.add_range('\r', '\r');
            s.negate();
            return charset_expr(s);
        }
        if (c == '^' || c == '$') fail("anchor in the middle of a pattern");
        if (c == '*' || c == '+' || c == '?' || c == '{') fail("quantifier without an atom", ErrorKind::ErrorKind_invalid_argument);
        if (c == '\\') {
            ++pos_;
            if (at_end()) fail("trailing backslash", ErrorKind::ErrorKind_invalid_argument);
            char e = p_[pos_++];
            CharSet s;
            if (class_escape(e, s)) return charset_expr(s);
            return char_expr(escaped_char(e));
        }
        return char_expr(read_cp());
    }

    CharSet parse_class() {
        ++pos_;  // '['
        bool neg = eat('^');
        CharSet s;
        bool first = true;
        while (true) {
            if (at_end()) fail("missing ']'", ErrorKind::ErrorKind_invalid_argument);
            if (p_[pos_] == ']' && !first) {
                ++pos_;
                break;
            }
            first = false;
            uint32_t lo;
            if (p_[pos_] == '\\') {
                ++pos_;
                if (at_end()) fail("trailing backslash", ErrorKind::ErrorKind_invalid_argument);
                char e = p_[pos_++];
                CharSet sub;
                if (class_escape(e, sub)) {
                    if (sub.all_non_ascii && neg) fail("negated class containing \\D, \\W or \\S");
                    s.ascii |= sub.ascii;
                    s.all_non_ascii = s.all_non_ascii || sub.all_non_ascii;
                    continue;
                }
                lo = escaped_char(e);
            } else {
                lo = read_cp();
            }
            uint32_t hi = lo;
            if (pos_ + 1 < p_.size() && p_[pos_] == '-' && p_[pos_ + 1] != ']') {
                ++pos_;
                if (p_[pos_] == '\\') {
                    ++pos_;
                    if (at_end()) fail("trailing backslash", ErrorKind::ErrorKind_invalid_argument);
                    hi = escaped_char(p_[pos_++]);
                } else {
                    hi = read_cp();
                }
                if (hi < lo) fail("class range out of order", ErrorKind::ErrorKind_invalid_argument);
            }
            if (hi >= 128) {
                if (lo != hi) fail("class range over non-ASCII characters");
                if (neg) fail("negated class with non-ASCII characters");
                s.non_ascii.push_back(utf8_encode(lo));
            } else {
                s.add_range(lo, hi);
            }
        }
        if (neg) {
            if (s.all_non_ascii) fail("negated class containing \\D, \\W or \\S");
            s.negate();
        }
        return s;
    }

    int32_t char_expr(uint32_t cp) {
        if (cp < 128) return rs_.literal(json_spelling((uint8_t)cp));
        return rs_.literal(utf8_encode(cp));
    }

    int32_t charset_expr(const CharSet & s) {
        std::vector<ByteRange> plain;
        std::vector<int32_t> alts;
        for (uint32_t c = 0; c < 128; ++c) {
            if (!s.ascii.test(c)) continue;
            std::string sp = json_spelling((uint8_t)c);
            if (sp.size() == 1) {
                if (!plain.empty() && plain.back().hi + 1 == (int)c) plain.back().hi = (uint8_t)c;
                else plain.push_back(ByteRange{(uint8_t)c, (uint8_t)c});
            } else {
                alts.push_back(rs_.literal(sp));
            }
        }
        if (!plain.empty()) alts.push_back(rs_.bytes(plain));
        if (s.all_non_ascii) {
            // utf8_char() minus its ASCII half: take the multibyte alternative by excluding 0x00-0x7F.
            int32_t any = rs_.utf8_char();
            alts.push_back(rs_.expr(any).children[1]);
        }
        for (const std::string & lit : s.non_ascii) alts.push_back(rs_.literal(lit));
        return rs_.alt(std::move(alts));
    }

    RuleSet & rs_;
    std::string_view p_;
    size_t pos_ = 0;
};

}  // namespace

int32_t compile_pattern(RuleSet & rs, std::string_view pattern) { return RegexParser(rs, pattern).parse(); }

}  // namespace sy::grammar
