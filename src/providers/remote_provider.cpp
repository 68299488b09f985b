// RemoteProvider: an OpenAI-compatible endpoint over cpp-httplib. See remote_provider.h.
//
// One call = up to 1 + retries attempts. An attempt fails "retryably" on a connection error, a timeout,
// HTTP 429 or 5xx; then the provider waits retry_backoff · 2^k (jittered ±50 %, at most 5 s) and tries
// again. HTTP 4xx other than 429 is the remote saying the request is wrong: no retry, invalid_argument with
// the remote's message. A stream that already delivered content to the caller is never retried (the
// caller cannot take bytes back); its failure is final.
//
// Circuit breaker (per provider): a call whose attempts all failed retryably counts one failure; any
// answer (success or 4xx) resets the count. At breaker_failures consecutive failures the circuit opens:
// calls throw unavailable at once for breaker_cooldown. Then exactly one trial call (one attempt) goes
// through while others are still refused; it closes the circuit or re-opens it for another cooldown.
//
// Connections are kept alive in a small pool of clients (httplib::Client is not safe for concurrent
// requests). A pooled connection the peer has closed meanwhile shows up as a failure before any response
// byte; such an attempt is repeated once on a fresh connection without counting as a retry.
#include "providers/remote_provider.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>

#include "common/error.h"

namespace sy::providers {

namespace {

using Clock = std::chrono::steady_clock;

std::string random_call_id() {
    thread_local std::mt19937_64 rng(std::random_device{}() ^ (uint64_t)Clock::now().time_since_epoch().count());
    char buf[32];
    std::snprintf(buf, sizeof buf, "call_%012llx%012llx", (unsigned long long)(rng() & 0xffffffffffffull),
                  (unsigned long long)(rng() & 0xffffffffffffull));
    return buf;
}

std::string truncate(std::string s, size_t n = 300) {
    if (s.size() > n) {
        s.resize(n);
        s += "...";
    }
    return s;
}

// The message of an OpenAI-style error body ({"error": {"message": ...}} or {"error": "..."}), else the
// body itself.
std::string remote_error_message(const std::string & body) {
    auto j = ojson::parse(body, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.contains("error")) {
        const auto & e = j["error"];
        if (e.is_string()) return e.get<std::string>();
        if (e.is_object() && e.contains("message") && e["message"].is_string()) return e["message"].get<std::string>();
    }
    return truncate(body);
}

// Arguments arrive as a JSON string; an object when it parses, else the raw string (kept for traces).
ojson parse_arguments(const ojson & a) {
    if (a.is_object()) return a;
    if (a.is_string()) {
        const std::string & s = a.get_ref<const std::string &>();
        if (s.empty()) return ojson::object();
        auto j = ojson::parse(s, nullptr, false);
        if (!j.is_discarded()) return j;
        return a;
    }
    if (a.is_null()) return ojson::object();
    return a;
}

std::string str_or_empty(const ojson & j, const char * key) {
    if (!j.is_object()) return "";
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return "";
    return it->get<std::string>();
}

void read_usage(const ojson & u, Usage & usage) {
    if (!u.is_object()) return;
    if (u.contains("prompt_tokens") && u["prompt_tokens"].is_number()) usage.prompt_tokens = u["prompt_tokens"].get<int64_t>();
    if (u.contains("completion_tokens") && u["completion_tokens"].is_number())
        usage.completion_tokens = u["completion_tokens"].get<int64_t>();
    if (u.contains("prompt_tokens_details") && u["prompt_tokens_details"].is_object()) {
        const auto & d = u["prompt_tokens_details"];
        if (d.contains("cached_tokens") && d["cached_tokens"].is_number()) usage.cached_tokens = d["cached_tokens"].get<int64_t>();
    }
}

void read_logprobs(const ojson & lp, std::vector<TokenLogprobInfo> & out) {
    if (!lp.is_object() || !lp.contains("content") || !lp["content"].is_array()) return;
    for (const auto & t : lp["content"]) {
        if (!t.is_object()) continue;
        TokenLogprobInfo info;
        info.token = str_or_empty(t, "token");
        if (t.contains("logprob") && t["logprob"].is_number()) info.logprob = t["logprob"].get<double>();
        if (t.contains("top_logprobs") && t["top_logprobs"].is_array()) {
            for (const auto & x : t["top_logprobs"]) {
                if (!x.is_object()) continue;
                TopLogprob tl;
                tl.token = str_or_empty(x, "token");
                if (x.contains("logprob") && x["logprob"].is_number()) tl.logprob = x["logprob"].get<double>();
                info.top.push_back(std::move(tl));
            }
        }
        out.push_back(std::move(info));
    }
}

// What one attempt ended with.
enum class AttemptOutcome {
    AttemptOutcome_ok,
    AttemptOutcome_retryable,  // connection error, timeout, 429, 5xx
    AttemptOutcome_rejected,   // 4xx other than 429: the request is wrong
    AttemptOutcome_cancelled,  // the caller's DeltaFn returned false
    AttemptOutcome_broken,     // failed after content was delivered: final
};

struct AttemptResult {
    AttemptOutcome outcome = AttemptOutcome::AttemptOutcome_ok;
    std::string message;  // for failures
    bool got_response = false;                    // a status line arrived
    bool stale_connection = false;                // a reused connection failed before any answer
    std::optional<std::chrono::milliseconds> retry_after;  // from a 429/503 Retry-After header
};

// Accumulates the streamed answer: content deltas, tool-call fragments by index, finish reason, usage.
struct StreamState {
    ChatResponse resp;
    std::vector<chat::ToolCall> calls;
    std::vector<std::string> call_args;  // argument text per call index
    bool delivered = false;              // some content went to the caller
    bool cancelled = false;
    std::string error;                   // an error event inside the stream
    bool raw_completion = false;
};

// Handles one SSE `data:` payload. Returns false to stop reading (cancel or error).
bool handle_sse_data(const std::string & data, StreamState & st, const DeltaFn & on_delta) {
    if (data == "[DONE]") return true;
    auto j = ojson::parse(data, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return true;  // tolerate keep-alive noise
    if (j.contains("error")) {
        st.error = remote_error_message(data);
        return false;
    }
    if (j.contains("usage")) read_usage(j["usage"], st.resp.usage);
    if (!j.contains("choices") || !j["choices"].is_array()) return true;
    for (const auto & ch : j["choices"]) {
        if (!ch.is_object()) continue;
        if (ch.contains("finish_reason") && ch["finish_reason"].is_string()) st.resp.finish_reason = ch["finish_reason"].get<std::string>();
        if (ch.contains("logprobs")) read_logprobs(ch["logprobs"], st.resp.logprobs);
        std::string piece;
        if (st.raw_completion) {
            piece = str_or_empty(ch, "text");
        } else if (ch.contains("delta") && ch["delta"].is_object()) {
            const auto & d = ch["delta"];
            piece = str_or_empty(d, "content");
            if (d.contains("tool_calls") && d["tool_calls"].is_array()) {
                for (const auto & tc : d["tool_calls"]) {
                    if (!tc.is_object()) continue;
                    size_t index = st.calls.size();
                    if (tc.contains("index") && tc["index"].is_number_unsigned()) index = tc["index"].get<size_t>();
                    else if (tc.contains("index") && tc["index"].is_number_integer() && tc["index"].get<int64_t>() >= 0)
                        index = (size_t)tc["index"].get<int64_t>();
                    if (index > 1024) continue;  // nonsense from the peer
                    if (index >= st.calls.size()) {
                        st.calls.resize(index + 1);
                        st.call_args.resize(index + 1);
                    }
                    const std::string id = str_or_empty(tc, "id");
                    if (!id.empty()) st.calls[index].id = id;
                    if (tc.contains("function") && tc["function"].is_object()) {
                        const auto & f = tc["function"];
                        st.calls[index].name += str_or_empty(f, "name");
                        if (f.contains("arguments") && f["arguments"].is_string()) st.call_args[index] += f["arguments"].get<std::string>();
                        else if (f.contains("arguments") && f["arguments"].is_object()) st.call_args[index] += f["arguments"].dump();
                    }
                }
            }
        }
        if (!piece.empty()) {
            st.resp.message.content += piece;
            if (on_delta) {
                st.delivered = true;
                if (!on_delta(piece)) {
                    st.cancelled = true;
                    return false;
                }
            }
        }
    }
    return true;
}

// Splits an SSE byte stream into events and hands each event's data to handle_sse_data.
class SseParser {
public:
    // Returns false when the handler asked to stop.
    bool feed(const char * p, size_t n, const std::function<bool(const std::string &)> & on_data) {
        buf_.append(p, n);
        size_t start = 0;
        for (;;) {
            const size_t nl = buf_.find('\n', start);
            if (nl == std::string::npos) break;
            std::string line = buf_.substr(start, nl - start);
            start = nl + 1;
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (!line_(line, on_data)) {
                buf_.erase(0, start);
                return false;
            }
        }
        buf_.erase(0, start);
        return true;
    }
    // End of stream: a final event without its blank line still counts.
    bool finish(const std::function<bool(const std::string &)> & on_data) {
        if (!buf_.empty()) {
            std::string line = buf_;
            buf_.clear();
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (!line_(line, on_data)) return false;
        }
        return dispatch_(on_data);
    }

private:
    bool line_(const std::string & line, const std::function<bool(const std::string &)> & on_data) {
        if (line.empty()) return dispatch_(on_data);
        if (line[0] == ':') return true;  // comment / keep-alive
        if (line.rfind("data:", 0) == 0) {
            std::string v = line.substr(5);
            if (!v.empty() && v[0] == ' ') v.erase(0, 1);
            if (has_data_) data_ += '\n';
            data_ += v;
            has_data_ = true;
        }
        return true;  // event:, id:, retry: are not used by the chat API
    }
    bool dispatch_(const std::function<bool(const std::string &)> & on_data) {
        if (!has_data_) return true;
        std::string d = std::move(data_);
        data_.clear();
        has_data_ = false;
        return on_data(d);
    }

    std::string buf_, data_;
    bool has_data_ = false;
};

bool retryable_status(int status) { return status == 429 || status >= 500; }

}  // namespace

std::string HttpUrl::origin() const {
    const bool v6 = host.find(':') != std::string::npos;
    return scheme + "://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<HttpUrl> parse_http_url(std::string_view url) {
    HttpUrl u;
    const size_t sep = url.find("://");
    if (sep == std::string_view::npos) return std::nullopt;
    std::string scheme(url.substr(0, sep));
    for (auto & c : scheme) c = (char)std::tolower((unsigned char)c);
    if (scheme != "http" && scheme != "https") return std::nullopt;
    u.scheme = scheme;
    std::string_view rest = url.substr(sep + 3);
    const size_t path_at = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, path_at);
    if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
    std::string_view host = authority, port;
    if (authority[0] == '[') {
        const size_t close = authority.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        host = authority.substr(1, close - 1);
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after[0] != ':') return std::nullopt;
            port = after.substr(1);
            u.explicit_port = true;
        }
    } else {
        const size_t colon = authority.rfind(':');
        if (colon != std::string_view::npos) {
            host = authority.substr(0, colon);
            port = authority.substr(colon + 1);
            u.explicit_port = true;
        }
    }
    if (host.empty()) return std::nullopt;
    for (char c : host) {
        if ((unsigned char)c <= ' ' || c == '/' || c == '\\' || c == '%') return std::nullopt;
    }
    u.host.assign(host);
    for (auto & c : u.host) c = (char)std::tolower((unsigned char)c);
    if (u.explicit_port) {
        if (port.empty() || port.size() > 5) return std::nullopt;
        int p = 0;
        for (char c : port) {
            if (c < '0' || c > '9') return std::nullopt;
            p = p * 10 + (c - '0');
        }
        if (p < 1 || p > 65535) return std::nullopt;
        u.port = p;
    } else {
        u.port = scheme == "https" ? 443 : 80;
    }
    std::string target = path_at == std::string_view::npos ? "/" : std::string(rest.substr(path_at));
    if (const size_t hash = target.find('#'); hash != std::string::npos) target.resize(hash);
    if (target.empty() || target[0] != '/') target.insert(0, "/");
    u.target = std::move(target);
    return u;
}

ojson openai_message_json(const chat::Message & m) {
    ojson j = ojson::object();
    j["role"] = m.role;
    if (m.role == "assistant" && !m.tool_calls.empty()) {
        j["content"] = m.content.empty() ? ojson(nullptr) : ojson(m.content);
        ojson calls = ojson::array();
        for (const auto & c : m.tool_calls) {
            const std::string args = c.arguments.is_string() ? c.arguments.get<std::string>() : c.arguments.dump();
            calls.push_back({{"id", c.id}, {"type", "function"}, {"function", {{"name", c.name}, {"arguments", args}}}});
        }
        j["tool_calls"] = std::move(calls);
    } else {
        j["content"] = m.content;
    }
    if (m.role == "tool") {
        j["tool_call_id"] = m.tool_call_id;
        if (!m.name.empty()) j["name"] = m.name;
    }
    return j;
}

struct RemoteProvider::Impl {
    RemoteModelParams params;
    HttpUrl base;
    std::string path_prefix;  // base target without a trailing "/"

    mutable std::mutex mu;
    std::vector<std::unique_ptr<httplib::Client>> idle;  // keep-alive connections
    int32_t consecutive_failures = 0;
    std::optional<Clock::time_point> open_until;  // circuit open until then
    bool trial_in_flight = false;

    std::unique_ptr<httplib::Client> take_client(bool & reused) {
        {
            std::lock_guard lock(mu);
            if (!idle.empty()) {
                auto c = std::move(idle.back());
                idle.pop_back();
                reused = true;
                return c;
            }
        }
        reused = false;
        auto c = std::make_unique<httplib::Client>(base.origin());
        c->set_keep_alive(true);
        c->set_follow_location(false);
        c->set_tcp_nodelay(true);
        return c;
    }
    void give_back(std::unique_ptr<httplib::Client> c) {
        std::lock_guard lock(mu);
        if (idle.size() < 16) idle.push_back(std::move(c));
    }

    // Circuit: may this call go through? Sets `trial` when it is the half-open trial.
    void admit(bool & trial) {
        std::lock_guard lock(mu);
        trial = false;
        if (!open_until) return;
        const auto now = Clock::now();
        if (now < *open_until || trial_in_flight) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*open_until - now).count();
            throw Error(ErrorKind::ErrorKind_unavailable,
                        "remote model '" + params.name + "' (" + params.base_url + ") is skipped: its circuit is open after " +
                            std::to_string(consecutive_failures) + " consecutive failed requests" +
                            (left > 0 ? "; next trial in " + std::to_string((left + 999) / 1000) + " s" : "; a trial request is running"));
        }
        trial_in_flight = true;
        trial = true;
    }
    void record(bool trial, bool failed) {
        std::lock_guard lock(mu);
        if (trial) trial_in_flight = false;
        if (!failed) {
            consecutive_failures = 0;
            open_until.reset();
            return;
        }
        ++consecutive_failures;
        if (trial || consecutive_failures >= params.breaker_failures) open_until = Clock::now() + params.breaker_cooldown;
    }

    ojson build_body(const ChatRequest & req, bool stream) const;
    AttemptResult attempt(const std::string & path, const std::string & body, bool stream, StreamState & st,
                          const DeltaFn & on_delta);
    void finish_response(StreamState & st) const;
};

ojson RemoteProvider::Impl::build_body(const ChatRequest & req, bool stream) const {
    ojson b = ojson::object();
    b["model"] = params.model;
    if (req.prompt) {
        b["prompt"] = *req.prompt;
    } else {
        ojson msgs = ojson::array();
        for (const auto & m : req.messages) msgs.push_back(openai_message_json(m));
        b["messages"] = std::move(msgs);
        if (req.tools.is_array() && !req.tools.empty()) {
            b["tools"] = req.tools;
            if (!req.tool_choice.is_null()) b["tool_choice"] = req.tool_choice;
            if (!req.parallel_tool_calls) b["parallel_tool_calls"] = false;
        }
        if (!req.response_format.is_null()) b["response_format"] = req.response_format;
    }
    const GenerationOptions & g = req.gen;
    if (g.temperature) b["temperature"] = *g.temperature;
    if (g.top_p) b["top_p"] = *g.top_p;
    if (g.max_tokens) b["max_tokens"] = *g.max_tokens;
    if (!g.stop.empty()) b["stop"] = g.stop;
    if (g.seed) b["seed"] = *g.seed;
    // top_k, min_p and repeat_penalty are not part of the OpenAI API (OpenAI rejects unknown fields).
    if (g.logprobs) {
        if (req.prompt) {
            b["logprobs"] = std::max<int32_t>(g.top_logprobs, 1);
        } else {
            b["logprobs"] = true;
            if (g.top_logprobs > 0) b["top_logprobs"] = g.top_logprobs;
        }
    }
    if (stream) {
        b["stream"] = true;
        b["stream_options"] = {{"include_usage", true}};
    }
    return b;
}

AttemptResult RemoteProvider::Impl::attempt(const std::string & path, const std::string & body, bool stream,
                                            StreamState & st, const DeltaFn & on_delta) {
    AttemptResult ar;
    bool reused = false;
    auto client = take_client(reused);
    const auto deadline = Clock::now() + params.timeout;
    const auto tmo = params.timeout;
    client->set_connection_timeout(std::min<std::chrono::milliseconds>(tmo, std::chrono::milliseconds(10000)));
    client->set_read_timeout(tmo);
    client->set_write_timeout(tmo);

    httplib::Request hreq;
    hreq.method = "POST";
    hreq.path = path;
    hreq.body = body;
    hreq.headers.emplace("Content-Type", "application/json");
    hreq.headers.emplace("Accept", stream ? "text/event-stream" : "application/json");
    if (!params.api_key.empty()) hreq.headers.emplace("Authorization", "Bearer " + params.api_key);

    int status = -1;
    bool sse_mode = false;  // a 200 answer in text/event-stream (a peer may ignore "stream" and send JSON)
    bool got_stream_bytes = false;
    std::string retry_after;
    std::string raw;  // whole body (non-stream or error)
    bool timed_out = false;
    SseParser sse;
    auto on_data = [&](const std::string & d) { return handle_sse_data(d, st, on_delta); };
    hreq.response_handler = [&](const httplib::Response & r) {
        status = r.status;
        retry_after = r.get_header_value("Retry-After");
        sse_mode = stream && status == 200 && r.get_header_value("Content-Type").find("text/event-stream") != std::string::npos;
        return true;
    };
    hreq.content_receiver = [&](const char * p, size_t n, uint64_t, uint64_t) {
        // The deadline covers a whole JSON answer, and a stream until its first bytes; after that a stream
        // may run long, and the read timeout bounds the silence between events.
        if (!(sse_mode && got_stream_bytes) && Clock::now() > deadline) {
            timed_out = true;
            return false;
        }
        if (!sse_mode) {
            if (raw.size() > (64u << 20)) return false;  // no chat answer is this large
            raw.append(p, n);
            return true;
        }
        got_stream_bytes = true;
        return sse.feed(p, n, on_data);
    };

    httplib::Response hres;
    httplib::Error herr = httplib::Error::Success;
    const bool ok = client->send(hreq, hres, herr);
    if (status < 0 && hres.status > 0) status = hres.status;
    if (raw.empty() && !hres.body.empty()) raw = hres.body;
    ar.got_response = status > 0;

    if (!ok) {
        if (st.cancelled) {
            ar.outcome = AttemptOutcome::AttemptOutcome_cancelled;
            return ar;
        }
        if (!st.error.empty()) {
            ar.outcome = st.delivered ? AttemptOutcome::AttemptOutcome_broken : AttemptOutcome::AttemptOutcome_retryable;
            ar.message = "error event in the stream: " + st.error;
            return ar;
        }
        const std::string what = timed_out || herr == httplib::Error::ConnectionTimeout ||
                                         (herr == httplib::Error::Read && Clock::now() >= deadline - std::chrono::milliseconds(5))
                                     ? "timed out after " + std::to_string(params.timeout.count()) + " ms"
                                     : "connection failed (" + httplib::to_string(herr) + ")";
        ar.outcome = st.delivered ? AttemptOutcome::AttemptOutcome_broken : AttemptOutcome::AttemptOutcome_retryable;
        ar.message = what;
        // A kept-alive connection the peer closed: flag it so the caller repeats once on a fresh one.
        ar.stale_connection = reused && !ar.got_response && !timed_out;
        return ar;
    }

    if (status != 200) {
        ar.message = "HTTP " + std::to_string(status) + ": " + remote_error_message(raw);
        if (retryable_status(status)) {
            ar.outcome = AttemptOutcome::AttemptOutcome_retryable;
            if (!retry_after.empty() && std::all_of(retry_after.begin(), retry_after.end(), ::isdigit) && retry_after.size() < 6)
                ar.retry_after = std::chrono::milliseconds(std::stoll(retry_after) * 1000);
        } else if (status >= 400 && status < 500) {
            ar.outcome = AttemptOutcome::AttemptOutcome_rejected;
        } else {
            ar.outcome = AttemptOutcome::AttemptOutcome_retryable;  // 1xx/3xx: not an answer we can use
        }
        give_back(std::move(client));
        return ar;
    }

    if (sse_mode) {
        if (!sse.finish(on_data)) {
            if (st.cancelled) {
                ar.outcome = AttemptOutcome::AttemptOutcome_cancelled;
                return ar;
            }
        }
        if (!st.error.empty()) {
            ar.outcome = st.delivered ? AttemptOutcome::AttemptOutcome_broken : AttemptOutcome::AttemptOutcome_retryable;
            ar.message = "error event in the stream: " + st.error;
            return ar;
        }
        give_back(std::move(client));
        return ar;
    }

    // Non-streaming: one JSON document.
    auto j = ojson::parse(raw, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        ar.outcome = AttemptOutcome::AttemptOutcome_retryable;
        ar.message = "the answer is not JSON: " + truncate(raw, 120);
        return ar;
    }
    if (j.contains("error")) {
        ar.outcome = AttemptOutcome::AttemptOutcome_retryable;
        ar.message = remote_error_message(raw);
        return ar;
    }
    if (!j.contains("choices") || !j["choices"].is_array() || j["choices"].empty() || !j["choices"][0].is_object()) {
        ar.outcome = AttemptOutcome::AttemptOutcome_retryable;
        ar.message = "the answer has no choices[0]";
        return ar;
    }
    const auto & ch = j["choices"][0];
    st.resp.finish_reason = str_or_empty(ch, "finish_reason");
    if (ch.contains("logprobs")) read_logprobs(ch["logprobs"], st.resp.logprobs);
    if (st.raw_completion) {
        st.resp.message.content = str_or_empty(ch, "text");
    } else if (ch.contains("message") && ch["message"].is_object()) {
        const auto & m = ch["message"];
        st.resp.message.content = str_or_empty(m, "content");
        if (m.contains("tool_calls") && m["tool_calls"].is_array()) {
            for (const auto & tc : m["tool_calls"]) {
                if (!tc.is_object()) continue;
                chat::ToolCall call;
                call.id = str_or_empty(tc, "id");
                if (tc.contains("function") && tc["function"].is_object()) {
                    const auto & f = tc["function"];
                    call.name = str_or_empty(f, "name");
                    st.calls.push_back(call);
                    st.call_args.push_back(f.contains("arguments") ? (f["arguments"].is_string() ? f["arguments"].get<std::string>()
                                                                                                 : f["arguments"].dump())
                                                                   : std::string());
                }
            }
        }
    }
    if (j.contains("usage")) read_usage(j["usage"], st.resp.usage);
    give_back(std::move(client));
    if (stream && !st.resp.message.content.empty()) {  // asked to stream, got one document: one delta
        st.delivered = true;
        if (!on_delta(st.resp.message.content)) ar.outcome = AttemptOutcome::AttemptOutcome_cancelled;
    }
    return ar;
}

void RemoteProvider::Impl::finish_response(StreamState & st) const {
    ChatResponse & r = st.resp;
    r.model = params.name;
    r.message.role = "assistant";
    for (size_t i = 0; i < st.calls.size(); ++i) {
        chat::ToolCall c = std::move(st.calls[i]);
        if (c.name.empty()) continue;  // an index the peer never filled
        if (c.id.empty()) c.id = random_call_id();
        c.arguments = parse_arguments(ojson(st.call_args[i]));
        r.message.tool_calls.push_back(std::move(c));
    }
    if (r.finish_reason.empty()) r.finish_reason = r.message.tool_calls.empty() ? "stop" : "tool_calls";
    r.text = r.message.content;
}

RemoteProvider::RemoteProvider(const RemoteModelParams & params) : impl_(std::make_unique<Impl>()) {
    impl_->params = params;
    auto u = parse_http_url(params.base_url);
    if (!u)
        throw Error(ErrorKind::ErrorKind_invalid_argument,
                    "remote model '" + params.name + "': base_url '" + params.base_url +
                        "' is not an http:// or https:// URL (e.g. https://api.openai.com/v1)");
    if (u->target.find('?') != std::string::npos)
        throw Error(ErrorKind::ErrorKind_invalid_argument,
                    "remote model '" + params.name + "': base_url '" + params.base_url + "' must not have a query string");
    impl_->base = *u;
    impl_->path_prefix = u->target;
    while (!impl_->path_prefix.empty() && impl_->path_prefix.back() == '/') impl_->path_prefix.pop_back();
    if (params.model.empty())
        throw Error(ErrorKind::ErrorKind_invalid_argument, "remote model '" + params.name + "': the remote model name is empty");
    if (params.timeout.count() <= 0 || params.retries < 0 || params.breaker_failures < 1)
        throw Error(ErrorKind::ErrorKind_invalid_argument,
                    "remote model '" + params.name + "': timeout must be > 0, retries >= 0 and breaker_failures >= 1");
}

RemoteProvider::~RemoteProvider() = default;

const std::string & RemoteProvider::name() const { return impl_->params.name; }

bool RemoteProvider::circuit_open() const {
    std::lock_guard lock(impl_->mu);
    return impl_->open_until.has_value() && (Clock::now() < *impl_->open_until || impl_->trial_in_flight);
}

std::vector<ModelEntry> RemoteProvider::models() const {
    ModelEntry e;
    e.id = impl_->params.name;
    e.kind = "remote";
    e.details = {{"base_url", impl_->params.base_url},
                 {"remote_model", impl_->params.model},
                 {"capabilities", ojson::array({"completion", "tools"})}};
    return {e};
}

ChatResponse RemoteProvider::chat(const ChatRequest & req, const DeltaFn & on_delta) {
    Impl & m = *impl_;
    bool trial = false;
    m.admit(trial);

    const bool stream = (bool)on_delta;
    const std::string path = m.path_prefix + (req.prompt ? "/completions" : "/chat/completions");
    const std::string body = m.build_body(req, stream).dump();
    const int32_t max_attempts = trial ? 1 : 1 + m.params.retries;
    thread_local std::mt19937_64 rng(std::random_device{}());

    const auto t0 = Clock::now();
    std::string last_error;
    bool stale_retry_used = false;
    for (int32_t a = 0; a < max_attempts; ++a) {
        StreamState st;
        st.raw_completion = req.prompt.has_value();
        const auto ta = Clock::now();
        AttemptResult ar = m.attempt(path, body, stream, st, on_delta);
        if (ar.outcome == AttemptOutcome::AttemptOutcome_retryable && ar.stale_connection) {
            if (!stale_retry_used) {
                stale_retry_used = true;
                --a;  // a closed keep-alive connection is not the remote failing
                continue;
            }
        }
        switch (ar.outcome) {
            case AttemptOutcome::AttemptOutcome_ok:
            case AttemptOutcome::AttemptOutcome_cancelled: {
                m.record(trial, false);
                m.finish_response(st);
                const auto t1 = Clock::now();
                st.resp.timing.total_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
                st.resp.timing.queue_ms = std::chrono::duration<double, std::milli>(ta - t0).count();  // earlier attempts
                st.resp.timing.decode_ms = std::chrono::duration<double, std::milli>(t1 - ta).count();
                return std::move(st.resp);
            }
            case AttemptOutcome::AttemptOutcome_rejected:
                m.record(trial, false);  // the remote is up; the request is wrong
                throw Error(ErrorKind::ErrorKind_invalid_argument,
                            "remote model '" + m.params.name + "' rejected the request: " + ar.message);
            case AttemptOutcome::AttemptOutcome_broken:
                m.record(trial, true);
                throw Error(ErrorKind::ErrorKind_unavailable,
                            "remote model '" + m.params.name + "' (" + m.params.base_url + ") failed mid-stream: " + ar.message);
            case AttemptOutcome::AttemptOutcome_retryable: break;
        }
        last_error = ar.message;
        if (a + 1 < max_attempts) {
            double wait_ms = (double)m.params.retry_backoff.count() * (double)(1u << std::min(a, 10));
            wait_ms *= 0.5 + std::uniform_real_distribution<double>(0.0, 1.0)(rng);
            if (ar.retry_after) wait_ms = std::max(wait_ms, (double)ar.retry_after->count());
            wait_ms = std::min(wait_ms, 5000.0);
            std::this_thread::sleep_for(std::chrono::microseconds((int64_t)(wait_ms * 1000.0)));
        }
    }
    m.record(trial, true);
    throw Error(ErrorKind::ErrorKind_unavailable, "remote model '" + m.params.name + "' (" + m.params.base_url + ") is unavailable: " +
                                                      last_error + (max_attempts > 1 ? " (after " + std::to_string(max_attempts) + " attempts)" : ""));
}

}  // namespace sy::providers
