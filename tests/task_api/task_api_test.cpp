// The example task backend: every tool changes or reads real SQLite state, arguments outside tools.json's
// schemas are refused with a message naming the argument, and the HTTP routes map errors to 400/404.
#include <gtest/gtest.h>

#include <thread>

#include <httplib.h>

#include "common/error.h"
#include "task_api.h"

namespace sy::examples {
namespace {

ojson J(const char * s) { return ojson::parse(s); }

std::string error_of(TaskStore & s, const std::string & tool, const ojson & args) {
    try {
        s.call(tool, args);
    } catch (const std::exception & e) {
        return e.what();
    }
    return "";
}

TEST(TaskStore, ToolsChangeState) {
    TaskStore s(":memory:");
    const ojson a = s.call("create_task", J(R"({"title":"Call the dentist","priority":"high","due_date":"2025-03-14","tags":["health"]})"));
    EXPECT_EQ(a["id"], 1);
    EXPECT_EQ(a["status"], "open");
    EXPECT_EQ(a["tags"], J(R"(["health"])"));
    s.call("create_task", J(R"({"title":"Buy milk","priority":"low"})"));

    EXPECT_EQ(s.call("list_tasks", J("{}"))["count"], 2);
    EXPECT_EQ(s.call("list_tasks", J(R"({"priority":"high"})"))["count"], 1);
    EXPECT_EQ(s.call("list_tasks", J(R"({"due_before":"2025-03-15"})"))["tasks"][0]["title"], "Call the dentist");

    const ojson u = s.call("update_task", J(R"({"id":2,"priority":"medium","title":"Buy oat milk"})"));
    EXPECT_EQ(u["priority"], "medium");
    EXPECT_EQ(u["title"], "Buy oat milk");

    EXPECT_EQ(s.call("complete_task", J(R"({"id":1})"))["status"], "done");
    EXPECT_EQ(s.call("list_tasks", J("{}"))["count"], 1);                    // open only by default
    EXPECT_EQ(s.call("list_tasks", J(R"({"status":"done"})"))["count"], 1);
    EXPECT_EQ(s.call("search_tasks", J(R"({"query":"OAT"})"))["count"], 1);  // case-insensitive
    EXPECT_EQ(s.call("search_tasks", J(R"({"query":"health"})"))["count"], 1);  // tags too
    EXPECT_EQ(s.call("search_tasks", J(R"({"query":"%"})"))["count"], 0);       // LIKE wildcards are literal

    EXPECT_EQ(s.call("delete_task", J(R"({"id":2})"))["deleted"]["title"], "Buy oat milk");
    EXPECT_EQ(s.call("list_tasks", J(R"({"status":"all"})"))["count"], 1);
    EXPECT_THROW(s.call("complete_task", J(R"({"id":2})")), TaskNotFound);
}

TEST(TaskStore, ArgumentsOutsideTheSchemaAreRefused) {
    TaskStore s(":memory:");
    EXPECT_EQ(error_of(s, "create_task", J(R"({"title":"x"})")), "missing required argument 'priority'");
    EXPECT_EQ(error_of(s, "create_task", J(R"({"title":"x","priority":"urgent"})")),
              "'priority' must be one of low, medium, high, got 'urgent'");
    EXPECT_EQ(error_of(s, "create_task", J(R"({"title":"x","priority":"low","due_date":"2025-02-30"})")),
              "'due_date' must be a date YYYY-MM-DD, got '2025-02-30'");
    EXPECT_EQ(error_of(s, "create_task", J(R"({"title":"x","priority":"low","colour":"red"})")), "unknown argument 'colour'");
    EXPECT_EQ(error_of(s, "complete_task", J(R"({"id":"3"})")), "'id' must be an integer");
    EXPECT_EQ(error_of(s, "update_task", J(R"({"id":1})")), "no task with id 1");
    EXPECT_EQ(error_of(s, "create_task", J("[]")), "arguments must be a JSON object");
    EXPECT_NE(error_of(s, "send_email", J("{}")).find("unknown tool 'send_email'"), std::string::npos);
    EXPECT_EQ(s.call("list_tasks", J(R"({"status":"all"})"))["count"], 0);  // nothing half-written
}

TEST(TaskStore, LeapDays) {
    TaskStore s(":memory:");
    EXPECT_NO_THROW(s.call("create_task", J(R"({"title":"x","priority":"low","due_date":"2024-02-29"})")));
    EXPECT_THROW(s.call("create_task", J(R"({"title":"x","priority":"low","due_date":"2025-02-29"})")), Error);
}

TEST(TaskApiServer, RoutesOverHttp) {
    TaskApiParams p;
    p.db_path = ":memory:";
    p.port = 0;
    TaskApiServer srv(p);
    std::thread t([&] { srv.run(); });
    httplib::Client cli("127.0.0.1", srv.port());
    for (int i = 0; i < 100 && !cli.Get("/health"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));

    auto r = cli.Post("/tools/create_task", R"({"title":"Water the plants","priority":"medium"})", "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(ojson::parse(r->body)["title"], "Water the plants");
    r = cli.Get("/tasks");
    ASSERT_TRUE(r);
    EXPECT_EQ(ojson::parse(r->body)["tasks"].size(), 1u);
    r = cli.Post("/tools/create_task", R"({"title":)", "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    EXPECT_EQ(ojson::parse(r->body)["error"], "request body is not valid JSON");
    r = cli.Post("/tools/complete_task", R"({"id":42})", "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404);
    r = cli.Post("/tools/nope", "{}", "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404);
    srv.stop();
    t.join();
}

}  // namespace
}  // namespace sy::examples
