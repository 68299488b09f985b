// Small text helpers shared by the router's linear aids (chat/slot_tagger.h, chat/intent_classifier.h):
// ASCII lowercasing and the hash that maps a named feature to a weight row.
#pragma once

#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>

namespace sy::chat {

inline std::string fold_lower(std::string_view s) {
    std::string out(s);
    for (char & c : out) c = (char)std::tolower((unsigned char)c);
    return out;
}

// FNV-1a over up to three parts with a separator between them, so ("ab", "c") and ("a", "bc") differ.
inline uint64_t feature_hash(std::string_view a, std::string_view b = {}, std::string_view c = {}) {
    uint64_t h = 1469598103934665603ull;
    for (std::string_view s : {a, std::string_view("\x1f"), b, std::string_view("\x1f"), c})
        for (char ch : s) h = (h ^ (uint8_t)ch) * 1099511628211ull;
    return h;
}

}  // namespace sy::chat
