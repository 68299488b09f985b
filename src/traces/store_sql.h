// Internal to the store backends: the migrations (shared DDL, per-dialect only where SQL differs), the
// column list, typed query parameters, the filter → WHERE builder and row ↔ Trace conversion. Both
// backends use exactly these, so their schemas cannot drift.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "traces/store.h"

namespace sy::traces::detail {

enum class Dialect { Dialect_sqlite, Dialect_postgres };

struct Migration {
    int version;
    const char * name;
    const char * sql_sqlite;    // ';'-separated statements
    const char * sql_postgres;  // same schema, dialect spelling
};
const std::vector<Migration> & migrations();

// A bound value: null, integer, real or text.
using Param = std::variant<std::monostate, int64_t, double, std::string>;

// Columns of `traces` in insert order, and the Trace as parameters in that order.
const std::vector<const char *> & trace_columns();
std::vector<Param> trace_params(const Trace & t);

// Placeholder n (1-based) in the dialect: "?" or "$n".
std::string placeholder(Dialect d, int n);
std::string insert_trace_sql(Dialect d);
// SELECT of every trace column plus latest feedback rating and correction, with the filter's WHERE,
// ORDER BY and LIMIT; params receives the bound values.
std::string select_traces_sql(Dialect d, const TraceFilter & f, std::vector<Param> & params);
std::string count_traces_sql(Dialect d, const TraceFilter & f, std::vector<Param> & params);
std::string select_trace_by_id_sql(Dialect d);

// A result row as the backend exposes it (column index as in the SELECT).
class Row {
public:
    virtual ~Row() = default;
    virtual bool is_null(int col) const = 0;
    virtual std::string text(int col) const = 0;
    virtual int64_t integer(int col) const = 0;
    virtual double real(int col) const = 0;
};
Trace trace_from_row(const Row & row);

// Splits a migration script on ';' (no statement of ours contains one inside a literal).
std::vector<std::string> split_statements(const char * sql);

}  // namespace sy::traces::detail
