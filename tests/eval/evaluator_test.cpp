// The harness over a scripted in-process Provider: requests carry the conversation before the reference
// turn with its tools; outcomes keep input order under concurrency; confidence comes from the router or
// from logprobs; provider errors are counted, and an endpoint that fails every request aborts the run.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <map>
#include <mutex>

#include "common/error.h"
#include "eval/evaluator.h"
#include "eval_fixtures.h"

namespace sy::eval {
namespace {

// Answers by the user's text: "call:NAME" -> a call to NAME with {"q": <text>}, "fail" -> throws,
// anything else -> the text back.
class ScriptedProvider : public providers::Provider {
public:
    const std::string & name() const override { return name_; }
    bool is_local() const override { return false; }
    std::vector<providers::ModelEntry> models() const override { return {}; }
    providers::ChatResponse chat(const providers::ChatRequest & req, const providers::DeltaFn &) override {
        {
            std::lock_guard<std::mutex> lock(mu);
            requests.push_back(req);
        }
        in_flight_max = std::max(in_flight_max.load(), ++in_flight);
        struct Leave {
            std::atomic<int> & n;
            ~Leave() { --n; }
        } leave{in_flight};
        const std::string & user = req.messages.back().content;
        if (user == "fail" || always_fail) throw Error(ErrorKind::ErrorKind_unavailable, "endpoint down");
        providers::ChatResponse r;
        r.message.role = "assistant";
        if (req.messages.back().role == "tool") r.message.content = tool_replies.at(user);
        else if (user.rfind("call:", 0) == 0) r.message.tool_calls.push_back({"call_1", user.substr(5), ojson{{"q", user}}});
        else r.message.content = user;
        r.usage.prompt_tokens = 50;
        r.usage.completion_tokens = 5;
        r.logprobs = {{"a", std::log(0.5), {}}, {"b", std::log(0.5), {}}};
        return r;
    }

    std::string name_ = "scripted";
    bool always_fail = false;
    std::map<std::string, std::string> tool_replies;  // tool result -> the reply to it
    std::mutex mu;
    std::vector<providers::ChatRequest> requests;
    std::atomic<int> in_flight{0}, in_flight_max{0};
};

chat::Conversation conv(const std::string & user, const chat::Message & answer) {
    chat::Conversation c;
    c.tools = test::kTools;
    c.messages.push_back({"system", "You manage tasks.", {}, "", ""});
    c.messages.push_back({"user", user, {}, "", ""});
    c.messages.push_back(answer);
    return c;
}
chat::Message call_answer(const std::string & name, const ojson & args) {
    chat::Message m;
    m.role = "assistant";
    m.tool_calls.push_back({"call_x", name, args});
    return m;
}
chat::Message text_answer(const std::string & text) { return {"assistant", text, {}, "", ""}; }

TEST(EvalHarness, RunsEveryExampleInOrder) {
    std::vector<EvalExample> examples;
    examples.push_back(make_example(conv("call:create_task", call_answer("create_task", {{"q", "call:create_task"}})), "1"));
    examples.push_back(make_example(conv("hello", text_answer("hi")), "2"));
    examples.push_back(make_example(conv("call:list_tasks", call_answer("create_task", {{"q", "x"}})), "3"));
    examples.push_back(make_example(conv("fail", text_answer("hi")), "4"));
    for (int i = 0; i < 8; ++i) examples.push_back(make_example(conv("small talk", text_answer("ok")), "more"));

    ScriptedProvider p;
    EvalParams params;
    params.model = "m";
    params.concurrency = 3;
    params.logprobs = true;
    std::vector<int64_t> seen;
    params.on_progress = [&](const EvalProgress & pr) { seen.push_back(pr.done); };
    const auto out = run_eval(p, examples, params);
    ASSERT_EQ(out.size(), examples.size());
    EXPECT_EQ(seen.size(), examples.size());
    EXPECT_EQ(seen.back(), (int64_t)examples.size());
    EXPECT_LE(p.in_flight_max.load(), 3);

    EXPECT_TRUE(out[0].correct());
    EXPECT_TRUE(out[0].score.args_strict);
    EXPECT_EQ(out[1].prediction.kind, PredictionKind::PredictionKind_text);
    EXPECT_TRUE(out[1].correct());
    EXPECT_FALSE(out[2].score.tool_correct);
    EXPECT_EQ(out[3].prediction.kind, PredictionKind::PredictionKind_error);
    EXPECT_EQ(out[3].prediction.text, "endpoint down");
    EXPECT_FALSE(out[3].latency_ms);
    ASSERT_TRUE(out[0].latency_ms);
    ASSERT_TRUE(out[0].confidence);
    EXPECT_NEAR(*out[0].confidence, 0.25, 1e-12);  // exp(log .5 + log .5)
    EXPECT_EQ(out[0].prompt_tokens, 50);
    EXPECT_EQ(out[0].request, "call:create_task");

    // What was sent: everything before the reference turn, the tools, tool_choice auto, greedy.
    ASSERT_EQ(p.requests.size(), examples.size());
    for (const auto & req : p.requests) {
        ASSERT_EQ(req.messages.size(), 2u);
        EXPECT_EQ(req.messages[0].role, "system");
        EXPECT_EQ(req.tools, test::kTools);
        EXPECT_EQ(req.tool_choice, "auto");
        EXPECT_FALSE(req.parallel_tool_calls);  // no reference has several calls
        EXPECT_EQ(req.gen.temperature, 0.0f);
        EXPECT_TRUE(req.gen.logprobs);
        EXPECT_EQ(req.model, "m");
    }
}

// Replies to tool results: grounded in the result's values, stating the reference's values, equal to it.
TEST(EvalHarness, RepliesToToolResults) {
    ScriptedProvider p;
    std::vector<EvalExample> examples;
    auto add = [&](int id, const std::string & title, const std::string & reply) {
        chat::Conversation c = conv("mark " + std::to_string(id) + " done", call_answer("complete_task", {{"id", id}}));
        const std::string result = ojson{{"id", id}, {"title", title}}.dump();
        c.messages.push_back({"tool", result, {}, "call_x", ""});
        c.messages.push_back(text_answer("Marked task #" + std::to_string(id) + " \"" + title + "\" as done."));
        p.tool_replies[result] = reply;
        examples.push_back(make_example(c, "tool reply"));
    };
    add(12, "buy milk", "Done: #12 \"buy milk\".");                 // grounded, same values, other words
    add(7, "call mom", "Marked task #8 \"call mom\" as done.");      // an id the result does not hold
    add(3, "x y", "Marked task #3 \"x y\" as done.");                // the reference itself
    examples.push_back(make_example(conv("hello", text_answer("hi")), "not a tool reply"));
    EvalParams params;
    const auto out = run_eval(p, examples, params);
    ASSERT_EQ(out.size(), 4u);
    EXPECT_EQ(out[0].reply_grounded, true);
    EXPECT_EQ(out[0].reply_values_match, true);
    EXPECT_EQ(out[0].reply_exact, false);
    EXPECT_EQ(out[1].reply_grounded, false);
    EXPECT_EQ(out[1].reply_values_match, false);
    EXPECT_EQ(out[2].reply_exact, true);
    EXPECT_FALSE(out[3].reply_grounded.has_value());
    const Metrics m = compute_metrics(out);
    EXPECT_EQ(m.n_tool_replies, 3);
    EXPECT_NEAR(*m.grounded_reply_rate, 2.0 / 3, 1e-12);
    EXPECT_NEAR(*m.reply_value_match, 2.0 / 3, 1e-12);
    EXPECT_NEAR(*m.reply_exact_match, 1.0 / 3, 1e-12);
    // Without tool replies the rates are absent.
    const Metrics none = compute_metrics({out[3]});
    EXPECT_EQ(none.n_tool_replies, 0);
    EXPECT_FALSE(none.grounded_reply_rate.has_value());
}

TEST(EvalHarness, AbandonsAnEndpointThatFailsEverything) {
    std::vector<EvalExample> examples;
    for (int i = 0; i < 50; ++i) examples.push_back(make_example(conv("hello", text_answer("hi")), "x"));
    ScriptedProvider p;
    p.always_fail = true;
    EvalParams params;
    params.concurrency = 2;
    try {
        run_eval(p, examples, params);
        FAIL() << "no error";
    } catch (const Error & e) {
        EXPECT_EQ(e.kind(), ErrorKind::ErrorKind_unavailable);
        EXPECT_NE(std::string(e.what()).find("endpoint down"), std::string::npos);
    }
    EXPECT_LT(p.requests.size(), 10u);  // stopped after the first few, not all 50
}

TEST(EvalHarness, ConfidenceFromTheRouter) {
    providers::ChatResponse r;
    EXPECT_FALSE(answer_confidence(r));
    grammar::OutputConfidence c;
    c.is_tool_call = false;
    c.decision = 0.8;
    r.confidence = c;
    EXPECT_DOUBLE_EQ(*answer_confidence(r), 0.8);
    c.is_tool_call = true;
    c.decision = 0.9;
    c.calls.push_back({0.9, 0.95, {}, 0.7});
    c.calls.push_back({0.9, 0.99, {}, 0.6});
    r.confidence = c;
    r.logprobs = {{"a", -5.0, {}}};  // the router's confidence wins over logprobs
    EXPECT_DOUBLE_EQ(*answer_confidence(r), 0.6);
}

TEST(EvalHarness, LoadsExamplesAndRejectsOnesWithoutAReference) {
    const std::string path = ::testing::TempDir() + "eval_load_test.jsonl";
    {
        std::ofstream f(path);
        f << R"({"messages": [{"role": "user", "content": "add milk"}, {"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "create_task", "arguments": "{\"title\": \"milk\"}"}}]}], "tools": []})" << "\n\n";
        f << R"({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]})" << "\n";
        f << R"({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]})" << "\n";
    }
    const auto all = load_examples(path);
    ASSERT_EQ(all.size(), 3u);
    ASSERT_EQ(all[0].expected.calls.size(), 1u);
    EXPECT_EQ(all[0].expected.calls[0].arguments["title"], "milk");
    EXPECT_EQ(all[0].request, "add milk");
    EXPECT_TRUE(all[1].expected.calls.empty());
    EXPECT_EQ(load_examples(path, 2).size(), 2u);
    {
        std::ofstream f(path);
        f << R"({"messages": [{"role": "user", "content": "hi"}]})" << "\n";
    }
    try {
        load_examples(path);
        FAIL() << "accepted an example without a reference";
    } catch (const Error & e) {
        EXPECT_NE(std::string(e.what()).find("example 1"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace sy::eval
