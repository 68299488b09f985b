// Decimal range expressions (see number_range.h): split by digit count, then digit by digit.
#include "grammar/number_range.h"

#include <string>
#include <vector>

#include "common/error.h"

namespace sy::grammar {

namespace {

// Digit strings of equal length n with a <= x <= b (leading zeros allowed: used below the first digit).
int32_t fixed_range(RuleSet & rs, const std::string & a, const std::string & b) {
    SY_ASSERT(a.size() == b.size() && a <= b);
    if (a.empty()) return rs.empty();
    std::string tail_a = a.substr(1), tail_b = b.substr(1);
    if (tail_a.find_first_not_of('0') == std::string::npos && tail_b.find_first_not_of('9') == std::string::npos)
        return rs.seq({rs.bytes({{(uint8_t)a[0], (uint8_t)b[0]}}), rs.digits((int32_t)tail_a.size(), (int32_t)tail_a.size())});
    if (a[0] == b[0]) return rs.seq({rs.byte((uint8_t)a[0]), fixed_range(rs, tail_a, tail_b)});
    std::vector<int32_t> alts;
    alts.push_back(rs.seq({rs.byte((uint8_t)a[0]), fixed_range(rs, tail_a, std::string(tail_a.size(), '9'))}));
    if (a[0] + 1 <= b[0] - 1)
        alts.push_back(rs.seq({rs.bytes({{(uint8_t)(a[0] + 1), (uint8_t)(b[0] - 1)}}),
                               rs.digits((int32_t)tail_a.size(), (int32_t)tail_a.size())}));
    alts.push_back(rs.seq({rs.byte((uint8_t)b[0]), fixed_range(rs, std::string(tail_b.size(), '0'), tail_b)}));
    return rs.alt(std::move(alts));
}

uint64_t pow10(size_t n) {
    uint64_t p = 1;
    while (n--) p *= 10;
    return p;
}

// Non-negative integers in [lo, hi] (hi open when nullopt), canonical spelling (no leading zeros).
int32_t uint_range(RuleSet & rs, uint64_t lo, std::optional<uint64_t> hi) {
    std::vector<int32_t> alts;
    size_t len_lo = std::to_string(lo).size();
    size_t len_hi = hi ? std::to_string(*hi).size() : len_lo;
    for (size_t len = len_lo; len <= len_hi; ++len) {
        uint64_t a = std::max<uint64_t>(lo, len == 1 ? 0 : pow10(len - 1));
        uint64_t b = pow10(len) - 1;
        if (hi) b = std::min(b, *hi);
        if (a > b) continue;
        alts.push_back(fixed_range(rs, std::to_string(a), std::to_string(b)));
    }
    if (!hi) alts.push_back(rs.seq({rs.bytes({{'1', '9'}}), rs.digits((int32_t)len_lo, std::nullopt)}));
    return rs.alt(std::move(alts));
}

// Magnitudes |x| of a number in [m, M] (M open when nullopt): integer part m..M-1 with any fraction, or M
// with a zero fraction.
int32_t magnitude_range(RuleSet & rs, uint64_t m, std::optional<uint64_t> M) {
    int32_t any_frac = rs.optional(rs.seq({rs.byte('.'), rs.digits(1, std::nullopt)}));
    if (!M) return rs.seq({uint_range(rs, m, std::nullopt), any_frac});
    std::vector<int32_t> alts;
    if (*M > m) alts.push_back(rs.seq({uint_range(rs, m, *M - 1), any_frac}));
    int32_t zero_frac = rs.optional(rs.seq({rs.byte('.'), rs.plus(rs.byte('0'))}));
    alts.push_back(rs.seq({rs.literal(std::to_string(*M)), zero_frac}));
    return rs.alt(std::move(alts));
}

}  // namespace

int32_t integer_range(RuleSet & rs, std::optional<int64_t> lo, std::optional<int64_t> hi) {
    std::vector<int32_t> alts;
    if (!lo || *lo < 0) {  // negative part: magnitudes [max(1, -hi), -lo]
        uint64_t mag_lo = (hi && *hi < 0) ? (uint64_t)(-*hi) : 1;
        std::optional<uint64_t> mag_hi;
        if (lo) mag_hi = (uint64_t)(-*lo);
        alts.push_back(rs.seq({rs.byte('-'), uint_range(rs, mag_lo, mag_hi)}));
    }
    if (!hi || *hi >= 0) {
        std::optional<uint64_t> h;
        if (hi) h = (uint64_t)*hi;
        alts.push_back(uint_range(rs, lo ? (uint64_t)std::max<int64_t>(*lo, 0) : 0, h));
    }
    return rs.alt(std::move(alts));
}

int32_t number_range(RuleSet & rs, std::optional<int64_t> lo, std::optional<int64_t> hi) {
    std::vector<int32_t> alts;
    if (!lo || *lo < 0) {  // x < 0: |x| in [max(0, -hi), -lo]
        uint64_t m = (hi && *hi < 0) ? (uint64_t)(-*hi) : 0;
        std::optional<uint64_t> M;
        if (lo) M = (uint64_t)(-*lo);
        alts.push_back(rs.seq({rs.byte('-'), magnitude_range(rs, m, M)}));
    }
    if (!hi || *hi >= 0) {
        std::optional<uint64_t> M;
        if (hi) M = (uint64_t)*hi;
        alts.push_back(magnitude_range(rs, lo ? (uint64_t)std::max<int64_t>(*lo, 0) : 0, M));
    }
    return rs.alt(std::move(alts));
}

}  // namespace sy::grammar
