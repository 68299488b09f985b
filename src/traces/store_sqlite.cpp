// SQLite backend of the trace store. Settings (see docs/traces.md): journal_mode=WAL (readers never block
// the writer), synchronous=NORMAL (a commit is in the WAL file, in the OS page cache, before COMMIT
// returns: it survives the process being killed, -9 included; only an OS crash or power loss can lose the
// last transactions), busy_timeout=5000 ms (another process holding the write lock makes us wait, not
// fail), foreign_keys=ON (feedback must name an existing trace).
#include <sqlite3.h>

#include <mutex>

#include "common/error.h"
#include "traces/store_sql.h"

namespace sy::traces {
namespace {

using detail::Dialect;
using detail::Param;

class SqliteRow final : public detail::Row {
public:
    explicit SqliteRow(sqlite3_stmt * st) : st_(st) {}
    bool is_null(int c) const override { return sqlite3_column_type(st_, c) == SQLITE_NULL; }
    std::string text(int c) const override {
        const auto * p = sqlite3_column_text(st_, c);
        return p ? std::string((const char *)p, (size_t)sqlite3_column_bytes(st_, c)) : std::string();
    }
    int64_t integer(int c) const override { return sqlite3_column_int64(st_, c); }
    double real(int c) const override { return sqlite3_column_double(st_, c); }

private:
    sqlite3_stmt * st_;
};

class Stmt {
public:
    Stmt(sqlite3 * db, const std::string & sql) : db_(db) {
        if (sqlite3_prepare_v2(db, sql.c_str(), (int)sql.size(), &st_, nullptr) != SQLITE_OK)
            throw Error(ErrorKind::ErrorKind_io, std::string("sqlite: ") + sqlite3_errmsg(db) + " in: " + sql.substr(0, 80));
    }
    ~Stmt() { sqlite3_finalize(st_); }
    Stmt(const Stmt &) = delete;
    Stmt & operator=(const Stmt &) = delete;

    void bind(const std::vector<Param> & ps) {
        sqlite3_reset(st_);
        sqlite3_clear_bindings(st_);
        for (size_t i = 0; i < ps.size(); ++i) {
            const int k = (int)i + 1;
            int rc = SQLITE_OK;
            if (const auto * v = std::get_if<int64_t>(&ps[i])) rc = sqlite3_bind_int64(st_, k, *v);
            else if (const auto * d = std::get_if<double>(&ps[i])) rc = sqlite3_bind_double(st_, k, *d);
            else if (const auto * s = std::get_if<std::string>(&ps[i]))
                rc = sqlite3_bind_text(st_, k, s->data(), (int)s->size(), SQLITE_TRANSIENT);
            else rc = sqlite3_bind_null(st_, k);
            if (rc != SQLITE_OK) throw Error(ErrorKind::ErrorKind_io, std::string("sqlite bind: ") + sqlite3_errmsg(db_));
        }
    }
    // true: a row is available.
    bool step() {
        const int rc = sqlite3_step(st_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throw Error(ErrorKind::ErrorKind_io, std::string("sqlite: ") + sqlite3_errmsg(db_));
    }
    sqlite3_stmt * get() { return st_; }

private:
    sqlite3 * db_;
    sqlite3_stmt * st_ = nullptr;
};

class SqliteStore final : public TraceStore {
public:
    explicit SqliteStore(const std::string & path) {
        const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
        if (rc != SQLITE_OK) {
            const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
            sqlite3_close(db_);
            throw Error(ErrorKind::ErrorKind_io, "cannot open trace store '" + path + "': " + msg);
        }
        try {
            exec("PRAGMA busy_timeout = 5000");
            exec("PRAGMA journal_mode = WAL");
            exec("PRAGMA synchronous = NORMAL");
            exec("PRAGMA foreign_keys = ON");
            migrate();
        } catch (...) {
            sqlite3_close(db_);
            throw;
        }
    }
    ~SqliteStore() override { sqlite3_close(db_); }

    const char * backend() const override { return "sqlite"; }

    int schema_version() override {
        std::lock_guard lock(mu_);
        Stmt st(db_, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
        st.bind({});
        return st.step() ? sqlite3_column_int(st.get(), 0) : 0;
    }

    void insert(const std::vector<Trace> & batch) override {
        if (batch.empty()) return;
        std::lock_guard lock(mu_);
        exec("BEGIN IMMEDIATE");
        try {
            Stmt st(db_, detail::insert_trace_sql(Dialect::Dialect_sqlite));
            for (const Trace & t : batch) {
                if (t.id.empty()) throw Error(ErrorKind::ErrorKind_invalid_argument, "trace store: a trace without id");
                st.bind(detail::trace_params(t));
                const int rc = sqlite3_step(st.get());
                if (rc == SQLITE_CONSTRAINT)
                    throw Error(ErrorKind::ErrorKind_invalid_argument, "trace store: trace id '" + t.id + "' already exists");
                if (rc != SQLITE_DONE) throw Error(ErrorKind::ErrorKind_io, std::string("sqlite insert: ") + sqlite3_errmsg(db_));
            }
            exec("COMMIT");
        } catch (...) {
            exec_noexcept("ROLLBACK");
            throw;
        }
    }

    void add_feedback(const Feedback & fb) override {
        std::lock_guard lock(mu_);
        {
            Stmt q(db_, "SELECT 1 FROM traces WHERE id = ?");
            q.bind({fb.trace_id});
            if (!q.step()) throw Error(ErrorKind::ErrorKind_invalid_argument, "feedback: unknown trace id '" + fb.trace_id + "'");
        }
        Stmt st(db_, "INSERT INTO feedback (trace_id, rating, corrected, time_ms) VALUES (?, ?, ?, ?)");
        st.bind({fb.trace_id, (int64_t)fb.rating, fb.corrected.is_null() ? Param() : Param(fb.corrected.dump()),
                 fb.time_ms ? fb.time_ms : now_ms()});
        st.step();
    }

    std::optional<Trace> get(const std::string & id) override {
        std::lock_guard lock(mu_);
        Stmt st(db_, detail::select_trace_by_id_sql(Dialect::Dialect_sqlite));
        st.bind({id});
        if (!st.step()) return std::nullopt;
        return detail::trace_from_row(SqliteRow(st.get()));
    }

    void scan(const TraceFilter & f, const std::function<bool(Trace &&)> & fn) override {
        std::lock_guard lock(mu_);
        std::vector<Param> ps;
        Stmt st(db_, detail::select_traces_sql(Dialect::Dialect_sqlite, f, ps));
        st.bind(ps);
        while (st.step())
            if (!fn(detail::trace_from_row(SqliteRow(st.get())))) break;
    }

    int64_t count(const TraceFilter & f) override {
        std::lock_guard lock(mu_);
        std::vector<Param> ps;
        Stmt st(db_, detail::count_traces_sql(Dialect::Dialect_sqlite, f, ps));
        st.bind(ps);
        return st.step() ? sqlite3_column_int64(st.get(), 0) : 0;
    }

    int64_t count_feedback() override {
        std::lock_guard lock(mu_);
        Stmt st(db_, "SELECT COUNT(*) FROM feedback");
        st.bind({});
        return st.step() ? sqlite3_column_int64(st.get(), 0) : 0;
    }

private:
    void exec(const std::string & sql) {
        char * err = nullptr;
        if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
            const std::string msg = err ? err : "unknown error";
            sqlite3_free(err);
            throw Error(ErrorKind::ErrorKind_io, "sqlite: " + msg + " in: " + sql.substr(0, 80));
        }
    }
    void exec_noexcept(const char * sql) { sqlite3_exec(db_, sql, nullptr, nullptr, nullptr); }

    // All pending migrations in one IMMEDIATE transaction (a concurrent opener waits, then sees them).
    void migrate() {
        exec("BEGIN IMMEDIATE");
        try {
            exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)");
            int have = 0;
            {
                Stmt st(db_, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
                st.bind({});
                if (st.step()) have = sqlite3_column_int(st.get(), 0);
            }
            if (have > latest_schema_version())
                throw Error(ErrorKind::ErrorKind_unsupported, "trace store schema version " + std::to_string(have) +
                                                                  " is newer than this build's (" + std::to_string(latest_schema_version()) + "); upgrade switchyard");
            for (const auto & m : detail::migrations()) {
                if (m.version <= have) continue;
                for (const auto & s : detail::split_statements(m.sql_sqlite)) exec(s);
                Stmt st(db_, "INSERT INTO schema_version (version, name, applied_ms) VALUES (?, ?, ?)");
                st.bind({(int64_t)m.version, std::string(m.name), now_ms()});
                st.step();
            }
            exec("COMMIT");
        } catch (...) {
            exec_noexcept("ROLLBACK");
            throw;
        }
    }

    std::mutex mu_;
    sqlite3 * db_ = nullptr;
};

}  // namespace

std::unique_ptr<TraceStore> open_sqlite_store(const std::string & path) { return std::make_unique<SqliteStore>(path); }

int latest_schema_version() { return detail::migrations().back().version; }

std::unique_ptr<TraceStore> open_trace_store(const std::string & url) {
    if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) return open_postgres_store(url);
    if (url.rfind("sqlite:", 0) == 0) return open_sqlite_store(url.substr(7));
    if (url.empty()) throw Error(ErrorKind::ErrorKind_invalid_argument, "trace store: empty store URL (give a path, sqlite:PATH or postgresql://...)");
    if (url.find("://") != std::string::npos)
        throw Error(ErrorKind::ErrorKind_invalid_argument, "trace store: unsupported URL '" + url + "' (use a path, sqlite:PATH or postgresql://...)");
    return open_sqlite_store(url);
}

}  // namespace sy::traces
