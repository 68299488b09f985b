// `switchyard demo --quick --no-serve`: the whole flywheel in a small run — trace store, dataset split,
// a trained and quantized router, the evaluation's JSON and HTML, and the summary screen built from them.
// Also the responder data of `dataset generate --kind responder` (calls played against a real task list).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_util.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using sy::test::run_cli;

std::string tools() { return std::string(SY_SOURCE_DIR) + "/examples/task-agent/tools.json"; }

std::vector<json> jsonl(const fs::path & path) {
    std::ifstream in(path);
    std::vector<json> out;
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(json::parse(line));
    return out;
}

TEST(DemoCli, QuickFlywheelWritesEveryArtifactAndTheSummary) {
    const fs::path dir = fs::temp_directory_path() / ("sy_demo_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    const auto r = run_cli("demo --quick --no-serve --n 300 --test-n 30 -t 2 --tools " + tools() + " --dir " + dir.string(), true);
    ASSERT_EQ(r.exit_code, 0) << r.output;

    // Each step printed its command, so a user can rerun it by hand.
    for (const char * step : {"$ switchyard dataset generate", "$ switchyard traces import", "$ switchyard dataset build",
                              "$ switchyard train", "$ switchyard model quantize", "$ switchyard eval"})
        EXPECT_NE(r.output.find(step), std::string::npos) << step << "\n" << r.output;
    for (const char * f : {"traces.db", "dataset/train.jsonl", "dataset/valid.jsonl", "dataset/test.jsonl", "router.gguf",
                           "heldout.jsonl", "eval.json", "eval.html", "summary.txt"})
        EXPECT_TRUE(fs::exists(dir / f)) << f;

    // The traces went through the store: the dataset holds what the builder kept of the 300.
    const size_t n_train = jsonl(dir / "dataset/train.jsonl").size();
    EXPECT_GT(n_train, 100u);
    EXPECT_LT(n_train, 300u);

    const json ev = json::parse(std::ifstream(dir / "eval.json"));
    EXPECT_EQ(ev["n_examples"], 30);
    ASSERT_TRUE(ev.contains("threshold")) << "the demo evaluates at its threshold";
    EXPECT_DOUBLE_EQ(ev["threshold"]["threshold"].get<double>(), 0.8);

    // The summary screen states the seeds' metrics with the values of eval.json.
    std::ifstream sin(dir / "summary.txt");
    const std::string summary((std::istreambuf_iterator<char>(sin)), std::istreambuf_iterator<char>());
    for (const char * row : {"tool selection accuracy", "argument exact match", "JSON validity", "false tool-call rate",
                             "latency p50 / p95", "fallback rate at threshold 0.80", "cost per 1,000 requests: gpt-4o",
                             "cost per 1,000 requests: routed"})
        EXPECT_NE(summary.find(row), std::string::npos) << row << "\n" << summary;
    char tool_acc[32];
    std::snprintf(tool_acc, sizeof tool_acc, "%.1f%%", 100.0 * ev["tool_selection_accuracy"].get<double>());
    EXPECT_NE(summary.find(tool_acc), std::string::npos) << tool_acc << "\n" << summary;
    EXPECT_NE(r.output.find(summary.substr(0, 200)), std::string::npos) << "the summary is also printed";
    fs::remove_all(dir);
}

TEST(DemoCli, BadArgumentsAreClearErrors) {
    auto r = run_cli("demo --no-serve --quick --tools /nonexistent/tools.json --dir " +
                         (fs::temp_directory_path() / ("sy_demo_bad_" + std::to_string(::getpid()))).string(),
                     true);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.output.find("nonexistent"), std::string::npos) << r.output;
    fs::remove_all(fs::temp_directory_path() / ("sy_demo_bad_" + std::to_string(::getpid())));
    r = run_cli("demo --n 5", true);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.output.find("--n"), std::string::npos) << r.output;
}

TEST(DemoCli, ResponderDataPlaysEveryCallAgainstATaskList) {
    const fs::path out = fs::temp_directory_path() / ("sy_responder_" + std::to_string(::getpid()) + ".jsonl");
    const auto r = run_cli("dataset generate --kind responder --tools " + tools() + " --n 300 --seed 4 -o " + out.string(), true);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const auto rows = jsonl(out);
    fs::remove(out);
    ASSERT_FALSE(rows.empty());
    size_t with_result = 0, not_found = 0;
    for (const json & ex : rows) {
        const json & m = ex["messages"];
        ASSERT_EQ(m.back()["role"], "assistant");
        ASSERT_TRUE(m.back()["content"].is_string());
        const std::string reply = m.back()["content"];
        EXPECT_FALSE(reply.empty());
        if (m[m.size() - 2]["role"] != "tool") continue;
        ++with_result;
        const json call = m[m.size() - 3]["tool_calls"][0]["function"];
        const json args = json::parse(call["arguments"].get<std::string>());
        const json result = json::parse(m[m.size() - 2]["content"].get<std::string>());
        if (result.contains("error")) {
            ++not_found;
            EXPECT_NE(reply.find("#" + std::to_string(args["id"].get<int>())), std::string::npos) << reply;
            continue;
        }
        // The reply states the result in its own words: the created task's title and id, a list's count.
        const std::string name = call["name"];
        if (name == "create_task") {
            EXPECT_NE(reply.find(result["title"].get<std::string>()), std::string::npos) << reply;
            EXPECT_NE(reply.find("#" + std::to_string(result["id"].get<int>())), std::string::npos) << reply;
        } else if (name == "list_tasks" && result["count"].get<int>() > 0) {
            EXPECT_NE(reply.find(std::to_string(result["count"].get<int>())), std::string::npos) << reply;
        }
    }
    EXPECT_GT(with_result, rows.size() / 2);
    EXPECT_GT(not_found, 0u) << "some calls name a task that is not on the list";
    const auto again = run_cli("dataset generate --kind responder --tools " + tools() + " --n 300 --seed 4 -o " + out.string());
    ASSERT_EQ(again.exit_code, 0);
    EXPECT_EQ(jsonl(out), rows) << "seeded";
    fs::remove(out);
}

}  // namespace
