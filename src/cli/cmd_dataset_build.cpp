// `switchyard dataset build --from (STORE-URL | FILE.jsonl ...) --out DIR`: traces → OpenAI fine-tuning
// JSONL (train/test[/valid]), stats.json and summary.txt (also printed). The stages and their defaults
// are in src/dataset/builder.h and docs/dataset.md.
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "common/error.h"
#include "dataset/builder.h"

namespace sy::cli {
namespace {

struct BuildArgs {
    std::vector<std::string> from, negatives, served_by;
    std::string out;
    bool include_failed = false, allow_unclean = false, no_dedup = false, no_near_dedup = false, skip_bad = false;
    std::optional<int32_t> min_rating;
    std::optional<int64_t> max_per_tool, max_negatives;
    double near_threshold = 0.85, negative_floor = 0.10, test = 0.20, valid = 0.0;
    uint64_t seed = 0;
};

void run_build(const BuildArgs & a) {
    dataset::BuildParams p;
    p.only_succeeded = !a.include_failed;
    p.require_clean_calls = !a.allow_unclean;
    for (const auto & s : a.served_by) {
        auto sb = traces::served_by_from_name(s);
        if (!sb) throw Error(ErrorKind::ErrorKind_invalid_argument, "--served-by must be local, fallback or external, got '" + s + "'");
        p.served_by.insert(*sb);
    }
    p.min_rating = a.min_rating;
    p.dedup_exact = !a.no_dedup;
    p.dedup_near = !a.no_dedup && !a.no_near_dedup;
    p.near_threshold = a.near_threshold;
    p.max_per_tool = a.max_per_tool;
    p.max_negatives = a.max_negatives;
    p.negative_floor = a.negative_floor;
    p.negative_files = a.negatives;
    p.test_fraction = a.test;
    p.valid_fraction = a.valid;
    p.seed = a.seed;
    const auto input = dataset::load_sources(a.from, a.skip_bad);
    const std::string summary = dataset::build_dataset(input, p, a.out);
    std::fputs(summary.c_str(), stdout);
    std::printf("wrote %s/{train,test%s}.jsonl, stats.json, summary.txt\n", a.out.c_str(), a.valid > 0 ? ",valid" : "");
}

}  // namespace

void add_dataset_build(CLI::App & dataset) {
    auto a = std::make_shared<BuildArgs>();
    CLI::App * c = dataset.add_subcommand("build", "Build a fine-tuning dataset (train/test JSONL) from traces");
    c->add_option("--from", a->from, "A trace store (PATH.db, sqlite:PATH, postgresql://...) or log files (OpenAI JSONL, LangSmith, pairs)")
        ->required();
    c->add_option("--out", a->out, "Output directory")->required();
    c->add_flag("--include-failed", a->include_failed, "Keep traces that recorded an error (default: only succeeded ones)");
    c->add_flag("--allow-unclean", a->allow_unclean, "Keep tool calls that are invalid JSON, schema-invalid, unknown or retried");
    c->add_option("--served-by", a->served_by, "Keep only traces served by these (local, fallback, external); repeatable");
    c->add_option("--min-rating", a->min_rating, "Keep only traces whose latest feedback rating is at least this");
    c->add_flag("--no-dedup", a->no_dedup, "Keep exact and near duplicates");
    c->add_flag("--no-near-dedup", a->no_near_dedup, "Keep near duplicates (exact ones are still removed)");
    c->add_option("--near-threshold", a->near_threshold, "Near-duplicate threshold: estimated Jaccard of 5-byte shingles (default 0.85)");
    c->add_option("--max-per-tool", a->max_per_tool, "At most this many examples per tool");
    c->add_option("--max-negatives", a->max_negatives, "At most this many no-tool examples (default: --max-per-tool)");
    c->add_option("--negatives", a->negatives, "Files of no-tool examples to mix in (any importer format); repeatable");
    c->add_option("--negative-floor", a->negative_floor, "Warn when the no-tool share is below this (default 0.10)");
    c->add_option("--test", a->test, "Test fraction (default 0.20)");
    c->add_option("--valid", a->valid, "Validation fraction (default 0: no valid.jsonl)");
    c->add_option("--seed", a->seed, "Seed mixed into the split hash (default 0)");
    c->add_flag("--skip-bad", a->skip_bad, "Skip and count bad lines of input files instead of stopping");
    c->callback([a] { run_build(*a); });
}

}  // namespace sy::cli
