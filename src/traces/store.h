// The trace store: one interface, two backends with the same schema and the same versioned migrations.
//   SQLite (default): a file path or "sqlite:PATH"; WAL journal, synchronous=NORMAL (a committed
//                     transaction survives the process being killed; see docs/traces.md).
//   PostgreSQL:       a "postgresql://..." (or "postgres://...") libpq URL.
// Every call is synchronous and thread-safe (one connection per store, guarded by a mutex). Requests
// never write here directly: they go through TraceWriter (writer.h), which batches on its own thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "traces/trace.h"

namespace sy::traces {

// Conjunction of conditions; unset members do not filter.
struct TraceFilter {
    std::optional<int64_t> since_ms;       // time_ms >= since_ms
    std::optional<int64_t> until_ms;       // time_ms <  until_ms
    std::string model;                     // exact model name
    std::optional<ServedBy> served_by;
    std::string router_decision;           // exact (tool name or "none")
    bool only_succeeded = false;           // error == ""
    std::optional<int32_t> min_rating;     // latest feedback rating >= min_rating (traces without feedback fail)
    std::optional<bool> has_feedback;      // true: traces with any feedback; false: traces without
    std::string text;                      // substring of the messages' JSON text, ASCII case-insensitive
    bool newest_first = false;             // order by (time_ms, id) descending instead of ascending
    int64_t offset = 0;                    // skip this many matching traces first (pagination)
    std::optional<int64_t> limit;
};

class TraceStore {
public:
    virtual ~TraceStore() = default;
    virtual const char * backend() const = 0;  // "sqlite" | "postgresql"
    virtual int schema_version() = 0;          // highest applied migration

    // Inserts a batch in one transaction (all or nothing). Empty ids are an error (the writer fills them);
    // an id that already exists is an error naming it.
    virtual void insert(const std::vector<Trace> & batch) = 0;
    // Throws sy::Error(invalid_argument) when the trace id is unknown.
    virtual void add_feedback(const Feedback & fb) = 0;
    virtual std::optional<Trace> get(const std::string & id) = 0;
    // Calls fn for each matching trace ordered by (time_ms, id) (descending with newest_first); fn returns
    // false to stop early. The store
    // is locked meanwhile: fn must not call back into the same store.
    virtual void scan(const TraceFilter & filter, const std::function<bool(Trace &&)> & fn) = 0;
    virtual int64_t count(const TraceFilter & filter) = 0;
    virtual int64_t count_feedback() = 0;
};

// "PATH" | "sqlite:PATH" | "postgresql://..." | "postgres://...". Creates the SQLite file when missing and
// applies pending migrations (in one transaction) on open. Throws sy::Error with the backend's message.
std::unique_ptr<TraceStore> open_trace_store(const std::string & url);
std::unique_ptr<TraceStore> open_sqlite_store(const std::string & path);
std::unique_ptr<TraceStore> open_postgres_store(const std::string & url);

// The schema this build creates (the number of migrations).
int latest_schema_version();

}  // namespace sy::traces
