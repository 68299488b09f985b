// The example agent's tool backend: a real task list in SQLite behind HTTP, one route per tool of
// examples/task-agent/tools.json, so tool calls the gateway executes (config `executor:`) really change
// state. Not part of the gateway: a small service of its own (`switchyard task-api`), the kind of backend
// a team's agent would call.
//
// Routes (JSON in, JSON out):
//   POST /tools/<tool>   body = the tool call's arguments object; 200 with the result, 400 for arguments
//                        the tool's schema rejects, 404 for an unknown task id or tool
//   GET  /tasks          every task (for people and the dashboard), GET /health
// Tools: create_task {title, priority, due_date?, tags?}, list_tasks {status?, priority?, due_before?},
// update_task {id, title?, priority?, due_date?}, complete_task {id}, delete_task {id}, search_tasks {query}.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

struct sqlite3;

namespace sy::examples {

using ojson = nlohmann::ordered_json;

// The task list. Thread-safe (one connection behind a mutex).
class TaskStore {
public:
    // Opens or creates the SQLite file (":memory:" for tests). Throws sy::Error(io).
    explicit TaskStore(const std::string & path);
    ~TaskStore();
    TaskStore(const TaskStore &) = delete;
    TaskStore & operator=(const TaskStore &) = delete;

    // Runs one tool. Throws sy::Error(invalid_argument) for arguments outside the tool's schema (message
    // names the argument), sy::Error(unsupported) for an unknown tool, TaskNotFound for an unknown id.
    ojson call(const std::string & tool, const ojson & args);
    ojson all_tasks();
    // Inserts or replaces one task with its own id ({id, title, priority, status?, due_date?, tags?}), for
    // seeding a list (fixtures, generated training data). Throws sy::Error(invalid_argument) on a bad field.
    void put(const ojson & task);

private:
    ojson create(const ojson & args);
    ojson list(const ojson & args);
    ojson update(const ojson & args);
    ojson complete(const ojson & args);
    ojson remove(const ojson & args);
    ojson search(const ojson & args);
    ojson get(int64_t id);
    ojson query(const std::string & where, const std::vector<std::string> & binds);

    std::mutex mu_;
    sqlite3 * db_ = nullptr;
};

struct TaskNotFound : std::runtime_error {
    explicit TaskNotFound(int64_t id) : std::runtime_error("no task with id " + std::to_string(id)) {}
};

struct TaskApiParams {
    std::string db_path = "tasks.db";
    std::string host = "127.0.0.1";
    int port = 8090;  // 0: any free port
};

// The HTTP service over a TaskStore.
class TaskApiServer {
public:
    explicit TaskApiServer(const TaskApiParams & params);
    ~TaskApiServer();
    int port() const;  // bound port
    // Serves until stop() (from another thread or a signal handler's thread).
    void run();
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sy::examples
