// Property tests: random schemas x random token choices under the mask (a seeded RNG stands in for the
// model) -> every output terminates, parses as JSON and validates against the schema with the independent
// test validator. Runs on a synthetic vocabulary, and on the real qwen2 vocabulary when the shared
// fixtures are present.
#include <gtest/gtest.h>

#include <random>

#include "gguf/gguf.h"
#include "json_validator.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace sy::grammar::test {
namespace {

ojson random_schema(std::mt19937 & rng, int depth) {
    int kind = (int)(rng() % (depth > 2 ? 8 : 11));
    switch (kind) {
    case 0: {
        ojson s = {{"type", "string"}};
        int v = (int)(rng() % 5);
        if (v == 1) s["maxLength"] = 1 + rng() % 6;
        if (v == 2) s["minLength"] = 1 + rng() % 3;
        if (v == 3) s["format"] = std::vector<const char *>{"date", "uuid", "time", "email", "date-time"}[rng() % 5];
        if (v == 4) s["pattern"] = "^[a-z]{1,4}-[0-9]+$";
        return s;
    }
    case 1: {
        ojson s = {{"type", "integer"}};
        if (rng() % 2) s["minimum"] = (int)(rng() % 50) - 25;
        if (rng() % 2) s["maximum"] = (int)(rng() % 500) + 25;
        return s;
    }
    case 2: {
        ojson s = {{"type", "number"}};
        if (rng() % 2) {
            s["minimum"] = -3;
            s["maximum"] = 7;
        }
        return s;
    }
    case 3: return {{"type", "boolean"}};
    case 4: return {{"enum", {"alpha", "beta", 3, nullptr, "al"}}};
    case 5: return {{"const", {{"k", {1, 2}}}}};
    case 6: return {{"type", {"string", "null"}}, {"maxLength", 3}};
    case 7: return {{"anyOf", {{{"type", "integer"}, {"maximum", 9}}, {{"type", "string"}, {"maxLength", 2}}}}};
    case 8:
    case 9: {
        ojson props = ojson::object();
        ojson req = ojson::array();
        int n = 1 + (int)(rng() % 3);
        for (int i = 0; i < n; ++i) {
            std::string name = std::string(1, (char)('a' + rng() % 26)) + std::to_string(i);
            props[name] = random_schema(rng, depth + 1);
            if (rng() % 2) req.push_back(name);
        }
        ojson s = {{"type", "object"}, {"properties", props}, {"required", req}};
        if (rng() % 4 == 0) s["additionalProperties"] = {{"type", "integer"}};
        return s;
    }
    default: {
        ojson s = {{"type", "array"}, {"items", random_schema(rng, depth + 1)}};
        if (rng() % 2) s["minItems"] = 1;
        if (rng() % 2) s["maxItems"] = 3;
        return s;
    }
    }
}

// Decodes one output with random choices under the mask; after `patience` steps it prefers tokens that
// close things (stop token, quotes, brackets) and takes forced bytes. Returns nullopt if it did not end.
std::optional<std::string> random_decode(const std::shared_ptr<const CompiledGrammar> & cg, std::mt19937 & rng, int patience) {
    const TokenTable & tt = cg->tokens();
    GrammarMatcher m(cg);
    std::vector<uint32_t> mask(mask_words(tt.n_tokens()));
    std::string out;
    std::vector<TokenId> allowed, closing, single;
    for (int step = 0; step < 800 && !m.is_terminated(); ++step) {
        if (step > patience) {
            std::string forced = m.forced_bytes();
            if (!forced.empty()) {
                EXPECT_TRUE(m.accept_bytes(forced));
                out += forced;
                continue;
            }
        }
        m.fill_mask(mask.data());
        allowed.clear();
        closing.clear();
        single.clear();
        for (TokenId id = 0; id < tt.n_tokens(); ++id) {
            if (!mask_test(mask.data(), id)) continue;
            allowed.push_back(id);
            const std::string & b = tt.bytes(id);
            if (b.size() == 1) single.push_back(id);
            if (tt.is_stop(id) || b == "\"" || b == "}" || b == "]" || b == "0" || b == "\"}" || b == "null")
                closing.push_back(id);
        }
        if (allowed.empty()) {
            ADD_FAILURE() << "empty mask after " << out;
            return std::nullopt;
        }
        TokenId pick = allowed[rng() % allowed.size()];
        if (step > patience) {
            if (!closing.empty() && rng() % 2 == 0) pick = closing[rng() % closing.size()];
            else if (!single.empty()) pick = single[rng() % single.size()];
        }
        if (!m.accept_token(pick)) {
            ADD_FAILURE() << "mask allowed token " << pick << " that the matcher rejects after " << out;
            return std::nullopt;
        }
        if (!tt.is_stop(pick)) out += tt.bytes(pick);
    }
    if (!m.is_terminated()) {
        ADD_FAILURE() << "no end after 800 steps: " << out.substr(0, 400);
        return std::nullopt;
    }
    return out;
}

void run_property(const std::shared_ptr<const TokenTable> & tt, int n_schemas, int n_runs, uint32_t seed) {
    std::mt19937 rng(seed);
    int n_ok = 0;
    for (int k = 0; k < n_schemas; ++k) {
        ojson schema = random_schema(rng, 0);
        SchemaOptions opt;
        if (k % 3 == 2) opt.whitespace = Whitespace::Whitespace_space_after_separators;
        auto cg = std::make_shared<CompiledGrammar>(compile_json_schema(schema, opt), tt);
        for (int r = 0; r < n_runs; ++r) {
            std::optional<std::string> out = random_decode(cg, rng, 6 + (int)(rng() % 20));
            ASSERT_TRUE(out.has_value()) << "did not terminate: " << schema.dump();
            ojson v;
            try {
                v = ojson::parse(*out);
            } catch (const std::exception & e) {
                FAIL() << "not JSON: " << *out << " for " << schema.dump();
            }
            std::optional<std::string> err = validate(v, schema);
            ASSERT_FALSE(err.has_value()) << *err << "\noutput: " << *out << "\nschema: " << schema.dump();
            ++n_ok;
        }
    }
    EXPECT_EQ(n_ok, n_schemas * n_runs);
}

TEST(GrammarProperty, RandomSchemasSyntheticVocab) {
    auto tt = byte_vocab({"\"", "{\"", "\":", "\",", "\"}", "}]", "},{\"", "true", "null", "\xC3\xA9", "\xE2\x82", "\xAC",
                          "\\n", "\\u00", "12", "-1", ".5", "e+", " ", ", ", ": ", "[{", "}}", "]}", "ab", "a0", "-2"});
    run_property(tt, 60, 4, 20240501);
}

TEST(GrammarProperty, RandomSchemasQwen2Vocab) {
    std::string path = vocab_path("ggml-vocab-qwen2.gguf");
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared vocabulary fixtures absent: " << path;
    gguf::File f = gguf::File::open(path);
    auto tk = tok::Tokenizer::from_gguf(f);
    auto tt = TokenTable::from_vocab(tk->vocab());
    run_property(tt, 4, 3, 77);
}

TEST(GrammarProperty, ToolCallsRoundTripQwen2Vocab) {
    std::string path = vocab_path("ggml-vocab-qwen2.gguf");
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared vocabulary fixtures absent: " << path;
    gguf::File f = gguf::File::open(path);
    auto tk = tok::Tokenizer::from_gguf(f);
    auto tt = TokenTable::from_vocab(tk->vocab());
    ojson tools = ojson::parse(R"([
      {"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string","maxLength":12},"days":{"type":"integer","minimum":1,"maximum":14}},"required":["city"]}}},
      {"type":"function","function":{"name":"send_email","parameters":{"type":"object","properties":{"to":{"type":"string","format":"email"},"urgent":{"type":"boolean"}},"required":["to","urgent"]}}}])");
    auto cg = std::make_shared<CompiledGrammar>(compile_tool_grammar(tools, "required", true), tt);
    std::mt19937 rng(5);
    for (int r = 0; r < 4; ++r) {
        std::optional<std::string> out = random_decode(cg, rng, 8);
        ASSERT_TRUE(out.has_value());
        ParsedOutput p = parse_tool_output(*out);
        ASSERT_GE(p.tool_calls.size(), 1u) << *out;
        for (const ParsedToolCall & c : p.tool_calls) {
            const ojson * params = nullptr;
            for (const ojson & t : tools)
                if (t["function"]["name"] == c.name) params = &t["function"]["parameters"];
            ASSERT_NE(params, nullptr) << "unknown tool " << c.name;
            std::optional<std::string> err = validate(c.arguments, *params);
            EXPECT_FALSE(err.has_value()) << *err << " in " << *out;
        }
        // The real tokenizer round-trips the output and the matcher accepts its own tokenization.
        std::vector<TokenId> ids = tk->encode(*out);
        GrammarMatcher m(cg);
        for (TokenId id : ids) ASSERT_TRUE(m.accept_token(id)) << "re-tokenized output rejected: " << *out;
        EXPECT_TRUE(m.can_terminate());
    }
}

}  // namespace
}  // namespace sy::grammar::test
