// The router's intent classifier (chat/intent_classifier.h): trained on 6000 chats of the generated task-agent
// train split, it must pick the held-out split's tools (templates and carrier phrases never seen in training),
// see that small talk needs no tool, and survive a GGUF round trip unchanged.
#include <gtest/gtest.h>

#include <filesystem>

#include "chat/intent_classifier.h"
#include "train/datagen.h"
#include "train_test_util.h"

namespace sy::chat {
namespace {

using train::test::generated_chats;
using train::test::task_tools;

struct Score {
    int calls = 0, calls_right = 0, texts = 0, false_calls = 0;
};

// Every assistant turn of `test` that answers a user turn: was its tool (or text answer) chosen?
Score score(const IntentClassifier & c, const std::vector<Conversation> & test, bool print = false) {
    Score s;
    for (const Conversation & conv : test)
        for (size_t i = 1; i < conv.messages.size(); ++i) {
            const Message & m = conv.messages[i];
            if (m.role != "assistant" || conv.messages[i - 1].role != "user") continue;
            Conversation before = conv;
            before.messages.resize(i);
            const std::optional<IntentDecision> d = c.decide(before, true);
            EXPECT_TRUE(d.has_value());
            if (!d) continue;
            const std::string want = m.tool_calls.empty() ? "" : m.tool_calls.front().name;
            if (want.empty()) {
                ++s.texts;
                s.false_calls += !d->tool.empty();
            } else {
                ++s.calls;
                s.calls_right += d->tool == want;
            }
            if (print && d->tool != want)
                std::printf("  %s -> %s (%.2f), want %s\n", conv.messages[i - 1].content.c_str(),
                            d->tool.empty() ? "(text)" : d->tool.c_str(), d->probability, want.empty() ? "(text)" : want.c_str());
        }
    return s;
}

TEST(IntentClassifier, PicksHeldOutToolsAndRoundTripsThroughGguf) {
    const std::vector<Conversation> train = generated_chats(6000, 1, train::DataSplit::DataSplit_train);
    const std::vector<Conversation> test = generated_chats(400, 3, train::DataSplit::DataSplit_test);
    const IntentClassifier c = IntentClassifier::train(train);
    EXPECT_EQ(c.labels().front(), "");
    EXPECT_EQ(c.labels().size(), 7u);  // text + the six task tools
    const Score s = score(c, test, std::getenv("SY_SHOW_MISSES") != nullptr);
    const double tool_rate = (double)s.calls_right / s.calls;
    std::printf("held-out: tool selection %.1f%% of %d calls, false calls %d of %d text answers\n", 100 * tool_rate,
                s.calls, s.false_calls, s.texts);
    EXPECT_GE(tool_rate, 0.97);
    EXPECT_LE(s.false_calls, s.texts / 20);

    // list_tasks' status on the held-out calls: a date's carrier ("that need to be done before friday")
    // is no evidence of status done.
    int status_calls = 0, status_right = 0;
    for (const Conversation & conv : test)
        for (size_t i = 1; i < conv.messages.size(); ++i) {
            const Message & m = conv.messages[i];
            if (m.role != "assistant" || m.tool_calls.empty() || m.tool_calls.front().name != "list_tasks") continue;
            Conversation before = conv;
            before.messages.resize(i);
            const ojson & args = m.tool_calls.front().arguments;
            for (const ArgumentDecision & a : c.arguments(before, "list_tasks"))
                if (a.field == "status") {
                    ++status_calls;
                    status_right += args.contains("status") ? (a.present && a.value == args["status"]) : !a.present;
                }
        }
    ASSERT_GT(status_calls, 30);
    std::printf("held-out: list_tasks status right in %d of %d calls\n", status_right, status_calls);
    EXPECT_GE(status_right, status_calls * 85 / 100);
    auto status_of = [&](const std::string & request) -> std::string {
        Conversation conv;
        conv.messages.push_back({"user", request, {}, "", ""});
        conv.tools = task_tools();
        if (conv.tools.is_object()) conv.tools = ojson(conv.tools["tools"]);
        for (const ArgumentDecision & a : c.arguments(conv, "list_tasks"))
            if (a.field == "status") return a.present && a.value ? a.value->get<std::string>() : "(absent)";
        return "(no classifier)";
    };
    EXPECT_EQ(status_of("pull up my tasks that need to be done before friday"), "(absent)");
    EXPECT_EQ(status_of("show my tasks that need to be done before dec 24"), "(absent)");
    EXPECT_EQ(status_of("show me the tasks I have done"), "done");

    const std::string path = (std::filesystem::temp_directory_path() / "sy_intent_roundtrip.gguf").string();
    {
        gguf::Writer w;
        w.set("general.architecture", gguf::Value::string("llama"));
        c.write(w);
        w.write(path);
    }
    const std::optional<IntentClassifier> back = IntentClassifier::read(gguf::File::open(path));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->labels(), c.labels());
    for (size_t k = 0; k < 20; ++k) EXPECT_EQ(back->predict(test[k]), c.predict(test[k]));
    // The argument classifiers: create_task priority, due_date, tags; list_tasks status, priority,
    // due_before; update_task title, priority, due_date.
    EXPECT_EQ(c.n_argument_classifiers(), 9u);
    ASSERT_EQ(back->n_argument_classifiers(), c.n_argument_classifiers());
    for (size_t k = 0; k < 20; ++k)
        for (const char * tool : {"create_task", "list_tasks"}) {
            const auto a = c.arguments(test[k], tool), b = back->arguments(test[k], tool);
            ASSERT_EQ(a.size(), b.size());
            for (size_t i = 0; i < a.size(); ++i) {
                EXPECT_EQ(a[i].field, b[i].field);
                EXPECT_EQ(a[i].value, b[i].value);
                EXPECT_EQ(a[i].probability, b[i].probability);
            }
        }
    std::filesystem::remove(path);
}

TEST(IntentClassifier, DeclinesRequestsWithToolsItNeverSaw) {
    const IntentClassifier c = IntentClassifier::train(generated_chats(200, 1, train::DataSplit::DataSplit_train));
    Conversation conv;
    conv.messages.push_back({"user", "add a task to buy milk", {}, "", ""});
    conv.tools = task_tools();
    if (conv.tools.is_object()) conv.tools = ojson(conv.tools["tools"]);
    const std::optional<IntentDecision> d = c.decide(conv, true);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->tool, "create_task");
    EXPECT_GT(d->probability, 0.5);
    // Only create_task offered and no text answer allowed: that is the choice, with probability 1.
    Conversation only = conv;
    only.tools = ojson::array();
    for (const ojson & t : conv.tools)
        if (t["function"]["name"] == "delete_task") only.tools.push_back(t);
    const std::optional<IntentDecision> forced = c.decide(only, false);
    ASSERT_TRUE(forced.has_value());
    EXPECT_EQ(forced->tool, "delete_task");
    EXPECT_DOUBLE_EQ(forced->probability, 1.0);
    // A tool it never saw: no decision, the network chooses.
    Conversation unknown = conv;
    unknown.tools.push_back(ojson::parse(R"({"type":"function","function":{"name":"send_email","parameters":{"type":"object"}}})"));
    EXPECT_FALSE(c.decide(unknown, true).has_value());
}

TEST(IntentClassifier, RejectsDataWithoutToolCallsAndMalformedMetadata) {
    Conversation conv;
    conv.messages = {{"user", "hi", {}, "", ""}, {"assistant", "hello", {}, "", ""}};
    EXPECT_THROW(IntentClassifier::train({conv}), Error);
    const std::string path = (std::filesystem::temp_directory_path() / "sy_intent_bad.gguf").string();
    {
        gguf::Writer w;
        w.set("general.architecture", gguf::Value::string("llama"));
        w.set("switchyard.router.intent.labels", gguf::Value::strings({"", "a"}));
        w.set("switchyard.router.intent.buckets", gguf::Value::u32(1024));
        w.set("switchyard.router.intent.weights", gguf::Value::f32s(std::vector<float>(100, 0.0f)));
        w.write(path);
    }
    EXPECT_THROW(IntentClassifier::read(gguf::File::open(path)), Error);
    {
        // Argument classifiers named but not stored.
        gguf::Writer w;
        w.set("general.architecture", gguf::Value::string("llama"));
        w.set("switchyard.router.intent.labels", gguf::Value::strings({"", "a"}));
        w.set("switchyard.router.intent.buckets", gguf::Value::u32(1024));
        w.set("switchyard.router.intent.weights", gguf::Value::f32s(std::vector<float>(2048, 0.0f)));
        w.set("switchyard.router.intent.argument_tools", gguf::Value::strings({"a"}));
        w.set("switchyard.router.intent.argument_fields", gguf::Value::strings({"mode"}));
        w.write(path);
    }
    EXPECT_THROW(IntentClassifier::read(gguf::File::open(path)), Error);
    std::filesystem::remove(path);
}

}  // namespace
}  // namespace sy::chat
