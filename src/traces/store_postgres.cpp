// PostgreSQL backend of the trace store (libpq). Same tables and migrations as SQLite (store_sql.cpp);
// parameters travel as text and the server infers their types from the columns. Migrations run under a
// transaction-scoped advisory lock so two gateways starting at once apply them exactly once.
#include <libpq-fe.h>

#include <cstdio>
#include <mutex>

#include "common/error.h"
#include "traces/store_sql.h"

namespace sy::traces {
namespace {

using detail::Dialect;
using detail::Param;

constexpr long long k_migration_lock_key = 0x5377795472616365LL;  // arbitrary, fixed for this schema

struct ResultDeleter {
    void operator()(PGresult * r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

class PgRow final : public detail::Row {
public:
    PgRow(const PGresult * r, int row) : r_(r), row_(row) {}
    bool is_null(int c) const override { return PQgetisnull(r_, row_, c) != 0; }
    std::string text(int c) const override {
        return std::string(PQgetvalue(r_, row_, c), (size_t)PQgetlength(r_, row_, c));
    }
    int64_t integer(int c) const override { return is_null(c) ? 0 : std::stoll(PQgetvalue(r_, row_, c)); }
    double real(int c) const override { return is_null(c) ? 0.0 : std::stod(PQgetvalue(r_, row_, c)); }

private:
    const PGresult * r_;
    int row_;
};

// Text forms of the parameters, kept alive while libpq reads them.
struct TextParams {
    std::vector<std::string> storage;
    std::vector<const char *> values;
    explicit TextParams(const std::vector<Param> & ps) {
        storage.resize(ps.size());
        values.resize(ps.size(), nullptr);
        for (size_t i = 0; i < ps.size(); ++i) {
            if (const auto * v = std::get_if<int64_t>(&ps[i])) storage[i] = std::to_string(*v);
            else if (const auto * d = std::get_if<double>(&ps[i])) {
                char buf[40];
                std::snprintf(buf, sizeof buf, "%.17g", *d);
                storage[i] = buf;
            } else if (const auto * s = std::get_if<std::string>(&ps[i])) storage[i] = *s;
            else continue;  // NULL
            values[i] = storage[i].c_str();
        }
    }
};

class PgStore final : public TraceStore {
public:
    explicit PgStore(const std::string & url) {
        conn_ = PQconnectdb(url.c_str());
        if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
            std::string msg = conn_ ? PQerrorMessage(conn_) : "out of memory";
            while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
            PQfinish(conn_);
            throw Error(ErrorKind::ErrorKind_io, "cannot connect to trace store: " + msg);
        }
        Result r(PQexec(conn_, "SET client_min_messages TO WARNING"));
        try {
            migrate();
        } catch (...) {
            PQfinish(conn_);
            throw;
        }
    }
    ~PgStore() override { PQfinish(conn_); }

    const char * backend() const override { return "postgresql"; }

    int schema_version() override {
        std::lock_guard lock(mu_);
        Result r = query("SELECT COALESCE(MAX(version), 0) FROM schema_version", {});
        return std::stoi(PQgetvalue(r.get(), 0, 0));
    }

    void insert(const std::vector<Trace> & batch) override {
        if (batch.empty()) return;
        std::lock_guard lock(mu_);
        exec("BEGIN");
        try {
            const std::string sql = detail::insert_trace_sql(Dialect::Dialect_postgres);
            for (const Trace & t : batch) {
                if (t.id.empty()) throw Error(ErrorKind::ErrorKind_invalid_argument, "trace store: a trace without id");
                TextParams tp(detail::trace_params(t));
                Result r(PQexecParams(conn_, sql.c_str(), (int)tp.values.size(), nullptr, tp.values.data(), nullptr, nullptr, 0));
                if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
                    const char * state = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE);
                    if (state && std::string(state) == "23505")
                        throw Error(ErrorKind::ErrorKind_invalid_argument, "trace store: trace id '" + t.id + "' already exists");
                    throw Error(ErrorKind::ErrorKind_io, "postgresql insert: " + error_of(r.get()));
                }
            }
            exec("COMMIT");
        } catch (...) {
            Result r(PQexec(conn_, "ROLLBACK"));
            throw;
        }
    }

    void add_feedback(const Feedback & fb) override {
        std::lock_guard lock(mu_);
        Result q = query("SELECT 1 FROM traces WHERE id = $1", {fb.trace_id});
        if (PQntuples(q.get()) == 0) throw Error(ErrorKind::ErrorKind_invalid_argument, "feedback: unknown trace id '" + fb.trace_id + "'");
        query("INSERT INTO feedback (trace_id, rating, corrected, time_ms) VALUES ($1, $2, $3, $4)",
              {fb.trace_id, (int64_t)fb.rating, fb.corrected.is_null() ? Param() : Param(fb.corrected.dump()),
               fb.time_ms ? fb.time_ms : now_ms()});
    }

    std::optional<Trace> get(const std::string & id) override {
        std::lock_guard lock(mu_);
        Result r = query(detail::select_trace_by_id_sql(Dialect::Dialect_postgres), {id});
        if (PQntuples(r.get()) == 0) return std::nullopt;
        return detail::trace_from_row(PgRow(r.get(), 0));
    }

    // Streams rows one at a time (single-row mode) so a large export does not sit in memory.
    void scan(const TraceFilter & f, const std::function<bool(Trace &&)> & fn) override {
        std::lock_guard lock(mu_);
        std::vector<Param> ps;
        const std::string sql = detail::select_traces_sql(Dialect::Dialect_postgres, f, ps);
        TextParams tp(ps);
        if (!PQsendQueryParams(conn_, sql.c_str(), (int)tp.values.size(), nullptr, tp.values.data(), nullptr, nullptr, 0))
            throw Error(ErrorKind::ErrorKind_io, std::string("postgresql: ") + PQerrorMessage(conn_));
        PQsetSingleRowMode(conn_);
        bool want = true;
        std::string failure;
        std::exception_ptr thrown;
        while (PGresult * raw = PQgetResult(conn_)) {
            Result r(raw);
            const auto st = PQresultStatus(r.get());
            if (st == PGRES_SINGLE_TUPLE && want && !thrown) {
                try {
                    want = fn(detail::trace_from_row(PgRow(r.get(), 0)));
                } catch (...) {
                    thrown = std::current_exception();  // drain the connection before rethrowing
                }
            } else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK) {
                failure = error_of(r.get());
            }
        }
        if (thrown) std::rethrow_exception(thrown);
        if (!failure.empty()) throw Error(ErrorKind::ErrorKind_io, "postgresql: " + failure);
    }

    int64_t count(const TraceFilter & f) override {
        std::lock_guard lock(mu_);
        std::vector<Param> ps;
        Result r = query(detail::count_traces_sql(Dialect::Dialect_postgres, f, ps), ps);
        return std::stoll(PQgetvalue(r.get(), 0, 0));
    }

    int64_t count_feedback() override {
        std::lock_guard lock(mu_);
        Result r = query("SELECT COUNT(*) FROM feedback", {});
        return std::stoll(PQgetvalue(r.get(), 0, 0));
    }

private:
    static std::string error_of(const PGresult * r) {
        std::string msg = PQresultErrorMessage(r);
        while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
        return msg;
    }

    void exec(const std::string & sql) {
        Result r(PQexec(conn_, sql.c_str()));
        const auto st = PQresultStatus(r.get());
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
            throw Error(ErrorKind::ErrorKind_io, "postgresql: " + error_of(r.get()) + " in: " + sql.substr(0, 80));
    }

    Result query(const std::string & sql, const std::vector<Param> & ps) {
        TextParams tp(ps);
        Result r(PQexecParams(conn_, sql.c_str(), (int)tp.values.size(), nullptr, tp.values.data(), nullptr, nullptr, 0));
        const auto st = PQresultStatus(r.get());
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
            throw Error(ErrorKind::ErrorKind_io, "postgresql: " + error_of(r.get()));
        return r;
    }

    void migrate() {
        exec("BEGIN");
        try {
            exec("SELECT pg_advisory_xact_lock(" + std::to_string(k_migration_lock_key) + ")");
            exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)");
            Result r = query("SELECT COALESCE(MAX(version), 0) FROM schema_version", {});
            const int have = std::stoi(PQgetvalue(r.get(), 0, 0));
            if (have > latest_schema_version())
                throw Error(ErrorKind::ErrorKind_unsupported, "trace store schema version " + std::to_string(have) +
                                                                  " is newer than this build's (" + std::to_string(latest_schema_version()) + "); upgrade switchyard");
            for (const auto & m : detail::migrations()) {
                if (m.version <= have) continue;
                for (const auto & s : detail::split_statements(m.sql_postgres)) exec(s);
                query("INSERT INTO schema_version (version, name, applied_ms) VALUES ($1, $2, $3)",
                      {(int64_t)m.version, std::string(m.name), now_ms()});
            }
            exec("COMMIT");
        } catch (...) {
            Result r(PQexec(conn_, "ROLLBACK"));
            throw;
        }
    }

    std::mutex mu_;
    PGconn * conn_ = nullptr;
};

}  // namespace

std::unique_ptr<TraceStore> open_postgres_store(const std::string & url) { return std::make_unique<PgStore>(url); }

}  // namespace sy::traces
