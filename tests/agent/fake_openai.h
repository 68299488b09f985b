// A small OpenAI-compatible chat server for tests: a real cpp-httplib HTTP peer on 127.0.0.1 that answers
// POST /v1/chat/completions (JSON or SSE streaming with content and tool-call deltas and a final usage
// chunk) with what the test's handler returns, and can fail on purpose (status codes, delays, a stream
// cut in the middle). It records every request body and Authorization header.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include <nlohmann/json.hpp>

namespace sy::test {

using ojson = nlohmann::ordered_json;

struct FakeCall {
    std::string name;
    ojson arguments = ojson::object();
};

struct FakeReply {
    int status = 200;
    std::string content;           // assistant text
    std::vector<FakeCall> calls;   // tool calls
    std::string error_message;     // body {"error": {"message": ...}} for status != 200
    int delay_ms = 0;              // before answering
    std::string retry_after;       // Retry-After header
    bool cut_stream = false;       // streaming: send the first content delta, then drop the connection
    int event_delay_ms = 0;        // streaming: pause before each event
    int64_t prompt_tokens = 11, completion_tokens = 7;
};

class FakeOpenAI {
public:
    using Handler = std::function<FakeReply(const ojson & body, int n_call)>;

    explicit FakeOpenAI(Handler h) : handler_(std::move(h)) {
        srv_.Post("/v1/chat/completions", [this](const httplib::Request & req, httplib::Response & res) { serve(req, res); });
        srv_.set_tcp_nodelay(true);
        port_ = srv_.bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { srv_.listen_after_bind(); });
        while (!srv_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ~FakeOpenAI() {
        srv_.stop();
        thread_.join();
    }

    int port() const { return port_; }
    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
    int hits() const { return hits_.load(); }
    std::vector<ojson> bodies() const {
        std::lock_guard lock(mu_);
        return bodies_;
    }
    std::vector<std::string> auth_headers() const {
        std::lock_guard lock(mu_);
        return auth_;
    }

    static ojson message_json(const FakeReply & r) {
        ojson m = {{"role", "assistant"}, {"content", r.content.empty() && !r.calls.empty() ? ojson(nullptr) : ojson(r.content)}};
        if (!r.calls.empty()) {
            ojson calls = ojson::array();
            for (size_t i = 0; i < r.calls.size(); ++i)
                calls.push_back({{"id", "call_fake" + std::to_string(i)},
                                 {"type", "function"},
                                 {"function", {{"name", r.calls[i].name}, {"arguments", r.calls[i].arguments.dump()}}}});
            m["tool_calls"] = calls;
        }
        return m;
    }

private:
    void serve(const httplib::Request & req, httplib::Response & res) {
        const int n = hits_.fetch_add(1);
        ojson body = ojson::parse(req.body, nullptr, false);
        {
            std::lock_guard lock(mu_);
            bodies_.push_back(body);
            auth_.push_back(req.get_header_value("Authorization"));
        }
        const FakeReply r = handler_(body, n);
        if (r.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(r.delay_ms));
        if (!r.retry_after.empty()) res.set_header("Retry-After", r.retry_after);
        if (r.status != 200) {
            res.status = r.status;
            res.set_content(ojson{{"error", {{"message", r.error_message}, {"type", "invalid_request_error"}}}}.dump(), "application/json");
            return;
        }
        const std::string finish = r.calls.empty() ? "stop" : "tool_calls";
        const ojson usage = {{"prompt_tokens", r.prompt_tokens}, {"completion_tokens", r.completion_tokens},
                             {"total_tokens", r.prompt_tokens + r.completion_tokens}};
        if (!body.value("stream", false)) {
            ojson out = {{"id", "chatcmpl-fake"}, {"object", "chat.completion"}, {"model", body.value("model", "")},
                         {"choices", ojson::array({{{"index", 0}, {"message", message_json(r)}, {"finish_reason", finish}}})},
                         {"usage", usage}};
            res.set_content(out.dump(), "application/json");
            return;
        }
        // SSE: content in 3-byte pieces, each tool call's name then its arguments in two fragments, the two
        // calls' fragments interleaved; a finish chunk; the usage chunk when asked; [DONE].
        std::vector<std::string> events;
        auto chunk = [&](const ojson & delta, const ojson & finish_reason) {
            return ojson{{"id", "chatcmpl-fake"}, {"object", "chat.completion.chunk"},
                         {"choices", ojson::array({{{"index", 0}, {"delta", delta}, {"finish_reason", finish_reason}}})}}.dump();
        };
        events.push_back(chunk({{"role", "assistant"}}, nullptr));
        for (size_t i = 0; i < r.content.size(); i += 3) events.push_back(chunk({{"content", r.content.substr(i, 3)}}, nullptr));
        for (size_t i = 0; i < r.calls.size(); ++i)
            events.push_back(chunk({{"tool_calls", ojson::array({{{"index", i}, {"id", "call_fake" + std::to_string(i)}, {"type", "function"},
                                                                   {"function", {{"name", r.calls[i].name}, {"arguments", ""}}}}})}},
                                   nullptr));
        for (int half = 0; half < 2; ++half)
            for (size_t i = 0; i < r.calls.size(); ++i) {
                const std::string a = r.calls[i].arguments.dump();
                const std::string part = half == 0 ? a.substr(0, a.size() / 2) : a.substr(a.size() / 2);
                events.push_back(chunk({{"tool_calls", ojson::array({{{"index", i}, {"function", {{"arguments", part}}}}})}}, nullptr));
            }
        events.push_back(chunk(ojson::object(), finish));
        const bool with_usage = body.contains("stream_options") && body["stream_options"].value("include_usage", false);
        if (with_usage) events.push_back(ojson{{"id", "chatcmpl-fake"}, {"choices", ojson::array()}, {"usage", usage}}.dump());
        events.push_back("[DONE]");
        const bool cut = r.cut_stream;
        const int pause = r.event_delay_ms;
        res.set_chunked_content_provider("text/event-stream", [events, cut, pause, i = size_t(0)](size_t, httplib::DataSink & sink) mutable {
            if (pause > 0) std::this_thread::sleep_for(std::chrono::milliseconds(pause));
            if (i >= events.size()) {
                sink.done();
                return true;
            }
            if (cut && i == 2) return false;  // the role chunk and one content delta went out
            const std::string e = "data: " + events[i++] + "\n\n";
            sink.write(e.data(), e.size());
            return true;
        });
    }

    Handler handler_;
    httplib::Server srv_;
    int port_ = 0;
    std::thread thread_;
    std::atomic<int> hits_{0};
    mutable std::mutex mu_;
    std::vector<ojson> bodies_;
    std::vector<std::string> auth_;
};

}  // namespace sy::test
