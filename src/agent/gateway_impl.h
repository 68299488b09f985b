// Internals of the Gateway shared by its source files (gateway.cpp: construction, the agent loop, traces
// and metrics; routing.cpp: one routed model call; shadow.cpp: background shadow comparisons). Not a public
// header: server/ and cli/ use gateway.h.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "agent/executor.h"
#include "agent/gateway.h"
#include "providers/local_provider.h"
#include "providers/remote_provider.h"
#include "traces/prices.h"
#include "traces/store.h"
#include "traces/writer.h"

namespace sy::agent {

// A role or a client-named model resolved to the provider that runs it. `model` is what goes into
// ChatRequest::model ("name" or "name:adapter" for a local model).
struct Target {
    providers::Provider * provider = nullptr;
    std::string model;
    explicit operator bool() const { return provider != nullptr; }
};

// Tokens and engine time spent by one request, over every model call it made.
struct Usage {
    int64_t served_prompt = 0, served_completion = 0;  // of the calls whose answer was used
    int64_t local_prompt = 0, local_completion = 0;    // every local call (rejected router runs too)
    providers::Timing timing;                          // summed
};

// Wraps the client's DeltaFn: sends the routing decision once, before the first delta (or at the end when
// nothing streamed), and notes whether anything was delivered or the client cancelled.
class StreamGate {
public:
    StreamGate(const providers::DeltaFn & client, const std::function<void(const Decision &)> & on_decision)
        : client_(client), on_decision_(on_decision) {}

    // The decision of the call about to stream.
    void set_pending(const Decision & d) { pending_ = d; }
    // The DeltaFn to hand to a provider; empty when the client does not stream.
    providers::DeltaFn fn();
    // Forwards text produced before the decision was final (the buffered router answer).
    bool emit(const std::string & text);
    void send_decision(const Decision & d);

    bool streaming() const { return (bool)client_; }
    uint64_t n_delivered() const { return n_delivered_; }
    bool cancelled() const { return cancelled_; }

private:
    const providers::DeltaFn & client_;
    const std::function<void(const Decision &)> & on_decision_;
    Decision pending_;
    bool decision_sent_ = false;
    uint64_t n_delivered_ = 0;
    bool cancelled_ = false;
};

// One routed model call.
struct StepResult {
    providers::ChatResponse response;
    Decision decision;
    bool router_answer = false;   // the answer is the router's (shadow candidates)
    std::string fallback_error;   // the fallback failed and a local answer was served instead
};

// Runs queued jobs on a few background threads (shadow comparisons). A job gets `skip = true` when the
// runner is shutting down and should only finish its bookkeeping (write its trace).
class BackgroundRunner {
public:
    BackgroundRunner(size_t n_threads, size_t max_pending);
    ~BackgroundRunner();  // runs what is queued with skip = true, joins
    bool submit(std::function<void(bool skip)> job);  // false when max_pending jobs are waiting or running
    void wait_idle();

private:
    void loop();
    std::mutex mu_;
    std::condition_variable cv_work_, cv_idle_;
    std::deque<std::function<void(bool)>> queue_;
    size_t max_pending_;
    size_t n_running_ = 0;
    bool stop_ = false;
    std::vector<std::thread> threads_;
};

struct ShadowAgreement {
    bool tool = false;   // the same tool names (as a multiset), or both answered without a tool
    bool exact = false;  // tool and the same arguments (JSON equality, key order ignored)
};
ShadowAgreement compare_answers(const chat::Message & local, const chat::Message & shadow);

// The router confidence of a local answer: min over the calls' overall confidence for a tool call, the
// decision's for a text answer; std::nullopt when the provider reported none.
std::optional<double> overall_confidence(const providers::ChatResponse & r);
ojson confidence_parts_json(const grammar::OutputConfidence & c);

struct Gateway::Impl {
    GatewayConfig cfg;
    std::map<std::string, std::unique_ptr<providers::Provider>> providers;  // by config model name
    std::map<std::string, providers::LocalProvider *> locals;
    std::map<std::string, providers::RemoteProvider *> remotes;

    traces::PriceTable prices;
    traces::ModelPrice cloud_price;  // zero when the table does not know prices.cloud_model
    std::shared_ptr<traces::TraceStore> store;
    std::unique_ptr<traces::TraceWriter> writer;
    Metrics metrics;
    ToolExecutor executor;
    std::unique_ptr<BackgroundRunner> shadows;

    std::mutex rng_mu;
    std::mt19937_64 rng{std::random_device{}()};

    explicit Impl(GatewayConfig c);

    Target role(const std::string & role_name) const;  // by role ("router", ...); empty when not configured
    Target named(const std::string & model) const;     // by model / "model:adapter" / adapter name
    const ToolConfig * tool(const std::string & name) const;
    bool sample_shadow();

    // routing.cpp
    StepResult route(providers::ChatRequest & req, const RequestOptions & opts, StreamGate & gate, Usage & usage);

    // gateway.cpp
    void declare_metrics();
    void submit_trace(traces::Trace t);
};

}  // namespace sy::agent
