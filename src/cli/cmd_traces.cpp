// `switchyard traces import|export|stats`: moves traces between log files and the trace store and
// summarises them. Store URL: a path or sqlite:PATH (SQLite), or postgresql://... (see docs/traces.md).
//   traces import FILE... --store URL [--format auto|openai|langsmith|pairs] [--skip-bad]
//   traces export --store URL -o FILE [--full] [filters]
//   traces stats  --store URL [--cost] [--json] [--prices F] [--cloud-model M] [--fallback-rate R] [filters]
// Filters: --since/--until (ISO 8601 or Unix ms), --model, --served-by, --tool, --succeeded, --min-rating,
// --limit. Re-importing a file skips the traces already stored (ids are stable).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "common/error.h"
#include "traces/import.h"
#include "traces/stats.h"
#include "traces/store.h"

namespace sy::cli {
namespace {

struct FilterArgs {
    std::string since, until, model, served_by, tool;
    bool succeeded = false;
    std::optional<int32_t> min_rating;
    std::optional<int64_t> limit;
};

void add_filter_flags(CLI::App & c, FilterArgs & f) {
    c.add_option("--since", f.since, "Only traces at or after this time (ISO 8601 or Unix ms)");
    c.add_option("--until", f.until, "Only traces before this time (ISO 8601 or Unix ms)");
    c.add_option("--model", f.model, "Only traces of this model");
    c.add_option("--served-by", f.served_by, "Only traces served by: local, fallback or external");
    c.add_option("--tool", f.tool, "Only traces whose router decision is this tool (\"none\": direct replies)");
    c.add_flag("--succeeded", f.succeeded, "Only traces without an error");
    c.add_option("--min-rating", f.min_rating, "Only traces whose latest feedback rating is at least this");
    c.add_option("--limit", f.limit, "At most this many traces (oldest first)");
}

int64_t parse_time(const std::string & s, const char * flag) {
    if (auto ms = traces::parse_iso8601_ms(s)) return *ms;
    try {
        size_t used = 0;
        const long long v = std::stoll(s, &used);
        if (used == s.size()) return v;
    } catch (const std::exception &) {
    }
    throw Error(ErrorKind::ErrorKind_invalid_argument, std::string(flag) + ": '" + s + "' is neither ISO 8601 nor Unix milliseconds");
}

traces::TraceFilter to_filter(const FilterArgs & a) {
    traces::TraceFilter f;
    if (!a.since.empty()) f.since_ms = parse_time(a.since, "--since");
    if (!a.until.empty()) f.until_ms = parse_time(a.until, "--until");
    f.model = a.model;
    if (!a.served_by.empty()) {
        f.served_by = traces::served_by_from_name(a.served_by);
        if (!f.served_by) throw Error(ErrorKind::ErrorKind_invalid_argument, "--served-by must be local, fallback or external");
    }
    f.router_decision = a.tool;
    f.only_succeeded = a.succeeded;
    f.min_rating = a.min_rating;
    f.limit = a.limit;
    return f;
}

struct ImportArgs {
    std::vector<std::string> files;
    std::string store, format = "auto";
    bool skip_bad = false;
};

// Inserts a batch; when the batch fails (an id already stored) inserts one by one, counting duplicates.
void insert_batch(traces::TraceStore & store, std::vector<traces::Trace> & batch, int64_t & n_new, int64_t & n_dup) {
    if (batch.empty()) return;
    try {
        store.insert(batch);
        n_new += (int64_t)batch.size();
    } catch (const Error & e) {
        if (e.kind() != ErrorKind::ErrorKind_invalid_argument) throw;
        for (const auto & t : batch) {
            try {
                store.insert({t});
                ++n_new;
            } catch (const Error & e1) {
                if (e1.kind() != ErrorKind::ErrorKind_invalid_argument) throw;
                ++n_dup;
            }
        }
    }
    batch.clear();
}

void run_import(const ImportArgs & a) {
    auto fmt = traces::import_format_from_name(a.format);
    if (!fmt) throw Error(ErrorKind::ErrorKind_invalid_argument, "--format must be auto, openai, langsmith or pairs");
    auto store = traces::open_trace_store(a.store);
    traces::ImportOptions opt;
    opt.format = *fmt;
    opt.skip_bad = a.skip_bad;
    int64_t total_new = 0;
    for (const auto & file : a.files) {
        std::vector<traces::Trace> batch;
        int64_t n_new = 0, n_dup = 0;
        const auto res = traces::import_file(file, opt, [&](traces::Trace && t) {
            batch.push_back(std::move(t));
            if (batch.size() >= 1000) insert_batch(*store, batch, n_new, n_dup);
        });
        insert_batch(*store, batch, n_new, n_dup);
        total_new += n_new;
        std::printf("%s: %s, %lld records, %lld imported, %lld already stored, %lld ignored (not LLM calls), %lld bad\n",
                    file.c_str(), traces::import_format_name(res.format), (long long)res.n_records, (long long)n_new,
                    (long long)n_dup, (long long)res.n_ignored, (long long)res.n_bad);
        for (const auto & e : res.errors) std::fprintf(stderr, "  skipped: %s\n", e.c_str());
        if (res.n_bad > (int64_t)res.errors.size())
            std::fprintf(stderr, "  ... and %lld more bad records\n", (long long)(res.n_bad - (int64_t)res.errors.size()));
    }
    std::printf("store %s: %lld traces (%lld new)\n", store->backend(), (long long)store->count({}), (long long)total_new);
}

struct ExportArgs {
    std::string store, out;
    bool full = false;
    FilterArgs filter;
};

void run_export(const ExportArgs & a) {
    auto store = traces::open_trace_store(a.store);
    std::ofstream out(a.out, std::ios::binary);
    if (!out) throw Error(ErrorKind::ErrorKind_io, "cannot write '" + a.out + "'");
    int64_t n = 0;
    store->scan(to_filter(a.filter), [&](traces::Trace && t) {
        out << (a.full ? traces::trace_to_json(t) : traces::trace_to_openai_example(t)).dump() << '\n';
        ++n;
        return true;
    });
    out.close();
    if (!out) throw Error(ErrorKind::ErrorKind_io, "write to '" + a.out + "' failed");
    std::printf("%lld traces written to %s\n", (long long)n, a.out.c_str());
}

struct StatsArgs {
    std::string store, prices, cloud_model = "gpt-4o";
    std::optional<double> fallback_rate;
    bool cost = false, json = false;
    FilterArgs filter;
};

void run_stats(const StatsArgs & a) {
    auto store = traces::open_trace_store(a.store);
    traces::CostParams cp;
    cp.cloud_model = a.cloud_model;
    if (a.fallback_rate) {
        if (*a.fallback_rate < 0 || *a.fallback_rate > 1) throw Error(ErrorKind::ErrorKind_invalid_argument, "--fallback-rate must be in [0, 1]");
        cp.fallback_rate = a.fallback_rate;
    }
    traces::StatsAccumulator acc(a.prices.empty() ? traces::default_price_table() : traces::load_price_table(a.prices), cp);
    store->scan(to_filter(a.filter), [&](traces::Trace && t) {
        acc.add(t);
        return true;
    });
    const auto s = acc.stats();
    if (a.json) {
        auto j = traces::stats_to_json(s);
        if (a.cost) j["cost"] = traces::cost_to_json(acc.cost());
        std::printf("%s\n", j.dump(2).c_str());
        return;
    }
    std::fputs(traces::stats_to_text(s).c_str(), stdout);
    if (a.cost) std::fputs(traces::cost_to_text(acc.cost()).c_str(), stdout);
}

}  // namespace

void add_traces(CLI::App & app) {
    CLI::App * traces = app.add_subcommand("traces", "Import, export and summarise request traces");
    traces->require_subcommand(1);

    auto ia = std::make_shared<ImportArgs>();
    CLI::App * imp = traces->add_subcommand("import", "Import OpenAI JSONL, LangSmith runs or Chat Completions request/response logs");
    imp->add_option("files", ia->files, "Log files")->required()->check(CLI::ExistingFile);
    imp->add_option("--store", ia->store, "Trace store: PATH, sqlite:PATH or postgresql://...")->required();
    imp->add_option("--format", ia->format, "auto (default), openai, langsmith or pairs");
    imp->add_flag("--skip-bad", ia->skip_bad, "Skip and count bad records instead of stopping at the first");
    imp->callback([ia] { run_import(*ia); });

    auto ea = std::make_shared<ExportArgs>();
    CLI::App * exp = traces->add_subcommand("export", "Write traces as OpenAI chat JSONL");
    exp->add_option("--store", ea->store, "Trace store: PATH, sqlite:PATH or postgresql://...")->required();
    exp->add_option("-o,--out", ea->out, "Output JSONL file")->required();
    exp->add_flag("--full", ea->full, "Write every trace field (the store's own JSON form) instead of {messages, tools}");
    add_filter_flags(*exp, ea->filter);
    exp->callback([ea] { run_export(*ea); });

    auto sa = std::make_shared<StatsArgs>();
    CLI::App * st = traces->add_subcommand("stats", "Counts by tool, fallback rate, shadow agreement, feedback and cost");
    st->add_option("--store", sa->store, "Trace store: PATH, sqlite:PATH or postgresql://...")->required();
    st->add_flag("--cost", sa->cost, "Add the cost report: all-cloud vs with Switchyard, monthly projection");
    st->add_flag("--json", sa->json, "Machine-readable output (snake_case keys)");
    st->add_option("--prices", sa->prices, "Price table JSON (default: built-in, see examples/prices.json)");
    st->add_option("--cloud-model", sa->cloud_model, "Reference cloud model for the cost report (default gpt-4o)");
    st->add_option("--fallback-rate", sa->fallback_rate, "Fallback rate for the projection (default: the observed one)");
    add_filter_flags(*st, sa->filter);
    st->callback([sa] { run_stats(*sa); });
}

}  // namespace sy::cli
