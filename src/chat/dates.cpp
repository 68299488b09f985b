// The date resolver (see dates.h). The text is cut into tokens (lowercased letter runs, digit runs,
// ordinals such as "3rd", single punctuation characters), each with its byte span; at every token the
// matchers below are tried and the longest match wins, then the scan goes on after it.
// Worked example, today = Wednesday 2025-03-12:
//   "move #4 to next Friday, or in 3 days"  tokens: move # 4 to next friday , or in 3 days
//   at "next": weekday matcher, 2 tokens -> Friday after today = 2025-03-14
//   at "in":   relative matcher, 3 tokens -> today + 3 = 2025-03-15
#include "chat/dates.h"

#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "common/error.h"

namespace sy::chat {
namespace {

enum class TokKind { TokKind_word, TokKind_number, TokKind_ordinal, TokKind_punct, TokKind_other };

struct Tok {
    TokKind kind;
    std::string text;  // lowercased; for numbers and ordinals, the digits
    size_t begin, end;
    int64_t value = 0;  // numbers and ordinals
};

std::vector<Tok> tokenize(std::string_view s) {
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
    std::vector<Tok> out;
    size_t i = 0;
    while (i < s.size()) {
        const char c = s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') { ++i; continue; }
        if (!alnum(c)) {
            const unsigned char uc = (unsigned char)c;
            size_t j = i + 1;
            if (uc >= 0x80)  // a whole UTF-8 sequence is one token
                while (j < s.size() && ((unsigned char)s[j] & 0xC0) == 0x80) ++j;
            out.push_back({uc >= 0x80 ? TokKind::TokKind_other : TokKind::TokKind_punct, std::string(s.substr(i, j - i)), i, j});
            i = j;
            continue;
        }
        size_t j = i;
        while (j < s.size() && alnum(s[j])) ++j;
        std::string t(s.substr(i, j - i));
        for (char & ch : t)
            if (ch >= 'A' && ch <= 'Z') ch = (char)(ch - 'A' + 'a');
        size_t nd = 0;
        while (nd < t.size() && t[nd] >= '0' && t[nd] <= '9') ++nd;
        Tok tok{TokKind::TokKind_other, t, i, j};
        if (nd == t.size()) {
            tok.kind = TokKind::TokKind_number;
        } else if (nd == 0) {
            tok.kind = TokKind::TokKind_word;
        } else if (nd <= 2 && t.size() == nd + 2) {
            const std::string suf = t.substr(nd);
            if (suf == "st" || suf == "nd" || suf == "rd" || suf == "th") {
                tok.kind = TokKind::TokKind_ordinal;
                tok.text = t.substr(0, nd);
            }
        }
        if ((tok.kind == TokKind::TokKind_number || tok.kind == TokKind::TokKind_ordinal) && tok.text.size() <= 6)
            tok.value = std::stoll(tok.text);
        else if (tok.kind == TokKind::TokKind_number)
            tok.kind = TokKind::TokKind_other;  // too long to be a day, a year or a count
        out.push_back(std::move(tok));
        i = j;
    }
    return out;
}

constexpr std::array<const char *, 7> kWeekdays = {"monday", "tuesday", "wednesday", "thursday",
                                                  "friday", "saturday", "sunday"};
constexpr std::array<std::pair<const char *, int>, 10> kWeekdayAbbrevs = {
    {{"mon", 0}, {"tue", 1}, {"tues", 1}, {"wed", 2}, {"thu", 3}, {"thur", 3}, {"thurs", 3}, {"fri", 4}, {"sat", 5}, {"sun", 6}}};
constexpr std::array<const char *, 12> kMonths = {"january", "february", "march",     "april",   "may",      "june",
                                                 "july",    "august",   "september", "october", "november", "december"};
constexpr std::array<std::pair<const char *, int>, 12> kMonthAbbrevs = {{{"jan", 1},
                                                                         {"feb", 2},
                                                                         {"mar", 3},
                                                                         {"apr", 4},
                                                                         {"jun", 6},
                                                                         {"jul", 7},
                                                                         {"aug", 8},
                                                                         {"sep", 9},
                                                                         {"sept", 9},
                                                                         {"oct", 10},
                                                                         {"nov", 11},
                                                                         {"dec", 12}}};
constexpr std::array<const char *, 20> kCardinals = {"zero",    "one",     "two",       "three",    "four",
                                                    "five",    "six",     "seven",     "eight",    "nine",
                                                    "ten",     "eleven",  "twelve",    "thirteen", "fourteen",
                                                    "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
constexpr std::array<const char *, 8> kTens = {"twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"};
constexpr std::array<const char *, 20> kOrdinals = {"zeroth",     "first",      "second",      "third",      "fourth",
                                                   "fifth",      "sixth",      "seventh",     "eighth",     "ninth",
                                                   "tenth",      "eleventh",   "twelfth",     "thirteenth", "fourteenth",
                                                   "fifteenth",  "sixteenth",  "seventeenth", "eighteenth", "nineteenth"};

int index_of(const auto & table, const std::string & w) {
    for (size_t i = 0; i < table.size(); ++i)
        if (w == table[i]) return (int)i;
    return -1;
}

struct Match {
    size_t n_tok = 0;  // tokens consumed
    int64_t day = 0;
};

class Scanner {
public:
    Scanner(const std::vector<Tok> & t, int64_t today) : t_(t), today_(today), wd_(weekday_of(today)) {
        const std::string iso = date_from_days(today);
        year_ = std::stoll(iso.substr(0, 4));
        month_ = std::stoi(iso.substr(5, 2));
    }

    std::optional<Match> at(size_t i) const {
        std::optional<Match> best;
        auto consider = [&](std::optional<Match> m) {
            if (m && (!best || m->n_tok > best->n_tok)) best = m;
        };
        consider(numeric(i));
        consider(named_day(i));
        consider(weekday(i));
        consider(relative(i));
        consider(period(i));
        consider(month_day(i));
        return best;
    }

private:
    const std::vector<Tok> & t_;
    int64_t today_;
    int32_t wd_;
    int64_t year_;
    int32_t month_;

    bool word(size_t i, const char * w) const {
        return i < t_.size() && t_[i].kind == TokKind::TokKind_word && t_[i].text == w;
    }
    bool punct(size_t i, char c) const {
        return i < t_.size() && t_[i].kind == TokKind::TokKind_punct && t_[i].text[0] == c;
    }
    bool number(size_t i) const { return i < t_.size() && t_[i].kind == TokKind::TokKind_number; }
    bool touching(size_t i) const { return i < t_.size() && i > 0 && t_[i].begin == t_[i - 1].end; }
    // Tokens i..j-1 written without spaces between them.
    bool glued(size_t i, size_t j) const {
        for (size_t k = i + 1; k < j; ++k)
            if (!touching(k)) return false;
        return true;
    }

    std::optional<int64_t> civil(int64_t y, int32_t m, int32_t d) const {
        if (!valid_civil(y, m, d)) return std::nullopt;
        return days_from_civil(y, m, d);
    }
    // Month and day without a year: the first such date on or after today (Feb 29 waits for a leap year).
    std::optional<int64_t> upcoming(int32_t m, int32_t d) const {
        for (int64_t y = year_; y <= year_ + 8; ++y)
            if (auto day = civil(y, m, d); day && *day >= today_) return day;
        return std::nullopt;
    }
    int64_t next_weekday(int target, bool allow_today) const {
        int off = (target - wd_ + 7) % 7;
        if (off == 0 && !allow_today) off = 7;
        return today_ + off;
    }
    int64_t month_end(int64_t y, int32_t m) const {
        const int64_t first_next = m == 12 ? days_from_civil(y + 1, 1, 1) : days_from_civil(y, m + 1, 1);
        return first_next - 1;
    }

    // A count: digits, "a"/"an", number words up to ninety-nine ("twenty one", "twenty-one").
    std::optional<std::pair<int64_t, size_t>> count(size_t i, bool allow_article) const {
        if (number(i)) return std::make_pair(t_[i].value, (size_t)1);
        if (i >= t_.size() || t_[i].kind != TokKind::TokKind_word) return std::nullopt;
        const std::string & w = t_[i].text;
        if (allow_article && (w == "a" || w == "an")) return std::make_pair((int64_t)1, (size_t)1);
        if (int k = index_of(kCardinals, w); k >= 0) return std::make_pair((int64_t)k, (size_t)1);
        if (int k = index_of(kTens, w); k >= 0) {
            const int64_t tens = 20 + 10 * k;
            size_t j = i + 1;
            if (punct(j, '-')) ++j;
            if (j < t_.size() && t_[j].kind == TokKind::TokKind_word)
                if (int u = index_of(kCardinals, t_[j].text); u >= 1 && u <= 9) return std::make_pair(tens + u, j + 1 - i);
            return std::make_pair(tens, (size_t)1);
        }
        return std::nullopt;
    }

    // A day of the month: 1..31 as digits or "3rd", or an ordinal word ("third", "twenty-first").
    std::optional<std::pair<int32_t, size_t>> day_of_month(size_t i, bool words_ok) const {
        if (i >= t_.size()) return std::nullopt;
        const Tok & k = t_[i];
        if ((k.kind == TokKind::TokKind_number || k.kind == TokKind::TokKind_ordinal) && k.text.size() <= 2 && k.value >= 1 &&
            k.value <= 31)
            return std::make_pair((int32_t)k.value, (size_t)1);
        if (!words_ok || k.kind != TokKind::TokKind_word) return std::nullopt;
        if (int o = index_of(kOrdinals, k.text); o >= 1) return std::make_pair((int32_t)o, (size_t)1);
        if (k.text == "twentieth") return std::make_pair(20, (size_t)1);
        if (k.text == "thirtieth") return std::make_pair(30, (size_t)1);
        if (k.text == "twenty" || k.text == "thirty") {
            size_t j = i + 1;
            if (punct(j, '-')) ++j;
            if (j < t_.size() && t_[j].kind == TokKind::TokKind_word)
                if (int o = index_of(kOrdinals, t_[j].text); o >= 1 && o <= 9) {
                    const int32_t d = (k.text == "twenty" ? 20 : 30) + o;
                    if (d <= 31) return std::make_pair(d, j + 1 - i);
                }
        }
        return std::nullopt;
    }

    std::optional<int32_t> month_name(size_t i) const {
        if (i >= t_.size() || t_[i].kind != TokKind::TokKind_word) return std::nullopt;
        if (int m = index_of(kMonths, t_[i].text); m >= 0) return m + 1;
        for (const auto & [name, m] : kMonthAbbrevs)
            if (t_[i].text == name) return m;
        return std::nullopt;
    }

    // 2025-03-14, 2025/03/14, 3/14, 14/3, 3/14/2026, 3/14/26 (written without spaces).
    std::optional<Match> numeric(size_t i) const {
        if (!number(i)) return std::nullopt;
        const Tok & a = t_[i];
        if (a.text.size() == 4 && (punct(i + 1, '-') || punct(i + 1, '/')) && number(i + 2) && punct(i + 3, t_[i + 1].text[0]) &&
            number(i + 4) && glued(i, i + 5)) {
            if (auto d = civil(a.value, (int32_t)t_[i + 2].value, (int32_t)t_[i + 4].value)) return Match{5, *d};
            return std::nullopt;
        }
        if (a.text.size() > 2 || !punct(i + 1, '/') || !number(i + 2) || t_[i + 2].text.size() > 2 || !glued(i, i + 3))
            return std::nullopt;
        int32_t m = (int32_t)a.value, d = (int32_t)t_[i + 2].value;
        if (m > 12 && d <= 12) std::swap(m, d);
        if (punct(i + 3, '/') && number(i + 4) && glued(i, i + 5)) {
            int64_t y = t_[i + 4].value;
            if (t_[i + 4].text.size() == 2) y += 2000;
            else if (t_[i + 4].text.size() != 4) return std::nullopt;
            if (auto day = civil(y, m, d)) return Match{5, *day};
            return std::nullopt;
        }
        if (auto day = upcoming(m, d)) return Match{3, *day};
        return std::nullopt;
    }

    // today, tonight, tomorrow, yesterday, (the) day after tomorrow.
    std::optional<Match> named_day(size_t i) const {
        if (word(i, "today") || word(i, "tonight")) return Match{1, today_};
        if (word(i, "tomorrow") || word(i, "tmrw")) return Match{1, today_ + 1};
        if (word(i, "yesterday")) return Match{1, today_ - 1};
        const size_t j = word(i, "the") ? i + 1 : i;
        if (word(j, "day") && word(j + 1, "after") && word(j + 2, "tomorrow")) return Match{j + 3 - i, today_ + 2};
        return std::nullopt;
    }

    // [this|next|on|coming|this coming] <weekday>.
    std::optional<Match> weekday(size_t i) const {
        size_t j = i;
        bool prefixed = false;
        if (word(j, "this") || word(j, "next") || word(j, "on") || word(j, "coming") || word(j, "upcoming")) {
            ++j;
            prefixed = true;
            if (word(j, "coming")) ++j;
        }
        if (j >= t_.size() || t_[j].kind != TokKind::TokKind_word) return std::nullopt;
        int target = index_of(kWeekdays, t_[j].text);
        if (target < 0 && prefixed)
            for (const auto & [name, wd] : kWeekdayAbbrevs)
                if (t_[j].text == name) target = wd;
        if (target < 0) return std::nullopt;
        return Match{j + 1 - i, next_weekday(target, false)};
    }

    // in|within N days/weeks/months, in a fortnight, in a couple of days, N days from now|today.
    std::optional<Match> relative(size_t i) const {
        auto unit_days = [&](size_t j, int64_t n) -> std::optional<Match> {
            if (j >= t_.size() || t_[j].kind != TokKind::TokKind_word) return std::nullopt;
            const std::string & u = t_[j].text;
            if (u == "day" || u == "days") return Match{j + 1, today_ + n};
            if (u == "week" || u == "weeks") return Match{j + 1, today_ + 7 * n};
            if (u == "fortnight" || u == "fortnights") return Match{j + 1, today_ + 14 * n};
            if (u == "month" || u == "months") {
                const std::string iso = date_from_days(today_);
                const int64_t total = year_ * 12 + (month_ - 1) + n;
                const int64_t y = total / 12;
                const int32_t m = (int32_t)(total % 12) + 1;
                const int64_t last = month_end(y, m);
                const int32_t d = std::stoi(iso.substr(8, 2));
                const int64_t want = days_from_civil(y, m, 1) + d - 1;
                return Match{j + 1, std::min(want, last)};
            }
            return std::nullopt;
        };
        auto amount = [&](size_t j) -> std::optional<std::pair<int64_t, size_t>> {
            if (word(j, "a") && word(j + 1, "couple")) {
                size_t k = j + 2;
                if (word(k, "of")) ++k;
                return std::make_pair((int64_t)2, k - j);
            }
            auto c = count(j, true);
            if (c && (c->first < 0 || c->first > 3650)) return std::nullopt;
            return c;
        };
        if (word(i, "in") || word(i, "within")) {
            if (auto a = amount(i + 1))
                if (auto m = unit_days(i + 1 + a->second, a->first)) return Match{m->n_tok - i, m->day};
            return std::nullopt;
        }
        if (auto a = amount(i))
            if (auto m = unit_days(i + a->second, a->first))
                if (word(m->n_tok, "from") && (word(m->n_tok + 1, "now") || word(m->n_tok + 1, "today")))
                    return Match{m->n_tok + 2 - i, m->day};
        return std::nullopt;
    }

    // next week, next month, this/the weekend, (the) end of (the|this|next) week|month.
    std::optional<Match> period(size_t i) const {
        if (word(i, "next") && word(i + 1, "week")) return Match{2, next_weekday(0, false)};
        if (word(i, "next") && word(i + 1, "month"))
            return Match{2, month_end(year_, month_) + 1};
        if ((word(i, "this") || word(i, "the")) && word(i + 1, "weekend")) return Match{2, next_weekday(5, true)};
        size_t j = word(i, "the") ? i + 1 : i;
        if (!word(j, "end") || !word(j + 1, "of")) return std::nullopt;
        j += 2;
        bool next = false;
        if (word(j, "the") || word(j, "this")) ++j;
        else if (word(j, "next")) { ++j; next = true; }
        if (word(j, "week")) {
            const int64_t fri = next_weekday(4, true);
            return Match{j + 1 - i, next ? fri + 7 : fri};
        }
        if (word(j, "month")) {
            if (!next) return Match{j + 1 - i, month_end(year_, month_)};
            const int64_t first_next = month_end(year_, month_) + 1;
            const std::string iso = date_from_days(first_next);
            return Match{j + 1 - i, month_end(std::stoll(iso.substr(0, 4)), std::stoi(iso.substr(5, 2)))};
        }
        return std::nullopt;
    }

    // An optional ", 2026" / " 2026" after a month-day phrase ending before token j.
    std::optional<Match> with_year(size_t i, size_t j, int32_t m, int32_t d) const {
        size_t k = punct(j, ',') ? j + 1 : j;
        if (number(k) && t_[k].text.size() == 4) {
            if (auto day = civil(t_[k].value, m, d)) return Match{k + 1 - i, *day};
            return std::nullopt;
        }
        if (auto day = upcoming(m, d)) return Match{j - i, *day};
        return std::nullopt;
    }

    // March 3, Mar. 3rd, march the third, 3 March, 3rd of March, the 3rd of March (, 2026).
    std::optional<Match> month_day(size_t i) const {
        if (auto m = month_name(i)) {
            size_t j = i + 1;
            if (punct(j, '.') && touching(j)) ++j;
            const bool the = word(j, "the");
            if (the) ++j;
            if (auto d = day_of_month(j, true)) {
                // "may 3" needs the digits or an ordinal: "may one day" is no date.
                return with_year(i, j + d->second, *m, d->first);
            }
            return std::nullopt;
        }
        size_t j = word(i, "the") ? i + 1 : i;
        auto d = day_of_month(j, j != i);
        if (!d) return std::nullopt;
        j += d->second;
        if (word(j, "of")) ++j;
        auto m = month_name(j);
        if (!m) return std::nullopt;
        ++j;
        if (punct(j, '.') && touching(j)) ++j;
        return with_year(i, j, *m, d->first);
    }
};

}  // namespace

int64_t days_from_civil(int64_t y, int32_t m, int32_t d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

bool valid_civil(int64_t y, int32_t m, int32_t d) {
    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) return false;
    static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= kDays[m - 1] + (m == 2 && leap ? 1 : 0);
}

std::optional<int64_t> parse_iso_date(std::string_view iso) {
    if (iso.size() != 10 || iso[4] != '-' || iso[7] != '-') return std::nullopt;
    int v[3] = {0, 0, 0};
    const size_t from[3] = {0, 5, 8}, len[3] = {4, 2, 2};
    for (int k = 0; k < 3; ++k)
        for (size_t c = from[k]; c < from[k] + len[k]; ++c) {
            if (iso[c] < '0' || iso[c] > '9') return std::nullopt;
            v[k] = v[k] * 10 + (iso[c] - '0');
        }
    if (!valid_civil(v[0], v[1], v[2])) return std::nullopt;
    return days_from_civil(v[0], v[1], v[2]);
}

int64_t days_from_date(const std::string & iso) {
    if (auto d = parse_iso_date(iso)) return *d;
    throw Error(ErrorKind::ErrorKind_invalid_argument, "not a valid YYYY-MM-DD date: '" + iso + "'");
}

std::string date_from_days(int64_t z) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    const int64_t d = doy - (153 * mp + 2) / 5 + 1;
    const int64_t m = mp < 10 ? mp + 3 : mp - 9;
    const int64_t y = yoe + era * 400 + (m <= 2);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld", (long long)y, (long long)m, (long long)d);
    return buf;
}

int32_t weekday_of(int64_t days) { return (int32_t)(((days % 7) + 7 + 3) % 7); }  // 1970-01-01 was a Thursday

std::vector<DateMention> find_dates(std::string_view text, int64_t today) {
    const std::vector<Tok> toks = tokenize(text);
    const Scanner scan(toks, today);
    std::vector<DateMention> out;
    size_t i = 0;
    while (i < toks.size()) {
        // A date inside a longer run of digits and dashes/slashes (a phone number, an id) is no date.
        const bool mid_run = i > 0 && toks[i].begin == toks[i - 1].end && toks[i - 1].kind == TokKind::TokKind_punct &&
                             (toks[i - 1].text == "-" || toks[i - 1].text == "/");
        if (auto m = mid_run ? std::nullopt : scan.at(i)) {
            const size_t last = i + m->n_tok - 1;
            const bool run_on = last + 1 < toks.size() && toks[last + 1].begin == toks[last].end &&
                                toks[last + 1].kind == TokKind::TokKind_punct &&
                                (toks[last + 1].text == "-" || toks[last + 1].text == "/") && toks[last].kind == TokKind::TokKind_number &&
                                last + 2 < toks.size() && toks[last + 2].begin == toks[last + 1].end &&
                                toks[last + 2].kind == TokKind::TokKind_number;
            if (!run_on) {
                DateMention d;
                d.begin = toks[i].begin;
                d.end = toks[last].end;
                d.text = std::string(text.substr(d.begin, d.end - d.begin));
                d.iso = date_from_days(m->day);
                out.push_back(std::move(d));
                i = last + 1;
                continue;
            }
        }
        ++i;
    }
    return out;
}

std::optional<int64_t> find_iso_date(std::string_view text) {
    for (size_t i = 0; i + 10 <= text.size(); ++i) {
        if (i > 0 && text[i - 1] >= '0' && text[i - 1] <= '9') continue;
        if (i + 10 < text.size() && text[i + 10] >= '0' && text[i + 10] <= '9') continue;
        if (auto d = parse_iso_date(text.substr(i, 10))) return d;
    }
    return std::nullopt;
}

int64_t local_today() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    return days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

}  // namespace sy::chat
