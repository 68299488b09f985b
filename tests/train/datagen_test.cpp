// The task-agent data generator: valid examples under the tool grammar's parser and schemas, verbatim
// entities, resolved dates, determinism, disjoint splits.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "chat/chat_format.h"
#include "train/data.h"
#include "train/datagen.h"
#include "train/datagen_banks.h"

namespace sy::train {
namespace {

chat::ojson task_tools() {
    std::ifstream in(std::string(SY_SOURCE_DIR) + "/examples/task-agent/tools.json");
    return chat::ojson::parse(in);
}

std::string lower(std::string s) {
    for (char & c : s) c = (char)std::tolower((unsigned char)c);
    return s;
}

TEST(Datagen, CivilDates) {
    EXPECT_EQ(days_from_date("1970-01-01"), 0);
    EXPECT_EQ(date_from_days(days_from_date("2025-03-12")), "2025-03-12");
    EXPECT_EQ(weekday_of(days_from_date("2025-03-12")), 2);  // a Wednesday
    EXPECT_EQ(date_from_days(days_from_date("2024-02-28") + 1), "2024-02-29");
    EXPECT_EQ(date_from_days(days_from_date("2025-12-31") + 1), "2026-01-01");
    EXPECT_THROW(days_from_date("2025-02-30"), Error);
    EXPECT_THROW(days_from_date("12/03/2025"), Error);
}

TEST(Datagen, ExamplesAreWellFormedAndArgumentsComeFromTheUtterance) {
    const chat::ojson tools = task_tools();
    for (DataSplit split : {DataSplit::DataSplit_train, DataSplit::DataSplit_test}) {
        DatagenParams p;
        p.n = 600;
        p.seed = 7;
        p.split = split;
        const auto rows = generate_task_examples(tools, p);
        ASSERT_EQ(rows.size(), 600u);
        std::map<std::string, int> last_kind;
        for (const auto & row : rows) {
            const chat::Conversation c = chat::parse_conversation(row);  // validates roles, tools, arguments
            ASSERT_GE(c.messages.size(), 3u);
            // The test split states the given day; augmented train conversations each their own.
            if (split == DataSplit::DataSplit_test)
                EXPECT_EQ(c.messages[0].content, "You manage the user's task list. Today is Wednesday, 2025-03-12.");
            else
                EXPECT_EQ(c.messages[0].content.rfind("You manage the user's task list. Today is ", 0), 0u);
            const chat::Message & last = c.messages.back();
            ASSERT_EQ(last.role, "assistant");
            // The user turn the last answer responds to.
            std::string user;
            for (const auto & m : c.messages)
                if (m.role == "user") user = m.content;
            if (last.tool_calls.empty()) {
                EXPECT_FALSE(last.content.empty());
                ++last_kind["text"];
                continue;
            }
            ASSERT_EQ(last.tool_calls.size(), 1u);
            const chat::ToolCall & call = last.tool_calls[0];
            ++last_kind[call.name];
            const auto & a = call.arguments;
            if (a.contains("title")) {
                EXPECT_NE(user.find(a["title"].get<std::string>()), std::string::npos) << user;
            }
            if (a.contains("query")) {
                EXPECT_NE(user.find(a["query"].get<std::string>()), std::string::npos) << user;
            }
            if (a.contains("tags")) {
                for (const auto & t : a["tags"]) {
                    EXPECT_NE(user.find(t.get<std::string>()), std::string::npos) << user;
                }
            }
            if (a.contains("id")) {
                ASSERT_TRUE(a["id"].is_number_integer());
                // From the utterance, or from the tool result of a follow-up.
                const std::string sid = std::to_string(a["id"].get<int>());
                bool seen = user.find(sid) != std::string::npos;
                for (const auto & m : c.messages) seen = seen || (m.role == "tool" && m.content.find(sid) != std::string::npos);
                EXPECT_TRUE(seen) << user;
            }
            for (const char * k : {"due_date", "due_before"})
                if (a.contains(k)) {
                    EXPECT_NO_THROW(days_from_date(a[k].get<std::string>()));
                }
            if (a.contains("priority")) {
                const std::string pr = a["priority"].get<std::string>();
                EXPECT_TRUE(pr == "low" || pr == "medium" || pr == "high");
                if (call.name != "create_task" || pr != "medium" || lower(user).find("medium") != std::string::npos) {
                    EXPECT_NE(lower(user).find(pr), std::string::npos) << user;
                }
            }
            if (call.name == "create_task") {
                EXPECT_TRUE(a.contains("priority"));
            }
        }
        for (const char * k : {"text", "create_task", "list_tasks", "update_task", "complete_task", "delete_task", "search_tasks"}) {
            EXPECT_GT(last_kind[k], 20) << k;
        }
    }
}

TEST(Datagen, RelativeDatesResolveAgainstToday) {
    DatagenParams p;
    p.n = 3000;
    p.seed = 3;
    p.augment = false;
    int checked = 0;
    for (const auto & row : generate_task_examples(task_tools(), p)) {
        const chat::Conversation c = chat::parse_conversation(row);
        const chat::Message & last = c.messages.back();
        if (last.tool_calls.empty() || !last.tool_calls[0].arguments.contains("due_date")) continue;
        const std::string user = lower(c.messages[c.messages.size() - 2].content);
        const std::string due = last.tool_calls[0].arguments["due_date"];
        if (user.find("tomorrow") != std::string::npos && user.find("after tomorrow") == std::string::npos) {
            EXPECT_EQ(due, "2025-03-13") << user;
            ++checked;
        } else if (user.find("friday") != std::string::npos) {
            EXPECT_EQ(due, "2025-03-14") << user;
            ++checked;
        } else if (user.find("wednesday") != std::string::npos) {
            EXPECT_EQ(due, "2025-03-19") << user;  // the next one, not today
            ++checked;
        } else if (user.find("in 3 days") != std::string::npos || user.find("in three days") != std::string::npos) {
            EXPECT_EQ(due, "2025-03-15") << user;
            ++checked;
        }
    }
    EXPECT_GT(checked, 30);
}

// The compact format's date line (chat/dates.h) names every date argument the generator writes, in both
// splits: the router copies the ISO date instead of computing it.
TEST(Datagen, DateResolverCoversEveryGeneratedDate) {
    for (DataSplit split : {DataSplit::DataSplit_train, DataSplit::DataSplit_test}) {
        DatagenParams p;
        p.n = 3000;
        p.seed = 5;
        p.split = split;
        int checked = 0;
        for (const auto & row : generate_task_examples(task_tools(), p)) {
            const chat::Conversation c = chat::parse_conversation(row);
            const chat::Message & last = c.messages.back();
            if (last.tool_calls.empty()) continue;
            const std::string & user = c.messages[c.messages.size() - 2].content;
            const std::string line = chat::date_line(user, *chat::find_iso_date(c.messages[0].content));
            for (const char * k : {"due_date", "due_before"})
                if (last.tool_calls[0].arguments.contains(k)) {
                    const std::string iso = last.tool_calls[0].arguments[k];
                    EXPECT_TRUE(line.find("= " + iso) != std::string::npos || user.find(iso) != std::string::npos)
                        << user << " -> " << iso << " | " << line;
                    ++checked;
                }
        }
        EXPECT_GT(checked, 300);
    }
    // Train conversations are spread over many days (a router cannot learn one day's calendar).
    DatagenParams p;
    p.n = 400;
    std::set<std::string> days;
    for (const auto & row : generate_task_examples(task_tools(), p)) days.insert(row["messages"][0]["content"]);
    EXPECT_GT(days.size(), 200u);
}

TEST(Datagen, DeterministicPerSeedAndSplit) {
    DatagenParams p;
    p.n = 50;
    p.seed = 11;
    const auto a = generate_task_examples(task_tools(), p), b = generate_task_examples(task_tools(), p);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].dump(), b[i].dump());
    p.seed = 12;
    EXPECT_NE(generate_task_examples(task_tools(), p)[0].dump() + generate_task_examples(task_tools(), p)[1].dump(),
              a[0].dump() + a[1].dump());
}

TEST(Datagen, SplitsShareNoTemplateOrEntity) {
    const datagen::Banks & tr = datagen::train_banks();
    const datagen::Banks & te = datagen::test_banks();
    auto disjoint = [](const datagen::Strs & x, const datagen::Strs & y, const char * what) {
        for (const auto & s : x) EXPECT_EQ(std::find(y.begin(), y.end(), s), y.end()) << what << ": " << s;
    };
    disjoint(tr.title_verbs, te.title_verbs, "title verb");
    disjoint(tr.title_objects, te.title_objects, "title object");
    disjoint(tr.tags, te.tags, "tag");
    disjoint(tr.queries, te.queries, "query");
    disjoint(tr.topics, te.topics, "topic");
    const std::vector<std::pair<const datagen::Strs *, const datagen::Strs *>> templates = {
        {&tr.create, &te.create}, {&tr.mod_priority, &te.mod_priority}, {&tr.mod_date, &te.mod_date},
        {&tr.mod_tags, &te.mod_tags}, {&tr.list_open, &te.list_open}, {&tr.list_due, &te.list_due},
        {&tr.list_all, &te.list_all}, {&tr.update_priority, &te.update_priority}, {&tr.update_title, &te.update_title},
        {&tr.update_date, &te.update_date}, {&tr.complete, &te.complete}, {&tr.remove, &te.remove},
        {&tr.search, &te.search}, {&tr.small_talk, &te.small_talk}, {&tr.out_of_scope, &te.out_of_scope},
        {&tr.topic_frames, &te.topic_frames}, {&tr.follow_priority, &te.follow_priority},
        {&tr.follow_done, &te.follow_done}, {&tr.follow_delete, &te.follow_delete}, {&tr.follow_date, &te.follow_date},
        {&tr.follow_title, &te.follow_title}};
    for (const auto & [x, y] : templates) disjoint(*x, *y, "template");
    // The train split's extra words share no word with the test split's entities (function words aside).
    auto words = [](const datagen::Strs & xs) {
        std::set<std::string> w;
        for (const auto & x : xs) {
            std::string cur;
            for (char ch : x + " ") {
                if (ch == ' ') {
                    if (!cur.empty() && cur != "the" && cur != "a" && cur != "my" && cur != "for") w.insert(cur);
                    cur.clear();
                } else {
                    cur += (char)std::tolower((unsigned char)ch);
                }
            }
        }
        return w;
    };
    std::set<std::string> test_words;
    for (const datagen::Strs * x : {&te.title_verbs, &te.title_objects, &te.tags, &te.queries, &te.topics})
        for (const auto & w : words(*x)) test_words.insert(w);
    for (const datagen::Strs * x : {&tr.ext_verbs, &tr.ext_nouns, &tr.ext_adjectives, &tr.ext_people}) {
        EXPECT_FALSE(x->empty());
        for (const auto & w : words(*x)) EXPECT_EQ(test_words.count(w), 0u) << "extra train word: " << w;
    }
    EXPECT_TRUE(te.ext_verbs.empty() && te.ext_nouns.empty());
}

TEST(Datagen, RejectsAnotherToolSet) {
    const chat::ojson other = chat::ojson::parse(R"([{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}])");
    DatagenParams p;
    EXPECT_THROW(generate_task_examples(other, p), Error);
    EXPECT_THROW(data_split_from_name("valid"), Error);
}

}  // namespace
}  // namespace sy::train
