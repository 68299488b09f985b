// Shadow runs and confidence helpers: the background runner that sends sampled, locally served requests
// to the fallback after the client has its answer, the comparison of the two answers, and the scalar
// router confidence with its parts for traces.
#include <algorithm>
#include <cmath>

#include "agent/gateway_impl.h"

namespace sy::agent {

// ---- BackgroundRunner ----

BackgroundRunner::BackgroundRunner(size_t n_threads, size_t max_pending) : max_pending_(max_pending) {
    for (size_t i = 0; i < n_threads; ++i) threads_.emplace_back([this] { loop(); });
}

BackgroundRunner::~BackgroundRunner() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    cv_work_.notify_all();
    for (auto & t : threads_) t.join();
}

bool BackgroundRunner::submit(std::function<void(bool skip)> job) {
    {
        std::lock_guard lock(mu_);
        if (stop_ || queue_.size() + n_running_ >= max_pending_) return false;
        queue_.push_back(std::move(job));
    }
    cv_work_.notify_one();
    return true;
}

void BackgroundRunner::wait_idle() {
    std::unique_lock lock(mu_);
    cv_idle_.wait(lock, [&] { return queue_.empty() && n_running_ == 0; });
}

void BackgroundRunner::loop() {
    for (;;) {
        std::function<void(bool)> job;
        bool skip = false;
        {
            std::unique_lock lock(mu_);
            cv_work_.wait(lock, [&] { return stop_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stop_ and nothing left
            job = std::move(queue_.front());
            queue_.pop_front();
            skip = stop_;
            ++n_running_;
        }
        try {
            job(skip);
        } catch (...) {
            // A job handles its own errors; nothing may escape a background thread.
        }
        {
            std::lock_guard lock(mu_);
            --n_running_;
            if (queue_.empty() && n_running_ == 0) cv_idle_.notify_all();
        }
    }
}

// ---- comparison ----

namespace {

// Integral floats become integers (1.0 and 1 are the same argument), recursively.
void normalize_numbers(nlohmann::json & j) {
    if (j.is_number_float()) {
        const double d = j.get<double>();
        if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) j = (int64_t)d;
    } else if (j.is_structured()) {
        for (auto & v : j) normalize_numbers(v);
    }
}

// The calls as sorted (name, canonical arguments) pairs: nlohmann::json (not ordered_json) sorts object keys,
// so equal objects dump equally whatever their key order.
std::vector<std::pair<std::string, std::string>> canonical_calls(const chat::Message & m) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto & c : m.tool_calls) {
        nlohmann::json args = c.arguments.is_string() ? nlohmann::json::parse(c.arguments.get<std::string>(), nullptr, false)
                                                      : nlohmann::json::parse(c.arguments.dump());
        if (!args.is_discarded()) normalize_numbers(args);
        out.emplace_back(c.name, args.is_discarded() ? c.arguments.dump() : args.dump());
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

ShadowAgreement compare_answers(const chat::Message & local, const chat::Message & shadow) {
    ShadowAgreement a;
    const auto l = canonical_calls(local), s = canonical_calls(shadow);
    if (l.size() == s.size()) {
        a.tool = std::equal(l.begin(), l.end(), s.begin(), [](const auto & x, const auto & y) { return x.first == y.first; });
        a.exact = a.tool && l == s;
    }
    return a;
}

// ---- confidence ----

std::optional<double> overall_confidence(const providers::ChatResponse & r) {
    if (!r.confidence) return std::nullopt;
    const grammar::OutputConfidence & c = *r.confidence;
    if (!c.is_tool_call || c.calls.empty()) return c.decision;
    double m = 1.0;
    for (const auto & call : c.calls) m = std::min(m, call.overall);
    return m;
}

ojson confidence_parts_json(const grammar::OutputConfidence & c) {
    ojson j = ojson::object();
    j["decision"] = c.decision;
    if (c.p_tool_call) j["p_tool_call"] = *c.p_tool_call;
    if (!c.is_tool_call || c.calls.empty()) return j;
    double name = 1.0, args = 1.0;
    bool any_arg = false;
    ojson calls = ojson::array();
    for (const auto & call : c.calls) {
        name = std::min(name, call.name);
        ojson a = ojson::object();
        for (const auto & arg : call.arguments) {
            a[arg.name] = arg.confidence;
            args = std::min(args, arg.confidence);
            any_arg = true;
        }
        calls.push_back({{"overall", call.overall}, {"name", call.name}, {"arguments", std::move(a)}});
    }
    j["tool"] = name;
    if (any_arg) j["arguments"] = args;
    j["calls"] = std::move(calls);
    return j;
}

}  // namespace sy::agent
