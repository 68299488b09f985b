// A Gateway::chat call running on its own thread so that a streaming response can send its headers when the
// routing decision is known and then relay content deltas as they are produced. The HTTP thread waits on
// it; the worker never touches the socket. Cancelling (client gone, timeout, shutdown) makes the next delta
// callback return false, which ends generation.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "agent/gateway.h"
#include "server/context.h"

namespace sy::server {

class ChatRun {
public:
    using Clock = std::chrono::steady_clock;

    // Starts gateway.chat(req, opts) on a worker thread registered in ctx.runs.
    static std::shared_ptr<ChatRun> start(ServerContext & ctx, providers::ChatRequest req, agent::RequestOptions opts);

    // Blocks until the decision is known, a delta is waiting, or the run ended. False when the deadline passed.
    bool wait_started(Clock::time_point deadline);
    // The next content delta; std::nullopt once the run has ended and every delta was taken, or when the
    // deadline passed (then timed_out() is true).
    std::optional<std::string> next_delta(Clock::time_point deadline);

    std::optional<agent::Decision> decision() const;
    bool ended() const;
    bool timed_out() const { return timed_out_; }
    std::exception_ptr error() const;         // set when the run ended with an exception
    const agent::AgentResult & result() const;  // valid once ended() without error()
    void cancel();

    ChatRun(ServerContext & ctx) : ctx_(ctx) {}

private:
    void run(providers::ChatRequest req, agent::RequestOptions opts);

    ServerContext & ctx_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::string> deltas_;
    std::optional<agent::Decision> decision_;
    bool ended_ = false;
    bool cancelled_ = false;
    bool timed_out_ = false;
    std::exception_ptr error_;
    agent::AgentResult result_;
};

// Non-streaming: runs gateway.chat on the calling thread under the server's request timeout (generation is
// cancelled at the next delta once the deadline passed; the request then fails with 504).
HttpError request_timeout(const ServerContext & ctx);
agent::AgentResult run_chat(ServerContext & ctx, providers::ChatRequest req, const agent::RequestOptions & opts);

}  // namespace sy::server
