// One routed model call: the decision table of gateway.h. The router runs buffered (no DeltaFn), so its
// answer is judged before anything reaches the client; the responder and the fallback stream live
// through the StreamGate. A fallback that fails before its first delta gives way to the local answer
// when there is one (reason "<reason>_fallback_failed").
#include <optional>

#include "agent/gateway_impl.h"
#include "common/error.h"

namespace sy::agent {

using providers::ChatRequest;
using providers::ChatResponse;
using traces::ServedBy;

// ---- StreamGate ----

providers::DeltaFn StreamGate::fn() {
    if (!client_) return {};
    return [this](std::string_view d) {
        if (!decision_sent_) send_decision(pending_);
        ++n_delivered_;
        const bool go_on = client_(d);
        if (!go_on) cancelled_ = true;
        return go_on;
    };
}

bool StreamGate::emit(const std::string & text) {
    if (!client_ || text.empty() || cancelled_) return !cancelled_;
    return fn()(text);
}

void StreamGate::send_decision(const Decision & d) {
    if (decision_sent_) return;
    decision_sent_ = true;
    if (on_decision_) on_decision_(d);
}

// ---- routing ----

namespace {

ServedBy served_by_of(const Target & t) { return t.provider->is_local() ? ServedBy::ServedBy_local : ServedBy::ServedBy_fallback; }

bool is_client_error(const Error & e) { return e.kind() == ErrorKind::ErrorKind_invalid_argument; }

}  // namespace

StepResult Gateway::Impl::route(ChatRequest & req, const RequestOptions & opts, StreamGate & gate, Usage & usage) {
    const Target fallback = role("fallback");

    // One provider call; counts tokens and time.
    auto call = [&](const Target & t, const providers::DeltaFn & fn) {
        req.model = t.model;
        ChatResponse r = t.provider->chat(req, fn);
        if (t.provider->is_local()) {
            usage.local_prompt += r.usage.prompt_tokens;
            usage.local_completion += r.usage.completion_tokens;
        }
        usage.timing.queue_ms += r.timing.queue_ms;
        usage.timing.prefill_ms += r.timing.prefill_ms;
        usage.timing.decode_ms += r.timing.decode_ms;
        return r;
    };
    auto served = [&](const StepResult & s) {
        usage.served_prompt += s.response.usage.prompt_tokens;
        usage.served_completion += s.response.usage.completion_tokens;
    };
    auto decision_for = [](const Target & t, const std::string & reason, Decision base) {
        base.model = t.model;
        base.served_by = served_by_of(t);
        base.reason = reason;
        return base;
    };
    // An answer produced before its decision was final (the buffered router output).
    auto serve_buffered = [&](StepResult s) {
        served(s);
        gate.set_pending(s.decision);
        gate.emit(s.response.message.content);
        return s;
    };

    // The fallback, streaming live. `local` is the local answer to serve if the fallback fails first.
    auto serve_fallback = [&](const std::string & reason, Decision base, std::optional<StepResult> local,
                              const std::string & local_error) -> StepResult {
        metrics.inc("switchyard_fallbacks_total", {{"reason", reason}});
        StepResult s;
        s.decision = decision_for(fallback, reason, std::move(base));
        gate.set_pending(s.decision);
        const uint64_t before = gate.n_delivered();
        try {
            s.response = call(fallback, gate.fn());
            served(s);
            return s;
        } catch (const Error & e) {
            metrics.inc("switchyard_fallback_errors_total", {{"reason", reason}});
            if (gate.n_delivered() != before) throw;
            if (local) {
                local->decision.reason = reason + "_fallback_failed";
                local->fallback_error = e.what();
                return serve_buffered(std::move(*local));
            }
            if (reason == "untrained_tools") {  // last resort: the router, though not trained on these tools
                const Target r = role("router");
                StepResult l;
                l.response = call(r, {});
                l.decision = decision_for(r, "untrained_tools_fallback_failed", s.decision);
                l.decision.router_decision = l.response.message.tool_calls.empty() ? "none" : l.response.message.tool_calls[0].name;
                l.decision.confidence = overall_confidence(l.response);
                if (l.response.confidence) l.decision.confidence_parts = confidence_parts_json(*l.response.confidence);
                l.router_answer = true;
                l.fallback_error = e.what();
                return serve_buffered(std::move(l));
            }
            if (local_error.empty()) throw;
            // When the fallback refused the request itself (a 4xx: too long for it too, invalid for it), the
            // request is at fault, not a server: the client gets that 4xx kind, never a 5xx.
            const bool request_fault = e.kind() == ErrorKind::ErrorKind_invalid_argument || e.kind() == ErrorKind::ErrorKind_limit;
            throw Error(request_fault ? e.kind() : ErrorKind::ErrorKind_unavailable,
                        "no model could answer: the local model failed (" + local_error + ") and so did the fallback (" +
                            e.what() + ")");
        }
    };

    // A model streaming live; a local failure before the first delta goes to the fallback ("local_error").
    auto serve_live = [&](const Target & t, const std::string & reason, bool may_fall_back) -> StepResult {
        StepResult s;
        s.decision = decision_for(t, reason, Decision{});
        gate.set_pending(s.decision);
        const uint64_t before = gate.n_delivered();
        try {
            s.response = call(t, gate.fn());
            served(s);
            return s;
        } catch (const Error & e) {
            if (!may_fall_back || gate.n_delivered() != before || is_client_error(e) || !t.provider->is_local() || !fallback ||
                fallback.provider == t.provider)
                throw;
            return serve_fallback("local_error", Decision{}, std::nullopt, e.what());
        }
    };

    // Responder chain: responder -> router -> fallback.
    auto responder = [&]() {
        if (Target t = role("responder")) return t;
        if (Target t = role("router")) return t;
        return fallback;
    };

    // A model the client named explicitly.
    if (opts.force_model) {
        const Target t = named(*opts.force_model);
        if (!t) {
            std::string known;
            for (const auto & [n, p] : providers) known += (known.empty() ? "" : ", ") + n;
            throw Error(ErrorKind::ErrorKind_invalid_argument,
                        "unknown model '" + *opts.force_model + "'; known models: " + known + " (GET /v1/models lists adapters too)");
        }
        return serve_live(t, "requested_model", false);
    }

    const Target resp = responder();
    if (!resp) throw Error(ErrorKind::ErrorKind_internal, "no model is configured to answer");  // config validation prevents it
    if (req.prompt) return serve_live(resp, "completion", true);
    if (!req.messages.empty() && req.messages.back().role == "tool") return serve_live(resp, "tool_result", true);

    const bool has_tools = req.tools.is_array() && !req.tools.empty() && !(req.tool_choice.is_string() && req.tool_choice == "none");
    if (!has_tools) return serve_live(resp, "no_tools", true);

    const Target router = role("router");
    if (!router) return fallback ? serve_live(fallback, "no_router", false) : serve_live(resp, "no_router", true);
    if (!router.provider->is_local()) return serve_live(router, "remote_router", true);  // no confidence to judge

    // The tool set must be the one the router was trained for (when it says).
    auto * local = static_cast<providers::LocalProvider *>(router.provider);
    bool untrained = false;
    if (cfg.router.check_tools_fingerprint) {
        const std::string trained = local->tools_fingerprint(router.model);
        untrained = !trained.empty() && trained != chat::tools_fingerprint(req.tools);
    }
    if (untrained && fallback) return serve_fallback("untrained_tools", Decision{}, std::nullopt, "");

    // The router, buffered.
    StepResult l;
    try {
        l.response = call(router, {});
    } catch (const Error & e) {
        if (is_client_error(e) || !fallback) throw;
        return serve_fallback("local_error", Decision{}, std::nullopt, e.what());
    }
    metrics.observe("switchyard_router_duration_seconds", {}, l.response.timing.total_ms / 1000.0);
    Decision base;
    base.router_decision = l.response.message.tool_calls.empty() ? "none" : l.response.message.tool_calls[0].name;
    base.confidence = overall_confidence(l.response);
    if (l.response.confidence) base.confidence_parts = confidence_parts_json(*l.response.confidence);
    if (base.confidence) metrics.observe("switchyard_router_confidence", {}, *base.confidence);
    l.router_answer = true;

    if (untrained) {
        l.decision = decision_for(router, "untrained_tools_no_fallback", base);
        return serve_buffered(std::move(l));
    }
    const bool confident = !base.confidence || *base.confidence >= cfg.router.confidence_threshold;
    if (confident) {
        l.decision = decision_for(router, "confident", base);
        return serve_buffered(std::move(l));
    }
    if (!fallback) {
        l.decision = decision_for(router, "low_confidence_no_fallback", base);
        return serve_buffered(std::move(l));
    }
    l.decision = decision_for(router, "low_confidence", base);
    return serve_fallback("low_confidence", base, std::move(l), "");
}

}  // namespace sy::agent
