// Gateway: providers from the config, the agent loop around routing.cpp, traces, shadow runs, metrics.
// See gateway.h for the decision table.
//
// A request's trace is built when its answer is complete. Its messages are the request's, then every
// assistant/tool turn the agent loop executed, then the final assistant answer, so one trace is one
// OpenAI fine-tuning line. Decision fields (served_by, reason, router decision, confidence) are those of
// the call that produced the final answer. Tokens are those of the answering calls; cost_cloud_usd prices
// them on prices.cloud_model (what the request costs, or would have cost, on the cloud), cost_local_usd
// prices every local call (a rejected router run included) at the local rate.
//
// Agent loop (execute_tools): while the answer calls only tools that have executors, run them, append the
// assistant turn and the tool results, and call again (at most router.max_agent_steps calls). A forced
// tool_choice ("required" or a named function) becomes "auto" after the first executed step, as agent
// SDKs do, or every step would be forced to call a tool again.
//
// A shadowed request's trace is written when its shadow finishes (flush_traces() waits for both).
#include "agent/gateway_impl.h"

#include <chrono>

#include "common/error.h"

namespace sy::agent {

using providers::ChatRequest;
using traces::ServedBy;

namespace {

using Clock = std::chrono::steady_clock;

const char * error_kind_name(ErrorKind k) {
    switch (k) {
        case ErrorKind::ErrorKind_invalid_argument: return "invalid_argument";
        case ErrorKind::ErrorKind_invalid_file: return "invalid_file";
        case ErrorKind::ErrorKind_io: return "io";
        case ErrorKind::ErrorKind_unsupported: return "unsupported";
        case ErrorKind::ErrorKind_limit: return "limit";
        case ErrorKind::ErrorKind_unavailable: return "unavailable";
        case ErrorKind::ErrorKind_internal: return "internal";
    }
    return "internal";
}

ojson request_messages_json(const ChatRequest & req) {
    ojson msgs = ojson::array();
    if (req.prompt) {
        msgs.push_back({{"role", "user"}, {"content", *req.prompt}});
        return msgs;
    }
    for (const auto & m : req.messages) msgs.push_back(providers::openai_message_json(m));
    return msgs;
}

}  // namespace

// ---- Impl ----

Gateway::Impl::Impl(GatewayConfig c) : cfg(std::move(c)), executor(cfg.server.allowed_tool_hosts) {
    for (const auto & m : cfg.models) {
        if (m.kind == ModelConfig::Kind::Kind_local) {
            providers::LocalModelParams p;
            p.name = m.name;
            p.path = m.path;
            p.adapters = m.adapters;
            p.scheduler.n_slots = m.n_slots;
            p.scheduler.n_ctx = m.n_ctx;
            p.scheduler.n_batch = m.n_batch;
            p.scheduler.n_threads = m.n_threads;
            p.max_tokens = m.max_tokens;
            p.grounded_replies = m.grounded_replies;
            auto lp = std::make_unique<providers::LocalProvider>(p);
            locals[m.name] = lp.get();
            providers[m.name] = std::move(lp);
        } else {
            providers::RemoteModelParams p;
            p.name = m.name;
            p.base_url = m.base_url;
            p.model = m.remote_model;
            p.api_key = m.api_key;
            p.timeout = m.timeout;
            p.retries = m.retries;
            p.breaker_failures = m.breaker_failures;
            p.breaker_cooldown = m.breaker_cooldown;
            auto rp = std::make_unique<providers::RemoteProvider>(p);
            remotes[m.name] = rp.get();
            providers[m.name] = std::move(rp);
        }
    }
    prices = cfg.prices.file.empty() ? traces::default_price_table() : traces::load_price_table(cfg.prices.file);
    cloud_price = prices.find(cfg.prices.cloud_model).value_or(traces::ModelPrice{});
    if (!cfg.traces.url.empty()) {
        store = traces::open_trace_store(cfg.traces.url);
        traces::TraceWriterParams wp;
        wp.queue_capacity = cfg.traces.queue_capacity;
        writer = std::make_unique<traces::TraceWriter>(store, wp);
    }
    declare_metrics();
    if (cfg.router.shadow_sample_rate > 0.0) shadows = std::make_unique<BackgroundRunner>(2, 256);
}

void Gateway::Impl::declare_metrics() {
    Metrics & m = metrics;
    m.counter("switchyard_requests_total", "Requests answered, by API, who served them (local | fallback) and why");
    m.counter("switchyard_request_errors_total", "Requests that failed, by API and error kind");
    m.counter("switchyard_tokens_total", "Tokens of the answering model calls, by direction (in = prompt, out = completion) and served_by");
    m.histogram("switchyard_request_duration_seconds", "Request latency inside the gateway, by API and served_by",
                {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60});
    m.histogram("switchyard_router_duration_seconds", "Router model call latency (request in, buffered decision out)",
                {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5});
    m.histogram("switchyard_router_confidence", "Router confidence of each routed request with tools",
                {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1});
    m.counter("switchyard_fallbacks_total", "Requests sent to the fallback model, by reason");
    m.counter("switchyard_fallback_errors_total", "Fallback calls that failed, by the reason they were made");
    m.counter("switchyard_shadow_requests_total", "Shadow runs by outcome (compared | error | skipped)");
    m.counter("switchyard_shadow_agreement_total",
              "Shadow comparisons by kind (tool = same tool names, exact = same tools and arguments) and agree (true | false)");
    m.counter("switchyard_tool_executions_total", "Server-side tool executions by tool and ok (true | false)");
    m.gauge("switchyard_engine_queue_depth", "Jobs waiting for a sequence slot, per local model");
    m.gauge("switchyard_engine_active_sequences", "Sequences being generated, per local model");
    m.gauge("switchyard_remote_circuit_open", "1 while a remote model's circuit breaker is open");
    traces::TraceWriter * w = writer.get();
    m.counter_fn("switchyard_traces_dropped_total", "Traces dropped because the trace queue was full",
                 [w] { return w ? (double)w->n_dropped() : 0.0; });
    m.counter_fn("switchyard_traces_written_total", "Traces committed to the trace store", [w] { return w ? (double)w->n_written() : 0.0; });
    m.counter_fn("switchyard_traces_failed_total", "Traces in batches the trace store rejected",
                 [w] { return w ? (double)w->n_failed() : 0.0; });
}

Target Gateway::Impl::role(const std::string & role_name) const {
    const std::string * name = nullptr;
    if (role_name == "router") name = &cfg.roles.router;
    else if (role_name == "responder") name = &cfg.roles.responder;
    else if (role_name == "summarizer") name = &cfg.roles.summarizer;
    else if (role_name == "fallback") name = &cfg.roles.fallback;
    if (!name || name->empty()) return {};
    return named(*name);
}

Target Gateway::Impl::named(const std::string & model) const {
    if (auto it = providers.find(model); it != providers.end()) return Target{it->second.get(), model};
    const size_t colon = model.rfind(':');
    if (colon != std::string::npos) {
        if (auto it = locals.find(model.substr(0, colon)); it != locals.end()) return Target{it->second, model};
    }
    // A bare adapter name, as listed by /v1/models.
    for (const auto & [name, lp] : locals) {
        for (const auto & e : lp->models()) {
            if (e.kind == "adapter" && e.id == model) return Target{lp, model};
        }
    }
    return {};
}

const ToolConfig * Gateway::Impl::tool(const std::string & name) const {
    for (const auto & t : cfg.tools)
        if (t.name == name) return &t;
    return nullptr;
}

bool Gateway::Impl::sample_shadow() {
    const double rate = cfg.router.shadow_sample_rate;
    if (rate <= 0.0) return false;
    if (rate >= 1.0) return true;
    std::lock_guard lock(rng_mu);
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng) < rate;
}

void Gateway::Impl::submit_trace(traces::Trace t) {
    if (writer) writer->submit(std::move(t));
}

// ---- Gateway ----

Gateway::Gateway(GatewayConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}

Gateway::~Gateway() {
    impl_->shadows.reset();  // finishes shadow jobs (they write traces) before the writer and providers go
    impl_->writer.reset();   // writes what is queued
}

AgentResult Gateway::chat(ChatRequest req, const RequestOptions & opts, const providers::DeltaFn & on_delta) {
    Impl & m = *impl_;
    const auto t0 = Clock::now();
    const int64_t time_ms = traces::now_ms();
    const ChatRequest original = req;
    const std::string trace_id = m.writer ? (opts.trace_id.empty() ? traces::new_trace_id() : opts.trace_id) : "";
    StreamGate gate(on_delta, opts.on_decision);
    Usage usage;
    AgentResult out;
    StepResult last;
    ojson tool_results = ojson::array();
    const bool execute = opts.execute_tools || m.cfg.router.execute_tools;
    const int32_t max_steps = execute ? m.cfg.router.max_agent_steps : 1;

    auto base_trace = [&] {
        traces::Trace t;
        t.id = trace_id;
        t.time_ms = time_ms;
        t.api = opts.api;
        t.tools = original.tools.is_array() ? original.tools : ojson::array();
        t.messages = request_messages_json(original);
        for (const auto & msg : out.executed) t.messages.push_back(providers::openai_message_json(msg));
        t.tool_results = tool_results;
        t.latency.queue_ms = usage.timing.queue_ms;
        t.latency.prefill_ms = usage.timing.prefill_ms;
        t.latency.decode_ms = usage.timing.decode_ms;
        t.latency.total_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        t.cost_local_usd = traces::cost_usd(m.prices.local, usage.local_prompt, usage.local_completion);
        return t;
    };

    try {
        for (int32_t step = 1;; ++step) {
            last = m.route(req, opts, gate, usage);
            out.n_steps = step;
            const auto & calls = last.response.message.tool_calls;
            if (!execute || gate.cancelled() || calls.empty() || step >= max_steps) break;
            bool all_executable = true;
            for (const auto & c : calls) {
                const ToolConfig * t = m.tool(c.name);
                if (!t || !t->executor) all_executable = false;
            }
            if (!all_executable) break;  // the client executes the calls it owns
            // A forced tool choice applied to the first call only; kept, it would force a call on every step.
            if (!req.tool_choice.is_null() && !(req.tool_choice.is_string() && req.tool_choice == "none")) req.tool_choice = "auto";
            req.messages.push_back(last.response.message);
            out.executed.push_back(last.response.message);
            for (const auto & c : calls) {
                const ToolRunResult r = m.executor.run(*m.tool(c.name), c.arguments);
                m.metrics.inc("switchyard_tool_executions_total", {{"tool", c.name}, {"ok", r.ok ? "true" : "false"}});
                chat::Message tm;
                tm.role = "tool";
                tm.tool_call_id = c.id;
                tm.name = c.name;
                tm.content = r.content;
                req.messages.push_back(tm);
                out.executed.push_back(std::move(tm));
                tool_results.push_back({{"tool_call_id", c.id}, {"name", c.name}, {"ok", r.ok}, {"status", r.status},
                                        {"ms", r.ms}, {"content", r.content}});
            }
        }
    } catch (const std::exception & e) {
        const auto * se = dynamic_cast<const Error *>(&e);
        const char * kind = se ? error_kind_name(se->kind()) : "internal";
        m.metrics.inc("switchyard_request_errors_total", {{"api", opts.api}, {"kind", kind}});
        if (m.writer) {
            traces::Trace t = base_trace();
            t.served_reason = "error";
            t.error = std::string(kind) + ": " + e.what();
            m.submit_trace(std::move(t));
        }
        throw;
    }

    out.response = std::move(last.response);
    out.decision = last.decision;
    gate.send_decision(out.decision);  // when nothing streamed
    out.trace_id = trace_id;

    const Decision & d = out.decision;
    const char * served_by = traces::served_by_name(d.served_by);
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    m.metrics.inc("switchyard_requests_total", {{"api", opts.api}, {"served_by", served_by}, {"reason", d.reason}});
    m.metrics.inc("switchyard_tokens_total", {{"direction", "in"}, {"served_by", served_by}}, (double)usage.served_prompt);
    m.metrics.inc("switchyard_tokens_total", {{"direction", "out"}, {"served_by", served_by}}, (double)usage.served_completion);
    m.metrics.observe("switchyard_request_duration_seconds", {{"api", opts.api}, {"served_by", served_by}}, seconds);

    traces::Trace t;
    if (m.writer) {
        t = base_trace();
        t.messages.push_back(providers::openai_message_json(out.response.message));
        const size_t colon = d.model.rfind(':');
        if (m.providers.count(d.model) || colon == std::string::npos) {
            t.model = d.model;
        } else {
            t.model = d.model.substr(0, colon);
            t.adapter = d.model.substr(colon + 1);
        }
        t.router_decision = d.router_decision;
        t.confidence = d.confidence;
        t.confidence_parts = d.confidence_parts;
        t.served_by = d.served_by;
        t.served_reason = d.reason;
        t.prompt_tokens = usage.served_prompt;
        t.completion_tokens = usage.served_completion;
        t.cost_cloud_usd = traces::cost_usd(m.cloud_price, usage.served_prompt, usage.served_completion);
    }

    // Shadow: a sample of confident local router answers also goes to the fallback, after this returns.
    const Target fallback = m.role("fallback");
    const bool shadow = m.shadows && fallback && last.router_answer && d.reason == "confident" && out.n_steps == 1 &&
                        !gate.cancelled() && m.sample_shadow();
    if (shadow) {
        ChatRequest sreq = original;
        sreq.model = fallback.model;
        auto job = [impl = &m, fallback, sreq = std::move(sreq), local = out.response.message, t](bool skip) mutable {
            if (!skip) {
                try {
                    const providers::ChatResponse r = fallback.provider->chat(sreq, {});
                    const ShadowAgreement a = compare_answers(local, r.message);
                    impl->metrics.inc("switchyard_shadow_requests_total", {{"outcome", "compared"}});
                    impl->metrics.inc("switchyard_shadow_agreement_total", {{"kind", "tool"}, {"agree", a.tool ? "true" : "false"}});
                    impl->metrics.inc("switchyard_shadow_agreement_total", {{"kind", "exact"}, {"agree", a.exact ? "true" : "false"}});
                    t.shadow_result = providers::openai_message_json(r.message);
                    t.shadow_agreement = a.exact;
                } catch (const std::exception &) {
                    impl->metrics.inc("switchyard_shadow_requests_total", {{"outcome", "error"}});
                }
            } else {
                impl->metrics.inc("switchyard_shadow_requests_total", {{"outcome", "skipped"}});
            }
            impl->submit_trace(std::move(t));
        };
        if (!m.shadows->submit(std::move(job))) {
            m.metrics.inc("switchyard_shadow_requests_total", {{"outcome", "skipped"}});
            m.submit_trace(std::move(t));
        }
    } else if (m.writer) {
        m.submit_trace(std::move(t));
    }
    return out;
}

std::vector<providers::ModelEntry> Gateway::models() const {
    std::vector<providers::ModelEntry> out;
    for (const auto & m : impl_->cfg.models) {
        auto it = impl_->providers.find(m.name);
        if (it == impl_->providers.end()) continue;
        for (auto & e : it->second->models()) out.push_back(std::move(e));
    }
    for (const char * r : {"router", "responder", "fallback"}) {
        const Target t = impl_->role(r);
        if (!t) continue;
        providers::ModelEntry e;
        e.id = r;
        e.kind = "alias";  // a role name; the pipeline decides per request (parent: the role's model)
        e.parent = t.model;
        e.details = {{"alias_of", t.model}, {"model_kind", t.provider->is_local() ? "local" : "remote"}};
        out.push_back(std::move(e));
    }
    return out;
}

providers::Provider * Gateway::provider(const std::string & name) const {
    if (name == "router" || name == "responder" || name == "summarizer" || name == "fallback") return impl_->role(name).provider;
    return impl_->named(name).provider;
}

void Gateway::feedback(const traces::Feedback & fb) {
    if (!impl_->store)
        throw Error(ErrorKind::ErrorKind_invalid_argument, "feedback needs tracing; set traces.url in the config");
    if (fb.trace_id.empty()) throw Error(ErrorKind::ErrorKind_invalid_argument, "trace_id is required");
    try {
        impl_->store->add_feedback(fb);
    } catch (const Error & e) {
        if (e.kind() != ErrorKind::ErrorKind_invalid_argument) throw;
        // The trace may still be queued (or waiting for its shadow run): write pending traces and retry once.
        flush_traces();
        impl_->store->add_feedback(fb);
    }
}

void Gateway::load_adapter(const std::string & model, const std::string & adapter, const std::string & path) {
    auto it = impl_->locals.find(model);
    if (it == impl_->locals.end())
        throw Error(ErrorKind::ErrorKind_invalid_argument, "'" + model + "' is not a local model of this gateway; adapters load onto local models");
    it->second->load_adapter(adapter, path);
}

void Gateway::unload_adapter(const std::string & model, const std::string & adapter) {
    auto it = impl_->locals.find(model);
    if (it == impl_->locals.end())
        throw Error(ErrorKind::ErrorKind_invalid_argument, "'" + model + "' is not a local model of this gateway");
    it->second->unload_adapter(adapter);
}

Metrics & Gateway::metrics() { return impl_->metrics; }

std::string Gateway::render_metrics() const {
    Metrics & m = impl_->metrics;
    for (const auto & [name, lp] : impl_->locals) {
        const engine::SchedulerStats s = lp->scheduler_stats();
        m.set("switchyard_engine_queue_depth", {{"model", name}}, (double)s.n_queued);
        m.set("switchyard_engine_active_sequences", {{"model", name}}, (double)s.n_active);
    }
    for (const auto & [name, rp] : impl_->remotes) m.set("switchyard_remote_circuit_open", {{"model", name}}, rp->circuit_open() ? 1.0 : 0.0);
    return m.render();
}

const GatewayConfig & Gateway::config() const { return impl_->cfg; }

traces::TraceStore * Gateway::trace_store() const { return impl_->store.get(); }

void Gateway::flush_traces() {
    if (impl_->shadows) impl_->shadows->wait_idle();
    if (impl_->writer) impl_->writer->flush();
}

}  // namespace sy::agent
