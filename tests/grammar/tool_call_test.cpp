// Tool-call grammar: tool_choice semantics (auto / none / required / forced function / unknown name),
// parallel calls, formats, the output parser, the confidence tracker, and the compiled-grammar cache.
#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"

namespace sy::grammar::test {
namespace {

const char * kTools = R"([
  {"type":"function","function":{"name":"get_weather","description":"Weather now",
    "parameters":{"type":"object","properties":{"city":{"type":"string"},"unit":{"enum":["c","f"]}},"required":["city"]}}},
  {"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{"tz":{"type":"string"}},"required":["tz"]}}},
  {"type":"function","function":{"name":"noop"}}
])";

const std::string kCall1 = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"unit\": \"c\"}}\n</tool_call>";
const std::string kCall2 = "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"tz\": \"UTC\"}}\n</tool_call>";
const std::string kCall3 = "<tool_call>\n{\"name\": \"noop\", \"arguments\": {}}\n</tool_call>";

std::shared_ptr<const Grammar> tool_grammar(const ojson & choice, bool parallel = false) {
    return compile_tool_grammar(ojson::parse(kTools), choice, parallel);
}

TEST(GrammarTools, Auto) {
    auto g = tool_grammar("auto");
    EXPECT_TRUE(matches(g, kCall1));
    EXPECT_TRUE(matches(g, kCall2));
    EXPECT_TRUE(matches(g, kCall3));
    EXPECT_TRUE(matches(g, "The weather is fine."));
    EXPECT_TRUE(matches(g, "<tool"));  // a prefix of the marker is still just text
    EXPECT_TRUE(matches(g, ""));
    EXPECT_FALSE(matches(g, kCall1 + "\n" + kCall2));  // not parallel
    EXPECT_FALSE(matches(g, "<tool_call>\n{\"name\": \"get_wether\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>"));
    EXPECT_FALSE(matches(g, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"unit\": \"c\"}}\n</tool_call>"));
    EXPECT_FALSE(matches(g, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"unit\": \"k\"}}\n</tool_call>"));
}

TEST(GrammarTools, NoneRequiredForcedParallel) {
    auto none = tool_grammar("none");
    EXPECT_TRUE(matches(none, "Hello"));
    EXPECT_FALSE(matches(none, kCall1));

    auto req = tool_grammar("required");
    EXPECT_TRUE(matches(req, kCall2));
    EXPECT_FALSE(matches(req, "Hello"));
    EXPECT_FALSE(matches(req, ""));

    auto forced = tool_grammar(ojson::parse(R"({"type":"function","function":{"name":"get_time"}})"), true);
    EXPECT_TRUE(matches(forced, kCall2));
    EXPECT_FALSE(matches(forced, kCall1));
    EXPECT_FALSE(matches(forced, kCall2 + "\n" + kCall2));  // a forced function is one call
    EXPECT_FALSE(matches(forced, "Hello"));
    GrammarMatcher m(forced, byte_vocab());
    EXPECT_EQ(m.forced_bytes(), "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"tz\": \"");

    auto par = tool_grammar("required", true);
    EXPECT_TRUE(matches(par, kCall1 + "\n" + kCall2 + "\n" + kCall3));
    EXPECT_TRUE(matches(par, kCall1));
    EXPECT_FALSE(matches(par, kCall1 + kCall2));
}

TEST(GrammarTools, ErrorsAreNotSilent) {
    EXPECT_THROW(tool_grammar(ojson::parse(R"({"type":"function","function":{"name":"nope"}})")), Error);
    try {
        tool_grammar(ojson::parse(R"({"type":"function","function":{"name":"nope"}})"));
    } catch (const Error & e) {
        EXPECT_NE(std::string(e.what()).find("unknown tool 'nope'"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("get_weather"), std::string::npos);
    }
    EXPECT_THROW(tool_grammar("sometimes"), Error);
    EXPECT_THROW(compile_tool_grammar(ojson::array(), "required", false), Error);
    try {
        compile_tool_grammar(ojson::parse(R"([{"name":"f","parameters":{"type":"object","properties":{"x":{"type":"string","contentEncoding":"base64"}}}}])"),
                             "auto", false);
        ADD_FAILURE() << "no error";
    } catch (const Error & e) {
        EXPECT_NE(std::string(e.what()).find("tools[0].function.parameters#/properties/x/contentEncoding"), std::string::npos) << e.what();
    }
    EXPECT_THROW(compile_tool_grammar(ojson::parse(R"([{"name":"f"},{"name":"f"}])"), "auto", false), Error);
}

TEST(GrammarTools, OtherFormats) {
    auto g = compile_tool_grammar(ojson::parse(kTools), "auto", true, ToolCallFormat::llama3_json());
    EXPECT_TRUE(matches(g, R"({"name": "get_time", "parameters": {"tz": "UTC"}})"));
    EXPECT_TRUE(matches(g, R"({"name": "get_time", "parameters": {"tz": "UTC"}}; {"name": "noop", "parameters": {}})"));
    EXPECT_TRUE(matches(g, R"({"other": 1})"));  // text that is not a call
    EXPECT_FALSE(matches(g, R"({"name": "nope", "parameters": {}})"));
    auto c = compile_tool_grammar(ojson::parse(kTools), "required", false, ToolCallFormat::compact());
    EXPECT_TRUE(matches(c, R"({"name":"get_time","arguments":{"tz":"UTC"}})"));
    EXPECT_FALSE(matches(c, R"({"name": "get_time", "arguments": {"tz": "UTC"}})"));
}

TEST(GrammarTools, Parser) {
    ParsedOutput p = parse_tool_output(kCall1 + "\n" + kCall2);
    ASSERT_EQ(p.tool_calls.size(), 2u);
    EXPECT_EQ(p.tool_calls[0].name, "get_weather");
    EXPECT_EQ(p.tool_calls[0].arguments, ojson::parse(R"({"city":"Oslo","unit":"c"})"));
    EXPECT_EQ(p.tool_calls[1].name, "get_time");
    EXPECT_TRUE(p.content.empty());
    ParsedOutput t = parse_tool_output("Just text {\"name\": 1}");
    EXPECT_TRUE(t.tool_calls.empty());
    EXPECT_EQ(t.content, "Just text {\"name\": 1}");
    EXPECT_THROW(parse_tool_output("<tool_call>\n{\"name\": \"f\", \"arguments\": {\n</tool_call>"), Error);
    EXPECT_THROW(parse_tool_output(kCall1 + " trailing"), Error);
    ParsedOutput l = parse_tool_output(R"({"name": "a", "parameters": {"x": 1}}; {"name": "b", "parameters": "{\"y\": 2}"})",
                                       ToolCallFormat::llama3_json());
    ASSERT_EQ(l.tool_calls.size(), 2u);
    EXPECT_EQ(l.tool_calls[1].arguments, ojson::parse(R"({"y":2})"));
}

TEST(GrammarTools, ConfidenceAttribution) {
    // Vocabulary: bytes plus the wrapper as one token, as in Qwen.
    auto tt = byte_vocab({"<tool_call>", "\n{\"name\": \"", "get_", "weather", "time", "\", \"arguments\": {\"", "city", "\": \"",
                          "Oslo", "\"}}\n</tool_call>"});
    auto g = tool_grammar("auto");
    GrammarMatcher m(g, tt);
    ConfidenceTracker ct(*g);
    auto feed = [&](const std::string & piece, float p) {
        TokenId id = -1;
        for (TokenId i = 258; i < tt->n_tokens(); ++i)
            if (tt->bytes(i) == piece) id = i;
        ASSERT_GE(id, 0) << piece;
        ASSERT_TRUE(m.accept_token(id)) << piece;
        ct.feed(id, p, m.last_step_tags());
    };
    feed("<tool_call>", 0.9f);           // decision
    feed("\n{\"name\": \"", 1.0f);       // structure (forced)
    feed("get_", 0.8f);                  // name
    feed("weather", 0.5f);               // name
    feed("\", \"arguments\": {\"", 1.0f);
    feed("city", 0.7f);                  // argument "city": key bytes are structure, value starts after
    feed("\": \"", 1.0f);
    feed("Oslo", 0.6f);
    feed("\"}}\n</tool_call>", 0.95f);
    OutputConfidence oc = ct.result();
    ASSERT_TRUE(oc.is_tool_call);
    EXPECT_NEAR(oc.decision, 0.9, 1e-6);
    ASSERT_EQ(oc.calls.size(), 1u);
    EXPECT_NEAR(oc.calls[0].name, 0.4, 1e-6);
    ASSERT_EQ(oc.calls[0].arguments.size(), 1u);
    EXPECT_EQ(oc.calls[0].arguments[0].name, "city");
    // "Oslo" (0.6) and the closing quote step (0.95) belong to the city value.
    EXPECT_NEAR(oc.calls[0].arguments[0].confidence, 0.6 * 0.95, 1e-6);
    EXPECT_NEAR(oc.calls[0].overall, 0.4, 1e-6);
    EXPECT_TRUE(parse_tool_output(std::string("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>")).tool_calls.size() == 1);
}

TEST(GrammarTools, ConfidenceTextAnswer) {
    auto tt = byte_vocab({"Hello", " there"});
    auto g = tool_grammar("auto");
    GrammarMatcher m(g, tt);
    ConfidenceTracker ct(*g);
    ASSERT_TRUE(m.accept_token(258));
    ct.feed(258, 0.7f, m.last_step_tags());
    ASSERT_TRUE(m.accept_token(259));
    ct.feed(259, 0.2f, m.last_step_tags());
    OutputConfidence oc = ct.result();
    EXPECT_FALSE(oc.is_tool_call);
    EXPECT_NEAR(oc.decision, 0.7, 1e-6);
    EXPECT_TRUE(oc.calls.empty());
}

// The decision confidence from whole post-constraint distributions: tokens 258.. are the extras below.
TEST(GrammarTools, DecisionConfidenceSumsTheMassCommittingToEachSide) {
    auto tt = byte_vocab({"Hello", "<tool_call>", "\n{\"name\": \"", "x"});
    const TokenId hello = 258, marker = 259, commit = 260, x = 261;
    auto g = tool_grammar("auto");
    auto cg = std::make_shared<CompiledGrammar>(g, tt);
    std::vector<uint32_t> words(mask_words(tt->n_tokens()));
    auto logits_of = [&](std::vector<std::pair<TokenId, double>> probs) {
        std::vector<float> l(tt->n_tokens(), -1e4f);
        for (auto [id, p] : probs) l[id] = (float)std::log(p);
        return l;
    };

    // A call: "<tool_call>" keeps both sides open (text may still diverge), the next token commits.
    {
        GrammarMatcher m(cg);
        ConfidenceTracker ct(*g);
        ASSERT_TRUE(m.at_decision());
        m.fill_mask(words.data());
        ASSERT_TRUE(mask_test(words.data(), kEos));  // the empty answer is text
        // Text: Hello 0.4 and EOS 0.1; undecided: '<' 0.2 and the marker 0.3.
        auto l1 = logits_of({{hello, 0.4}, {kEos, 0.1}, {'<', 0.2}, {marker, 0.3}});
        double t1 = m.text_commit_mass(l1.data(), (int32_t)l1.size(), words.data());
        EXPECT_NEAR(t1, 0.5, 1e-4);
        ASSERT_TRUE(m.accept_token(marker));
        ct.observe_decision(t1);
        ct.feed(marker, 0.3f, m.last_step_tags());
        ASSERT_TRUE(m.at_decision());
        m.fill_mask(words.data());
        auto l2 = logits_of({{commit, 0.8}, {x, 0.2}});  // x: text "<tool_call>x"
        double t2 = m.text_commit_mass(l2.data(), (int32_t)l2.size(), words.data());
        EXPECT_NEAR(t2, 0.2, 1e-4);
        ASSERT_TRUE(m.accept_token(commit));
        ct.observe_decision(t2);
        ct.feed(commit, 0.8f, m.last_step_tags());
        EXPECT_FALSE(m.at_decision());
        const std::string rest = kCall1.substr(std::string("<tool_call>\n{\"name\": \"").size());
        ASSERT_TRUE(m.accept_bytes(rest));
        ct.feed(0, 1.0f, m.last_step_tags());
        OutputConfidence oc = ct.result();
        EXPECT_TRUE(oc.is_tool_call);
        ASSERT_TRUE(oc.p_tool_call.has_value());
        EXPECT_NEAR(*oc.p_tool_call, 0.5 * 0.8, 1e-4);
        EXPECT_NEAR(oc.decision, 0.4, 1e-4);
        ASSERT_EQ(oc.calls.size(), 1u);
        EXPECT_NEAR(oc.calls[0].decision, 0.4, 1e-4);
        EXPECT_LE(oc.calls[0].overall, 0.4 + 1e-4);
    }
    // A text answer decided at the first token: its confidence is the text mass there.
    {
        GrammarMatcher m(cg);
        ConfidenceTracker ct(*g);
        m.fill_mask(words.data());
        auto l1 = logits_of({{hello, 0.6}, {marker, 0.4}});
        double t1 = m.text_commit_mass(l1.data(), (int32_t)l1.size(), words.data());
        EXPECT_NEAR(t1, 0.6, 1e-4);
        ASSERT_TRUE(m.accept_token(hello));
        ct.observe_decision(t1);
        ct.feed(hello, 0.6f, m.last_step_tags());
        EXPECT_FALSE(m.at_decision());
        OutputConfidence oc = ct.result();
        EXPECT_FALSE(oc.is_tool_call);
        EXPECT_NEAR(*oc.p_tool_call, 0.4, 1e-4);
        EXPECT_NEAR(oc.decision, 0.6, 1e-4);
    }
    // No decision with tool_choice required.
    {
        GrammarMatcher m(std::make_shared<CompiledGrammar>(tool_grammar("required"), tt));
        EXPECT_FALSE(m.at_decision());
    }
}

TEST(GrammarTools, CacheIsLruAndKeyedByVocabulary) {
    GrammarCache cache(2);
    auto tt1 = byte_vocab();
    auto tt2 = byte_vocab({"xyz"});
    ojson tools = ojson::parse(kTools);
    int builds = 0;
    auto build = [&] {
        ++builds;
        return compile_tool_grammar(tools, "auto", false);
    };
    uint64_t k = tool_grammar_key(tools, "auto", false, ToolCallFormat::hermes());
    EXPECT_NE(k, tool_grammar_key(tools, "required", false, ToolCallFormat::hermes()));
    auto a = cache.get_or_build(k, tt1, build);
    auto b = cache.get_or_build(k, tt1, build);
    EXPECT_EQ(a.get(), b.get());
    EXPECT_EQ(builds, 1);
    cache.get_or_build(k, tt2, build);
    EXPECT_EQ(builds, 2);
    EXPECT_EQ(cache.find(k, tt1->fingerprint()).get(), a.get());  // (k, tt2) is now the least recently used
    cache.get_or_build(k + 1, tt1, build);                          // evicts it
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_EQ(cache.find(k, tt2->fingerprint()), nullptr);
    EXPECT_EQ(cache.find(k, tt1->fingerprint()).get(), a.get());
}

}  // namespace
}  // namespace sy::grammar::test
