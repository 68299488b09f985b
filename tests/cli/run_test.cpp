// Black-box tests of `switchyard model init`, `run` (text, --json-schema, --tools), and `bench --json`.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli/cli_util.h"

namespace fs = std::filesystem;
using nlohmann::json;
using sy::test::run_cli;

namespace {

class RunCli : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = fs::temp_directory_path() / ("sy_run_cli_" + std::to_string(::getpid()));
        fs::create_directories(dir_);
        const auto r = run_cli("model init --arch qwen2 --preset tiny --dtype q8_0 --seed 2 -o " + model(), true);
        ASSERT_EQ(r.exit_code, 0) << r.output;
        std::ofstream(dir_ / "tools.json") << R"([{"type":"function","function":{"name":"get_weather","description":"Weather",
            "parameters":{"type":"object","properties":{"city":{"type":"string","maxLength":16},"unit":{"enum":["c","f"]}},
            "required":["city","unit"]}}}])";
        std::ofstream(dir_ / "schema.json") << R"({"type":"object","properties":{"n":{"type":"integer","minimum":0,"maximum":9}},"required":["n"]})";
        std::ofstream(dir_ / "bad_schema.json") << R"({"type":"object","properties":{"n":{"type":"integer","multipleOf":3}}})";
    }
    static void TearDownTestSuite() { fs::remove_all(dir_); }
    static std::string model() { return (dir_ / "m.gguf").string(); }
    static std::string file(const char * n) { return (dir_ / n).string(); }
    static fs::path dir_;
};
fs::path RunCli::dir_;

TEST_F(RunCli, TextGenerationIsDeterministicForASeed) {
    const auto a = run_cli("run -m " + model() + " -p hello -n 12 --seed 4 --json");
    const auto b = run_cli("run -m " + model() + " -p hello -n 12 --seed 4 --json");
    ASSERT_EQ(a.exit_code, 0) << a.output;
    const json ja = json::parse(a.output), jb = json::parse(b.output);
    EXPECT_EQ(ja["output"], jb["output"]);
    EXPECT_EQ(ja["completion_tokens"], 12);
}

TEST_F(RunCli, JsonSchemaOutputValidates) {
    for (int seed = 1; seed <= 3; ++seed) {
        const auto r = run_cli("run -m " + model() + " -p x --json-schema " + file("schema.json") + " --seed " + std::to_string(seed));
        ASSERT_EQ(r.exit_code, 0) << r.output;
        const json v = json::parse(r.output);
        ASSERT_TRUE(v.contains("n"));
        EXPECT_GE(v["n"].get<int>(), 0);
        EXPECT_LE(v["n"].get<int>(), 9);
    }
}

TEST_F(RunCli, ToolsWithRequiredChoiceGiveARealCall) {
    const auto r = run_cli("run -m " + model() + " -p 'weather in Oslo?' --tools " + file("tools.json") +
                           " --tool-choice required --seed 1 -n 120 --json");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const json j = json::parse(r.output);
    ASSERT_EQ(j["value"]["tool_calls"].size(), 1u) << r.output;
    EXPECT_EQ(j["value"]["tool_calls"][0]["name"], "get_weather");
    const json & args = j["value"]["tool_calls"][0]["arguments"];
    EXPECT_TRUE(args["unit"] == "c" || args["unit"] == "f");
    EXPECT_TRUE(j["confidence"]["is_tool_call"].get<bool>());
    const double overall = j["confidence"]["calls"][0]["overall"];
    EXPECT_GT(overall, 0.0);
    EXPECT_LE(overall, 1.0);
}

TEST_F(RunCli, ErrorsAreOneClearLine) {
    auto r = run_cli("run -m " + model() + " -p x --tools " + file("tools.json") + " --tool-choice fly", true);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("fly"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("get_weather"), std::string::npos) << "the error lists the known tools: " << r.output;
    r = run_cli("run -m " + model() + " -p x --json-schema " + file("bad_schema.json"), true);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("multipleOf"), std::string::npos) << r.output;
    r = run_cli("run -m " + file("missing.gguf") + " -p x", true);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.output.rfind("switchyard: error: ", 0), 0u) << r.output;
}

TEST_F(RunCli, BenchJsonHasTheDocumentedKeys) {
    const auto r = run_cli("bench -m " + model() + " -p 16 -n 4 -r 1 --json");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const json j = json::parse(r.output);
    for (const char * k : {"pp_tokens_per_s", "tg_tokens_per_s", "n_prompt", "n_gen", "threads", "model_bytes", "params"})
        EXPECT_TRUE(j.contains(k)) << k;
    EXPECT_GT(j["pp_tokens_per_s"].get<double>(), 0.0);
    EXPECT_GT(j["tg_tokens_per_s"].get<double>(), 0.0);
    EXPECT_EQ(j["n_prompt"], 16);
}

}  // namespace
