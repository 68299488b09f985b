// Black-box helpers for the server tests: a tiny random-weight model written once per test process, a
// `switchyard serve` child process on a free loopback port, and small HTTP/JSON conveniences.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include <nlohmann/json.hpp>

namespace sy::test {

using ojson = nlohmann::ordered_json;

inline std::string switchyard_bin() { return std::string(SY_BINARY_DIR) + "/bin/switchyard"; }

inline const std::filesystem::path & server_scratch() {
    struct Dir {
        std::filesystem::path path;
        Dir() : path(std::filesystem::temp_directory_path() / ("sy_server_tests_" + std::to_string(::getpid()))) {
            std::filesystem::create_directories(path);
        }
        ~Dir() {
            std::error_code ec;
            std::filesystem::remove_all(path, ec);
        }
    };
    static Dir d;
    return d.path;
}

// The tiny model (written once per test process).
inline std::string tiny_model() {
    static std::string path = [] {
        const std::string p = (server_scratch() / "tiny.gguf").string();
        const std::string cmd = switchyard_bin() + " model init --preset tiny -o " + p + " >/dev/null 2>&1";
        if (std::system(cmd.c_str()) != 0) throw std::runtime_error("model init failed: " + cmd);
        return p;
    }();
    return path;
}

inline std::string tools_file() { return std::string(SY_SOURCE_DIR) + "/examples/task-agent/tools.json"; }

// Two small tools (the whole task-agent set renders to more tokens than the tiny model's context).
inline ojson small_tools() {
    return ojson::parse(R"([
      {"type": "function", "function": {"name": "create_task", "description": "Create a task.",
        "parameters": {"type": "object", "properties": {"title": {"type": "string", "maxLength": 24},
          "priority": {"type": "string", "enum": ["low", "medium", "high"]}}, "required": ["title", "priority"],
          "additionalProperties": false}}},
      {"type": "function", "function": {"name": "complete_task", "description": "Mark a task as done.",
        "parameters": {"type": "object", "properties": {"id": {"type": "integer", "minimum": 1, "maximum": 999}},
          "required": ["id"], "additionalProperties": false}}}])");
}

inline ojson task_tools() {
    std::FILE * f = std::fopen(tools_file().c_str(), "rb");
    if (!f) throw std::runtime_error("cannot open " + tools_file());
    std::string s;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    std::fclose(f);
    return ojson::parse(s);
}

// `switchyard serve ARGS --port 0` as a child process; stopped with SIGTERM on destruction.
class ServeProcess {
public:
    // `env` is a prefix of VAR=value assignments for the child's shell line.
    explicit ServeProcess(const std::string & args, const std::string & env = "") {
        int out[2];
        if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
        log_path_ = (server_scratch() / ("serve_" + std::to_string(counter()++) + ".log")).string();
        const std::string line = "exec env " + env + " " + switchyard_bin() + " serve " + args + " --port 0 2>" + log_path_;
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(out[1], 1);
            ::close(out[0]);
            ::close(out[1]);
            ::execl("/bin/sh", "sh", "-c", line.c_str(), (char *)nullptr);
            ::_exit(127);
        }
        ::close(out[1]);
        out_fd_ = out[0];
        std::string got;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (std::chrono::steady_clock::now() < deadline) {
            pollfd p{out_fd_, POLLIN, 0};
            if (::poll(&p, 1, 200) > 0) {
                char buf[512];
                const ssize_t n = ::read(out_fd_, buf, sizeof buf);
                if (n <= 0) break;
                got.append(buf, (size_t)n);
                const size_t at = got.find("listening on http://");
                if (at != std::string::npos && got.find('\n', at) != std::string::npos) {
                    const size_t colon = got.rfind(':', got.find('\n', at));
                    port_ = std::atoi(got.c_str() + colon + 1);
                    return;
                }
            }
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                break;
            }
        }
        throw std::runtime_error("switchyard serve did not start: " + line + "\n" + log());
    }
    ~ServeProcess() { stop(); }

    // SIGTERM, then the exit code (or -1 when it had to be killed).
    int stop() {
        if (pid_ <= 0) return exit_code_;
        ::kill(pid_, SIGTERM);
        int status = 0;
        for (int i = 0; i < 750; ++i) {  // keep-alive connections drain within the server's 5 s
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
                pid_ = -1;
                ::close(out_fd_);
                return exit_code_;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        ::close(out_fd_);
        return exit_code_ = -1;
    }

    int port() const { return port_; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    std::unique_ptr<httplib::Client> client() const {
        auto c = std::make_unique<httplib::Client>("127.0.0.1", port_);
        c->set_read_timeout(120, 0);
        c->set_write_timeout(60, 0);
        return c;
    }
    std::string log() const {
        std::FILE * f = std::fopen(log_path_.c_str(), "rb");
        if (!f) return "";
        std::string s;
        char buf[4096];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
        std::fclose(f);
        return s;
    }

private:
    static int & counter() {
        static int c = 0;
        return c;
    }
    pid_t pid_ = -1;
    int out_fd_ = -1;
    int port_ = 0;
    int exit_code_ = -1;
    std::string log_path_;
};

// The default server of a test process: the tiny model in every role.
inline ServeProcess & default_server() {
    static ServeProcess s("-m " + tiny_model() + " -c 1024 --slots 4");
    return s;
}

inline ojson json_of(const httplib::Result & r) {
    if (!r) throw std::runtime_error("no HTTP response: " + httplib::to_string(r.error()));
    return ojson::parse(r->body);
}

inline httplib::Result post_json(httplib::Client & c, const std::string & path, const ojson & body) {
    return c.Post(path.c_str(), body.dump(), "application/json");
}

// SSE "data: ..." payloads in order; checks the framing (every event is one data line + blank line).
// GET /metrics until its text holds `needle` (at most ~2 s): the server counts a request in its logger,
// after the response has gone out, so a client can ask before the count is in.
inline std::string metrics_with(httplib::Client & c, const std::string & needle) {
    std::string body;
    for (int tries = 0; tries < 200; ++tries) {
        auto m = c.Get("/metrics");
        if (m && m->status == 200) {
            body = m->body;
            if (body.find(needle) != std::string::npos) break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return body;
}

inline std::vector<std::string> sse_data(const std::string & body) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < body.size()) {
        const size_t end = body.find("\n\n", i);
        if (end == std::string::npos) throw std::runtime_error("SSE event without a blank line after it: " + body.substr(i, 200));
        const std::string ev = body.substr(i, end - i);
        if (ev.rfind("data: ", 0) != 0 || ev.find('\n') != std::string::npos) throw std::runtime_error("bad SSE event: " + ev);
        out.push_back(ev.substr(6));
        i = end + 2;
    }
    return out;
}

inline std::vector<ojson> ndjson_lines(const std::string & body) {
    std::vector<ojson> out;
    size_t i = 0;
    while (i < body.size()) {
        const size_t end = body.find('\n', i);
        if (end == std::string::npos) throw std::runtime_error("NDJSON line without a newline: " + body.substr(i, 200));
        out.push_back(ojson::parse(body.substr(i, end - i)));
        i = end + 1;
    }
    return out;
}

}  // namespace sy::test
