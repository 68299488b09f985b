// Importers on hand-written fixtures shaped like real logs (OpenAI JSONL, LangSmith runs in both message
// dialects, Chat Completions request/response pairs), bad-line reporting, and the export round trip.
#include <gtest/gtest.h>

#include <fstream>

#include "common/error.h"
#include "store_test_util.h"
#include "traces/import.h"

namespace sy::traces {
namespace {

std::string fixture(const char * name) { return std::string(SY_SOURCE_DIR) + "/tests/traces/fixtures/" + name; }

std::vector<Trace> import_all(const std::string & path, ImportOptions opt = {}, ImportResult * res = nullptr) {
    std::vector<Trace> out;
    ImportResult r = import_file(path, opt, [&](Trace && t) { out.push_back(std::move(t)); });
    if (res) *res = r;
    return out;
}

TEST(Import, DetectsFormats) {
    EXPECT_EQ(detect_import_format(fixture("openai_chat.jsonl")), ImportFormat::ImportFormat_openai);
    EXPECT_EQ(detect_import_format(fixture("chat_pairs.jsonl")), ImportFormat::ImportFormat_pairs);
    EXPECT_EQ(detect_import_format(fixture("langsmith_runs.json")), ImportFormat::ImportFormat_langsmith);
    EXPECT_EQ(detect_import_format(fixture("langsmith_runs.jsonl")), ImportFormat::ImportFormat_langsmith);
}

TEST(Import, OpenAIJsonl) {
    ImportResult r;
    auto ts = import_all(fixture("openai_chat.jsonl"), {}, &r);
    ASSERT_EQ(ts.size(), 3u);  // the blank line is skipped, not counted
    EXPECT_EQ(r.n_records, 3);
    EXPECT_EQ(ts[0].router_decision, "get_order_status");
    EXPECT_EQ(ts[0].tools.size(), 2u);
    EXPECT_EQ(ts[0].tools_fingerprint, tools_fingerprint(ts[0].tools));
    EXPECT_EQ(ts[0].served_by, ServedBy::ServedBy_external);
    EXPECT_EQ(ts[0].api, "import.openai");
    EXPECT_EQ(ts[1].router_decision, "none");
    EXPECT_EQ(ts[2].router_decision, "cancel_order");
    EXPECT_EQ(ts[2].model, "gpt-4o-2024-08-06");
    EXPECT_EQ(ts[2].messages.size(), 4u);
    // Ids are stable across imports of the same file and distinct per line.
    auto again = import_all(fixture("openai_chat.jsonl"));
    EXPECT_EQ(again[0].id, ts[0].id);
    EXPECT_NE(ts[0].id, ts[1].id);
}

TEST(Import, BadLinesNameFileAndLine) {
    try {
        import_all(fixture("openai_bad.jsonl"));
        FAIL() << "bad line accepted";
    } catch (const Error & e) {
        const std::string m = e.what();
        EXPECT_NE(m.find("openai_bad.jsonl:2: invalid JSON"), std::string::npos) << m;
    }
    ImportOptions skip;
    skip.skip_bad = true;
    ImportResult r;
    auto ts = import_all(fixture("openai_bad.jsonl"), skip, &r);
    EXPECT_EQ(ts.size(), 2u);
    EXPECT_EQ(r.n_bad, 2);
    ASSERT_EQ(r.errors.size(), 2u);
    EXPECT_NE(r.errors[1].find("openai_bad.jsonl:4: messages[0].role: unknown role 'robot'"), std::string::npos) << r.errors[1];
}

TEST(Import, ChatCompletionPairs) {
    ImportResult r;
    auto ts = import_all(fixture("chat_pairs.jsonl"), {}, &r);
    ASSERT_EQ(ts.size(), 3u);
    const Trace & a = ts[0];
    EXPECT_EQ(a.id, "chatcmpl-AQx1");
    EXPECT_EQ(a.model, "gpt-4o-2024-08-06");
    EXPECT_EQ(a.time_ms, 1730542530250);  // the log's timestamp wins over "created"
    EXPECT_DOUBLE_EQ(a.latency.total_ms, 812);
    EXPECT_EQ(a.prompt_tokens, 71);
    EXPECT_EQ(a.completion_tokens, 16);
    ASSERT_EQ(a.messages.size(), 2u);
    EXPECT_EQ(a.messages[1]["tool_calls"][0]["function"]["arguments"], "{\"city\":\"Oslo\"}");
    EXPECT_EQ(a.router_decision, "get_weather");
    EXPECT_TRUE(a.succeeded());
    EXPECT_EQ(ts[1].router_decision, "none");
    EXPECT_EQ(ts[1].time_ms, 1730542600000);
    EXPECT_EQ(ts[2].error, "Rate limit reached for gpt-4o");
    EXPECT_EQ(ts[2].messages.size(), 1u);  // no answer appended
}

TEST(Import, LangSmithArrayWithLangChainMessages) {
    ImportResult r;
    auto ts = import_all(fixture("langsmith_runs.json"), {}, &r);
    EXPECT_EQ(r.n_records, 4);
    EXPECT_EQ(r.n_ignored, 2);  // the chain run and the tool run
    ASSERT_EQ(ts.size(), 2u);
    const Trace & a = ts[0];
    EXPECT_EQ(a.id, "1ef7a0c2-6e10-6b22-8c4f-77a1d2e3f401");
    EXPECT_EQ(a.model, "gpt-4o-mini");
    EXPECT_EQ(a.time_ms, 1729519331210);
    EXPECT_DOUBLE_EQ(a.latency.total_ms, 805);
    ASSERT_EQ(a.messages.size(), 3u);
    EXPECT_EQ(a.messages[0]["role"], "system");
    EXPECT_EQ(a.messages[1]["role"], "user");
    EXPECT_EQ(a.messages[1]["content"], "Book a table for 2 at Luigi's tonight at 8");
    const auto & call = a.messages[2]["tool_calls"][0];
    EXPECT_EQ(call["id"], "call_Lg1");
    EXPECT_EQ(call["function"]["name"], "book_table");
    EXPECT_EQ(ojson::parse(call["function"]["arguments"].get<std::string>()),
              ojson::parse(R"({"restaurant":"Luigi's","party_size":2,"time":"20:00"})"));
    EXPECT_EQ(a.tools[0]["function"]["name"], "book_table");
    EXPECT_EQ(a.prompt_tokens, 96);
    EXPECT_EQ(a.completion_tokens, 24);
    EXPECT_EQ(a.router_decision, "book_table");
    const Trace & b = ts[1];  // failed run: the error is kept, no answer
    EXPECT_EQ(b.error, "APITimeoutError('Request timed out.')");
    EXPECT_EQ(b.messages.size(), 1u);
    EXPECT_DOUBLE_EQ(b.latency.total_ms, 30000);
}

TEST(Import, LangSmithJsonlWithOpenAIMessages) {
    auto ts = import_all(fixture("langsmith_runs.jsonl"));
    ASSERT_EQ(ts.size(), 2u);
    EXPECT_EQ(ts[0].model, "gpt-4o-2024-08-06");
    EXPECT_EQ(ts[0].router_decision, "reset_password");
    EXPECT_EQ(ts[0].prompt_tokens, 55);
    EXPECT_DOUBLE_EQ(ts[0].latency.total_ms, 640);
    EXPECT_EQ(ts[1].model, "gpt-3.5-turbo");
    EXPECT_EQ(ts[1].messages.back()["content"], "Anytime!");
    EXPECT_EQ(ts[1].router_decision, "none");
}

TEST(Import, ExportRoundTrip) {
    auto ts = import_all(fixture("chat_pairs.jsonl"));
    const std::string out = test::temp_path("export") + ".jsonl";
    {
        std::ofstream o(out);
        for (const auto & t : ts) o << trace_to_openai_example(t).dump() << "\n";
    }
    auto back = import_all(out);
    ASSERT_EQ(back.size(), ts.size());
    for (size_t i = 0; i < ts.size(); ++i) {
        EXPECT_EQ(back[i].messages, ts[i].messages);
        EXPECT_EQ(back[i].tools, ts[i].tools);
        EXPECT_EQ(back[i].router_decision, ts[i].router_decision);
    }
    std::filesystem::remove(out);
}

TEST(Import, Iso8601) {
    EXPECT_EQ(parse_iso8601_ms("1970-01-01T00:00:01Z"), 1000);
    EXPECT_EQ(parse_iso8601_ms("1970-01-01T01:00:00.5+01:00"), 500);
    EXPECT_EQ(parse_iso8601_ms("2024-11-02 10:15:30.250"), 1730542530250);
    EXPECT_FALSE(parse_iso8601_ms("yesterday").has_value());
}

}  // namespace
}  // namespace sy::traces
