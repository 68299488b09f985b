// Black-box tests of `switchyard dataset generate`, `switchyard train` (a router preset from scratch and a
// LoRA adapter over a `model init` base) and `switchyard run --tools` with the results: exit codes, the
// GGUF metadata serving relies on, and the JSONL log (one line per optimizer step).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "gguf/gguf.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using sy::test::run_cli;

class TrainCli : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = fs::temp_directory_path() / ("sy_train_cli_" + std::to_string(::getpid()));
        fs::create_directories(dir_);
        const auto r = run_cli("dataset generate --tools " + tools() + " --n 200 --seed 1 --split train -o " + file("train.jsonl"), true);
        ASSERT_EQ(r.exit_code, 0) << r.output;
    }
    static void TearDownTestSuite() { fs::remove_all(dir_); }
    static std::string file(const std::string & name) { return (dir_ / name).string(); }
    static std::string tools() { return std::string(SY_SOURCE_DIR) + "/examples/task-agent/tools.json"; }
    static std::vector<json> jsonl(const std::string & path) {
        std::ifstream in(path);
        std::vector<json> out;
        for (std::string line; std::getline(in, line);)
            if (!line.empty()) out.push_back(json::parse(line));
        return out;
    }
    static inline fs::path dir_;
};

TEST_F(TrainCli, DatasetGenerateIsSeededAndSplitsDiffer) {
    const auto rows = jsonl(file("train.jsonl"));
    ASSERT_EQ(rows.size(), 200u);
    EXPECT_EQ(rows[0]["tools"].size(), 6u);
    auto r = run_cli("dataset generate --tools " + tools() + " --n 200 --seed 1 --split train -o " + file("again.jsonl"));
    ASSERT_EQ(r.exit_code, 0);
    EXPECT_EQ(jsonl(file("again.jsonl")), rows);
    r = run_cli("dataset generate --tools " + tools() + " --n 200 --seed 1 --split test -o " + file("test.jsonl"));
    ASSERT_EQ(r.exit_code, 0);
    EXPECT_NE(jsonl(file("test.jsonl")), rows);
    r = run_cli("dataset generate --tools " + tools() + " --n 5 --split valid -o " + file("x.jsonl"), true);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("valid"), std::string::npos) << r.output;
}

TEST_F(TrainCli, PresetTrainsLogsEveryStepAndServesWithTools) {
    const std::string out = file("router.gguf");
    auto r = run_cli("train --data " + file("train.jsonl") + " --preset router-tiny -o " + out +
                         " --epochs 2 --batch-tokens 512 --lr 3e-3 --eval-every 5 --seed 3 -t 2",
                     true);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("chat format compact"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("wrote " + out), std::string::npos) << r.output;

    const auto log = jsonl(out + ".log.jsonl");
    ASSERT_FALSE(log.empty());
    const int64_t total = log.back()["total"];
    EXPECT_EQ((int64_t)log.size(), total);
    for (size_t i = 0; i < log.size(); ++i) {
        EXPECT_EQ(log[i]["step"].get<int64_t>(), (int64_t)i + 1);
        EXPECT_GT(log[i]["tokens"].get<int64_t>(), 0);
        EXPECT_TRUE(std::isfinite(log[i]["loss"].get<double>()));
    }
    EXPECT_LT(log.back()["loss"].get<double>(), log.front()["loss"].get<double>());
    EXPECT_TRUE(log.back().contains("valid_loss"));

    const sy::gguf::File f = sy::gguf::File::open(out);
    EXPECT_EQ(f.get_string("switchyard.chat_format").value_or(""), "compact");
    EXPECT_EQ(f.get_string("switchyard.tools_fingerprint").value_or("").size(), 16u);

    r = run_cli("run -m " + out + " -p 'delete task 7' --tools " + tools() + " --tool-choice required -n 96 --json");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const json j = json::parse(r.output);
    ASSERT_EQ(j["value"]["tool_calls"].size(), 1u) << r.output;
    EXPECT_TRUE(j["value"]["tool_calls"][0]["arguments"].is_object());
}

TEST_F(TrainCli, LoraOverAnInitBaseWritesAnAdapterThatRuns) {
    const std::string base = file("base.gguf"), out = file("adapter.gguf");
    auto r = run_cli("model init --arch llama --preset tiny --seed 5 -o " + base, true);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = run_cli("train --data " + file("train.jsonl") + " --base " + base + " --lora-rank 4 --lora-targets q,v -o " + out +
                    " --max-steps 3 --batch-tokens 1024 --seed 3 -t 2",
                true);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("LoRA adapter"), std::string::npos) << r.output;
    const auto log = jsonl(out + ".log.jsonl");
    ASSERT_EQ(log.size(), 3u);
    EXPECT_EQ(log.back()["step"], 3);

    const sy::gguf::File f = sy::gguf::File::open(out);
    EXPECT_EQ(f.get_string("general.type").value_or(""), "adapter");
    EXPECT_EQ(f.get_string("adapter.type").value_or(""), "lora");
    EXPECT_EQ(f.get_string("switchyard.tools_fingerprint").value_or("").size(), 16u);

    r = run_cli("run -m " + base + " --lora " + out + " -p 'show my open tasks' --tools " + tools() +
                " --tool-choice list_tasks -n 64 --json");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const json j = json::parse(r.output);
    ASSERT_EQ(j["value"]["tool_calls"].size(), 1u) << r.output;
    EXPECT_EQ(j["value"]["tool_calls"][0]["name"], "list_tasks");

    r = run_cli("train --data " + file("train.jsonl") + " --preset router-huge -o " + file("x.gguf"), true);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("router-huge"), std::string::npos) << r.output;
}

}  // namespace
