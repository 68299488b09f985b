// The task-agent data generator (see datagen.h). An utterance is assembled from pieces: template text
// (carrier words, which augmentation may alter) and slot values (entities, ids, priority words, date
// phrases: copied verbatim, so the arguments stay exactly what the user typed).
#include "train/datagen.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <optional>

#include "common/rng.h"
#include "train/datagen_banks.h"

namespace sy::train {
namespace {

using chat::ojson;
using datagen::Banks;
using datagen::Strs;

struct Rng : SplitMix64 {
    size_t below(size_t n) { return (size_t)(next() % (uint64_t)n); }
    int range(int lo, int hi) { return lo + (int)below((size_t)(hi - lo + 1)); }  // [lo, hi]
    bool chance(double p) { return (double)(next() >> 11) * 0x1.0p-53 < p; }
    const std::string & pick(const Strs & v) {
        SY_ASSERT(!v.empty());
        return v[below(v.size())];
    }
};

constexpr std::array<const char *, 7> kWeekdays = {"monday", "tuesday", "wednesday", "thursday",
                                                  "friday", "saturday", "sunday"};
constexpr std::array<const char *, 12> kMonths = {"january", "february", "march",     "april",   "may",      "june",
                                                 "july",    "august",   "september", "october", "november", "december"};
constexpr std::array<const char *, 11> kNumberWords = {"zero", "one", "two", "three", "four", "five",
                                                      "six",  "seven", "eight", "nine", "ten"};
constexpr std::array<const char *, 3> kPriorities = {"low", "medium", "high"};
constexpr std::array<const char *, 16> kSyllables = {"ka", "lo", "mi", "zen", "tor", "vi", "ra", "bel",
                                                    "dus", "fen", "quo", "shi", "mar", "pel", "ut", "ex"};

std::string capitalise(std::string s) {
    if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = (char)(s[0] - 'a' + 'A');
    return s;
}

// ---- Utterances: pieces and augmentation ----

struct Piece {
    std::string text;
    bool slot = false;  // verbatim (an entity or a value the arguments depend on)
};
using Utterance = std::vector<Piece>;

// Appends `tmpl` with {name} slots replaced by slots[name] (slot pieces).
void append(Utterance & u, const std::string & tmpl, const std::vector<std::pair<std::string, std::string>> & slots) {
    size_t i = 0;
    while (i < tmpl.size()) {
        const size_t open = tmpl.find('{', i);
        if (open == std::string::npos) {
            u.push_back({tmpl.substr(i), false});
            break;
        }
        if (open > i) u.push_back({tmpl.substr(i, open - i), false});
        const size_t close = tmpl.find('}', open);
        SY_ASSERT(close != std::string::npos);
        const std::string name = tmpl.substr(open + 1, close - open - 1);
        bool found = false;
        for (const auto & [k, v] : slots)
            if (k == name) {
                if (!v.empty()) u.push_back({v, true});
                found = true;
            }
        SY_ASSERT(found);
        i = close + 1;
    }
}

// Carrier-word edits. Train: synonym swaps, dropped filler words, typos, casing. Test: occasional typos.
const std::array<std::pair<const char *, const char *>, 8> kSynonyms = {{{"please ", "pls "},
                                                                         {"task", "todo"},
                                                                         {"can you ", "could you "},
                                                                         {"show me", "show"},
                                                                         {" my ", " the "},
                                                                         {"delete", "del"},
                                                                         {"thanks", "thx"},
                                                                         {"what are", "whats"}}};
const std::array<const char *, 5> kDroppable = {"please ", "my ", "the ", "a ", "can you "};

std::string typo(std::string w, Rng & rng) {
    if (w.size() < 4) return w;
    const size_t i = 1 + rng.below(w.size() - 2);
    switch (rng.below(3)) {
        case 0: std::swap(w[i], w[i + 1 < w.size() ? i + 1 : i - 1]); break;
        case 1: w.erase(i, 1); break;
        default: w.insert(i, 1, w[i]); break;
    }
    return w;
}

// Applies a typo to one random word (letters only, length >= 4) of a carrier piece.
void typo_in(std::string & text, Rng & rng) {
    std::vector<std::pair<size_t, size_t>> words;
    for (size_t i = 0; i < text.size();) {
        if (!std::isalpha((unsigned char)text[i])) { ++i; continue; }
        size_t j = i;
        while (j < text.size() && std::isalpha((unsigned char)text[j])) ++j;
        if (j - i >= 4) words.push_back({i, j - i});
        i = j;
    }
    if (words.empty()) return;
    const auto [b, n] = words[rng.below(words.size())];
    text.replace(b, n, typo(text.substr(b, n), rng));
}

// Openers and closers the train split wraps some requests in, so an entity is not always followed by
// the template's own words or the end of the text.
const std::array<const char *, 10> kOpeners = {"hey ", "ok ", "hi, ", "so ", "um, ", "right, ", "hello, ", "yo ",
                                               "alright, ", "one more thing: "};
const std::array<const char *, 12> kClosers = {" please", " thanks", " for me", " asap", ", thank you", " if you can",
                                               " pls", " right away", ", cheers", " when you get a chance", " now",
                                               " ty"};

std::string realise(Utterance u, DataSplit split, bool augment, Rng & rng) {
    const bool train = split == DataSplit::DataSplit_train;
    if (train && augment) {
        if (rng.chance(0.12)) u.insert(u.begin(), Piece{kOpeners[rng.below(kOpeners.size())], false});
        if (rng.chance(0.15)) u.push_back(Piece{kClosers[rng.below(kClosers.size())], false});
        for (Piece & p : u) {
            if (p.slot) continue;
            for (const auto & [from, to] : kSynonyms)
                if (rng.chance(0.15)) {
                    const size_t at = p.text.find(from);
                    if (at != std::string::npos) p.text.replace(at, std::string(from).size(), to);
                }
            for (const char * w : kDroppable)
                if (rng.chance(0.1)) {
                    const size_t at = p.text.find(w);
                    if (at != std::string::npos) p.text.erase(at, std::string(w).size());
                }
        }
    }
    const double p_typo = train ? (augment ? 0.25 : 0.0) : 0.1;
    std::vector<size_t> carriers;
    for (size_t i = 0; i < u.size(); ++i)
        if (!u[i].slot) carriers.push_back(i);
    if (!carriers.empty() && rng.chance(p_typo)) typo_in(u[carriers[rng.below(carriers.size())]].text, rng);
    std::string s;
    for (const Piece & p : u) s += p.text;
    if (!u.empty() && !u[0].slot) {
        if (train && augment && rng.chance(0.1)) {
            for (char & c : s)
                if (c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');  // shouting: carrier words only...
            std::string out;  // ...so put the slot values back as typed
            size_t at = 0;
            for (const Piece & p : u) {
                out += p.slot ? p.text : s.substr(at, p.text.size());
                at += p.text.size();
            }
            s = out;
        } else if (rng.chance(0.5)) {
            s = capitalise(s);
        }
    }
    if (rng.chance(0.3) && !s.empty() && std::isalnum((unsigned char)s.back())) s += rng.chance(0.5) ? "." : "!";
    return s;
}

// ---- Entities ----

struct Ctx {
    const Banks & b;
    DataSplit split;
    bool augment;
    int64_t today;
    Rng & rng;
    bool train() const { return split == DataSplit::DataSplit_train; }
};

// A made-up word (train split only): syllables, a pronounceable consonant-vowel string, random letters or
// letters with digits, in varied casing. Titles, tags and queries built from them cannot be memorised, so
// the loss only falls by copying them from the utterance. Words of the test split's entity lists are
// never produced (checked by the caller's `avoid`).
std::string made_up_word(Rng & rng) {
    static constexpr const char * kVowels = "aeiou";
    static constexpr const char * kConsonants = "bcdfghjklmnprstvwxyz";
    std::string w;
    switch (rng.below(4)) {
        case 0: {
            const int n = rng.range(2, 3);
            for (int i = 0; i < n; ++i) w += kSyllables[rng.below(kSyllables.size())];
            break;
        }
        case 1: {
            const int n = rng.range(3, 9);
            const bool v0 = rng.chance(0.3);
            for (int i = 0; i < n; ++i) w += ((i % 2 == 0) == v0) ? kVowels[rng.below(5)] : kConsonants[rng.below(20)];
            break;
        }
        case 2: {
            const int n = rng.range(2, 8);
            for (int i = 0; i < n; ++i) w += (char)('a' + rng.below(26));
            break;
        }
        default: {
            const int n = rng.range(1, 4);
            for (int i = 0; i < n; ++i) w += (char)('a' + rng.below(26));
            const int d = rng.range(1, 3);
            for (int i = 0; i < d; ++i) w += (char)('0' + rng.below(10));
            if (rng.chance(0.3)) std::rotate(w.begin(), w.begin() + n, w.end());
        }
    }
    const size_t casing = rng.below(10);
    if (casing < 3) w = capitalise(w);
    else if (casing == 3)
        for (char & ch : w) ch = (char)std::toupper((unsigned char)ch);
    return w;
}

bool in_any(const std::string & w, std::initializer_list<const Strs *> lists) {
    for (const Strs * l : lists)
        for (const std::string & s : *l)
            if (s == w) return true;
    return false;
}

// A made-up word that is no entity of the test split.
std::string fresh_word(Ctx & c) {
    const Banks & t = datagen::test_banks();
    while (true) {
        std::string w = made_up_word(c.rng);
        std::string lower = w;
        for (char & ch : lower) ch = (char)std::tolower((unsigned char)ch);
        if (!in_any(lower, {&t.title_verbs, &t.title_objects, &t.tags, &t.queries})) return w;
    }
}

// 1..max_words words: made-up words, with bank words and determiners mixed in.
std::string made_up_phrase(Ctx & c, int max_words) {
    static const Strs kJoin = {"the", "my", "a", "for", "with", "of", "new", "old", "to", "at"};
    const int n = c.rng.range(1, max_words);
    std::string s;
    for (int i = 0; i < n; ++i) {
        std::string w;
        const size_t k = c.rng.below(10);
        if (k < 5) w = fresh_word(c);
        else if (k < 7 && i + 1 < n) w = c.rng.pick(kJoin);
        else if (k < 9) w = c.rng.pick(c.b.title_objects);
        else w = c.rng.pick(c.b.queries);
        s += (s.empty() ? "" : " ") + w;
    }
    return s;
}

// An everyday noun phrase from the train split's extra words: [determiner or someone's] [adjective] noun
// [for/with/at someone or something].
std::string real_object(Ctx & c) {
    static const Strs kDet = {"the", "my", "our", "a", "some", "the new", "this week's"};
    std::string s;
    const size_t d = c.rng.below(10);
    if (d < 5) s = c.rng.pick(kDet) + " ";
    else if (d < 6) {
        std::string who = c.rng.pick(c.b.ext_people);
        s = who + (who.back() == 's' ? "' " : "'s ");
    }
    if (c.rng.chance(0.25)) s += c.rng.pick(c.b.ext_adjectives) + " ";
    s += c.rng.pick(c.b.ext_nouns);
    if (c.rng.chance(0.15)) {
        static const Strs kLink = {"for", "with", "at", "from", "before"};
        s += " " + c.rng.pick(kLink) + " " +
             (c.rng.chance(0.5) ? c.rng.pick(c.b.ext_people) : "the " + c.rng.pick(c.b.ext_nouns));
    }
    return s;
}

std::string title(Ctx & c) {
    if (c.train() && c.augment) {
        // Train titles are composed: everyday words in new combinations (about half), made-up words
        // (about a third; the test split's titles are all unseen), and the bank's own. Neither what a
        // title says nor whether its words look English may tell where it stands in the request.
        std::string t;
        const size_t k = c.rng.below(20);
        if (k < 3) {
            std::string verb = c.rng.pick(c.b.title_verbs), obj = c.rng.pick(c.b.title_objects);
            if (c.rng.chance(0.2)) obj = fresh_word(c);
            t = verb + " " + obj;
        } else if (k < 8) {
            t = c.rng.pick(c.b.ext_verbs) + " " + real_object(c);
        } else if (k < 11) {
            t = c.rng.pick(c.rng.chance(0.5) ? c.b.ext_verbs : c.b.title_verbs) + " " +
                (c.rng.chance(0.5) ? c.rng.pick(c.b.title_objects) : real_object(c));
        } else if (k < 13) {
            t = c.rng.pick(c.rng.chance(0.7) ? c.b.ext_verbs : c.b.title_verbs) + " " + made_up_phrase(c, 3);
        } else if (k < 18) {
            t = (c.rng.chance(0.5) ? c.rng.pick(c.b.title_verbs) : fresh_word(c)) + " " + made_up_phrase(c, 4);
        } else {
            t = made_up_phrase(c, 3);
        }
        return c.rng.chance(0.2) ? capitalise(t) : t;
    }
    std::string verb = c.rng.pick(c.b.title_verbs), obj = c.rng.pick(c.b.title_objects);
    std::string t = verb + " " + obj;
    return c.rng.chance(0.2) ? capitalise(t) : t;
}

std::string query(Ctx & c) {
    if (c.train() && c.augment) {
        const size_t k = c.rng.below(10);
        if (k < 4) {  // an everyday noun, sometimes with its adjective or the bank's
            std::string q = c.rng.pick(c.b.ext_nouns);
            if (c.rng.chance(0.15)) q = c.rng.pick(c.b.ext_adjectives) + " " + q;
            return q;
        }
        if (k < 5) return c.rng.pick(c.rng.chance(0.5) ? c.b.ext_people : c.b.ext_verbs);
        if (k < 8) return c.rng.chance(0.8) ? fresh_word(c) : made_up_phrase(c, 2);
    }
    return c.rng.pick(c.b.queries);
}

std::string tag(Ctx & c) {
    if (c.train() && c.augment) {
        const size_t k = c.rng.below(10);
        if (k < 3) {  // one everyday word
            std::string w = c.rng.pick(c.b.ext_nouns);
            if (w.find(' ') == std::string::npos) return w;
        }
        if (k < 7) {
            std::string w = fresh_word(c);
            if (c.rng.chance(0.7))
                for (char & ch : w) ch = (char)std::tolower((unsigned char)ch);
            return w;
        }
    }
    return c.rng.pick(c.b.tags);
}

// One or two tags: the phrase and the array.
std::pair<std::string, ojson> tags(Ctx & c) {
    const std::string a = tag(c);
    std::string bb = tag(c);
    if (bb == a || c.rng.chance(0.5)) return {a, ojson::array({a})};
    return {a + (c.rng.chance(0.5) ? " and " : ", ") + bb, ojson::array({a, bb})};
}

std::string priority(Ctx & c) { return kPriorities[c.rng.below(3)]; }

// Train ids have 1 to 4 digits equally often, so copying an id cannot lean on a typical length; the test
// split keeps its 70% 1..99, 30% 100..999.
int task_id(Ctx & c) {
    if (c.train() && c.augment) {
        static constexpr int kLo[4] = {1, 10, 100, 1000}, kHi[4] = {9, 99, 999, 9999};
        const size_t digits = c.rng.below(4);
        return c.rng.range(kLo[digits], kHi[digits]);
    }
    return c.rng.chance(0.7) ? c.rng.range(1, 99) : c.rng.range(100, 999);
}

// A date phrase and the date it means, resolved against today.
std::pair<std::string, std::string> date(Ctx & c) {
    Rng & r = c.rng;
    const int32_t wd = weekday_of(c.today);
    auto cased = [&](std::string s) { return r.chance(0.4) ? capitalise(std::move(s)) : s; };
    switch (r.below(7)) {
        case 0: {
            const int k = (int)r.below(3);
            const char * names[] = {"today", "tomorrow", "the day after tomorrow"};
            return {names[k], date_from_days(c.today + k)};
        }
        case 1:
        case 2: {  // weekday: the next one after today
            const int target = (int)r.below(7);
            int off = (target - wd + 7) % 7;
            if (off == 0) off = 7;
            const char * pre[] = {"", "next ", "this ", "on "};
            return {pre[r.below(4)] + cased(kWeekdays[target]), date_from_days(c.today + off)};
        }
        case 3: {
            const int n = r.range(2, 10);
            const std::string num = r.chance(0.5) ? std::to_string(n) : std::string(kNumberWords[n]);
            return {"in " + num + " days", date_from_days(c.today + n)};
        }
        case 4: {
            const int w = r.range(1, 2);
            return {w == 1 ? "in a week" : "in two weeks", date_from_days(c.today + 7 * w)};
        }
        case 5: {  // month and day, within the next ~10 months
            const int64_t d = c.today + r.range(3, 300);
            const std::string iso = date_from_days(d);
            const int month = std::stoi(iso.substr(5, 2)), day = std::stoi(iso.substr(8, 2));
            std::string m = cased(kMonths[month - 1]);
            if (r.chance(0.3) && m.size() > 3 && month != 5) m = m.substr(0, 3);
            return {r.chance(0.7) ? m + " " + std::to_string(day) : std::to_string(day) + " " + m, iso};
        }
        default: {
            const std::string iso = date_from_days(c.today + r.range(1, 400));
            return {iso, iso};
        }
    }
}

// ---- Turns ----

struct Turn {
    std::string user;
    std::optional<std::pair<std::string, ojson>> call;  // tool name, arguments
    std::string reply;                                  // plain-text answer when no call
};

Turn create_task(Ctx & c, std::string * title_out = nullptr) {
    const std::string t = title(c);
    ojson args = ojson::object();
    args["title"] = t;
    std::string prio = "medium";
    Utterance mods;
    std::vector<int> order = {0, 1, 2};
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[c.rng.below(i)]);
    std::optional<std::string> due;
    ojson tag_list;
    for (int k : order) {
        if (k == 0 && c.rng.chance(0.45)) {
            prio = priority(c);
            append(mods, c.rng.pick(c.b.mod_priority), {{"p", prio}});
        } else if (k == 1 && c.rng.chance(0.45)) {
            auto [phrase, iso] = date(c);
            due = iso;
            append(mods, c.rng.pick(c.b.mod_date), {{"d", phrase}});
        } else if (k == 2 && c.rng.chance(0.2)) {
            auto [phrase, list] = tags(c);
            tag_list = list;
            append(mods, c.rng.pick(c.b.mod_tags), {{"t", phrase}});
        }
    }
    args["priority"] = prio;
    if (due) args["due_date"] = *due;
    if (!tag_list.is_null()) args["tags"] = tag_list;
    Utterance u;
    const std::string tmpl = c.rng.pick(c.b.create);
    const size_t at = tmpl.find("{mods}");
    append(u, tmpl.substr(0, at), {{"title", t}});
    u.insert(u.end(), mods.begin(), mods.end());
    append(u, tmpl.substr(at + 6), {});
    if (title_out) *title_out = t;
    return {realise(u, c.split, c.augment, c.rng), std::make_pair(std::string("create_task"), args), ""};
}

Turn list_tasks(Ctx & c) {
    ojson args = ojson::object();
    Utterance u;
    append(u, c.rng.pick(c.b.list_open) + " my ", {});
    const int status = (int)c.rng.below(5);  // 0,1: none, 2: open, 3: done, 4: all
    if (status == 2) append(u, "{s} ", {{"s", c.rng.pick({"open", "pending", "unfinished"})}});
    if (status == 3) append(u, "{s} ", {{"s", c.rng.pick({"completed", "finished", "done"})}});
    if (status == 2) args["status"] = "open";
    if (status == 3) args["status"] = "done";
    if (c.rng.chance(0.35)) {
        const std::string p = priority(c);
        args["priority"] = p;
        append(u, "{p} priority ", {{"p", p}});
    }
    append(u, "tasks", {});
    if (status == 4) {
        args["status"] = "all";
        append(u, c.rng.pick(c.b.list_all), {});
    }
    if (c.rng.chance(0.35)) {
        auto [phrase, iso] = date(c);
        args["due_before"] = iso;
        append(u, c.rng.pick(c.b.list_due), {{"d", phrase}});
    }
    ojson ordered = ojson::object();  // schema order: status, priority, due_before
    for (const char * k : {"status", "priority", "due_before"})
        if (args.contains(k)) ordered[k] = args[k];
    return {realise(u, c.split, c.augment, c.rng), std::make_pair(std::string("list_tasks"), ordered), ""};
}

Turn update_task(Ctx & c) {
    const int id = task_id(c);
    ojson args = ojson::object();
    args["id"] = id;
    Utterance u;
    const std::string sid = std::to_string(id);
    const int kind = (int)c.rng.below(3);
    std::optional<std::string> prio;
    if (kind == 0) {
        prio = priority(c);
        append(u, c.rng.pick(c.b.update_priority), {{"id", sid}, {"p", *prio}});
    } else if (kind == 1) {
        const std::string t = title(c);
        args["title"] = t;
        append(u, c.rng.pick(c.b.update_title), {{"id", sid}, {"title", t}});
    } else {
        auto [phrase, iso] = date(c);
        args["due_date"] = iso;
        append(u, c.rng.pick(c.b.update_date), {{"id", sid}, {"d", phrase}});
    }
    if (kind != 0 && c.rng.chance(0.25)) {
        prio = priority(c);
        append(u, c.rng.pick(c.b.update_and_priority), {{"p", *prio}});
    }
    ojson ordered = ojson::object();  // schema order: id, title, priority, due_date
    ordered["id"] = id;
    if (args.contains("title")) ordered["title"] = args["title"];
    if (prio) ordered["priority"] = *prio;
    if (args.contains("due_date")) ordered["due_date"] = args["due_date"];
    return {realise(u, c.split, c.augment, c.rng), std::make_pair(std::string("update_task"), ordered), ""};
}

Turn by_id(Ctx & c, const Strs & templates, const char * tool) {
    const int id = task_id(c);
    Utterance u;
    append(u, c.rng.pick(templates), {{"id", std::to_string(id)}});
    return {realise(u, c.split, c.augment, c.rng), std::make_pair(std::string(tool), ojson{{"id", id}}), ""};
}

Turn search_tasks(Ctx & c) {
    const std::string q = query(c);
    Utterance u;
    append(u, c.rng.pick(c.b.search), {{"q", q}});
    return {realise(u, c.split, c.augment, c.rng), std::make_pair(std::string("search_tasks"), ojson{{"query", q}}), ""};
}

Turn no_tool(Ctx & c) {
    Utterance u;
    const int kind = (int)c.rng.below(3);
    if (kind == 0) {
        append(u, c.rng.pick(c.b.small_talk), {});
        return {realise(u, c.split, c.augment, c.rng), std::nullopt,
                "Hi! I can add, list, update, complete, delete and search your tasks."};
    }
    if (kind == 1) append(u, c.rng.pick(c.b.out_of_scope), {});
    else append(u, c.rng.pick(c.b.topic_frames), {{"topic", c.rng.pick(c.b.topics)}});
    return {realise(u, c.split, c.augment, c.rng), std::nullopt, "Sorry, I can only help with your tasks."};
}

// ---- Messages ----

ojson user_msg(const std::string & s) { return {{"role", "user"}, {"content", s}}; }
ojson text_msg(const std::string & s) { return {{"role", "assistant"}, {"content", s}}; }
ojson call_msg(const std::string & name, const ojson & args, int n) {
    const std::string id = "call_" + std::to_string(n);
    ojson fn = {{"name", name}, {"arguments", args.dump()}};
    return {{"role", "assistant"},
            {"content", nullptr},
            {"tool_calls", ojson::array({ojson{{"id", id}, {"type", "function"}, {"function", fn}}})}};
}
ojson tool_msg(const ojson & result, int n) {
    return {{"role", "tool"}, {"tool_call_id", "call_" + std::to_string(n)}, {"content", result.dump()}};
}

void add_turn(ojson & msgs, const Turn & t, int & n_calls) {
    msgs.push_back(user_msg(t.user));
    if (t.call) msgs.push_back(call_msg(t.call->first, t.call->second, ++n_calls));
    else msgs.push_back(text_msg(t.reply));
}

// create -> result -> reply, then (half the time) a follow-up about that task.
void multi_turn(Ctx & c, ojson & msgs) {
    int n = 0;
    std::string t;
    const Turn first = create_task(c, &t);
    add_turn(msgs, first, n);
    const int id = c.train() && c.augment ? task_id(c) : c.rng.range(1, 400);
    ojson result = {{"id", id}, {"title", t}, {"priority", first.call->second["priority"]}, {"status", "open"}};
    msgs.push_back(tool_msg(result, n));
    msgs.push_back(text_msg("Added \"" + t + "\" as task #" + std::to_string(id) + "."));
    if (c.rng.chance(0.5)) return;
    Utterance u;
    ojson args = {{"id", id}};
    std::string tool = "update_task";
    switch (c.rng.below(5)) {
        case 0: {
            const std::string p = priority(c);
            args["priority"] = p;
            append(u, c.rng.pick(c.b.follow_priority), {{"p", p}});
            break;
        }
        case 1:
            tool = "complete_task";
            append(u, c.rng.pick(c.b.follow_done), {});
            break;
        case 2:
            tool = "delete_task";
            append(u, c.rng.pick(c.b.follow_delete), {});
            break;
        case 3: {
            auto [phrase, iso] = date(c);
            args["due_date"] = iso;
            append(u, c.rng.pick(c.b.follow_date), {{"d", phrase}});
            break;
        }
        default: {
            const std::string nt = title(c);
            ojson a2 = {{"id", id}, {"title", nt}};
            args = a2;
            append(u, c.rng.pick(c.b.follow_title), {{"title", nt}});
        }
    }
    add_turn(msgs, Turn{realise(u, c.split, c.augment, c.rng), std::make_pair(tool, args), ""}, n);
}

}  // namespace

DataSplit data_split_from_name(const std::string & name) {
    if (name == "train") return DataSplit::DataSplit_train;
    if (name == "test") return DataSplit::DataSplit_test;
    throw Error(ErrorKind::ErrorKind_invalid_argument, "unknown split '" + name + "' (train, test)");
}

std::vector<ojson> generate_task_examples(const ojson & tools, const DatagenParams & p) {
    std::vector<std::string> names;
    for (const grammar::ToolSpec & t : grammar::parse_tools(tools)) names.push_back(t.name);
    for (const char * need : {"create_task", "list_tasks", "update_task", "complete_task", "delete_task", "search_tasks"})
        if (std::find(names.begin(), names.end(), need) == names.end())
            throw Error(ErrorKind::ErrorKind_invalid_argument,
                        std::string("the tool set has no '") + need + "' (the generator writes the task-agent tool set)");
    if (p.n < 0) throw Error(ErrorKind::ErrorKind_invalid_argument, "the number of examples must be >= 0");
    const int64_t today = days_from_date(p.today);
    auto system_for = [](int64_t day) {
        return "You manage the user's task list. Today is " + capitalise(kWeekdays[weekday_of(day)]) + ", " +
               date_from_days(day) + ".";
    };
    Rng rng{p.seed * 2 + (p.split == DataSplit::DataSplit_test ? 1 : 0)};
    Ctx c{p.split == DataSplit::DataSplit_train ? datagen::train_banks() : datagen::test_banks(), p.split, p.augment,
          today, rng};
    std::vector<ojson> out;
    out.reserve((size_t)p.n);
    for (int64_t i = 0; i < p.n; ++i) {
        // Augmented train conversations each have their own "today" (within about two years of the given
        // one), so a router learns to copy the dates the prompt resolves instead of one day's calendar.
        c.today = c.train() && c.augment ? today + rng.range(-365, 365) : today;
        ojson msgs = ojson::array({ojson{{"role", "system"}, {"content", system_for(c.today)}}});
        int n_calls = 0;
        const size_t k = rng.below(100);
        if (k < 22) add_turn(msgs, create_task(c), n_calls);
        else if (k < 34) add_turn(msgs, list_tasks(c), n_calls);
        else if (k < 46) add_turn(msgs, update_task(c), n_calls);
        else if (k < 55) add_turn(msgs, by_id(c, c.b.complete, "complete_task"), n_calls);
        else if (k < 63) add_turn(msgs, by_id(c, c.b.remove, "delete_task"), n_calls);
        else if (k < 73) add_turn(msgs, search_tasks(c), n_calls);
        else if (k < 88) add_turn(msgs, no_tool(c), n_calls);
        else multi_turn(c, msgs);
        out.push_back(ojson{{"messages", std::move(msgs)}, {"tools", tools}});
    }
    return out;
}

}  // namespace sy::train
