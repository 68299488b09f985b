// Grammar-constrained generation through the engine: random-weight models × schemas × seeds always give
// output that parses and validates; tool_choice is honoured; jump-forward changes nothing but speed.
#include <gtest/gtest.h>

#include <filesystem>

#include "engine/context.h"
#include "engine/test_dir.h"
#include "engine/generate.h"
#include "engine/grammar_constraint.h"
#include "engine/model_init.h"

namespace fs = std::filesystem;
using namespace sy;
using namespace sy::engine;
using ojson = nlohmann::ordered_json;

namespace {

const Model & tiny(const std::string & arch) {
    static std::map<std::string, std::unique_ptr<Model>> models;
    auto & m = models[arch];
    if (!m) {
        const fs::path p = sy::test::scratch_dir() / ("constrained_" + arch + ".gguf");
        InitParams ip;
        ip.arch = arch;
        ip.dtype = "q8_0";
        ip.seed = 11;
        init_random_model(ip, p.string());
        m = Model::load(p.string());
    }
    return *m;
}

GenerateResult run(const Model & m, std::shared_ptr<const grammar::Grammar> g, uint64_t seed, bool jump, GrammarConstraint ** out = nullptr) {
    ContextParams cp;
    cp.n_ctx = 400;
    Context ctx(m, cp);
    GenerateParams gp;
    gp.n_predict = 300;
    gp.sampling.seed = seed;
    gp.sampling.temperature = 1.0f;
    gp.sampling.top_k = 0;
    gp.sampling.top_p = 1.0f;
    gp.sampling.min_p = 0.0f;
    static std::unique_ptr<GrammarConstraint> keep;
    keep = std::make_unique<GrammarConstraint>(bind_grammar(g, m.tokenizer()), m.tokenizer(), jump);
    if (out) *out = keep.get();
    return generate(ctx, m.tokenizer().encode("Output: "), gp, keep.get());
}

TEST(Constrained, RandomModelsAlwaysProduceSchemaValidJson) {
    const std::vector<const char *> schemas = {
        R"({"type":"object","properties":{"id":{"type":"integer","minimum":1,"maximum":999},"ok":{"type":"boolean"}},"required":["id","ok"]})",
        R"({"type":"object","properties":{"p":{"enum":["low","medium","high"]},"tags":{"type":"array","items":{"type":"string","maxLength":5},"maxItems":3}},"required":["p","tags"]})",
        R"({"type":"object","properties":{"when":{"type":"string","format":"date"},"x":{"type":"number"}},"required":["when"]})",
    };
    for (const char * arch : {"llama", "qwen2"}) {
        for (const char * s : schemas) {
            const ojson schema = ojson::parse(s);
            auto g = grammar::compile_json_schema(schema);
            for (uint64_t seed = 1; seed <= 4; ++seed) {
                GrammarConstraint * gc = nullptr;
                const GenerateResult r = run(tiny(arch), g, seed, seed % 2 == 0, &gc);
                ASSERT_TRUE(gc->matcher().can_terminate()) << arch << " seed " << seed << ": " << r.text;
                const ojson v = ojson::parse(r.text, nullptr, false);
                ASSERT_FALSE(v.is_discarded()) << r.text;
                for (const auto & req : schema["required"]) EXPECT_TRUE(v.contains(req.get<std::string>())) << r.text;
                if (v.contains("id")) {
                    EXPECT_GE(v["id"].get<int>(), 1);
                    EXPECT_LE(v["id"].get<int>(), 999);
                }
                if (v.contains("p")) {
                    EXPECT_TRUE(v["p"] == "low" || v["p"] == "medium" || v["p"] == "high");
                }
                if (v.contains("tags")) {
                    EXPECT_LE(v["tags"].size(), 3u);
                }
            }
        }
    }
}

const char * kTools = R"([
 {"type":"function","function":{"name":"create_task","parameters":{"type":"object","properties":{"title":{"type":"string","maxLength":20},"priority":{"enum":["low","high"]}},"required":["title","priority"]}}},
 {"type":"function","function":{"name":"delete_task","parameters":{"type":"object","properties":{"id":{"type":"integer","minimum":1}},"required":["id"]}}}])";

TEST(Constrained, ToolChoiceIsHonoured) {
    const ojson tools = ojson::parse(kTools);
    const auto fmt = grammar::ToolCallFormat::hermes();
    for (uint64_t seed = 1; seed <= 3; ++seed) {
        // required: always a call to a real tool with schema-valid arguments.
        auto r = run(tiny("qwen2"), grammar::compile_tool_grammar(tools, "required", false, fmt), seed, true);
        auto p = grammar::parse_tool_output(r.text, fmt);
        ASSERT_EQ(p.tool_calls.size(), 1u) << r.text;
        EXPECT_TRUE(p.tool_calls[0].name == "create_task" || p.tool_calls[0].name == "delete_task");
        // a named function: that one.
        ojson named = {{"type", "function"}, {"function", {{"name", "delete_task"}}}};
        r = run(tiny("qwen2"), grammar::compile_tool_grammar(tools, named, false, fmt), seed, true);
        p = grammar::parse_tool_output(r.text, fmt);
        ASSERT_EQ(p.tool_calls.size(), 1u) << r.text;
        EXPECT_EQ(p.tool_calls[0].name, "delete_task");
        EXPECT_GE(p.tool_calls[0].arguments["id"].get<int64_t>(), 1);
        // none: never a call.
        r = run(tiny("qwen2"), grammar::compile_tool_grammar(tools, "none", false, fmt), seed, true);
        EXPECT_TRUE(grammar::parse_tool_output(r.text, fmt).tool_calls.empty()) << r.text;
    }
    ojson unknown = {{"type", "function"}, {"function", {{"name", "fly"}}}};
    EXPECT_THROW(grammar::compile_tool_grammar(tools, unknown, false, fmt), Error);
}

TEST(Constrained, JumpForwardAppendsForcedTokensAndReportsConfidence) {
    const ojson tools = ojson::parse(kTools);
    const auto fmt = grammar::ToolCallFormat::hermes();
    auto g = grammar::compile_tool_grammar(tools, "required", false, fmt);
    GrammarConstraint * gc = nullptr;
    const GenerateResult r = run(tiny("llama"), g, 5, true, &gc);
    EXPECT_GT(r.n_forced, 0) << "the call wrapper and keys are forced";
    const auto c = gc->confidence();
    ASSERT_TRUE(c.is_tool_call);
    ASSERT_EQ(c.calls.size(), 1u);
    EXPECT_GT(c.calls[0].overall, 0.0);
    EXPECT_LE(c.calls[0].overall, 1.0);
    EXPECT_LE(c.calls[0].overall, c.calls[0].name);
    ASSERT_FALSE(c.calls[0].arguments.empty());
}

}  // namespace
