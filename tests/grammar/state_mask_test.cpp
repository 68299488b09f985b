// Per-state mask cache: the masks a bound grammar serves (plain-DFA walks, and loop components classified
// once per shape and finished per state) equal the generic thread walk of every state, on a synthetic
// vocabulary rich in quotes, escapes and UTF-8 pieces and on the real qwen2 vocabulary; shapes are shared
// across grammars bound to the same table.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "grammar/state_mask.h"
#include "gguf/gguf.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace sy::grammar::test {
namespace {

// Bytes 0..255, EOS, a control token, then `n` random tokens of 2..6 pieces drawn from JSON-ish material.
std::shared_ptr<const TokenTable> rich_vocab(int n, uint32_t seed) {
    const std::vector<std::string> pieces = {"a", "b", "z", "0", "7", " ", "\"", "\\", "n", "u00", "e9", ",", ":",
                                             "{", "}", "[", "]", "\xC3", "\xA9", "\xE2\x82", "\xAC", "_", "-", "."};
    std::mt19937 rng(seed);
    std::set<std::string> seen;
    std::vector<std::string> extra;
    while ((int)extra.size() < n) {
        std::string t;
        int k = 2 + (int)(rng() % 5);
        for (int i = 0; i < k; ++i) t += pieces[rng() % pieces.size()];
        if (seen.insert(t).second) extra.push_back(t);
    }
    return byte_vocab(extra);
}

std::set<TokenId> accepted_of(const StateMask & sm, int32_t n_tokens) {
    std::set<TokenId> out(sm.accepted.begin(), sm.accepted.end());
    for (TokenId id = 0; id < n_tokens; ++id) {
        if (sm.base && mask_test(sm.base->data(), id)) out.insert(id);
        if (sm.dense && mask_test(sm.words.data(), id)) out.insert(id);
    }
    return out;
}

void expect_cache_equals_reference(const std::shared_ptr<const Grammar> & g, const std::shared_ptr<const TokenTable> & tt,
                                   bool expect_components) {
    CompiledGrammar cg(g, tt);
    if (expect_components) {
        EXPECT_GE(cg.n_component_shapes(), 1);
        EXPECT_GT(cg.n_component_states(), 0);
    }
    for (int32_t s = 1; s < g->n_states(); ++s) {
        const StateMask & got = cg.state_mask(s);
        StateMask want = detail::compute_state_mask_generic(*g, *tt, s);
        std::set<TokenId> a = accepted_of(got, tt->n_tokens()), b = accepted_of(want, tt->n_tokens());
        ASSERT_EQ(a, b) << "accepted tokens differ in state " << s;
        ASSERT_EQ((int32_t)a.size(), got.n_accepted) << "state " << s;
        std::set<TokenId> ua(got.uncertain.begin(), got.uncertain.end()), ub(want.uncertain.begin(), want.uncertain.end());
        ASSERT_EQ(ua, ub) << "uncertain tokens differ in state " << s;
    }
}

const char * kTools = R"([
  {"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer","minimum":1,"maximum":14},"tags":{"type":"array","items":{"type":"string"}}},"required":["city"]}}},
  {"type":"function","function":{"name":"note","parameters":{"type":"object","properties":{"text":{"type":"string"},"level":{"enum":["low","high"]}},"required":["text"]}}}])";

TEST(StateMask, CacheEqualsGenericWalkSyntheticVocab) {
    auto tt = rich_vocab(3000, 11);
    expect_cache_equals_reference(compile_tool_grammar(ojson::parse(kTools), "auto", true), tt, true);
    expect_cache_equals_reference(compile_tool_grammar(ojson::parse(kTools), "required", false), tt, true);
    // Recursive: string states inside the called "any value" rule share shapes too; tokens closing the
    // string and popping the rule stay uncertain.
    expect_cache_equals_reference(compile_json_object(), tt, true);
    expect_cache_equals_reference(
        compile_json_schema(ojson::parse(R"({"type":"object","properties":{"s":{"type":"string","maxLength":4},"p":{"type":"string","pattern":"^[a-z]+$"}}})")),
        tt, false);
}

TEST(StateMask, CacheEqualsGenericWalkQwen2) {
    std::string path = vocab_path("ggml-vocab-qwen2.gguf");
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared vocabulary fixtures absent: " << path;
    gguf::File f = gguf::File::open(path);
    auto tk = tok::Tokenizer::from_gguf(f);
    auto tt = TokenTable::from_vocab(tk->vocab());
    expect_cache_equals_reference(compile_tool_grammar(ojson::parse(kTools), "required", false), tt, true);
}

TEST(StateMask, ShapesAreSharedAcrossGrammarsOfOneTable) {
    auto tt = rich_vocab(3000, 12);
    auto a = std::make_shared<CompiledGrammar>(compile_tool_grammar(ojson::parse(kTools), "required", false), tt);
    auto b = std::make_shared<CompiledGrammar>(
        compile_json_schema(ojson::parse(R"({"type":"object","properties":{"q":{"type":"string"}},"required":["q"]})")), tt);
    // Inside the string value of each grammar: the same shared bitset.
    GrammarMatcher ma(a), mb(b);
    ASSERT_TRUE(ma.accept_bytes("<tool_call>\n{\"name\": \"note\", \"arguments\": {\"text\": \"ab"));
    ASSERT_TRUE(mb.accept_bytes(R"({"q":"ab)"));
    std::vector<uint32_t> wa(mask_words(tt->n_tokens())), wb(wa.size());
    EXPECT_TRUE(ma.fill_mask(wa.data()));
    EXPECT_TRUE(mb.fill_mask(wb.data()));
    std::set<const std::vector<uint32_t> *> bases_a, bases_b;
    for (int32_t s = 1; s < a->grammar().n_states(); ++s)
        if (auto p = a->state_mask(s).base) bases_a.insert(p.get());
    for (int32_t s = 1; s < b->grammar().n_states(); ++s)
        if (auto p = b->state_mask(s).base) bases_b.insert(p.get());
    std::vector<const std::vector<uint32_t> *> common;
    std::set_intersection(bases_a.begin(), bases_a.end(), bases_b.begin(), bases_b.end(), std::back_inserter(common));
    EXPECT_FALSE(common.empty());
    // A plain-text token is allowed in both strings, a raw control byte in neither.
    TokenId abc = -1;
    for (TokenId id = 258; id < tt->n_tokens() && abc < 0; ++id)
        if (tt->bytes(id).find_first_not_of("abz07_-.") == std::string::npos) abc = id;
    ASSERT_GE(abc, 0);
    EXPECT_TRUE(mask_test(wa.data(), abc));
    EXPECT_TRUE(mask_test(wb.data(), abc));
    EXPECT_FALSE(mask_test(wa.data(), 0x01));
    EXPECT_FALSE(mask_test(wb.data(), 0x01));
}

TEST(StateMask, FillMaskReportsWhetherAnyTokenButStopIsAllowed) {
    auto tt = byte_vocab();
    GrammarMatcher m(compile_json_schema(ojson::parse(R"({"enum":["ab"]})")), tt);
    std::vector<uint32_t> w(mask_words(tt->n_tokens()));
    EXPECT_TRUE(m.fill_mask(w.data()));
    ASSERT_TRUE(m.accept_bytes("\"ab\""));
    EXPECT_FALSE(m.fill_mask(w.data()));  // complete: only EOS
    EXPECT_TRUE(mask_test(w.data(), kEos));
    ASSERT_TRUE(m.accept_token(kEos));
    EXPECT_FALSE(m.fill_mask(w.data()));
}

}  // namespace
}  // namespace sy::grammar::test
