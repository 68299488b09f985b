// The store's shared SQL: migrations, columns, filter → WHERE, and row ↔ Trace. JSON-valued fields are
// stored as TEXT (compact dumps) in both backends so the schema is literally the same.
#include "traces/store_sql.h"

#include <cctype>
#include <cstdio>

#include "common/error.h"

namespace sy::traces::detail {

// Ordered; each is applied once, in a transaction together with its schema_version row. Never edit a
// released migration: append a new one.
const std::vector<Migration> & migrations() {
    static const char * k_traces =
        "CREATE TABLE traces ("
        " id TEXT PRIMARY KEY,"
        " time_ms BIGINT NOT NULL,"
        " api TEXT NOT NULL DEFAULT '',"
        " model TEXT NOT NULL DEFAULT '',"
        " adapter TEXT NOT NULL DEFAULT '',"
        " messages TEXT NOT NULL,"
        " tools TEXT NOT NULL,"
        " tools_fingerprint TEXT NOT NULL DEFAULT '',"
        " router_decision TEXT NOT NULL DEFAULT '',"
        " confidence DOUBLE PRECISION,"
        " confidence_parts TEXT NOT NULL DEFAULT '{}',"
        " served_by TEXT NOT NULL,"
        " served_reason TEXT NOT NULL DEFAULT '',"
        " shadow_result TEXT,"
        " shadow_agreement INTEGER,"
        " tool_results TEXT NOT NULL DEFAULT '[]',"
        " queue_ms DOUBLE PRECISION NOT NULL DEFAULT 0,"
        " prefill_ms DOUBLE PRECISION NOT NULL DEFAULT 0,"
        " decode_ms DOUBLE PRECISION NOT NULL DEFAULT 0,"
        " total_ms DOUBLE PRECISION NOT NULL DEFAULT 0,"
        " prompt_tokens BIGINT NOT NULL DEFAULT 0,"
        " completion_tokens BIGINT NOT NULL DEFAULT 0,"
        " cost_cloud_usd DOUBLE PRECISION NOT NULL DEFAULT 0,"
        " cost_local_usd DOUBLE PRECISION NOT NULL DEFAULT 0,"
        " n_retries INTEGER NOT NULL DEFAULT 0,"
        " error TEXT NOT NULL DEFAULT ''"
        ");"
        "CREATE INDEX traces_time ON traces (time_ms);"
        "CREATE INDEX traces_served_by ON traces (served_by);"
        "CREATE INDEX traces_router_decision ON traces (router_decision)";
    static const std::vector<Migration> list = {
        {1, "traces table", k_traces, k_traces},
        {2, "feedback table",
         "CREATE TABLE feedback (id INTEGER PRIMARY KEY, trace_id TEXT NOT NULL REFERENCES traces (id),"
         " rating INTEGER NOT NULL, corrected TEXT, time_ms BIGINT NOT NULL);"
         "CREATE INDEX feedback_trace ON feedback (trace_id)",
         "CREATE TABLE feedback (id BIGSERIAL PRIMARY KEY, trace_id TEXT NOT NULL REFERENCES traces (id),"
         " rating INTEGER NOT NULL, corrected TEXT, time_ms BIGINT NOT NULL);"
         "CREATE INDEX feedback_trace ON feedback (trace_id)"},
        {3, "model index", "CREATE INDEX traces_model ON traces (model)",
         "CREATE INDEX traces_model ON traces (model)"},
    };
    return list;
}

std::vector<std::string> split_statements(const char * sql) {
    std::vector<std::string> out;
    std::string cur;
    for (const char * p = sql; *p; ++p) {
        if (*p == ';') {
            if (cur.find_first_not_of(" \n\t") != std::string::npos) out.push_back(cur);
            cur.clear();
        } else {
            cur += *p;
        }
    }
    if (cur.find_first_not_of(" \n\t") != std::string::npos) out.push_back(cur);
    return out;
}

const std::vector<const char *> & trace_columns() {
    static const std::vector<const char *> cols = {
        "id", "time_ms", "api", "model", "adapter", "messages", "tools", "tools_fingerprint",
        "router_decision", "confidence", "confidence_parts", "served_by", "served_reason", "shadow_result",
        "shadow_agreement", "tool_results", "queue_ms", "prefill_ms", "decode_ms", "total_ms",
        "prompt_tokens", "completion_tokens", "cost_cloud_usd", "cost_local_usd", "n_retries", "error"};
    return cols;
}

namespace {
// Generated text can hold invalid UTF-8 (a model emits raw bytes); it is stored with U+FFFD in their place
// instead of failing the whole trace.
std::string json_text(const ojson & j) { return j.dump(-1, ' ', false, ojson::error_handler_t::replace); }
}  // namespace

std::vector<Param> trace_params(const Trace & t) {
    std::vector<Param> p;
    p.reserve(trace_columns().size());
    p.emplace_back(t.id);
    p.emplace_back(t.time_ms);
    p.emplace_back(t.api);
    p.emplace_back(t.model);
    p.emplace_back(t.adapter);
    p.emplace_back(json_text(t.messages));
    p.emplace_back(json_text(t.tools));
    p.emplace_back(t.tools_fingerprint);
    p.emplace_back(t.router_decision);
    p.push_back(t.confidence ? Param(*t.confidence) : Param());
    p.emplace_back(json_text(t.confidence_parts));
    p.emplace_back(std::string(served_by_name(t.served_by)));
    p.emplace_back(t.served_reason);
    p.push_back(t.shadow_result.is_null() ? Param() : Param(json_text(t.shadow_result)));
    p.push_back(t.shadow_agreement ? Param((int64_t)(*t.shadow_agreement ? 1 : 0)) : Param());
    p.emplace_back(json_text(t.tool_results));
    p.emplace_back(t.latency.queue_ms);
    p.emplace_back(t.latency.prefill_ms);
    p.emplace_back(t.latency.decode_ms);
    p.emplace_back(t.latency.total_ms);
    p.emplace_back(t.prompt_tokens);
    p.emplace_back(t.completion_tokens);
    p.emplace_back(t.cost_cloud_usd);
    p.emplace_back(t.cost_local_usd);
    p.emplace_back((int64_t)t.n_retries);
    p.emplace_back(t.error);
    SY_ASSERT(p.size() == trace_columns().size());
    return p;
}

std::string placeholder(Dialect d, int n) {
    return d == Dialect::Dialect_sqlite ? std::string("?") : "$" + std::to_string(n);
}

std::string insert_trace_sql(Dialect d) {
    std::string cols, vals;
    const auto & c = trace_columns();
    for (size_t i = 0; i < c.size(); ++i) {
        if (i) {
            cols += ", ";
            vals += ", ";
        }
        cols += c[i];
        vals += placeholder(d, (int)i + 1);
    }
    return "INSERT INTO traces (" + cols + ") VALUES (" + vals + ")";
}

namespace {

const char * k_latest_rating = "(SELECT f.rating FROM feedback f WHERE f.trace_id = t.id ORDER BY f.id DESC LIMIT 1)";
const char * k_latest_correction = "(SELECT f.corrected FROM feedback f WHERE f.trace_id = t.id ORDER BY f.id DESC LIMIT 1)";

std::string where_clause(Dialect d, const TraceFilter & f, std::vector<Param> & params) {
    std::vector<std::string> conds;
    auto add = [&](const std::string & lhs_op, Param v) {
        params.push_back(std::move(v));
        conds.push_back(lhs_op + " " + placeholder(d, (int)params.size()));
    };
    if (f.since_ms) add("t.time_ms >=", *f.since_ms);
    if (f.until_ms) add("t.time_ms <", *f.until_ms);
    if (!f.model.empty()) add("t.model =", f.model);
    if (f.served_by) add("t.served_by =", std::string(served_by_name(*f.served_by)));
    if (!f.router_decision.empty()) add("t.router_decision =", f.router_decision);
    if (f.only_succeeded) conds.push_back("t.error = ''");
    if (f.min_rating) add(std::string(k_latest_rating) + " >=", (int64_t)*f.min_rating);
    if (f.has_feedback)
        conds.push_back(std::string(*f.has_feedback ? "" : "NOT ") + "EXISTS (SELECT 1 FROM feedback f WHERE f.trace_id = t.id)");
    if (!f.text.empty()) {
        std::string pattern = "%";  // LIKE with '\' escaping the needle's own % and _
        for (char ch : f.text) {
            if (ch == '%' || ch == '_' || ch == '\\') pattern += '\\';
            pattern += (char)std::tolower((unsigned char)ch);
        }
        add("LOWER(t.messages) LIKE", pattern + "%");
        conds.back() += " ESCAPE '\\'";
    }
    std::string w;
    for (size_t i = 0; i < conds.size(); ++i) w += (i ? " AND " : " WHERE ") + conds[i];
    return w;
}

std::string select_list() {
    std::string s;
    for (const char * c : trace_columns()) s += std::string(s.empty() ? "" : ", ") + "t." + c;
    return s + ", " + k_latest_rating + ", " + k_latest_correction;
}

}  // namespace

std::string select_traces_sql(Dialect d, const TraceFilter & f, std::vector<Param> & params) {
    std::string sql = "SELECT " + select_list() + " FROM traces t" + where_clause(d, f, params) +
                      (f.newest_first ? " ORDER BY t.time_ms DESC, t.id DESC" : " ORDER BY t.time_ms, t.id");
    if (f.limit) {
        params.emplace_back(*f.limit);
        sql += " LIMIT " + placeholder(d, (int)params.size());
    } else if (f.offset > 0 && d == Dialect::Dialect_sqlite) {
        sql += " LIMIT -1";  // SQLite takes OFFSET only after a LIMIT
    }
    if (f.offset > 0) {
        params.emplace_back(f.offset);
        sql += " OFFSET " + placeholder(d, (int)params.size());
    }
    return sql;
}

std::string count_traces_sql(Dialect d, const TraceFilter & f, std::vector<Param> & params) {
    std::string inner = "SELECT 1 FROM traces t" + where_clause(d, f, params);
    if (f.limit) {  // count what a scan with this limit would return
        params.emplace_back(*f.limit);
        inner += " LIMIT " + placeholder(d, (int)params.size());
    }
    return "SELECT COUNT(*) FROM (" + inner + ") x";
}

std::string select_trace_by_id_sql(Dialect d) {
    return "SELECT " + select_list() + " FROM traces t WHERE t.id = " + placeholder(d, 1);
}

namespace {
ojson parse_json_col(const Row & r, int col, const char * name, ojson dflt) {
    if (r.is_null(col)) return dflt;
    const std::string s = r.text(col);
    if (s.empty()) return dflt;
    try {
        return ojson::parse(s);
    } catch (const nlohmann::json::exception & e) {
        throw Error(ErrorKind::ErrorKind_invalid_file, std::string("trace store: column ") + name + " holds invalid JSON");
    }
}
}  // namespace

Trace trace_from_row(const Row & r) {
    Trace t;
    int c = 0;
    t.id = r.text(c++);
    t.time_ms = r.integer(c++);
    t.api = r.text(c++);
    t.model = r.text(c++);
    t.adapter = r.text(c++);
    t.messages = parse_json_col(r, c++, "messages", ojson::array());
    t.tools = parse_json_col(r, c++, "tools", ojson::array());
    t.tools_fingerprint = r.text(c++);
    t.router_decision = r.text(c++);
    if (!r.is_null(c)) t.confidence = r.real(c);
    ++c;
    t.confidence_parts = parse_json_col(r, c++, "confidence_parts", ojson::object());
    const std::string sb = r.text(c++);
    t.served_by = served_by_from_name(sb).value_or(ServedBy::ServedBy_local);
    t.served_reason = r.text(c++);
    t.shadow_result = parse_json_col(r, c++, "shadow_result", nullptr);
    if (!r.is_null(c)) t.shadow_agreement = r.integer(c) != 0;
    ++c;
    t.tool_results = parse_json_col(r, c++, "tool_results", ojson::array());
    t.latency.queue_ms = r.real(c++);
    t.latency.prefill_ms = r.real(c++);
    t.latency.decode_ms = r.real(c++);
    t.latency.total_ms = r.real(c++);
    t.prompt_tokens = r.integer(c++);
    t.completion_tokens = r.integer(c++);
    t.cost_cloud_usd = r.real(c++);
    t.cost_local_usd = r.real(c++);
    t.n_retries = (int32_t)r.integer(c++);
    t.error = r.text(c++);
    if (!r.is_null(c)) t.feedback_rating = (int32_t)r.integer(c);
    ++c;
    t.feedback_correction = parse_json_col(r, c++, "corrected", nullptr);
    return t;
}

}  // namespace sy::traces::detail
