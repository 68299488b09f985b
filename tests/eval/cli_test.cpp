// Black-box tests of `switchyard eval`: a tiny random-weight model on examples from `switchyard dataset
// generate`, run in process (--model) and through a real `switchyard serve` on loopback (--endpoint);
// the JSON and HTML outputs, the gates' exit codes and the errors for bad arguments.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "cli/cli_util.h"
#include "server/serve_util.h"

namespace sy::test {
namespace {

std::string read_text(const std::string & path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// Eight held-out examples of the task agent (calls and "no tool" answers), written once.
const std::string & test_data() {
    static const std::string path = [] {
        const std::string p = (server_scratch() / "test.jsonl").string();
        const CliResult r = run_cli("dataset generate --tools " + tools_file() + " --split test --n 8 --seed 3 -o " + p, true);
        if (r.exit_code != 0) throw std::runtime_error("dataset generate failed: " + r.output);
        return p;
    }();
    return path;
}

std::string out_path(const std::string & name) { return (server_scratch() / name).string(); }

void expect_contract_keys(const ojson & j) {
    const std::vector<std::string> contract = {"n_examples", "tool_selection_accuracy", "argument_exact_match",
                                               "argument_exact_match_normalized", "json_validity", "malformed_call_rate",
                                               "false_positive_rate", "false_negative_rate", "latency_ms", "ece",
                                               "recommended_threshold", "coverage_at_threshold", "accuracy_at_threshold"};
    for (const auto & k : contract) EXPECT_TRUE(j.contains(k)) << k;
    for (const char * k : {"p50", "p95", "p99"}) EXPECT_TRUE(j["latency_ms"][k].is_number()) << k;
    EXPECT_TRUE(j["tool_selection_accuracy"].is_number());
}

TEST(EvalCli, LocalModelWritesJsonAndReport) {
    const std::string json = out_path("local.json"), html = out_path("local.html");
    const CliResult r = run_cli("eval --model " + tiny_model() + " --data " + test_data() + " --limit 6 --max-tokens 16 --json " +
                                json + " --report " + html + " --threshold 0.5 --concurrency 2", true);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("tool selection accuracy"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("eval: 6/6 examples"), std::string::npos) << r.output;  // progress lines (stderr is no TTY)
    const ojson j = ojson::parse(read_text(json));
    expect_contract_keys(j);
    EXPECT_EQ(j["n_examples"], 6);
    EXPECT_EQ(j["run"]["local"], true);
    EXPECT_EQ(j["run"]["confidence_source"], "router");  // the local provider reports router confidence
    EXPECT_EQ(j["calibration"]["n"], 6);
    EXPECT_TRUE(j["ece"].is_number());
    EXPECT_EQ(j["threshold"]["threshold"], 0.5);
    EXPECT_EQ(j["cost"]["priced_as"], "local estimate");
    EXPECT_GT(j["cost"]["mean_prompt_tokens"].get<double>(), 0.0);
    const std::string page = read_text(html);
    for (const char * cls : {"confusion-matrix", "reliability-diagram", "coverage-accuracy", "latency-histogram"})
        EXPECT_NE(page.find(std::string("class=\"") + cls + "\""), std::string::npos) << cls;
    EXPECT_EQ(page.find("<script"), std::string::npos);
}

TEST(EvalCli, LocalModelWithAnAdapter) {
    const std::string adapter = out_path("adapter.gguf");
    CliResult r = run_cli("train --data " + test_data() + " --base " + tiny_model() + " --lora-rank 2 --max-steps 1 -o " + adapter, true);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const std::string json = out_path("lora.json");
    r = run_cli("eval --model " + tiny_model() + " --lora " + adapter + " --data " + test_data() + " --limit 2 --max-tokens 8 --json " + json, true);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const ojson j = ojson::parse(read_text(json));
    EXPECT_EQ(j["n_errors"], 0);  // every request found the adapter
    EXPECT_EQ(j["run"]["lora"], adapter);
    r = run_cli("eval --model " + tiny_model() + " --lora " + out_path("no-such-adapter.gguf") + " --data " + test_data(), true);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("no-such-adapter.gguf"), std::string::npos) << r.output;
}

TEST(EvalCli, GatesSetTheExitCode) {
    const std::string base = "eval --model " + tiny_model() + " --data " + test_data() + " --limit 3 --max-tokens 8";
    CliResult r = run_cli(base + " --fail-under tool_selection_accuracy=1.01 --fail-under n_examples=1", true);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("1 of 2 metric gates failed: tool_selection_accuracy"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("is below 1.01"), std::string::npos) << r.output;

    r = run_cli(base + " --fail-under n_examples=3 --fail-over malformed_call_rate=1", true);
    EXPECT_EQ(r.exit_code, 0) << r.output;

    // A metric the report does not have is refused before any request runs.
    r = run_cli(base + " --fail-under tool_accuracy=0.9", true);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("unknown metric 'tool_accuracy'"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("eval: "), std::string::npos) << r.output;
}

TEST(EvalCli, BadArguments) {
    CliResult r = run_cli("eval --model no-such-model.gguf --data " + test_data(), true);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("is not a file"), std::string::npos) << r.output;
    r = run_cli("eval --endpoint http://127.0.0.1:9 --model m --lora a.gguf --data " + test_data(), true);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("--lora applies to a local --model only"), std::string::npos) << r.output;
    r = run_cli("eval --model " + tiny_model() + " --data " + out_path("missing.jsonl"), true);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("cannot open"), std::string::npos) << r.output;
}

TEST(EvalCli, EndpointAgainstARunningServer) {
    ServeProcess server("-m " + tiny_model() + " --host 127.0.0.1");
    const std::string json = out_path("remote.json");
    const CliResult r = run_cli("eval --endpoint " + server.url() + " --model " + std::filesystem::path(tiny_model()).stem().string() +
                                " --data " + test_data() + " --limit 4 --max-tokens 16 --concurrency 2 --json " + json, true);
    ASSERT_EQ(r.exit_code, 0) << r.output << server.log();
    const ojson j = ojson::parse(read_text(json));
    expect_contract_keys(j);
    EXPECT_EQ(j["n_examples"], 4);
    EXPECT_EQ(j["n_errors"], 0);
    EXPECT_EQ(j["run"]["local"], false);
    EXPECT_EQ(j["run"]["endpoint"], server.url());
    EXPECT_GT(j["cost"]["mean_prompt_tokens"].get<double>(), 0.0);  // usage came back over HTTP
}

TEST(EvalCli, EndpointDownStopsEarly) {
    const CliResult r = run_cli("eval --endpoint http://127.0.0.1:9 --model m --timeout 5 --limit 2 --data " + test_data(), true);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("requests failed, the first with"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace sy::test
