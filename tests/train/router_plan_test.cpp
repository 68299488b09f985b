// The router's plan before decoding (chat/router_plan.h): with an intent classifier and a slot tagger
// trained on generated task-agent chats, the grammar's tools are the shortlist, enum arguments are fixed
// or left out, free-text copy fields are required or left out by the tagger's spans, ids and dates are
// the ones the request (or, for an id, an earlier turn) names, and the confidence folds the classifier in.
#include <gtest/gtest.h>


#include "chat/dates.h"
#include "chat/router_plan.h"
#include "train/datagen.h"
#include "train_test_util.h"

namespace sy::chat {
namespace {

using train::test::generated_chats;
using train::test::task_tools;

struct Aids {
    IntentClassifier intent;
    SlotTagger tagger;
};

const Aids & aids() {
    static const Aids a = [] {
        const std::vector<Conversation> convs = generated_chats(3000, 1, train::DataSplit::DataSplit_train);
        return Aids{IntentClassifier::train(convs), SlotTagger::train(convs)};
    }();
    return a;
}

Conversation request(const std::string & text) {
    Conversation c;
    c.tools = task_tools();
    c.messages.push_back({"user", text, {}, "", ""});
    return c;
}

const std::set<std::string> kCopyFields{"create_task.title",  "create_task.due_date", "create_task.tags[]",
                                        "list_tasks.due_before", "update_task.id",      "update_task.title",
                                        "update_task.due_date", "complete_task.id",     "delete_task.id",
                                        "search_tasks.query"};

// The plan for one user request, with the compact format's copy sources (its date line resolves relative
// dates against 2025-03-12).
RouterPlan plan_for(const Conversation & c, grammar::ToolChoiceMode mode = grammar::ToolChoiceMode::ToolChoiceMode_auto,
                    bool with_aids = true) {
    ChatFormat fmt(ChatFormatKind::ChatFormatKind_compact);
    fmt.set_today(parse_iso_date("2025-03-12"));
    return plan_route(c, with_aids ? &aids().intent : nullptr, with_aids ? &aids().tagger : nullptr, kCopyFields,
                      fmt.copy_sources(c), mode, fmt.today_of(c));
}
RouterPlan plan_for(const std::string & text, grammar::ToolChoiceMode mode = grammar::ToolChoiceMode::ToolChoiceMode_auto,
                    bool with_aids = true) {
    return plan_for(request(text), mode, with_aids);
}

const ojson * params_of(const RouterPlan & plan, const std::string & tool) { return find_tool_schema(plan.grammar_tools, tool); }

bool required(const ojson & params, const std::string & f) {
    for (const ojson & r : params.value("required", ojson::array()))
        if (r == f) return true;
    return false;
}

TEST(RouterPlan, ShortlistsTheToolAndFixesItsEnumArguments) {
    const RouterPlan plan = plan_for("add a task to repaint the fence, high priority, with tags garden and school");
    ASSERT_TRUE(plan.shortlist.has_value());
    EXPECT_EQ(plan.shortlist->front().tool, "create_task");
    const ojson * p = params_of(plan, "create_task");
    ASSERT_NE(p, nullptr);
    EXPECT_EQ((*p)["properties"]["priority"], ojson::parse(R"({"const":"high"})"));
    EXPECT_EQ((*p)["properties"]["tags"], ojson::parse(R"({"const":["garden","school"]})"));
    EXPECT_TRUE(required(*p, "tags"));
    EXPECT_TRUE(required(*p, "title"));
    EXPECT_EQ(plan.spans.at("title"), std::vector<std::string>{"repaint the fence"});
    // Only shortlisted tools reach the grammar.
    for (const ojson & t : plan.grammar_tools) {
        const std::string name = t["function"]["name"];
        EXPECT_TRUE(std::any_of(plan.shortlist->begin(), plan.shortlist->end(), [&](const IntentDecision & d) { return d.tool == name; }));
    }
}

TEST(RouterPlan, LeavesOutWhatTheRequestDoesNotSay) {
    const RouterPlan plan = plan_for("show me my tasks");
    const ojson * p = params_of(plan, "list_tasks");
    ASSERT_NE(p, nullptr);
    EXPECT_FALSE((*p)["properties"].contains("status"));
    EXPECT_FALSE((*p)["properties"].contains("priority"));
    EXPECT_FALSE((*p)["properties"].contains("due_before"));
    const RouterPlan due = plan_for("show me my tasks due before friday");
    const ojson * d = params_of(due, "list_tasks");
    ASSERT_NE(d, nullptr);
    EXPECT_TRUE(required(*d, "due_before"));  // written, and the date is the one the request names
    EXPECT_EQ((*d)["properties"]["due_before"], ojson::parse(R"({"const":"2025-03-14"})"));

    const RouterPlan rename = plan_for("rename task 12 to call the plumber");
    const ojson * u = params_of(rename, "update_task");
    ASSERT_NE(u, nullptr);
    EXPECT_TRUE(required(*u, "title"));
    EXPECT_FALSE((*u)["properties"].contains("priority"));
    const RouterPlan move = plan_for("move task 12 to friday");
    const ojson * m = params_of(move, "update_task");
    ASSERT_NE(m, nullptr);
    EXPECT_FALSE((*m)["properties"].contains("title"));  // no title span: no title

    // A date copy field needs a date to copy: none in the request, none in the call.
    const RouterPlan undated = plan_for("I have to water the plants, please make a task for it");
    const ojson * c = params_of(undated, "create_task");
    ASSERT_NE(c, nullptr);
    EXPECT_FALSE((*c)["properties"].contains("due_date"));
    EXPECT_FALSE((*c)["properties"].contains("tags"));
    const RouterPlan dated = plan_for("add a task to water the plants, due friday");
    const ojson * cd = params_of(dated, "create_task");
    ASSERT_NE(cd, nullptr);
    EXPECT_TRUE((*cd)["properties"].contains("due_date"));
}

TEST(RouterPlan, IdsAndDatesAreTheOnesTheRequestNames) {
    // The tagger's number picker finds the id among the request's numbers, and the date phrase is the due
    // date: neither 13 (of "13 aug") nor any other number can be the id.
    const RouterPlan move = plan_for("can you move task number 9 to 13 aug");
    const ojson * p = params_of(move, "update_task");
    ASSERT_NE(p, nullptr);
    EXPECT_EQ((*p)["properties"]["id"], ojson::parse(R"({"const":9})"));
    EXPECT_EQ((*p)["properties"]["due_date"], ojson::parse(R"({"const":"2025-08-13"})"));
    EXPECT_EQ(move.spans.at("id"), std::vector<std::string>{"9"});

    // "it": the id an earlier turn gave, not a number of an earlier date ("2025" of "2025-03-19").
    Conversation c = request("add a task to buy milk, due next wednesday");
    c.messages.push_back({"assistant", "", {{"call_1", "create_task", ojson::parse(R"({"title":"buy milk","due_date":"2025-03-19"})")}}, "", ""});
    c.messages.push_back({"tool", R"({"id":125,"title":"buy milk","due_date":"2025-03-19","status":"open"})", {}, "call_1", "create_task"});
    c.messages.push_back({"assistant", "Added task #125 \"buy milk\".", {}, "", ""});
    c.messages.push_back({"user", "can it be due in a week instead?", {}, "", ""});
    const RouterPlan follow = plan_for(c);
    p = params_of(follow, "update_task");
    ASSERT_NE(p, nullptr);
    EXPECT_EQ((*p)["properties"]["id"], ojson::parse(R"({"const":125})"));
    EXPECT_EQ((*p)["properties"]["due_date"], ojson::parse(R"({"const":"2025-03-19"})"));
}

TEST(RouterPlan, KeepsEveryToolWhenTheChoiceIsTheRequests) {
    const Conversation c = request("add a task to water the plants");
    const RouterPlan plan = plan_for("add a task to water the plants", grammar::ToolChoiceMode::ToolChoiceMode_function);
    EXPECT_FALSE(plan.shortlist.has_value());
    EXPECT_EQ(plan.grammar_tools.size(), c.tools.size());
    // Without aids the tools pass through untouched.
    const RouterPlan bare = plan_for("add a task to water the plants", grammar::ToolChoiceMode::ToolChoiceMode_auto, false);
    EXPECT_EQ(bare.grammar_tools, c.tools);
    EXPECT_TRUE(bare.spans.empty());
}

TEST(RouterPlan, SmallTalkGetsATextAnswerUnlessACallIsRequired) {
    const RouterPlan chat = plan_for("Good evening!");
    EXPECT_TRUE(chat.text_only);
    EXPECT_GT(chat.text_probability, 0.5);
    const RouterPlan required = plan_for("Good evening!", grammar::ToolChoiceMode::ToolChoiceMode_required);
    EXPECT_FALSE(required.text_only);
    ASSERT_TRUE(required.shortlist.has_value());
    EXPECT_FALSE(plan_for("add a task to water the plants").text_only);

    grammar::OutputConfidence c;  // a text answer: the decision is at most the classifier's
    c.decision = 0.99;
    temper_confidence(c, {}, chat);
    EXPECT_DOUBLE_EQ(c.decision, std::min(0.99, chat.text_probability));
}

TEST(RouterPlan, ConfidenceTakesTheClassifiersShare) {
    RouterPlan plan;
    plan.shortlist = std::vector<IntentDecision>{{"create_task", 0.7}, {"update_task", 0.25}};
    plan.arguments["create_task"] = {{"priority", true, ojson("high"), 0.6}, {"due_date", false, std::nullopt, 0.9}};
    grammar::OutputConfidence c;
    c.is_tool_call = true;
    grammar::CallConfidence call;
    call.decision = 0.95;
    call.name = 1.0;
    call.arguments = {{"title", 0.99, 3}, {"priority", 1.0, 1}};
    c.calls.push_back(call);
    temper_confidence(c, {"create_task"}, plan);
    EXPECT_DOUBLE_EQ(c.calls[0].name, 0.7);
    EXPECT_DOUBLE_EQ(c.calls[0].arguments[1].confidence, 0.6);
    EXPECT_DOUBLE_EQ(c.calls[0].overall, 0.6);
}

}  // namespace
}  // namespace sy::chat
