// UTF-8 decoding/validation and the GPT-2 byte <-> unicode table (see unicode_internal.h).
#include "tokenizer/unicode_internal.h"

#include <vector>

namespace sy::tok {

size_t utf8_sequence_len(std::string_view s) {
    const auto b0 = (uint8_t)s[0];
    if (b0 < 0x80) return 1;
    size_t len = 0;
    uint32_t min_cpt = 0;
    if ((b0 & 0xE0) == 0xC0) {
        len = 2;
        min_cpt = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
        len = 3;
        min_cpt = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
        len = 4;
        min_cpt = 0x10000;
    } else {
        return 0;
    }
    if (s.size() < len) return 0;
    uint32_t cpt = b0 & (0x7F >> len);
    for (size_t i = 1; i < len; ++i) {
        const auto b = (uint8_t)s[i];
        if ((b & 0xC0) != 0x80) return 0;
        cpt = (cpt << 6) | (b & 0x3F);
    }
    if (cpt < min_cpt || cpt > 0x10FFFF || (cpt >= 0xD800 && cpt <= 0xDFFF)) return 0;
    return len;
}

uint32_t utf8_decode(std::string_view s) {
    const auto b0 = (uint8_t)s[0];
    if (b0 < 0x80) return b0;
    const size_t len = (b0 & 0xE0) == 0xC0 ? 2 : (b0 & 0xF0) == 0xE0 ? 3 : 4;
    uint32_t cpt = b0 & (0x7F >> len);
    for (size_t i = 1; i < len; ++i) cpt = (cpt << 6) | ((uint8_t)s[i] & 0x3F);
    return cpt;
}

void utf8_append(std::string & out, uint32_t cpt) {
    if (cpt < 0x80) {
        out.push_back((char)cpt);
    } else if (cpt < 0x800) {
        out.push_back((char)(0xC0 | (cpt >> 6)));
        out.push_back((char)(0x80 | (cpt & 0x3F)));
    } else if (cpt < 0x10000) {
        out.push_back((char)(0xE0 | (cpt >> 12)));
        out.push_back((char)(0x80 | ((cpt >> 6) & 0x3F)));
        out.push_back((char)(0x80 | (cpt & 0x3F)));
    } else {
        out.push_back((char)(0xF0 | (cpt >> 18)));
        out.push_back((char)(0x80 | ((cpt >> 12) & 0x3F)));
        out.push_back((char)(0x80 | ((cpt >> 6) & 0x3F)));
        out.push_back((char)(0x80 | (cpt & 0x3F)));
    }
}

namespace {

// cpt_of[b]: the code point standing for byte b.
std::array<uint32_t, 256> make_byte_cpts() {
    std::array<uint32_t, 256> cpt_of{};
    uint32_t next_extra = 256;
    for (int b = 0; b < 256; ++b) {
        const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        cpt_of[b] = printable ? (uint32_t)b : next_extra++;
    }
    return cpt_of;
}

struct ByteTables {
    std::array<std::string, 256> text;
    std::vector<int16_t> byte_of_cpt;  // indexed by code point < 324; -1 when not a byte's code point
};

const ByteTables & byte_tables() {
    static const ByteTables tables = [] {
        ByteTables t;
        const auto cpts = make_byte_cpts();
        t.byte_of_cpt.assign(256 + 68, -1);
        for (int b = 0; b < 256; ++b) {
            utf8_append(t.text[b], cpts[b]);
            t.byte_of_cpt[cpts[b]] = (int16_t)b;
        }
        return t;
    }();
    return tables;
}

}  // namespace

const std::string & byte_to_unicode(uint8_t b) { return byte_tables().text[b]; }

std::optional<uint8_t> unicode_to_byte(uint32_t cpt) {
    const auto & t = byte_tables();
    if (cpt >= t.byte_of_cpt.size() || t.byte_of_cpt[cpt] < 0) return std::nullopt;
    return (uint8_t)t.byte_of_cpt[cpt];
}

}  // namespace sy::tok
