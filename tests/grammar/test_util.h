// Helpers shared by the grammar tests: byte-level and synthetic vocabularies, whole-string matching, and
// the real vocabulary fixtures (skipped, saying so, when the shared fixtures are absent).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "grammar/grammar.h"

namespace sy::grammar::test {

using sy::Error;

// Tokens 0..255 = single bytes, 256 = EOS (stop), 257 = a control token (excluded), then `extra` tokens.
inline std::shared_ptr<const TokenTable> byte_vocab(const std::vector<std::string> & extra = {}) {
    std::vector<std::string> bytes;
    for (int b = 0; b < 256; ++b) bytes.push_back(std::string(1, (char)b));
    bytes.push_back("</s>");
    bytes.push_back("<|ctl|>");
    std::vector<uint8_t> excluded(bytes.size(), 0);
    excluded[256] = excluded[257] = 1;
    for (const std::string & e : extra) {
        bytes.push_back(e);
        excluded.push_back(0);
    }
    return std::make_shared<TokenTable>(std::move(bytes), std::move(excluded), std::vector<TokenId>{256});
}
constexpr TokenId kEos = 256;
constexpr TokenId kControl = 257;

// Whole-string membership: the bytes are accepted and the grammar may end there.
inline bool matches(const std::shared_ptr<const Grammar> & g, const std::string & s) {
    static auto vocab = byte_vocab();
    GrammarMatcher m(g, vocab);
    return m.accept_bytes(s) && m.can_terminate();
}

inline std::string vocab_path(const char * name) { return std::string(SY_SHARED_DIR) + "/fixtures/vocab/" + name; }

}  // namespace sy::grammar::test
