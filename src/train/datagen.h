// Seeded generator of OpenAI chat JSONL examples for the project's example tool set, the task-management
// agent of examples/task-agent/tools.json (create_task, list_tasks, update_task, complete_task,
// delete_task, search_tasks). Used to train and evaluate routers (docs/training.md).
//
// Each example is {"messages": [system, user, assistant, ...], "tools": TOOLS}:
//   - a request answered by one tool call; titles, tags and queries are copied verbatim from the
//     utterance into the arguments; ids are integers; relative dates ("next Friday", "in 3 days",
//     "March 20") are resolved against the "today" the system prompt states (the given day; in the
//     augmented train split each conversation's own day within a year of it);
//   - small talk and out-of-scope requests answered with plain text and NO tool call;
//   - multi-turn follow-ups: call, tool result, assistant reply, then either the end or a follow-up
//     request about the same task ("make it high priority" -> update_task with the id from the result).
// The last assistant message is the one a router evaluation predicts.
//
// Splits: DataSplit_test uses sentence templates, carrier phrases, small talk and entity lists (titles,
// tags, queries) that DataSplit_train never uses, so accuracy on it measures generalisation. What both
// share is the closed vocabulary the tools' meaning rests on (verbs such as add/delete/find, priority
// and status words, weekday and month names). The train split is augmented (typos, casing, dropped
// filler words, synonym swaps, made-up entity words, ids of 1 to 4 digits equally often); the test split
// gets occasional typos in carrier words only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chat/chat_format.h"
#include "chat/dates.h"

namespace sy::train {

enum class DataSplit { DataSplit_train, DataSplit_test };
// "train" | "test"; throws sy::Error otherwise.
DataSplit data_split_from_name(const std::string & name);

struct DatagenParams {
    int64_t n = 1000;
    uint64_t seed = 0;
    DataSplit split = DataSplit::DataSplit_train;
    std::string today = "2025-03-12";  // YYYY-MM-DD; relative dates resolve against it (augmented train
                                       // conversations: each against its own day within a year of it)
    bool augment = true;               // train split only
};

// Examples for `tools` (must declare the six task-agent tools; throws sy::Error naming a missing one).
// Deterministic for a given seed, split and today.
std::vector<chat::ojson> generate_task_examples(const chat::ojson & tools, const DatagenParams & params);

// Civil date helpers (proleptic Gregorian; chat/dates.h).
using chat::date_from_days;
using chat::days_from_date;
using chat::weekday_of;

}  // namespace sy::train
