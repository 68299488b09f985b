// A deterministic English date resolver: finds date expressions in a user's text ("next Friday", "in 3
// days", "March 3", "3/14", "2025-04-01") and resolves them against a given "today". The compact chat format
// (chat_format.h) writes the resolved dates under the user's text, so a small router copies an ISO date
// instead of doing calendar arithmetic against a "today" it cannot see.
//
// Conventions (they are the task-agent data generator's, src/train/datagen.cpp):
//   today, tonight -> today; tomorrow -> +1; (the) day after tomorrow -> +2; yesterday -> -1
//   [this|next|on|coming] <weekday> -> the first such weekday AFTER today (never today itself: on a
//       Friday, "friday" and "next friday" both mean today + 7); "mon".."sun" abbreviations need a prefix
//   in|within N day(s)|week(s)|month(s), N days/weeks from now|today, in a week, in a fortnight, in a
//       couple of days; N as digits or words ("in three days", "in twenty one days")
//   next week -> Monday of next week; next month -> the 1st of next month; this/the weekend -> the
//       coming Saturday (today on a Saturday); end of (the) week -> the coming Friday (today on a Friday);
//       end of (the) month -> its last day
//   month and day: "March 3", "3 March", "Mar 3rd", "3rd of March", "march third", optionally with a
//       year ("March 3, 2026"); without a year, the first such date on or after today
//   numeric: "3/14" (month/day, or day/month when the first number is > 12), "3/14/2026", ISO
//       "2025-03-14" and "2025/03/14"
// Case is ignored. A phrase that names no valid date ("February 30") is left out, never an error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sy::chat {

// Civil dates (proleptic Gregorian), as days since 1970-01-01.
int64_t days_from_date(const std::string & iso);  // "2025-03-12" -> 20159; throws sy::Error on bad text
std::optional<int64_t> parse_iso_date(std::string_view iso);  // same, nullopt instead of throwing
std::string date_from_days(int64_t days);          // inverse: "YYYY-MM-DD"
int32_t weekday_of(int64_t days);                  // 0 = Monday .. 6 = Sunday
int64_t days_from_civil(int64_t y, int32_t m, int32_t d);  // no range check
bool valid_civil(int64_t y, int32_t m, int32_t d);

struct DateMention {
    size_t begin = 0, end = 0;  // byte span of the phrase in the text
    std::string text;           // the phrase as written
    std::string iso;            // the date it means, YYYY-MM-DD
};

// Every date expression of `text`, left to right, longest match first, resolved against `today`.
std::vector<DateMention> find_dates(std::string_view text, int64_t today);

// The first valid ISO date (YYYY-MM-DD) in a text, e.g. a system prompt's "Today is Wednesday, 2025-03-12.".
std::optional<int64_t> find_iso_date(std::string_view text);

// Today in the machine's local time zone.
int64_t local_today();

}  // namespace sy::chat
