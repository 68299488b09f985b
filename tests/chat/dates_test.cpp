// The date resolver: a table of phrases and the dates they mean, month/year rollover, leap years, plain
// text without dates, and the compact format's date line with today taken from the system prompt.
#include <gtest/gtest.h>

#include "chat/chat_format.h"
#include "chat/dates.h"

using namespace sy;
using namespace sy::chat;

namespace {

// The single date `text` mentions, or "" (none) / "many".
std::string one(const std::string & text, const std::string & today) {
    const auto found = find_dates(text, days_from_date(today));
    if (found.empty()) return "";
    if (found.size() > 1) return "many";
    return found[0].iso;
}

struct Row {
    const char * text;
    const char * want;
};

TEST(Dates, PhrasesResolveAgainstToday) {
    // 2025-03-12 is a Wednesday.
    const Row rows[] = {
        {"today", "2025-03-12"},
        {"tonight", "2025-03-12"},
        {"Tomorrow", "2025-03-13"},
        {"the day after tomorrow", "2025-03-14"},
        {"day after tomorrow", "2025-03-14"},
        {"yesterday", "2025-03-11"},
        {"friday", "2025-03-14"},
        {"next Friday", "2025-03-14"},
        {"this friday", "2025-03-14"},
        {"on Wednesday", "2025-03-19"},  // never today itself
        {"next tue", "2025-03-18"},
        {"this coming monday", "2025-03-17"},
        {"sunday", "2025-03-16"},
        {"in 3 days", "2025-03-15"},
        {"in three days", "2025-03-15"},
        {"in twenty one days", "2025-04-02"},
        {"in twenty-one days", "2025-04-02"},
        {"in a day", "2025-03-13"},
        {"in a week", "2025-03-19"},
        {"in two weeks", "2025-03-26"},
        {"in a fortnight", "2025-03-26"},
        {"within 10 days", "2025-03-22"},
        {"in a couple of days", "2025-03-14"},
        {"5 days from now", "2025-03-17"},
        {"a week from today", "2025-03-19"},
        {"in a month", "2025-04-12"},
        {"in 2 months", "2025-05-12"},
        {"next week", "2025-03-17"},
        {"next month", "2025-04-01"},
        {"this weekend", "2025-03-15"},
        {"end of the week", "2025-03-14"},
        {"the end of the month", "2025-03-31"},
        {"end of next month", "2025-04-30"},
        {"end of next week", "2025-03-21"},
        {"March 20", "2025-03-20"},
        {"March 12", "2025-03-12"},  // on or after today: this year
        {"March 3", "2026-03-03"},   // already past: next year
        {"Mar 20th", "2025-03-20"},
        {"mar. 20", "2025-03-20"},
        {"3 April", "2025-04-03"},
        {"3rd of April", "2025-04-03"},
        {"the 3rd of april", "2025-04-03"},
        {"april the third", "2025-04-03"},
        {"april twenty-first", "2025-04-21"},
        {"the twentieth of may", "2025-05-20"},
        {"Jan 5", "2026-01-05"},
        {"sept 9", "2025-09-09"},
        {"December 31, 2026", "2026-12-31"},
        {"1 May 2027", "2027-05-01"},
        {"3/14", "2025-03-14"},
        {"14/3", "2025-03-14"},
        {"3/1", "2026-03-01"},
        {"12/25/2025", "2025-12-25"},
        {"12/25/26", "2026-12-25"},
        {"2025-04-01", "2025-04-01"},
        {"2025/04/01", "2025-04-01"},
    };
    for (const Row & r : rows) EXPECT_EQ(one(r.text, "2025-03-12"), r.want) << r.text;
}

TEST(Dates, MonthAndYearRollOver) {
    // 2025-12-30 is a Tuesday.
    const Row rows[] = {
        {"tomorrow", "2025-12-31"},       {"in 3 days", "2026-01-02"}, {"next friday", "2026-01-02"},
        {"jan 2", "2026-01-02"},          {"next month", "2026-01-01"}, {"in a month", "2026-01-30"},
        {"end of the month", "2025-12-31"}, {"end of next month", "2026-01-31"}, {"December 1", "2026-12-01"},
    };
    for (const Row & r : rows) EXPECT_EQ(one(r.text, "2025-12-30"), r.want) << r.text;
    EXPECT_EQ(one("in a month", "2025-01-31"), "2025-02-28");  // clamped to the month's last day
}

TEST(Dates, LeapYears) {
    EXPECT_EQ(one("tomorrow", "2024-02-28"), "2024-02-29");
    EXPECT_EQ(one("in 2 days", "2024-02-28"), "2024-03-01");
    EXPECT_EQ(one("in a month", "2024-01-31"), "2024-02-29");
    EXPECT_EQ(one("end of the month", "2024-02-10"), "2024-02-29");
    EXPECT_EQ(one("end of the month", "2025-02-10"), "2025-02-28");
    EXPECT_EQ(one("Feb 29", "2025-03-12"), "2028-02-29");  // the next leap year
    EXPECT_EQ(one("tomorrow", "2100-02-28"), "2100-03-01");  // 2100 is no leap year
    EXPECT_EQ(one("tomorrow", "2000-02-28"), "2000-02-29");  // 2000 is
    EXPECT_EQ(one("february 30", "2025-03-12"), "");
    EXPECT_EQ(one("2025-02-29", "2025-03-12"), "");
}

TEST(Dates, PlainTextHasNone) {
    for (const char * text : {"add a task to buy milk", "task 3 is done", "call mom at 5", "may I add a task?",
                              "complete #12", "march on", "we sat down", "rename task 12 to the second draft",
                              "in 2025 I want to run", "find tasks about week planning", "order 10 days supply",
                              "call 555-12-34", ""})
        EXPECT_TRUE(find_dates(text, days_from_date("2025-03-12")).empty()) << text;
}

TEST(Dates, SpansAndSeveralMentions) {
    const std::string text = "Move #4 from Friday to next Monday, or in 3 days, please";
    const auto found = find_dates(text, days_from_date("2025-03-12"));
    ASSERT_EQ(found.size(), 3u);
    EXPECT_EQ(found[0].text, "Friday");
    EXPECT_EQ(found[0].iso, "2025-03-14");
    EXPECT_EQ(text.substr(found[0].begin, found[0].end - found[0].begin), "Friday");
    EXPECT_EQ(found[1].text, "next Monday");
    EXPECT_EQ(found[1].iso, "2025-03-17");
    EXPECT_EQ(found[2].text, "in 3 days");
    EXPECT_EQ(found[2].iso, "2025-03-15");
}

TEST(Dates, IsoDateInText) {
    EXPECT_EQ(find_iso_date("You manage the user's task list. Today is Wednesday, 2025-03-12."), days_from_date("2025-03-12"));
    EXPECT_FALSE(find_iso_date("no date here"));
    EXPECT_FALSE(find_iso_date("2025-02-30 is no date"));
    EXPECT_FALSE(find_iso_date("12025-03-123"));
    EXPECT_FALSE(parse_iso_date("2025-3-12"));
}

Conversation chat(const std::string & system, const std::string & user) {
    Conversation c;
    if (!system.empty()) c.messages.push_back({"system", system, {}, "", ""});
    c.messages.push_back({"user", user, {}, "", ""});
    return c;
}

TEST(Dates, CompactFormatWritesResolvedDatesWithTodayFromTheSystemPrompt) {
    const ChatFormat compact(ChatFormatKind::ChatFormatKind_compact);
    const Conversation c = chat("You manage the user's task list. Today is Wednesday, 2025-03-12.",
                                "move task 4 to next Friday and ping me tomorrow");
    EXPECT_EQ(compact.render(c, true).text(),
              "<|im_start|>user\nmove task 4 to next Friday and ping me tomorrow\n"
              "dates: next Friday = 2025-03-14, tomorrow = 2025-03-13<|im_end|>\n<|im_start|>assistant\n");
    // No date in the system prompt: set_today's day.
    ChatFormat fixed(ChatFormatKind::ChatFormatKind_compact);
    fixed.set_today(days_from_date("2025-06-01"));
    EXPECT_EQ(fixed.render(chat("Be brief.", "due tomorrow"), false).text(),
              "<|im_start|>user\ndue tomorrow\ndates: tomorrow = 2025-06-02<|im_end|>\n");
    // The system prompt wins over set_today.
    EXPECT_NE(fixed.render(c, false).text().find("next Friday = 2025-03-14"), std::string::npos);
    // Nothing added when no date is mentioned, or when the date is already written in ISO form.
    EXPECT_EQ(compact.render(chat("", "add milk"), false).text(), "<|im_start|>user\nadd milk<|im_end|>\n");
    EXPECT_EQ(fixed.render(chat("", "due 2025-07-01"), false).text(), "<|im_start|>user\ndue 2025-07-01<|im_end|>\n");
    // Without a system date or set_today: the local date.
    EXPECT_EQ(compact.today_of(chat("", "x")), local_today());
    // Formats that keep the system prompt leave the user text as it is.
    const std::string chatml = ChatFormat(ChatFormatKind::ChatFormatKind_chatml).render(c, false).text();
    EXPECT_EQ(chatml.find("dates:"), std::string::npos);
}

}  // namespace
