// Copy fields of a tool set and the per-request copy rule (see copy.h for the rule and an example).
#include "grammar/copy.h"

#include <algorithm>

#include "common/error.h"

namespace sy::grammar {
namespace {

bool has_type(const ojson & s, const char * t) {
    if (!s.contains("type")) return false;
    const ojson & ty = s["type"];
    if (ty.is_string()) return ty.get<std::string>() == t;
    if (ty.is_array())
        for (const ojson & x : ty)
            if (x.is_string() && x.get<std::string>() == t) return true;
    return false;
}

// A value the schema compiler tags as a copy value when its path is listed (SchemaCompiler::string_value,
// integer_value): a string (plain, pattern or format) or an integer, without enum, const or combinators.
bool is_copy_kind(const ojson & s, const char * type) {
    if (!s.is_object()) return false;
    for (const char * k : {"$ref", "enum", "const", "anyOf", "oneOf", "allOf"})
        if (s.contains(k)) return false;
    return has_type(s, type);
}
bool is_plain_string(const ojson & s) { return is_copy_kind(s, "string"); }
bool is_plain_integer(const ojson & s) { return is_copy_kind(s, "integer") && !has_type(s, "string"); }

std::string join(const std::string & path, const std::string & key) { return path.empty() ? key : path + "." + key; }

void collect(const ojson & s, const std::string & path, std::vector<std::string> & out) {
    if (!s.is_object() || s.contains("$ref")) return;
    if (is_plain_string(s) || is_plain_integer(s)) out.push_back(path);
    if (s.contains("properties") && s["properties"].is_object())
        for (auto it = s["properties"].begin(); it != s["properties"].end(); ++it)
            collect(it.value(), join(path, it.key()), out);
    if (s.contains("items")) collect(s["items"], path + "[]", out);
}

void walk(const ojson & s, const ojson & v, const std::string & path,
          const std::function<void(const std::string &, const std::string &)> & fn) {
    if (!s.is_object() || s.contains("$ref")) return;
    if (v.is_string() && is_plain_string(s)) fn(path, v.get<std::string>());
    if (v.is_number_integer() && is_plain_integer(s)) fn(path, v.dump());
    if (v.is_object() && s.contains("properties") && s["properties"].is_object())
        for (auto it = s["properties"].begin(); it != s["properties"].end(); ++it)
            if (v.contains(it.key())) walk(it.value(), v[it.key()], join(path, it.key()), fn);
    if (v.is_array() && s.contains("items"))
        for (const ojson & x : v) walk(s["items"], x, path + "[]", fn);
}

// The JSON-escaped content of `s` (json_quote without its quotes).
std::string escaped(std::string_view s) {
    std::string q = json_quote(s);
    return q.substr(1, q.size() - 2);
}

}  // namespace

std::vector<std::string> copy_candidate_fields(const std::vector<ToolSpec> & tools) {
    std::vector<std::string> out;
    for (const ToolSpec & t : tools) {
        std::vector<std::string> paths;
        collect(t.parameters, "", paths);
        for (const std::string & p : paths)
            if (!p.empty()) out.push_back(t.name + "." + p);
    }
    return out;
}

void for_each_copy_candidate(const ToolSpec & tool, const ojson & arguments,
                             const std::function<void(const std::string &, const std::string &)> & fn) {
    walk(tool.parameters, arguments, "", [&](const std::string & path, const std::string & value) {
        if (!path.empty()) fn(path, value);
    });
}

std::vector<std::string> read_copy_fields(const gguf::File & file) {
    std::vector<std::string> out;
    const gguf::Value * v = file.find(kCopyFieldsKey);
    if (!v) return out;
    const gguf::Array & a = v->as_array(kCopyFieldsKey);
    for (size_t i = 0; i < a.size(); ++i) out.emplace_back(a.string_at(i, kCopyFieldsKey));
    return out;
}

bool is_copy_span(const std::vector<std::string> & sources, std::string_view value) {
    if (value.empty()) return false;
    for (const std::string & src : sources) {
        for (size_t at = src.find(value); at != std::string::npos; at = src.find(value, at + 1)) {
            const size_t end = at + value.size();
            const bool starts = at == 0 || !is_copy_word_byte((uint8_t)src[at - 1]);
            const bool ends = end == src.size() || !is_copy_word_byte((uint8_t)src[end]);
            if (starts && ends) return true;
        }
    }
    return false;
}

CopyConstraint::CopyConstraint(std::shared_ptr<const TokenTable> tokens, const std::vector<std::string> & sources, bool whole)
    : tokens_(std::move(tokens)) {
    SY_ASSERT(tokens_);
    for (const std::string & src : sources) {
        const std::string e = escaped(src);
        if (e.empty()) continue;
        const uint32_t base = (uint32_t)text_.size();
        if ((uint64_t)base + e.size() + 1 > UINT32_MAX / 2)
            throw Error(ErrorKind::ErrorKind_limit, "copy sources: more than 2 GiB of source text");
        text_ += e;
        text_.push_back('\0');
        flags_.resize(text_.size() + 1, 0);
        // Units of the escaped text: one raw byte, or a whole escape (which stands for a non-word byte).
        // Boundary i (before unit i) is a start when unit i exists and unit i-1 does not or is non-word;
        // an end when unit i does not exist or is non-word.
        std::vector<std::pair<uint32_t, bool>> units;  // (offset in e, word unit)
        for (size_t i = 0; i < e.size();) {
            if (e[i] == '\\') {
                units.emplace_back((uint32_t)i, false);
                i += e[i + 1] == 'u' ? 6 : 2;
            } else {
                units.emplace_back((uint32_t)i, is_copy_word_byte((uint8_t)e[i]));
                ++i;
            }
        }
        for (size_t u = 0; u <= units.size(); ++u) {
            const uint32_t p = base + (u < units.size() ? units[u].first : (uint32_t)e.size());
            const bool prev_word = u > 0 && units[u - 1].second;
            const bool next_word = u < units.size() && units[u].second;
            if (whole && u != 0 && u != units.size()) continue;
            if (u < units.size() && !prev_word) flags_[p] |= kStart;
            if (!next_word) flags_[p] |= kEnd;
        }
    }
    flags_.resize(text_.size() + 1, 0);
    for (uint32_t p = 0; p < (uint32_t)text_.size(); ++p)
        if (flags_[p] & kStart) starts_.push_back(p);
}

namespace {

// Within sorted[lo, hi) (all sharing their first k bytes), the tokens whose byte k is in [c_lo, c_hi].
std::pair<uint32_t, uint32_t> narrow(const TokenTable & tt, uint32_t lo, uint32_t hi, size_t k, uint8_t c_lo,
                                     uint8_t c_hi) {
    auto byte_at = [&](uint32_t i) -> int {
        std::string_view b = tt.sorted_bytes(i);
        return b.size() > k ? (uint8_t)b[k] : -1;
    };
    uint32_t a = lo, b = hi;
    while (a < b) {  // first with byte_at >= c_lo
        uint32_t m = a + (b - a) / 2;
        if (byte_at(m) < (int)c_lo) a = m + 1;
        else b = m;
    }
    uint32_t first = a;
    b = hi;
    while (a < b) {  // first with byte_at > c_hi
        uint32_t m = a + (b - a) / 2;
        if (byte_at(m) <= (int)c_hi) a = m + 1;
        else b = m;
    }
    return {first, a};
}

std::pair<uint32_t, uint32_t> narrow(const TokenTable & tt, uint32_t lo, uint32_t hi, size_t k, uint8_t c) {
    return narrow(tt, lo, hi, k, c, c);
}

// The byte ranges that are not copy word bytes (is_copy_word_byte): what may close an integer's span.
constexpr std::pair<uint8_t, uint8_t> kNonWordRanges[] = {{0x00, 0x2F}, {0x3A, 0x40}, {0x5B, 0x60}, {0x7B, 0x7F}};

}  // namespace

void CopyConstraint::add_allowed(const std::vector<uint32_t> & live, bool any_read, bool integer, uint32_t * words,
                                 std::vector<TokenId> & crossing) const {
    const TokenTable & tt = *tokens_;
    const std::vector<TokenId> & sorted = tt.sorted();
    const std::vector<uint32_t> & fb = tt.first_byte_begin();
    auto set = [&](TokenId id) { words[id >> 5] |= 1u << (id & 31); };
    auto add_range = [&](uint32_t lo, uint32_t hi, size_t k, uint8_t c_lo, uint8_t c_hi) {
        auto [a, b] = narrow(tt, lo, hi, k, c_lo, c_hi);
        for (uint32_t i = a; i < b; ++i) {
            set(sorted[i]);
            crossing.push_back(sorted[i]);
        }
    };
    // Tokens in [lo, hi) whose byte k closes the span: a quote, or for an integer any non-word byte.
    auto add_closing = [&](uint32_t lo, uint32_t hi, size_t k) {
        if (!integer) return add_range(lo, hi, k, '"', '"');
        for (auto [c_lo, c_hi] : kNonWordRanges) add_range(lo, hi, k, c_lo, c_hi);
    };
    for (uint32_t p : live) {
        if (any_read && can_end(p)) add_closing(0, (uint32_t)sorted.size(), 0);
        const uint8_t c0 = (uint8_t)text_[p];
        if (c0 == 0) continue;
        uint32_t lo = fb[c0], hi = fb[c0 + 1];
        for (size_t k = 1; lo < hi; ++k) {
            // [lo, hi) = tokens starting with text_[p, p + k); the one equal to it (if any) comes first.
            while (lo < hi && tt.sorted_bytes(lo).size() == k) set(sorted[lo++]);
            if (lo >= hi) break;
            if (can_end(p + (uint32_t)k)) add_closing(lo, hi, k);
            const uint8_t c = (uint8_t)text_[p + k];
            if (c == 0) break;
            std::tie(lo, hi) = narrow(tt, lo, hi, k, c);
        }
    }
}

bool CompiledGrammar::has_copy_tags() const { return has_copy_tags_; }

const std::vector<uint16_t> & CompiledGrammar::copy_distances() const {
    std::call_once(copy_once_, [this] {
        const Grammar & g = *grammar_;
        const int32_t n = g.n_states();
        constexpr uint16_t kFar = 65535;
        copy_dist_.assign((size_t)n, kFar);
        if (g.has_calls()) {
            std::fill(copy_dist_.begin(), copy_dist_.end(), 0);
            return;
        }
        // Breadth first over reversed byte edges from every copy state.
        std::vector<std::vector<int32_t>> rev((size_t)n);
        for (int32_t s = 1; s < n; ++s) {
            const int32_t * row = g.row(s);
            int32_t last = -1;
            for (int b = 0; b < 256; ++b) {
                const int32_t t = row[b];
                if (t != Grammar::kDeadState && t != last) {
                    rev[t].push_back(s);
                    last = t;
                }
            }
        }
        std::vector<int32_t> queue;
        for (int32_t s = 1; s < n; ++s)
            if (g.tags()[g.tag(s)].kind == TagKind::TagKind_copy) {
                copy_dist_[s] = 0;
                queue.push_back(s);
            }
        for (size_t qi = 0; qi < queue.size(); ++qi) {
            const int32_t t = queue[qi];
            for (int32_t s : rev[t])
                if (copy_dist_[s] == kFar) {
                    copy_dist_[s] = (uint16_t)std::min<int>(copy_dist_[t] + 1, kFar - 1);
                    queue.push_back(s);
                }
        }
    });
    return copy_dist_;
}

}  // namespace sy::grammar
