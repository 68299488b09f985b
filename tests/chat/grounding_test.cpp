// Grounded replies (chat/grounding.h): the values a reply to a tool result may state, the automaton that
// follows a reply byte by byte (whole copies, no digit glued to a copied number, quotes only around
// values), and the check on finished replies that the evaluator counts.
#include <gtest/gtest.h>

#include <algorithm>

#include "chat/grounding.h"

using namespace sy;
using namespace sy::chat;

namespace {

std::vector<Message> created_task() {
    std::vector<Message> m;
    m.push_back({"system", "You manage tasks. Today is 2025-03-12.", {}, "", ""});
    m.push_back({"user", "add buy milk, high priority, due friday", {}, "", ""});
    m.push_back({"assistant", "", {{"call_1", "create_task", ojson::parse(R"({"title":"buy milk","priority":"high"})")}}, "", ""});
    m.push_back({"tool", R"({"id":12,"title":"buy milk","due_date":"2025-03-14","tags":["home","errands"]})", {}, "call_1", ""});
    return m;
}

bool has(const std::vector<std::string> & v, const std::string & x) { return std::find(v.begin(), v.end(), x) != v.end(); }

// The whole of `text` is grounded and may end there.
bool grounded(const GroundedText & g, std::string_view text) {
    GroundedText::State s = g.start();
    return g.advance(s, text) && GroundedText::can_end(s);
}

// `text` can still be continued into a grounded reply.
bool alive(const GroundedText & g, std::string_view text) {
    GroundedText::State s = g.start();
    return g.advance(s, text);
}

TEST(Grounding, ValuesOfTheTurnsCallsAndResults) {
    const std::vector<std::string> v = reply_values(created_task());
    for (const char * x : {"12", "buy milk", "\"buy milk\"", "high", "2025-03-14", "home", "\"errands\"", "0", "1", "2"})
        EXPECT_TRUE(has(v, x)) << x;
    EXPECT_FALSE(has(v, "3"));           // counts stop at the longest array
    EXPECT_FALSE(has(v, "2025"));        // a string without a space stays whole
    EXPECT_FALSE(has(v, "\"2025-03-14\""));  // only text is quoted
    std::vector<int32_t> uses;
    const std::vector<std::string> same = reply_values(created_task(), ojson(), &uses);
    ASSERT_EQ(same, v);
    ASSERT_EQ(uses.size(), v.size());
    for (size_t i = 0; i < v.size(); ++i)  // "buy milk" is in the call and in the result: quoted twice
        EXPECT_EQ(uses[i], v[i] == "\"buy milk\"" ? 2 : v[i][0] == '"' ? 1 : 0) << v[i];
    EXPECT_FALSE(has(v, "2025-03-12"));  // the system prompt is not a result

    // No tool result after the last user message: nothing to ground a reply in.
    std::vector<Message> later = created_task();
    later.push_back({"assistant", "Added it.", {}, "", ""});
    later.push_back({"user", "thanks", {}, "", ""});
    EXPECT_TRUE(reply_values(later).empty());

    // A result that is not JSON is one string; the digit runs of a string with spaces are values too.
    std::vector<Message> failed = created_task();
    failed.back().content = "'complete_task' answered HTTP 404: no task with id 7";
    const std::vector<std::string> f = reply_values(failed);
    EXPECT_TRUE(has(f, "404"));
    EXPECT_TRUE(has(f, "7"));
    EXPECT_TRUE(has(f, failed.back().content));
}

TEST(Grounding, EnumLabelsOfTheToolsAreNotQuoted) {
    const ojson tools = ojson::parse(R"([{"type":"function","function":{"name":"create_task","parameters":{"type":"object",
        "properties":{"title":{"type":"string"},"priority":{"type":"string","enum":["low","medium","high"]}}}}}])");
    const std::vector<std::string> v = reply_values(created_task(), tools);
    EXPECT_TRUE(has(v, "high"));
    EXPECT_FALSE(has(v, "\"high\""));
    EXPECT_TRUE(has(v, "\"buy milk\""));
    const GroundedText g(v);
    EXPECT_TRUE(grounded(g, "Added \"buy milk\", high priority."));
    EXPECT_FALSE(alive(g, "Added \"high"));
}

TEST(Grounding, RepliesMayStateOnlyTheResultsValues) {
    const GroundedText g(reply_values(created_task()));
    EXPECT_TRUE(grounded(g, "Added \"buy milk\" as task #12, due 2025-03-14, high priority."));
    EXPECT_TRUE(grounded(g, "Done: task #12 \"buy milk\" (tags home, errands), 2 tags."));
    EXPECT_TRUE(grounded(g, "Added it."));  // no values at all
    EXPECT_FALSE(alive(g, "Added task #13"));              // not an id of the result
    EXPECT_FALSE(alive(g, "Added task #123"));             // "12" then a digit: no gluing copies
    EXPECT_FALSE(alive(g, "Added task #12 due 2025-03-15"));
    EXPECT_FALSE(alive(g, "Added \"port Mare\""));         // a quote opens only a value
    EXPECT_FALSE(alive(g, "Added \"buy milk and eggs\""));
    // Half a copy is alive but may not end.
    EXPECT_TRUE(alive(g, "Added \"buy mi"));
    EXPECT_FALSE(grounded(g, "Added \"buy mi"));
    EXPECT_TRUE(alive(g, "due 2025-0"));
    EXPECT_FALSE(grounded(g, "due 2025-0"));
    // A value copied whole may be followed by anything free, also right after its last digit.
    EXPECT_TRUE(grounded(g, "#12."));
    EXPECT_TRUE(grounded(g, "#12th"));
    // After '#' only a number: an id, never a date that starts with a digit.
    EXPECT_FALSE(alive(g, "Added task #2025"));
    EXPECT_TRUE(grounded(g, "Added task #2, due 2025-03-14"));
    // ... but not another copy: a free byte comes between two values.
    EXPECT_FALSE(alive(g, "#12\"buy"));
    EXPECT_TRUE(grounded(g, "#12 \"buy milk\""));
    // Two one-digit values never make a two-digit number.
    const GroundedText counts({"1", "2"});
    EXPECT_TRUE(grounded(counts, "1 and 2"));
    EXPECT_FALSE(alive(counts, "12"));
}

TEST(Grounding, UngroundedValuesOfAFinishedReply) {
    const std::vector<std::string> v = reply_values(created_task());
    EXPECT_TRUE(ungrounded_values("Added \"buy milk\" as task #12, due 2025-03-14.", v).empty());
    const std::vector<std::string> bad = ungrounded_values("Done: task #55 \"port Mare\", due 2025-03-15. 3.5 stars", v);
    ASSERT_EQ(bad.size(), 4u);
    EXPECT_EQ(bad[0], "55");
    EXPECT_EQ(bad[1], "\"port Mare\"");
    EXPECT_EQ(bad[2], "2025-03-15");
    EXPECT_EQ(bad[3], "3.5");
    // An unclosed quote's rest is one string.
    const std::vector<std::string> open = ungrounded_values("Added \"buy", v);
    ASSERT_EQ(open.size(), 1u);
    EXPECT_EQ(open[0], "\"buy");
    // Words outside quotes are free.
    EXPECT_TRUE(ungrounded_values("Nice work, all done!", v).empty());
    const std::vector<std::string> stated = stated_values("Task #12 \"buy milk\" is due 2025-03-14, 3.5 of 10.");
    EXPECT_EQ(stated, (std::vector<std::string>{"12", "\"buy milk\"", "2025-03-14", "3.5", "10"}));
}

}  // namespace
