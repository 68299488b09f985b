// The example task backend: SQLite storage, argument checks that mirror tools.json, HTTP routes.
#include "task_api.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <initializer_list>
#include <set>

#include <httplib.h>

#include "common/error.h"

namespace sy::examples {
namespace {

[[noreturn]] void bad_arg(const std::string & msg) { throw Error(ErrorKind::ErrorKind_invalid_argument, msg); }

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The argument checks of tools.json: an object with only the listed keys, required ones present.
void check_keys(const ojson & args, std::initializer_list<const char *> allowed,
                std::initializer_list<const char *> required) {
    if (!args.is_object()) bad_arg("arguments must be a JSON object");
    for (const auto & [k, v] : args.items()) {
        if (std::none_of(allowed.begin(), allowed.end(), [&](const char * a) { return k == a; }))
            bad_arg("unknown argument '" + k + "'");
    }
    for (const char * r : required)
        if (!args.contains(r)) bad_arg(std::string("missing required argument '") + r + "'");
}

std::string text_arg(const ojson & args, const char * key) {
    const ojson & v = args.at(key);
    if (!v.is_string()) bad_arg(std::string("'") + key + "' must be a string");
    std::string s = v.get<std::string>();
    if (s.empty()) bad_arg(std::string("'") + key + "' must not be empty");
    return s;
}

std::string enum_arg(const ojson & args, const char * key, std::initializer_list<const char *> values) {
    const std::string s = text_arg(args, key);
    if (std::none_of(values.begin(), values.end(), [&](const char * x) { return s == x; })) {
        std::string list;
        for (const char * x : values) list += std::string(list.empty() ? "" : ", ") + x;
        bad_arg(std::string("'") + key + "' must be one of " + list + ", got '" + s + "'");
    }
    return s;
}

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// YYYY-MM-DD naming a real calendar day.
std::string date_arg(const ojson & args, const char * key) {
    const std::string s = text_arg(args, key);
    int y = 0, m = 0, d = 0;
    char tail = 0;
    const bool shaped = s.size() == 10 && s[4] == '-' && s[7] == '-' &&
                        std::sscanf(s.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3;
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!shaped || m < 1 || m > 12 || d < 1 || d > days[m - 1] + (m == 2 && is_leap(y) ? 1 : 0))
        bad_arg(std::string("'") + key + "' must be a date YYYY-MM-DD, got '" + s + "'");
    return s;
}

int64_t id_arg(const ojson & args) {
    const ojson & v = args.at("id");
    if (!v.is_number_integer()) bad_arg("'id' must be an integer");
    return v.get<int64_t>();
}

const std::initializer_list<const char *> kPriorities = {"low", "medium", "high"};

// RAII statement with positional text binds.
class Stmt {
public:
    Stmt(sqlite3 * db, const std::string & sql) : db_(db) {
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st_, nullptr) != SQLITE_OK)
            throw Error(ErrorKind::ErrorKind_internal, std::string("task store: ") + sqlite3_errmsg(db));
    }
    ~Stmt() { sqlite3_finalize(st_); }
    Stmt & bind(int i, const std::string & s) {
        sqlite3_bind_text(st_, i, s.c_str(), (int)s.size(), SQLITE_TRANSIENT);
        return *this;
    }
    Stmt & bind_null(int i) {
        sqlite3_bind_null(st_, i);
        return *this;
    }
    Stmt & bind_int(int i, int64_t x) {
        sqlite3_bind_int64(st_, i, x);
        return *this;
    }
    bool step() {
        const int rc = sqlite3_step(st_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throw Error(ErrorKind::ErrorKind_io, std::string("task store: ") + sqlite3_errmsg(db_));
    }
    sqlite3_stmt * get() { return st_; }

private:
    sqlite3 * db_;
    sqlite3_stmt * st_ = nullptr;
};

std::string col_text(sqlite3_stmt * st, int i) {
    const unsigned char * p = sqlite3_column_text(st, i);
    return p ? std::string((const char *)p) : std::string();
}

ojson row_to_task(sqlite3_stmt * st) {
    ojson t = ojson::object();
    t["id"] = sqlite3_column_int64(st, 0);
    t["title"] = col_text(st, 1);
    t["priority"] = col_text(st, 2);
    t["status"] = col_text(st, 3);
    t["due_date"] = sqlite3_column_type(st, 4) == SQLITE_NULL ? ojson(nullptr) : ojson(col_text(st, 4));
    t["tags"] = ojson::parse(col_text(st, 5), nullptr, false);
    if (!t["tags"].is_array()) t["tags"] = ojson::array();
    return t;
}

const char * kColumns = "SELECT id, title, priority, status, due_date, tags FROM tasks ";

}  // namespace

TaskStore::TaskStore(const std::string & path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) {
        const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        throw Error(ErrorKind::ErrorKind_io, "cannot open task database '" + path + "': " + msg);
    }
    char * err = nullptr;
    const char * schema =
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
        "CREATE TABLE IF NOT EXISTS tasks (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL,"
        " priority TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'open', due_date TEXT, tags TEXT NOT NULL DEFAULT '[]',"
        " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);";
    if (sqlite3_exec(db_, schema, nullptr, nullptr, &err) != SQLITE_OK) {
        const std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        sqlite3_close(db_);
        throw Error(ErrorKind::ErrorKind_io, "cannot create the task table in '" + path + "': " + msg);
    }
}

TaskStore::~TaskStore() { sqlite3_close(db_); }

ojson TaskStore::call(const std::string & tool, const ojson & args) {
    std::lock_guard<std::mutex> lock(mu_);
    if (tool == "create_task") return create(args);
    if (tool == "list_tasks") return list(args);
    if (tool == "update_task") return update(args);
    if (tool == "complete_task") return complete(args);
    if (tool == "delete_task") return remove(args);
    if (tool == "search_tasks") return search(args);
    throw Error(ErrorKind::ErrorKind_unsupported,
                "unknown tool '" + tool +
                    "'; known: create_task, list_tasks, update_task, complete_task, delete_task, search_tasks");
}

void TaskStore::put(const ojson & task) {
    std::lock_guard<std::mutex> lock(mu_);
    check_keys(task, {"id", "title", "priority", "status", "due_date", "tags"}, {"id", "title", "priority"});
    const int64_t id = id_arg(task);
    const std::string status = task.contains("status") ? enum_arg(task, "status", {"open", "done"}) : "open";
    ojson tags = task.contains("tags") ? task["tags"] : ojson::array();
    if (!tags.is_array()) bad_arg("'tags' must be an array of strings");
    for (const auto & t : tags)
        if (!t.is_string()) bad_arg("'tags' must be an array of strings");
    Stmt st(db_, "INSERT OR REPLACE INTO tasks (id, title, priority, status, due_date, tags, created_ms, updated_ms)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)");
    st.bind_int(1, id).bind(2, text_arg(task, "title")).bind(3, enum_arg(task, "priority", kPriorities)).bind(4, status);
    if (task.contains("due_date") && !task["due_date"].is_null()) st.bind(5, date_arg(task, "due_date"));
    else st.bind_null(5);
    st.bind(6, tags.dump()).bind_int(7, now_ms());
    st.step();
}

ojson TaskStore::all_tasks() {
    std::lock_guard<std::mutex> lock(mu_);
    return query("ORDER BY id", {});
}

ojson TaskStore::get(int64_t id) {
    Stmt st(db_, std::string(kColumns) + "WHERE id = ?1");
    st.bind_int(1, id);
    if (!st.step()) throw TaskNotFound(id);
    return row_to_task(st.get());
}

ojson TaskStore::query(const std::string & where, const std::vector<std::string> & binds) {
    Stmt st(db_, kColumns + where);
    for (size_t i = 0; i < binds.size(); ++i) st.bind((int)i + 1, binds[i]);
    ojson out = ojson::array();
    while (st.step()) out.push_back(row_to_task(st.get()));
    return out;
}

ojson TaskStore::create(const ojson & args) {
    check_keys(args, {"title", "priority", "due_date", "tags"}, {"title", "priority"});
    const std::string title = text_arg(args, "title");
    const std::string priority = enum_arg(args, "priority", kPriorities);
    ojson tags = ojson::array();
    if (args.contains("tags")) {
        if (!args["tags"].is_array()) bad_arg("'tags' must be an array of strings");
        for (const auto & t : args["tags"]) {
            if (!t.is_string()) bad_arg("'tags' must be an array of strings");
            tags.push_back(t);
        }
    }
    Stmt st(db_, "INSERT INTO tasks (title, priority, due_date, tags, created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?5)");
    st.bind(1, title).bind(2, priority).bind(4, tags.dump()).bind_int(5, now_ms());
    if (args.contains("due_date")) {
        st.bind(3, date_arg(args, "due_date"));
    } else {
        st.bind_null(3);
    }
    st.step();
    return get(sqlite3_last_insert_rowid(db_));
}

ojson TaskStore::list(const ojson & args) {
    check_keys(args, {"status", "priority", "due_before"}, {});
    std::string where = "WHERE 1=1";
    std::vector<std::string> binds;
    const std::string status = args.contains("status") ? enum_arg(args, "status", {"open", "done", "all"}) : "open";
    if (status != "all") {
        binds.push_back(status);
        where += " AND status = ?" + std::to_string(binds.size());
    }
    if (args.contains("priority")) {
        binds.push_back(enum_arg(args, "priority", kPriorities));
        where += " AND priority = ?" + std::to_string(binds.size());
    }
    if (args.contains("due_before")) {
        binds.push_back(date_arg(args, "due_before"));
        where += " AND due_date IS NOT NULL AND due_date < ?" + std::to_string(binds.size());
    }
    ojson tasks = query(where + " ORDER BY id", binds);
    ojson out = ojson::object();
    out["count"] = tasks.size();
    out["tasks"] = std::move(tasks);
    return out;
}

ojson TaskStore::update(const ojson & args) {
    check_keys(args, {"id", "title", "priority", "due_date"}, {"id"});
    const int64_t id = id_arg(args);
    get(id);  // 404 before any change
    std::string sets;
    std::vector<std::string> binds;
    auto set = [&](const char * col, std::string value) {
        binds.push_back(std::move(value));
        sets += std::string(sets.empty() ? "" : ", ") + col + " = ?" + std::to_string(binds.size());
    };
    if (args.contains("title")) set("title", text_arg(args, "title"));
    if (args.contains("priority")) set("priority", enum_arg(args, "priority", kPriorities));
    if (args.contains("due_date")) set("due_date", date_arg(args, "due_date"));
    if (sets.empty()) bad_arg("update_task needs at least one of title, priority, due_date");
    Stmt st(db_, "UPDATE tasks SET " + sets + ", updated_ms = ?" + std::to_string(binds.size() + 1) +
                     " WHERE id = ?" + std::to_string(binds.size() + 2));
    for (size_t i = 0; i < binds.size(); ++i) st.bind((int)i + 1, binds[i]);
    st.bind_int((int)binds.size() + 1, now_ms()).bind_int((int)binds.size() + 2, id);
    st.step();
    return get(id);
}

ojson TaskStore::complete(const ojson & args) {
    check_keys(args, {"id"}, {"id"});
    const int64_t id = id_arg(args);
    get(id);
    Stmt st(db_, "UPDATE tasks SET status = 'done', updated_ms = ?1 WHERE id = ?2");
    st.bind_int(1, now_ms()).bind_int(2, id);
    st.step();
    return get(id);
}

ojson TaskStore::remove(const ojson & args) {
    check_keys(args, {"id"}, {"id"});
    const int64_t id = id_arg(args);
    ojson task = get(id);
    Stmt st(db_, "DELETE FROM tasks WHERE id = ?1");
    st.bind_int(1, id);
    st.step();
    ojson out = ojson::object();
    out["deleted"] = std::move(task);
    return out;
}

ojson TaskStore::search(const ojson & args) {
    check_keys(args, {"query"}, {"query"});
    const std::string q = text_arg(args, "query");
    // Case-insensitive substring of the title or of any tag (LIKE is ASCII case-insensitive; % and _ in the
    // query are matched literally).
    std::string pattern = "%";
    for (char c : q) {
        if (c == '%' || c == '_' || c == '\\') pattern += '\\';
        pattern += c;
    }
    pattern += '%';
    ojson tasks = query("WHERE title LIKE ?1 ESCAPE '\\' OR tags LIKE ?1 ESCAPE '\\' ORDER BY id", {pattern});
    ojson out = ojson::object();
    out["count"] = tasks.size();
    out["tasks"] = std::move(tasks);
    return out;
}

struct TaskApiServer::Impl {
    TaskStore store;
    httplib::Server http;
    int port = 0;
    explicit Impl(const std::string & path) : store(path) {}
};

namespace {

void reply(httplib::Response & res, int status, const ojson & body) {
    res.status = status;
    res.set_content(body.dump(), "application/json");
}

ojson error_body(const std::string & msg) {
    ojson e = ojson::object();
    e["error"] = msg;
    return e;
}

}  // namespace

TaskApiServer::TaskApiServer(const TaskApiParams & params) : impl_(std::make_unique<Impl>(params.db_path)) {
    Impl & im = *impl_;
    im.http.set_payload_max_length(1 << 20);
    im.http.Post(R"(/tools/([a-z_]+))", [&im](const httplib::Request & req, httplib::Response & res) {
        const ojson args = req.body.empty() ? ojson::object() : ojson::parse(req.body, nullptr, false);
        if (args.is_discarded()) return reply(res, 400, error_body("request body is not valid JSON"));
        try {
            reply(res, 200, im.store.call(req.matches[1], args));
        } catch (const TaskNotFound & e) {
            reply(res, 404, error_body(e.what()));
        } catch (const Error & e) {
            reply(res, e.kind() == ErrorKind::ErrorKind_unsupported ? 404
                       : e.kind() == ErrorKind::ErrorKind_invalid_argument ? 400
                                                                             : 500,
                  error_body(e.what()));
        } catch (const std::exception & e) {
            reply(res, 400, error_body(e.what()));
        }
    });
    im.http.Get("/tasks", [&im](const httplib::Request &, httplib::Response & res) {
        ojson out = ojson::object();
        out["tasks"] = im.store.all_tasks();
        reply(res, 200, out);
    });
    im.http.Get("/health", [](const httplib::Request &, httplib::Response & res) {
        ojson out = ojson::object();
        out["status"] = "ok";
        reply(res, 200, out);
    });
    im.port = params.port == 0 ? im.http.bind_to_any_port(params.host) : (im.http.bind_to_port(params.host, params.port) ? params.port : -1);
    if (im.port <= 0)
        throw Error(ErrorKind::ErrorKind_io, "task API: cannot listen on " + params.host + ":" + std::to_string(params.port));
}

TaskApiServer::~TaskApiServer() { stop(); }
int TaskApiServer::port() const { return impl_->port; }
void TaskApiServer::run() { impl_->http.listen_after_bind(); }
void TaskApiServer::stop() { impl_->http.stop(); }

}  // namespace sy::examples
