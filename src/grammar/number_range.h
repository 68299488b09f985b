// Exact decimal ranges as grammar expressions: integers in [lo, hi] and JSON numbers in [lo, hi] for
// integer bounds (either side may be open).
//
// Worked example: integers in [7, 123] =  [7-9] | [1-9][0-9] | 1 ( [0-1][0-9] | 2[0-3] ).
// Numbers in [0, 5]: integer part 0..4 with any fraction, or 5 with an all-zero fraction (5, 5.0, 5.00);
// no exponent when a bound is given.
#pragma once

#include <cstdint>
#include <optional>

#include "grammar/expr.h"

namespace sy::grammar {

int32_t integer_range(RuleSet & rs, std::optional<int64_t> lo, std::optional<int64_t> hi);
int32_t number_range(RuleSet & rs, std::optional<int64_t> lo, std::optional<int64_t> hi);

}  // namespace sy::grammar
