// Black-box: the real `switchyard traces ...` and `switchyard dataset build` on the fixtures, checked
// through exit codes, stdout/stderr and the files they write.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <fstream>

#include "store_test_util.h"
#include "traces/trace.h"

namespace sy::traces {
namespace {

struct CmdResult {
    int rc = -1;
    std::string out;  // stdout and stderr together
};

CmdResult run(const std::string & args) {
    const std::string cmd = std::string(SY_BINARY_DIR) + "/bin/switchyard " + args + " 2>&1";
    CmdResult r;
    FILE * p = ::popen(cmd.c_str(), "r");
    if (!p) return r;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    const int st = ::pclose(p);
    r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

std::string fixture(const char * name) { return std::string(SY_SOURCE_DIR) + "/tests/traces/fixtures/" + name; }

TEST(TracesCli, ImportStatsExportBuild) {
    const std::string dir = test::temp_path("cli");
    std::filesystem::create_directories(dir);
    const std::string db = dir + "/t.db";

    CmdResult r = run("traces import " + fixture("openai_chat.jsonl") + " " + fixture("chat_pairs.jsonl") + " " + fixture("langsmith_runs.json") +
                " --store " + db);
    ASSERT_EQ(r.rc, 0) << r.out;
    EXPECT_NE(r.out.find("langsmith, 4 records, 2 imported, 0 already stored, 2 ignored"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("store sqlite: 8 traces (8 new)"), std::string::npos) << r.out;
    r = run("traces import " + fixture("openai_chat.jsonl") + " --store sqlite:" + db);  // idempotent
    EXPECT_NE(r.out.find("3 already stored"), std::string::npos) << r.out;

    r = run("traces import " + fixture("openai_bad.jsonl") + " --store " + db);
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.out.find("switchyard: error: " + fixture("openai_bad.jsonl") + ":2: invalid JSON"), std::string::npos) << r.out;

    r = run("traces stats --store " + db + " --json --cost --fallback-rate 0.1");
    ASSERT_EQ(r.rc, 0) << r.out;
    const auto j = ojson::parse(r.out);
    EXPECT_EQ(j["n_traces"], 8);
    EXPECT_EQ(j["n_errors"], 2);  // the rate-limited pair and the timed-out LangSmith run
    EXPECT_EQ(j["by_tool"]["none"], 4);
    EXPECT_EQ(j["served_by"]["external"], 8);
    EXPECT_DOUBLE_EQ(j["cost"]["fallback_rate"].get<double>(), 0.1);
    // gpt-4o: tokens 71+18+96 prompt, 16+3+24 completion over the traces that have them.
    EXPECT_NEAR(j["cost"]["cloud_only_usd"].get<double>(), (185 * 2.5 + 43 * 10.0) / 1e6, 1e-12);
    EXPECT_EQ(j["cost"]["monthly"].size(), 4u);

    r = run("traces export --store " + db + " -o " + dir + "/out.jsonl --succeeded --tool none");  // 4 "none", 2 of them failed
    ASSERT_EQ(r.rc, 0) << r.out;
    EXPECT_NE(r.out.find("2 traces written"), std::string::npos) << r.out;

    r = run("dataset build --from " + db + " --out " + dir + "/ds");
    ASSERT_EQ(r.rc, 0) << r.out;
    EXPECT_NE(r.out.find("dataset: 6 examples from 8 traces"), std::string::npos) << r.out;
    for (const char * f : {"train.jsonl", "test.jsonl", "stats.json", "summary.txt"}) EXPECT_TRUE(std::filesystem::exists(dir + "/ds/" + f)) << f;

    r = run("traces stats --store mysql://somewhere");
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.out.find("unsupported URL"), std::string::npos);
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sy::traces
