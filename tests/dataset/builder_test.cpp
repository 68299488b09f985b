// The dataset builder: every filter on crafted traces, duplicate removal, caps, negatives, stratified
// split sizes, determinism (same bytes twice and for shuffled input), and the written files.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "common/error.h"
#include "dataset/builder.h"

namespace sy::dataset {
namespace {

using traces::ServedBy;
using traces::Trace;

const ojson k_tools = ojson::parse(R"([
  {"type":"function","function":{"name":"get_weather","parameters":{"type":"object",
     "properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["c","f"]}},"required":["city"]}}},
  {"type":"function","function":{"name":"cancel_order","parameters":{"type":"object",
     "properties":{"order_id":{"type":"string","pattern":"^[0-9]+$"}},"required":["order_id"]}}}])");

// Distinct sentences (no accidental near duplicates): random words from a small lexicon.
std::string sentence(std::mt19937 & rng, int n_words) {
    static const char * words[] = {"alpha", "river", "copper", "lantern", "violet", "orbit", "maple", "quartz", "tundra", "ember",
                                   "harbor", "saffron", "glacier", "meadow", "cobalt", "falcon", "juniper", "nebula", "prairie", "zephyr",
                                   "basalt", "willow", "canyon", "thistle", "mosaic", "lagoon", "garnet", "aurora", "cypress", "dune"};
    std::string s;
    for (int i = 0; i < n_words; ++i) s += std::string(i ? " " : "") + words[rng() % 30];
    return s;
}

Trace call_trace(const std::string & user, const std::string & tool, const std::string & args) {
    Trace t;
    t.id = "t" + user.substr(0, 12);
    t.tools = k_tools;
    t.messages = ojson::array({{{"role", "user"}, {"content", user}},
                               {{"role", "assistant"}, {"content", nullptr},
                                {"tool_calls", ojson::array({{{"id", "c1"}, {"type", "function"},
                                                              {"function", {{"name", tool}, {"arguments", args}}}}})}}});
    return t;
}

Trace reply_trace(const std::string & user, const std::string & reply) {
    Trace t;
    t.tools = k_tools;
    t.messages = ojson::array({{{"role", "user"}, {"content", user}}, {{"role", "assistant"}, {"content", reply}}});
    return t;
}

std::vector<Trace> corpus(int n_weather, int n_cancel, int n_none, uint32_t seed = 1) {
    std::mt19937 rng(seed);
    std::vector<Trace> v;
    for (int i = 0; i < n_weather; ++i) v.push_back(call_trace(sentence(rng, 10), "get_weather", R"({"city":")" + sentence(rng, 1) + R"("})"));
    for (int i = 0; i < n_cancel; ++i) v.push_back(call_trace(sentence(rng, 10), "cancel_order", R"({"order_id":")" + std::to_string(rng() % 100000) + R"("})"));
    for (int i = 0; i < n_none; ++i) v.push_back(reply_trace(sentence(rng, 10), sentence(rng, 6)));
    return v;
}

TEST(DatasetBuilder, FiltersCountEachReason) {
    std::vector<Trace> in = corpus(4, 0, 2);
    Trace failed = call_trace("failed request here", "get_weather", R"({"city":"Oslo"})");
    failed.error = "timeout";
    Trace bad_json = call_trace("bad json request", "get_weather", R"({"city":)");
    Trace bad_schema = call_trace("schema request one", "get_weather", R"({"unit":"c"})");  // city missing
    Trace bad_pattern = call_trace("schema request two", "cancel_order", R"({"order_id":"A-1"})");
    Trace unknown = call_trace("unknown tool request", "launch_rocket", R"({})");
    Trace retried = call_trace("retried request", "get_weather", R"({"city":"Rome"})");
    retried.n_retries = 1;
    Trace repeated = call_trace("repeated request", "get_weather", R"({"city":"Rome"})");
    repeated.messages.push_back({{"role", "tool"}, {"tool_call_id", "c1"}, {"content", "error: timeout"}});
    repeated.messages.push_back(repeated.messages[1]);  // the same call again
    Trace fallback = call_trace("served by fallback", "get_weather", R"({"city":"Lima"})");
    fallback.served_by = ServedBy::ServedBy_fallback;
    Trace no_answer;
    no_answer.messages = ojson::parse(R"([{"role":"user","content":"hello?"}])");
    for (auto * t : {&failed, &bad_json, &bad_schema, &bad_pattern, &unknown, &retried, &repeated, &fallback, &no_answer}) in.push_back(*t);

    BuildParams p;
    p.served_by = {ServedBy::ServedBy_local};
    const BuildResult r = build_examples(in, p);
    const auto & rej = r.stats.rejected;
    EXPECT_EQ(r.stats.n_input, 15);
    EXPECT_EQ(rej.at("failed"), 1);
    EXPECT_EQ(rej.at("invalid_json"), 1);
    EXPECT_EQ(rej.at("schema_invalid"), 2);
    EXPECT_EQ(rej.at("unknown_tool"), 1);
    EXPECT_EQ(rej.at("retried"), 2);
    EXPECT_EQ(rej.at("served_by"), 1);
    EXPECT_EQ(rej.at("no_answer"), 1);
    EXPECT_EQ(r.stats.n_examples, 6);
    EXPECT_EQ(r.stats.by_tool.at("get_weather"), 4);
    EXPECT_EQ(r.stats.by_tool.at("none"), 2);

    // Without the clean-call requirement the malformed ones stay (arguments kept as written).
    BuildParams loose;
    loose.require_clean_calls = false;
    EXPECT_EQ(build_examples(in, loose).stats.n_examples, 13);
}

TEST(DatasetBuilder, FeedbackFilterAndCorrection) {
    std::vector<Trace> in = corpus(3, 0, 0);
    in[0].feedback_rating = 5;
    in[1].feedback_rating = 1;
    in[2].feedback_rating = 4;
    in[2].feedback_correction = ojson::parse(R"({"role":"assistant","content":null,"tool_calls":[{"id":"x","type":"function",
        "function":{"name":"cancel_order","arguments":"{\"order_id\":\"42\"}"}}]})");
    BuildParams p;
    p.min_rating = 4;
    p.test_fraction = 0;
    const BuildResult r = build_examples(in, p);
    EXPECT_EQ(r.stats.rejected.at("feedback"), 1);
    ASSERT_EQ(r.train.size(), 2u);
    EXPECT_EQ(r.stats.by_tool.at("cancel_order"), 1);  // the corrected answer counts
    EXPECT_EQ(r.stats.by_tool.at("get_weather"), 1);
}

TEST(DatasetBuilder, DuplicatesCapsAndNegatives) {
    std::vector<Trace> in = corpus(20, 5, 1);
    Trace exact = in[0];
    exact.messages[0]["content"] = "  " + exact.messages[0]["content"].get<std::string>() + "!!";  // same after normalisation
    in.push_back(exact);
    Trace near = in[1];
    near.messages[0]["content"] = near.messages[0]["content"].get<std::string>() + " thanks";
    in.push_back(near);
    BuildParams p;
    p.max_per_tool = 10;
    BuildResult r = build_examples(in, p);
    EXPECT_EQ(r.stats.rejected.at("exact_duplicate"), 1);
    EXPECT_EQ(r.stats.rejected.at("near_duplicate"), 1);
    EXPECT_EQ(r.stats.rejected.at("capped"), 10);
    EXPECT_EQ(r.stats.by_tool.at("get_weather"), 10);
    EXPECT_EQ(r.stats.by_tool.at("cancel_order"), 5);
    EXPECT_NEAR(r.stats.negative_share, 1.0 / 16, 1e-12);
    ASSERT_EQ(r.stats.warnings.size(), 1u);
    EXPECT_NE(r.stats.warnings[0].find("only 6.2% of examples are no-tool"), std::string::npos) << r.stats.warnings[0];

    // Mix in negatives from a file; bare ones get the dataset's tools, ones with calls are refused.
    const auto dir = std::filesystem::temp_directory_path() / ("sy_neg_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string neg = (dir / "neg.jsonl").string();
    {
        std::ofstream o(neg);
        std::mt19937 rng(99);
        for (int i = 0; i < 3; ++i)
            o << ojson{{"messages", {{{"role", "user"}, {"content", sentence(rng, 9)}}, {{"role", "assistant"}, {"content", sentence(rng, 5)}}}}}.dump() << "\n";
        o << call_trace("a call is not a negative", "get_weather", R"({"city":"X"})").messages.dump().insert(0, "{\"messages\":") + "}\n";
    }
    p.negative_files = {neg};
    r = build_examples(in, p);
    EXPECT_EQ(r.stats.n_negatives_mixed_in, 3);
    EXPECT_EQ(r.stats.rejected.at("negative_has_tool_call"), 1);
    EXPECT_EQ(r.stats.by_tool.at("none"), 4);
    EXPECT_TRUE(r.stats.warnings.empty());  // 4/19 ≥ 10%
    bool found_bare_with_tools = false;
    for (const auto * split : {&r.train, &r.test})
        for (const auto & e : *split)
            if (e.label == "none" && e.tools == k_tools) found_bare_with_tools = true;
    EXPECT_TRUE(found_bare_with_tools);
    std::filesystem::remove_all(dir);
}

TEST(DatasetBuilder, StratifiedSplitSizes) {
    BuildParams p;
    p.valid_fraction = 0.1;
    const BuildResult r = build_examples(corpus(50, 20, 10), p);
    EXPECT_EQ(r.stats.test.by_tool.at("get_weather"), 10);
    EXPECT_EQ(r.stats.valid.by_tool.at("get_weather"), 5);
    EXPECT_EQ(r.stats.train.by_tool.at("get_weather"), 35);
    EXPECT_EQ(r.stats.test.by_tool.at("cancel_order"), 4);
    EXPECT_EQ(r.stats.valid.by_tool.at("cancel_order"), 2);
    EXPECT_EQ(r.stats.test.by_tool.at("none"), 2);
    EXPECT_EQ(r.stats.valid.by_tool.at("none"), 1);
    EXPECT_EQ(r.train.size() + r.test.size() + r.valid.size(), 80u);
    for (const auto & e : r.train)  // arguments leave as compact JSON strings
        if (e.label != "none") {
            EXPECT_TRUE(e.messages.back()["tool_calls"][0]["function"]["arguments"].is_string());
        }
}

std::string slurp(const std::filesystem::path & p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TEST(DatasetBuilder, DeterministicFilesAndInputOrderIndependent) {
    const auto base = std::filesystem::temp_directory_path() / ("sy_ds_" + std::to_string(::getpid()));
    std::vector<Trace> in = corpus(40, 15, 12);
    BuildParams p;
    p.valid_fraction = 0.1;
    build_dataset(in, p, (base / "a").string());
    build_dataset(in, p, (base / "b").string());
    std::shuffle(in.begin(), in.end(), std::mt19937(7));
    BuildStats st;
    const std::string summary = build_dataset(in, p, (base / "c").string(), &st);
    for (const char * f : {"train.jsonl", "test.jsonl", "valid.jsonl", "stats.json", "summary.txt"}) {
        const std::string a = slurp(base / "a" / f);
        EXPECT_FALSE(a.empty()) << f;
        EXPECT_EQ(a, slurp(base / "b" / f)) << f;
        EXPECT_EQ(a, slurp(base / "c" / f)) << f << " depends on input order";
    }
    EXPECT_EQ(summary, slurp(base / "a" / "summary.txt"));
    // Every line is an OpenAI fine-tuning example; counts match stats.json.
    const ojson stats = ojson::parse(slurp(base / "a" / "stats.json"));
    int64_t lines = 0;
    std::ifstream tr(base / "a" / "train.jsonl");
    for (std::string line; std::getline(tr, line); ++lines) {
        const ojson j = ojson::parse(line);
        ASSERT_TRUE(j["messages"].is_array());
        EXPECT_EQ(j["tools"], k_tools);
    }
    EXPECT_EQ(lines, stats["splits"]["train"]["n"].get<int64_t>());
    EXPECT_EQ(stats["n_examples"], 67);
    // A different seed moves examples between splits but keeps the per-tool sizes.
    p.seed = 12345;
    const BuildResult r2 = build_examples(in, p);
    EXPECT_EQ(r2.stats.test.by_tool, st.test.by_tool);
    EXPECT_NE(slurp(base / "a" / "test.jsonl"), [&] {
        std::string s;
        for (const auto & e : r2.test) s += example_to_json(e).dump() + "\n";
        return s;
    }());
    std::filesystem::remove_all(base);
}

TEST(DatasetBuilder, RejectsBadFractions) {
    BuildParams p;
    p.test_fraction = 0.7;
    p.valid_fraction = 0.3;
    EXPECT_THROW(build_dataset({}, p, "/nonexistent-dir-never-created"), Error);
}

}  // namespace
}  // namespace sy::dataset
