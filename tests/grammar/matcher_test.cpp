// Matcher: masks equal a brute-force check of every token at every position (token boundaries: tokens
// spanning a quote and text, UTF-8 split across tokens, escapes; recursive grammars with uncertain tokens),
// rollback, termination and stop tokens, forced bytes and jump-forward, logits helpers.
#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"

namespace sy::grammar::test {
namespace {

const std::vector<std::string> kExtra = {
    "\"", "{\"", "\":", "\",", "\"}", "\"},", "}]", "},{\"", "\"]}", "true", "tr", "ue", "name", "na", "me",
    "\xC3", "\xA9", "\xC3\xA9", "a\xC3", "\xA9" "b", "\xE2\x82", "\xAC\"", "\\", "\\n", "\\u00", "e9", "12", "-1",
    ".5", "e+", " ", ", ", ": ", "null", "\"a\":", "abc\"", "\"b\":\"", "[{", "}}", "]}", "\"\"", "1,", "0]",
};

// Reference mask: try every token on the matcher and undo.
std::vector<uint32_t> brute_mask(GrammarMatcher & m, const TokenTable & tt) {
    std::vector<uint32_t> words(mask_words(tt.n_tokens()), 0);
    for (TokenId id = 0; id < tt.n_tokens(); ++id) {
        if (m.accept_token(id)) {
            words[id >> 5] |= 1u << (id & 31);
            m.rollback(1);
        }
    }
    return words;
}

void check_masks_along(const std::shared_ptr<const Grammar> & g, const std::string & text) {
    auto tt = byte_vocab(kExtra);
    GrammarMatcher m(g, tt);
    std::vector<uint32_t> mask(mask_words(tt->n_tokens()));
    for (size_t i = 0; i <= text.size(); ++i) {
        m.fill_mask(mask.data());
        ASSERT_EQ(mask, brute_mask(m, *tt)) << "position " << i << " of " << text;
        if (i < text.size()) {
            ASSERT_TRUE(m.accept_bytes(text.substr(i, 1))) << text << " at " << i;
        }
    }
    EXPECT_TRUE(m.can_terminate());
    EXPECT_TRUE(mask_test(mask.data(), kEos));
    EXPECT_FALSE(mask_test(mask.data(), kControl));
}

TEST(GrammarMatcher, MaskEqualsBruteForceFlat) {
    auto g = compile_json_schema(ojson::parse(
        R"({"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string","maxLength":3},"n":{"type":"integer"},"t":{"type":"boolean"}},"required":["a"]})"));
    check_masks_along(g, "{\"a\":\"x\\u00e9\xC3\xA9\xE2\x82\xAC\\n\\\"\",\"b\":\"ab\",\"n\":-12,\"t\":true}");
}

TEST(GrammarMatcher, MaskEqualsBruteForceRecursive) {
    auto g = compile_json_object();
    check_masks_along(g, R"({"a":[{"b":"c"},{"":null}],"d":{"e":[1,[2.5e+3]]},"f":"\"x"})");
    auto tree = compile_json_schema(ojson::parse(
        R"({"$defs":{"n":{"type":"object","properties":{"v":{"type":"integer"},"k":{"type":"array","items":{"$ref":"#/$defs/n"}}},"required":["v","k"]}},"$ref":"#/$defs/n"})"));
    check_masks_along(tree, R"({"v":1,"k":[{"v":2,"k":[]},{"v":3,"k":[{"v":4,"k":[]}]}]})");
}

TEST(GrammarMatcher, TokenBoundaries) {
    auto g = compile_json_schema(ojson::parse(R"({"type":"object","properties":{"a":{"type":"string"}},"required":["a"]})"));
    auto tt = byte_vocab(kExtra);
    auto id_of = [&](const std::string & s) {
        for (TokenId i = 258; i < tt->n_tokens(); ++i)
            if (tt->bytes(i) == s) return i;
        ADD_FAILURE() << "no token " << s;
        return TokenId{0};
    };
    GrammarMatcher m(g, tt);
    EXPECT_TRUE(m.accept_token(id_of("{\"")));
    EXPECT_FALSE(m.accept_token(id_of("\":")));  // key must be "a"
    EXPECT_FALSE(m.accept_token(id_of("\"a\":")));
    EXPECT_TRUE(m.accept_bytes("a"));
    EXPECT_TRUE(m.accept_token(id_of("\":")));
    EXPECT_TRUE(m.accept_token(id_of("\"")));
    EXPECT_TRUE(m.accept_token(id_of("a\xC3")));  // 'a' + first byte of é
    EXPECT_FALSE(m.accept_token(id_of("\"")));    // cannot close inside a UTF-8 sequence
    EXPECT_TRUE(m.accept_token(id_of("\xA9")));
    EXPECT_TRUE(m.accept_token(id_of("\xE2\x82")));
    EXPECT_TRUE(m.accept_token(id_of("\xAC\"")));  // end of € and the closing quote in one token
    EXPECT_FALSE(m.can_terminate());
    EXPECT_FALSE(m.accept_token(kEos));
    EXPECT_TRUE(m.accept_bytes("}"));
    EXPECT_TRUE(m.can_terminate());
    EXPECT_FALSE(m.accept_token(kControl));
    EXPECT_TRUE(m.accept_token(kEos));
    EXPECT_TRUE(m.is_terminated());
    std::vector<uint32_t> mask(mask_words(tt->n_tokens()));
    m.fill_mask(mask.data());
    for (uint32_t w : mask) EXPECT_EQ(w, 0u);
    m.rollback(1);
    EXPECT_FALSE(m.is_terminated());
    EXPECT_TRUE(m.can_terminate());
}

TEST(GrammarMatcher, RollbackRestoresState) {
    auto g = compile_json_object();
    auto tt = byte_vocab(kExtra);
    GrammarMatcher m(g, tt);
    std::vector<uint32_t> a(mask_words(tt->n_tokens())), b(a.size());
    ASSERT_TRUE(m.accept_bytes("{\"k\":["));
    m.fill_mask(a.data());
    ASSERT_TRUE(m.accept_bytes("{\"x\":1}"));
    ASSERT_TRUE(m.accept_bytes(","));
    ASSERT_EQ(m.n_steps(), 3);
    m.rollback(2);
    m.fill_mask(b.data());
    EXPECT_EQ(a, b);
    EXPECT_FALSE(m.accept_bytes("]]"));
    EXPECT_TRUE(m.accept_bytes("]}"));
    EXPECT_TRUE(m.can_terminate());
}

TEST(GrammarMatcher, ForcedBytes) {
    auto g = compile_json_schema(ojson::parse(
        R"({"type":"object","properties":{"unit":{"enum":["celsius","fahrenheit"]},"city":{"type":"string"}},"required":["unit","city"]})"));
    GrammarMatcher m(g, byte_vocab());
    EXPECT_EQ(m.forced_bytes(), "{\"unit\":\"");  // both enum values start with a quote
    ASSERT_TRUE(m.accept_bytes("{\"unit\":\"f"));
    EXPECT_EQ(m.forced_bytes(), "ahrenheit\",\"city\":\"");
    ASSERT_TRUE(m.accept_bytes("ahrenheit\",\"city\":\"Oslo\""));
    EXPECT_EQ(m.forced_bytes(), "}");
    ASSERT_TRUE(m.accept_bytes("}"));
    EXPECT_EQ(m.forced_bytes(), "");  // may end here
}

TEST(GrammarMatcher, JumpForwardKeepsBoundaryTokenBack) {
    auto g = compile_json_schema(ojson::parse(R"({"type":"object","properties":{"name":{"type":"string"}},"required":["name"]})"));
    auto tt = byte_vocab(kExtra);
    // Greedy longest-match encoder over the table.
    Encoder enc = [&](std::string_view s) {
        std::vector<TokenId> out;
        size_t i = 0;
        while (i < s.size()) {
            TokenId best = (uint8_t)s[i];
            size_t best_len = 1;
            for (TokenId id = 258; id < tt->n_tokens(); ++id) {
                const std::string & b = tt->bytes(id);
                if (b.size() > best_len && s.substr(i, b.size()) == b) {
                    best = id;
                    best_len = b.size();
                }
            }
            out.push_back(best);
            i += best_len;
        }
        return out;
    };
    GrammarMatcher m(g, tt);
    std::vector<TokenId> ids = jump_forward(m, enc);  // forced: {"name":"  ->  {" name ": "  (last dropped)
    std::string got;
    for (TokenId id : ids) got += tt->bytes(id);
    EXPECT_EQ(got, "{\"name\":");
    EXPECT_EQ(m.forced_bytes(), "\"");
    EXPECT_EQ(m.n_steps(), (int32_t)ids.size());
}

TEST(GrammarMatcher, MaskedSoftmax) {
    std::vector<uint32_t> words = {0b1010u};
    float logits[6] = {5, 1, 7, 2, 9, 9};
    float probs[6];
    ASSERT_TRUE(masked_softmax(logits, 6, words.data(), 1, probs));
    float e1 = std::exp(1.0f - 2.0f), e3 = 1.0f;
    EXPECT_NEAR(probs[1], e1 / (e1 + e3), 1e-6);
    EXPECT_NEAR(probs[3], e3 / (e1 + e3), 1e-6);
    EXPECT_EQ(probs[0], 0.0f);
    EXPECT_EQ(probs[4], 0.0f);
    apply_mask(logits, 6, words.data(), 1);
    EXPECT_TRUE(std::isinf(logits[0]) && logits[0] < 0);
    EXPECT_EQ(logits[1], 1.0f);
    std::vector<uint32_t> none = {0u};
    EXPECT_FALSE(masked_softmax(logits, 6, none.data(), 1, probs));
}

TEST(GrammarMatcher, StateMaskClassification) {
    // Inside the recursive "any value" rule, a token that closes the rule and goes on ('"}') is uncertain;
    // in the entry rule nothing is.
    auto g = compile_json_object();
    auto tt = byte_vocab(kExtra);
    CompiledGrammar cg(g, tt);
    GrammarMatcher m(std::make_shared<CompiledGrammar>(g, tt));
    ASSERT_TRUE(m.accept_bytes("{\"a\":\"x"));
    bool found_uncertain = false;
    for (int32_t s = 1; s < g->n_states(); ++s) {
        const StateMask & sm = cg.state_mask(s);
        if (g->in_entry(s)) {
            EXPECT_TRUE(sm.uncertain.empty());
        }
        found_uncertain = found_uncertain || !sm.uncertain.empty();
    }
    EXPECT_TRUE(found_uncertain);
    EXPECT_EQ(cg.n_cached_states(), g->n_states() - 1);
}

}  // namespace
}  // namespace sy::grammar::test
