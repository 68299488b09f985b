// Worker-thread bridge between Gateway::chat and a streaming HTTP response (see chat_run.h).
#include "server/chat_run.h"

#include <thread>

namespace sy::server {

std::shared_ptr<ChatRun> ChatRun::start(ServerContext & ctx, providers::ChatRequest req, agent::RequestOptions opts) {
    auto self = std::make_shared<ChatRun>(ctx);
    {
        std::lock_guard<std::mutex> lk(ctx.runs_mu);
        ctx.runs.insert(self.get());
    }
    std::thread([self, req = std::move(req), opts = std::move(opts)]() mutable {
        self->run(std::move(req), std::move(opts));
        std::lock_guard<std::mutex> lk(self->ctx_.runs_mu);
        self->ctx_.runs.erase(self.get());
        self->ctx_.runs_cv.notify_all();
    }).detach();
    return self;
}

void ChatRun::run(providers::ChatRequest req, agent::RequestOptions opts) {
    auto user_on_decision = opts.on_decision;
    opts.on_decision = [this, user_on_decision](const agent::Decision & d) {
        if (user_on_decision) user_on_decision(d);
        std::lock_guard<std::mutex> lk(mu_);
        decision_ = d;
        cv_.notify_all();
    };
    auto on_delta = [this](std::string_view piece) {
        std::lock_guard<std::mutex> lk(mu_);
        if (cancelled_) return false;
        if (!piece.empty()) deltas_.emplace_back(piece);
        cv_.notify_all();
        return true;
    };
    agent::AgentResult result;
    std::exception_ptr err;
    try {
        result = ctx_.gateway.chat(std::move(req), opts, on_delta);
    } catch (...) {
        err = std::current_exception();
    }
    std::lock_guard<std::mutex> lk(mu_);
    result_ = std::move(result);
    error_ = err;
    if (!err && !decision_) decision_ = result_.decision;
    ended_ = true;
    cv_.notify_all();
}

bool ChatRun::wait_started(Clock::time_point deadline) {
    std::unique_lock<std::mutex> lk(mu_);
    const bool ok = cv_.wait_until(lk, deadline, [&] { return ended_ || decision_ || !deltas_.empty(); });
    if (!ok) timed_out_ = true;
    return ok;
}

std::optional<std::string> ChatRun::next_delta(Clock::time_point deadline) {
    std::unique_lock<std::mutex> lk(mu_);
    if (!cv_.wait_until(lk, deadline, [&] { return ended_ || !deltas_.empty(); })) {
        timed_out_ = true;
        return std::nullopt;
    }
    if (deltas_.empty()) return std::nullopt;
    std::string s = std::move(deltas_.front());
    deltas_.pop_front();
    return s;
}

std::optional<agent::Decision> ChatRun::decision() const {
    std::lock_guard<std::mutex> lk(mu_);
    return decision_;
}

bool ChatRun::ended() const {
    std::lock_guard<std::mutex> lk(mu_);
    return ended_;
}

std::exception_ptr ChatRun::error() const {
    std::lock_guard<std::mutex> lk(mu_);
    return error_;
}

const agent::AgentResult & ChatRun::result() const { return result_; }

void ChatRun::cancel() {
    std::lock_guard<std::mutex> lk(mu_);
    cancelled_ = true;
    cv_.notify_all();
}

agent::AgentResult run_chat(ServerContext & ctx, providers::ChatRequest req, const agent::RequestOptions & opts) {
    const auto deadline = ChatRun::Clock::now() + ctx.cfg.request_timeout;
    bool expired = false;
    auto on_delta = [&](std::string_view) {
        if (ctx.stopping.load() || ChatRun::Clock::now() >= deadline) expired = true;
        return !expired;
    };
    agent::AgentResult r = ctx.gateway.chat(std::move(req), opts, on_delta);
    if (expired) throw request_timeout(ctx);
    return r;
}

HttpError request_timeout(const ServerContext & ctx) {
    const auto s = std::chrono::duration_cast<std::chrono::seconds>(ctx.cfg.request_timeout).count();
    return HttpError(504, "timeout", "the request ran past the server's request timeout (" + std::to_string(s) +
                                         " s, server.request_timeout); ask for fewer tokens", {}, "request_timeout");
}

}  // namespace sy::server
