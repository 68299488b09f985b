// The dataset builder: traces → OpenAI fine-tuning JSONL split into train/test[/valid], with stats.json
// and a short summary. Stages, in order (each rejection counted by reason in stats.json):
//   1. filters: succeeded; served_by in a set; latest feedback rating ≥ X; an assistant answer exists
//      (a feedback correction replaces the last assistant turn first).
//   2. clean tool calls: every call of every assistant turn names a tool of the trace, its arguments are
//      valid JSON objects that validate against the tool's parameters schema, and the trace records no
//      retries (n_retries == 0 and no assistant turn repeats the previous turn's calls).
//   3. negatives mixed in from files (examples without tool calls; given the dataset's most common tools
//      when they carry none).
//   4. exact duplicates (normalised text), then near duplicates (MinHash/LSH, dedup.h), in hash order.
//   5. per-tool caps (label = first tool called, "none" for a direct reply).
//   6. split: within each label, examples sorted by a seeded hash of their conversation; the first
//      round(n·test) go to test, the next round(n·valid) to valid, the rest to train — deterministic,
//      independent of input order, stratified by tool.
// Output lines are {"messages", "tools"} with tool-call arguments as compact JSON strings.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "traces/trace.h"

namespace sy::dataset {

using ojson = nlohmann::ordered_json;

struct BuildParams {
    bool only_succeeded = true;
    bool require_clean_calls = true;     // JSON-valid, schema-valid, known tool, no retries
    std::set<traces::ServedBy> served_by;  // empty: any
    std::optional<int32_t> min_rating;   // traces without feedback fail when set
    bool dedup_exact = true;
    bool dedup_near = true;
    double near_threshold = 0.85;        // estimated Jaccard of 5-byte shingles
    std::optional<int64_t> max_per_tool;   // cap per label (tools)
    std::optional<int64_t> max_negatives;  // cap for label "none" (default: max_per_tool)
    double negative_floor = 0.10;        // warn when the share of no-tool examples is below
    std::vector<std::string> negative_files;  // extra no-tool examples (any importer format)
    double test_fraction = 0.20;
    double valid_fraction = 0.0;
    uint64_t seed = 0;                   // mixed into the split hash
};

struct SplitStats {
    int64_t n = 0;
    std::map<std::string, int64_t> by_tool;
};

struct BuildStats {
    int64_t n_input = 0;
    std::map<std::string, int64_t> rejected;  // reason → count
    int64_t n_negatives_mixed_in = 0;
    int64_t n_examples = 0;
    double negative_share = 0;
    std::map<std::string, int64_t> by_tool;
    SplitStats train, test, valid;
    std::vector<std::string> warnings;
};

struct Example {
    ojson messages = ojson::array();
    ojson tools = ojson::array();
    std::string label;   // first tool called, or "none"
    uint64_t hash = 0;   // of the normalised conversation text
    std::string norm;    // normalised text of the whole conversation (exact dedup, tie-breaks)
    std::string near_text;  // normalised text without system turns (near dedup)
};

struct BuildResult {
    std::vector<Example> train, test, valid;
    BuildStats stats;
};

// Pure: traces in, examples and stats out (no files).
BuildResult build_examples(const std::vector<traces::Trace> & input, const BuildParams & p);

// Loads --from sources: one store URL (path ending .db/.sqlite/.sqlite3, sqlite:..., postgresql://...)
// or JSONL/JSON log files in any importer format. skip_bad counts bad lines instead of failing.
std::vector<traces::Trace> load_sources(const std::vector<std::string> & from, bool skip_bad);

// Builds and writes DIR/train.jsonl, DIR/test.jsonl, DIR/valid.jsonl (when valid_fraction > 0),
// DIR/stats.json and DIR/summary.txt. Returns the summary text.
std::string build_dataset(const std::vector<traces::Trace> & input, const BuildParams & p, const std::string & out_dir,
                          BuildStats * stats_out = nullptr);

ojson example_to_json(const Example & e);
ojson build_stats_to_json(const BuildStats & s, const BuildParams & p);
std::string build_summary(const BuildStats & s);

}  // namespace sy::dataset
