// The regular-expression subset accepted in JSON Schema `pattern` (and used for `format`), compiled to the
// grammar expression of the JSON string CONTENT (between the quotes, JSON-escaped).
//
// Supported (ECMA-262 meaning): literals; `.` (any character except \n and \r); classes `[...]`, `[^...]`
// with ranges and the escapes below; `\d \D \w \W \s \S`; escaped metacharacters (`\. \* \\ \/ ...`);
// `\n \r \t \f \v`, `\uXXXX`; groups `(...)` and `(?:...)`; alternation `|`; quantifiers `* + ? {n} {n,}
// {n,m}` (a trailing lazy `?` is accepted: it does not change which strings match); `^` only at the start
// and `$` only at the end. A pattern without `^` may be preceded by anything, one without `$` followed by
// anything (JSON Schema patterns are unanchored searches).
// Not supported (error naming the construct): backreferences, lookaround, `\b`, named groups, Unicode
// property escapes, ranges over non-ASCII characters, anchors in the middle, repeat counts above 1000.
//
// Matched characters are emitted in canonical JSON form: '"' and '\\' escaped, control characters as
// \b \f \n \r \t or \u00XX, everything else as raw UTF-8.
#pragma once

#include <string_view>

#include "grammar/expr.h"

namespace sy::grammar {

// Throws sy::Error(ErrorKind_unsupported / ErrorKind_invalid_argument) with a message naming the problem
// and its offset in the pattern.
int32_t compile_pattern(RuleSet & rs, std::string_view pattern);

}  // namespace sy::grammar
