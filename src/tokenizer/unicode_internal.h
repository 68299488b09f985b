// UTF-8 helpers and the GPT-2 byte <-> unicode table used by byte-level BPE (private to the tokenizer layer).
//
// Byte-level BPE stores every token as text in which each raw byte b is one "printable" code point:
// bytes ! .. ~, ¡ .. ¬ and ® .. ÿ map to themselves, the other 68 bytes (controls, space, 0x7F-0xA0, 0xAD)
// map to U+0100 + k in byte order. Example: ' ' (0x20) is the 33rd such byte, so it becomes U+0120 'Ġ';
// "\n" becomes U+010A 'Ċ'.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sy::tok {

// Length (1..4) of the well-formed UTF-8 sequence starting at s[0], or 0 when it is not one (stray
// continuation byte, overlong form, surrogate, > U+10FFFF, truncated). `s` must not be empty.
size_t utf8_sequence_len(std::string_view s);

// Decodes the well-formed sequence at s[0] (caller checked it with utf8_sequence_len).
uint32_t utf8_decode(std::string_view s);

void utf8_append(std::string & out, uint32_t cpt);

// The GPT-2 form of byte b (a 1 or 2 byte UTF-8 string).
const std::string & byte_to_unicode(uint8_t b);
// The byte a GPT-2 code point stands for, or nullopt when it is not one of the 256.
std::optional<uint8_t> unicode_to_byte(uint32_t cpt);

}  // namespace sy::tok
