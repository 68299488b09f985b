// Tool executors against a real HTTP server on 127.0.0.1: URL templates with URL-encoded arguments, JSON
// bodies for POST, query parameters for GET, headers, and each failure turned into a result (not an
// exception): a host outside the allow-list, a missing argument, a timeout, a non-2xx status, an answer
// over the size cap.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>

#include <httplib.h>

#include "agent/executor.h"

using namespace sy::agent;

namespace {

class ToolServer {
public:
    ToolServer() {
        srv_.Get(R"(/tasks/(.+))", [this](const httplib::Request & req, httplib::Response & res) {
            record(req);
            res.set_content(ojson{{"id", req.matches[1].str()}, {"query", req.params.count("status") ? req.get_param_value("status") : ""}}.dump(),
                            "application/json");
        });
        srv_.Post("/tasks", [this](const httplib::Request & req, httplib::Response & res) {
            record(req);
            auto j = ojson::parse(req.body);
            res.set_content(ojson{{"created", j["title"]}, {"auth", req.get_header_value("Authorization")}}.dump(), "application/json");
        });
        srv_.Get("/slow", [](const httplib::Request &, httplib::Response & res) {
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
            res.set_content("late", "text/plain");
        });
        srv_.Get("/big", [](const httplib::Request &, httplib::Response & res) { res.set_content(std::string(10000, 'x'), "text/plain"); });
        srv_.Get("/missing", [](const httplib::Request &, httplib::Response & res) {
            res.status = 404;
            res.set_content("no such task", "text/plain");
        });
        port_ = srv_.bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { srv_.listen_after_bind(); });
        while (!srv_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ~ToolServer() {
        srv_.stop();
        thread_.join();
    }
    std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
    int port() const { return port_; }
    std::string last_target() {
        std::lock_guard lock(mu_);
        return last_target_;
    }

private:
    void record(const httplib::Request & req) {
        std::lock_guard lock(mu_);
        last_target_ = req.target;
    }
    httplib::Server srv_;
    int port_ = 0;
    std::thread thread_;
    std::mutex mu_;
    std::string last_target_;
};

ToolConfig tool(const std::string & method, const std::string & url) {
    ToolConfig t;
    t.name = "t";
    ExecutorConfig e;
    e.method = method;
    e.url = url;
    e.timeout = std::chrono::milliseconds(2000);
    t.executor = e;
    return t;
}

}  // namespace

TEST(Executor, UrlEncoding) {
    EXPECT_EQ(url_encode("a b/c?d=e&f"), "a%20b%2Fc%3Fd%3De%26f");
    EXPECT_EQ(url_encode("Zürich"), "Z%C3%BCrich");
    EXPECT_EQ(url_encode("AZaz09-._~"), "AZaz09-._~");
    std::vector<std::string> used;
    EXPECT_EQ(expand_url_template("http://h/x/{city}/{n}", {{"city", "São Paulo"}, {"n", 3}}, &used), "http://h/x/S%C3%A3o%20Paulo/3");
    EXPECT_EQ(used, (std::vector<std::string>{"city", "n"}));
    EXPECT_THROW(expand_url_template("http://h/{id}", ojson::object()), sy::Error);
}

TEST(Executor, GetWithPathArgumentAndQuery) {
    ToolServer s;
    ToolExecutor ex({"127.0.0.1"});
    const ToolRunResult r = ex.run(tool("GET", s.base() + "/tasks/{id}"), {{"id", "a/b 1"}, {"status", "open"}});
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.status, 200);
    const ojson j = ojson::parse(r.content);
    EXPECT_EQ(j["id"], "a/b 1");  // encoded in the path, decoded by the server's router
    EXPECT_EQ(j["query"], "open");
    EXPECT_EQ(s.last_target(), "/tasks/a%2Fb%201?status=open");
}

TEST(Executor, PostSendsArgumentsAsJsonWithHeaders) {
    ToolServer s;
    ToolExecutor ex({"127.0.0.1:" + std::to_string(s.port())});
    ToolConfig t = tool("POST", s.base() + "/tasks");
    t.executor->headers["Authorization"] = "Bearer tok";
    const ToolRunResult r = ex.run(t, {{"title", "buy milk"}, {"priority", "high"}});
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(ojson::parse(r.content), (ojson{{"created", "buy milk"}, {"auth", "Bearer tok"}}));
}

TEST(Executor, RefusesHostsOutsideTheAllowList) {
    ToolServer s;
    ToolExecutor ex({"example.com", "127.0.0.1:1"});  // loopback only on another port
    const ToolRunResult r = ex.run(tool("GET", s.base() + "/tasks/{id}"), {{"id", "1"}});
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("not in server.allowed_tool_hosts"), std::string::npos) << r.error;
    EXPECT_EQ(ojson::parse(r.content)["error"], r.error);
    EXPECT_EQ(s.last_target(), "");  // nothing was sent
    // An argument cannot move the request to another host either.
    ToolExecutor ex2({"127.0.0.1"});
    const ToolRunResult r2 = ex2.run(tool("GET", "http://127.0.0.1:" + std::to_string(s.port()) + "/tasks/{id}"), {{"id", "@evil.com/x"}});
    ASSERT_TRUE(r2.ok) << r2.error;
    EXPECT_EQ(ojson::parse(r2.content)["id"], "@evil.com/x");
}

TEST(Executor, FailuresBecomeResults) {
    ToolServer s;
    ToolExecutor ex({"127.0.0.1"});
    ToolRunResult r = ex.run(tool("GET", s.base() + "/tasks/{id}"), ojson::object());
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("argument 'id'"), std::string::npos) << r.error;

    r = ex.run(tool("GET", s.base() + "/missing"), ojson::object());
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.status, 404);
    EXPECT_NE(r.error.find("HTTP 404: no such task"), std::string::npos) << r.error;

    ToolConfig slow = tool("GET", s.base() + "/slow");
    slow.executor->timeout = std::chrono::milliseconds(100);
    const auto t0 = std::chrono::steady_clock::now();
    r = ex.run(slow, ojson::object());
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("timed out"), std::string::npos) << r.error;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(450));

    ToolConfig big = tool("GET", s.base() + "/big");
    big.executor->max_response_bytes = 1000;
    r = ex.run(big, ojson::object());
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("max_response_bytes"), std::string::npos) << r.error;

    r = ex.run(tool("GET", s.base() + "/tasks/{id}"), "not an object");
    EXPECT_FALSE(r.ok);
}
