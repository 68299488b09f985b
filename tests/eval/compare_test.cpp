// Judging single answers: classification of provider answers, strict and normalised argument equality,
// call pairing and the per-example score, on hand-written cases.
#include <gtest/gtest.h>

#include "eval/compare.h"
#include "eval_fixtures.h"

namespace sy::eval {
namespace {

using test::kTools;

chat::Message with_calls(std::vector<std::pair<std::string, ojson>> calls) {
    chat::Message m;
    m.role = "assistant";
    for (auto & [name, args] : calls) m.tool_calls.push_back({"call_1", name, args});
    return m;
}

chat::Message with_text(const std::string & text) {
    chat::Message m;
    m.role = "assistant";
    m.content = text;
    return m;
}

TEST(EvalCompare, ClassifiesStructuredCalls) {
    Prediction p = classify_answer(with_calls({{"create_task", ojson{{"title", "a"}}}}));
    ASSERT_EQ(p.kind, PredictionKind::PredictionKind_calls);
    ASSERT_EQ(p.calls.size(), 1u);
    EXPECT_EQ(p.calls[0].name, "create_task");
    EXPECT_EQ(p.calls[0].arguments, ojson({{"title", "a"}}));

    // Arguments as a JSON string (OpenAI wire form) are parsed; a string that is not JSON is malformed.
    p = classify_answer(with_calls({{"create_task", ojson(R"({"title": "b"})")}}));
    ASSERT_EQ(p.kind, PredictionKind::PredictionKind_calls);
    EXPECT_EQ(p.calls[0].arguments["title"], "b");
    p = classify_answer(with_calls({{"create_task", ojson(R"({"title": )")}}));
    EXPECT_EQ(p.kind, PredictionKind::PredictionKind_malformed);
    EXPECT_TRUE(p.calls.empty());
    p = classify_answer(with_calls({{"create_task", ojson::array({1, 2})}}));  // JSON, but not an object
    EXPECT_EQ(p.kind, PredictionKind::PredictionKind_malformed);
}

TEST(EvalCompare, ClassifiesCallsWrittenAsText) {
    Prediction p = classify_answer(with_text("<tool_call>\n{\"name\": \"list_tasks\", \"arguments\": {\"status\": \"open\"}}\n</tool_call>"));
    ASSERT_EQ(p.kind, PredictionKind::PredictionKind_calls);
    EXPECT_EQ(p.calls[0].name, "list_tasks");
    EXPECT_EQ(p.calls[0].arguments["status"], "open");

    p = classify_answer(with_text("{\"name\":\"list_tasks\",\"arguments\":{}}"));  // compact
    ASSERT_EQ(p.kind, PredictionKind::PredictionKind_calls);
    EXPECT_TRUE(p.calls[0].arguments.empty());

    p = classify_answer(with_text("{\"name\": \"create_task\", \"parameters\": {\"title\": \"x\"}}"));  // llama3
    ASSERT_EQ(p.kind, PredictionKind::PredictionKind_calls);
    EXPECT_EQ(p.calls[0].arguments["title"], "x");

    // A call cut off (max_tokens) is malformed, not a text answer.
    p = classify_answer(with_text("<tool_call>\n{\"name\": \"create_task\", \"arguments\": {\"title\": \"Bu"));
    EXPECT_EQ(p.kind, PredictionKind::PredictionKind_malformed);
    p = classify_answer(with_text("{\"name\":\"create_task\",\"arguments\":{\"title\""));
    EXPECT_EQ(p.kind, PredictionKind::PredictionKind_malformed);

    p = classify_answer(with_text("Sure, happy to help."));
    EXPECT_EQ(p.kind, PredictionKind::PredictionKind_text);
    EXPECT_EQ(p.text, "Sure, happy to help.");
    p = classify_answer(with_text("{ this is not a call }"));
    EXPECT_EQ(p.kind, PredictionKind::PredictionKind_text);
    EXPECT_EQ(classify_answer(with_text("")).kind, PredictionKind::PredictionKind_text);
}

TEST(EvalCompare, StrictAndNormalisedEquality) {
    const ojson a = ojson::parse(R"({"b": " Buy  Milk", "a": 1})");
    const ojson b = ojson::parse(R"({"a": 1.0, "b": "buy milk"})");
    EXPECT_FALSE(arguments_equal_strict(a, b));
    EXPECT_TRUE(arguments_equal_normalised(a, b));
    EXPECT_TRUE(arguments_equal_strict(a, ojson::parse(R"({"b": " Buy  Milk", "a": 1})")));
    EXPECT_FALSE(arguments_equal_strict(a, ojson::parse(R"({"a": 1, "b": " Buy  Milk"})")));  // key order
    EXPECT_FALSE(arguments_equal_strict(ojson::parse(R"({"a": 1})"), ojson::parse(R"({"a": 1.0})")));
    // Normalisation keeps array order, key spelling and value types other than numbers.
    EXPECT_FALSE(arguments_equal_normalised(ojson::parse(R"({"t": ["x", "y"]})"), ojson::parse(R"({"t": ["y", "x"]})")));
    EXPECT_FALSE(arguments_equal_normalised(ojson::parse(R"({"Title": "x"})"), ojson::parse(R"({"title": "x"})")));
    EXPECT_FALSE(arguments_equal_normalised(ojson::parse(R"({"a": "1"})"), ojson::parse(R"({"a": 1})")));
    EXPECT_TRUE(arguments_equal_normalised(ojson::parse(R"({"n": {"y": "A\tB", "x": [1]}})"),
                                           ojson::parse(R"({"n": {"x": [1.0], "y": "a b"}})")));
    EXPECT_EQ(normalise_value(ojson::parse(R"({"z": " Hello   World ", "a": 2})")).dump(), R"({"a":2.0,"z":"hello world"})");
}

TEST(EvalCompare, PairsParallelCallsByNameAndArguments) {
    const std::vector<Call> want = {{"f", {{"a", 1}}}, {"f", {{"a", 2}}}, {"g", ojson::object()}};
    const std::vector<Call> got = {{"g", ojson::object()}, {"f", {{"a", 2}}}, {"f", {{"a", 1}}}};
    const auto pairs = match_calls(want, got);
    ASSERT_EQ(pairs.size(), 3u);
    EXPECT_EQ(pairs[0], std::optional<size_t>(2));
    EXPECT_EQ(pairs[1], std::optional<size_t>(1));
    EXPECT_EQ(pairs[2], std::optional<size_t>(0));
    // Without equal arguments a call still pairs with the first of its name; a missing name pairs with none.
    const auto loose = match_calls({{"f", {{"a", 9}}}, {"h", ojson::object()}}, got);
    EXPECT_EQ(loose[0], std::optional<size_t>(1));
    EXPECT_EQ(loose[1], std::nullopt);
}

TEST(EvalCompare, ScoresOneExample) {
    Expected want{{{"create_task", {{"title", "Call Bob"}, {"priority", "low"}}}}};
    Prediction got = classify_answer(with_calls({{"create_task", {{"priority", "low"}, {"title", "call bob"}}}}));
    ExampleScore s = score_example(want, got, kTools);
    EXPECT_TRUE(s.tool_correct);
    EXPECT_FALSE(s.args_strict);
    EXPECT_TRUE(s.args_normalised);
    EXPECT_TRUE(s.schema_valid);
    ASSERT_EQ(s.arguments.size(), 2u);  // sorted: (create_task, priority), (create_task, title)
    EXPECT_EQ(s.arguments[0].argument, "priority");
    EXPECT_EQ(s.arguments[1].argument, "title");
    for (const ArgumentTally & t : s.arguments) {
        EXPECT_EQ(t.n_predicted, 1);
        EXPECT_EQ(t.n_expected, 1);
        EXPECT_EQ(t.n_correct, 1);
    }

    // Wrong tool: selection wrong, arguments not paired (predicted ones count as given, none correct).
    got = classify_answer(with_calls({{"list_tasks", {{"status", "someday"}}}}));
    s = score_example(want, got, kTools);
    EXPECT_FALSE(s.tool_correct);
    EXPECT_FALSE(s.args_normalised);
    EXPECT_FALSE(s.schema_valid);  // "someday" is not in the enum
    int64_t predicted = 0, expected = 0, correct = 0;
    for (const ArgumentTally & t : s.arguments) {
        predicted += t.n_predicted;
        expected += t.n_expected;
        correct += t.n_correct;
    }
    EXPECT_EQ(predicted, 1);
    EXPECT_EQ(expected, 2);
    EXPECT_EQ(correct, 0);

    // An unknown tool is schema-invalid; a text answer to a "no tool" example is right.
    EXPECT_FALSE(score_example(want, classify_answer(with_calls({{"nope", ojson::object()}})), kTools).schema_valid);
    EXPECT_TRUE(score_example(Expected{}, classify_answer(with_text("hi")), kTools).tool_correct);
    EXPECT_FALSE(score_example(Expected{}, classify_answer(with_calls({{"list_tasks", ojson::object()}})), kTools).tool_correct);
    Prediction err;
    err.kind = PredictionKind::PredictionKind_error;
    EXPECT_FALSE(score_example(Expected{}, err, kTools).tool_correct);
}

TEST(EvalCompare, ConfusionLabels) {
    EXPECT_EQ(expected_label(Expected{}), "none");
    EXPECT_EQ(expected_label(Expected{{{"g", {}}, {"f", {}}}}), "g");
    Prediction p;
    EXPECT_EQ(predicted_label(p), "none");
    p.kind = PredictionKind::PredictionKind_malformed;
    EXPECT_EQ(predicted_label(p), "malformed");
    p.kind = PredictionKind::PredictionKind_error;
    EXPECT_EQ(predicted_label(p), "error");
    p = classify_answer(with_calls({{"f", ojson::object()}}));
    EXPECT_EQ(predicted_label(p), "f");
}

}  // namespace
}  // namespace sy::eval
