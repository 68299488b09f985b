// The dashboard: the page at / (index.html, app.js, style.css compiled into the binary, see
// dashboard/assets.h) and the JSON it polls, under /admin/dashboard/ (guarded like every /admin route):
//   GET /admin/dashboard/summary?window=S   live numbers: request rate, local vs fallback share, reasons,
//                                           router confidence histogram, latency percentiles (window),
//                                           shadow agreement, tokens and cost saved (since start)
//   GET /admin/dashboard/traces?...         the trace browser: filters, newest first, paginated
//   GET /admin/dashboard/traces/ID          one whole trace
//   GET /admin/dashboard/eval               the newest evaluation report (dashboard.eval_report)
//   GET /admin/dashboard/eval.html          its HTML twin, when `switchyard eval --report` wrote one beside it
// Feedback buttons post to the ordinary POST /v1/feedback.
//
// Live numbers come from a recorder the HTTP logger feeds after every model request (route, status,
// X-Switchyard-Served-By / -Reason / -Confidence headers, time to the last byte): a ring of the last
// k_max_samples requests, so they work with tracing off. Shadow agreement and tokens are read from the
// gateway's Prometheus counters. Not here: anything that changes the gateway (feedback has its own route).
#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "server/dashboard/assets.h"
#include "server/routes.h"
#include "traces/prices.h"
#include "traces/store.h"

namespace sy::server {

namespace fs = std::filesystem;

namespace {

constexpr size_t k_max_samples = 100000;   // requests kept for windowed numbers
constexpr int64_t k_series_bucket_ms = 5000;
constexpr int k_series_buckets = 60;        // the request-rate chart: 5 minutes in 5 s buckets
constexpr int k_confidence_bins = 10;
constexpr size_t k_preview_bytes = 240;
constexpr int64_t k_max_page = 200;
constexpr uintmax_t k_max_report_bytes = 32u << 20;

// Routes whose requests reach the gateway (the ones the dashboard counts).
bool is_model_route(const std::string & label) {
    static const char * const k_routes[] = {"/v1/chat/completions", "/v1/agent/chat", "/v1/completions", "/api/chat", "/api/generate"};
    for (const char * r : k_routes)
        if (label == r) return true;
    return false;
}

enum class Served : uint8_t { Served_none, Served_local, Served_fallback, Served_external };

struct Sample {
    int64_t time_ms = 0;
    float latency_ms = 0;
    float confidence = -1;  // < 0: the router did not judge this request
    uint16_t status = 0;
    Served served = Served::Served_none;
    uint8_t reason = 0;     // index into Dashboard::reasons_
};

// Nearest-rank percentile of sorted values: the value at rank ceil(p/100 * n).
double percentile(const std::vector<double> & sorted, double p) {
    const size_t n = sorted.size();
    size_t rank = (size_t)std::ceil(p / 100.0 * (double)n);
    rank = std::clamp<size_t>(rank, 1, n);
    return sorted[rank - 1];
}

// At most `max` bytes of `s`, cut on a UTF-8 character boundary, with "…" when cut.
std::string clip(const std::string & s, size_t max) {
    if (s.size() <= max) return s;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) --n;
    return s.substr(0, n) + "\u2026";
}

std::string content_text(const ojson & content) {
    if (content.is_string()) return content.get<std::string>();
    std::string out;
    if (content.is_array())
        for (const ojson & part : content)
            if (part.is_object() && part.contains("text") && part["text"].is_string()) out += part["text"].get<std::string>();
    return out;
}

// The last user message and the answer (last assistant message: text, or its calls as name(args)).
void previews(const ojson & messages, std::string & request, std::string & answer, ojson & calls) {
    if (!messages.is_array()) return;
    for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
        if (!it->is_object()) continue;
        const std::string role = it->value("role", "");
        if (role == "user" && request.empty()) {
            request = content_text(it->value("content", ojson()));
            break;
        }
        if (role == "assistant" && answer.empty() && calls.empty()) {
            const ojson tc = it->value("tool_calls", ojson::array());
            if (tc.is_array() && !tc.empty()) {
                for (const ojson & c : tc) {
                    const ojson fn = c.is_object() ? c.value("function", ojson::object()) : ojson::object();
                    const std::string name = fn.is_object() ? fn.value("name", "") : "";
                    const ojson args = fn.is_object() ? fn.value("arguments", ojson("")) : ojson("");
                    calls.push_back(name);
                    answer += (answer.empty() ? "" : " ") + name + "(" + (args.is_string() ? args.get<std::string>() : args.dump()) + ")";
                }
            } else {
                answer = content_text(it->value("content", ojson()));
            }
        }
    }
    request = clip(request, k_preview_bytes);
    answer = clip(answer, k_preview_bytes);
}

ojson opt_json(const std::optional<double> & v) { return v ? ojson(*v) : ojson(nullptr); }

std::optional<int64_t> int_param(const httplib::Request & req, const char * key, int64_t lo, int64_t hi) {
    if (!req.has_param(key)) return std::nullopt;
    const std::string v = req.get_param_value(key);
    if (v.empty()) return std::nullopt;
    int64_t out = 0;
    size_t used = 0;
    try {
        out = std::stoll(v, &used);
    } catch (const std::exception &) {
        used = 0;
    }
    if (used != v.size()) bad_request(key, "must be an integer, got '" + clip(v, 40) + "'");
    if (out < lo || out > hi) bad_request(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    return out;
}

std::string str_param(const httplib::Request & req, const char * key) {
    if (!req.has_param(key)) return "";
    const std::string v = req.get_param_value(key);
    if (invalid_utf8_offset(v) != std::string_view::npos) bad_request(key, "is not valid UTF-8");
    if (v.size() > 1000) bad_request(key, "is longer than 1000 bytes");
    return v;
}

std::string content_type_for(const std::string & name) {
    const auto ends = [&](const char * ext) {
        const size_t n = std::char_traits<char>::length(ext);
        return name.size() >= n && name.compare(name.size() - n, n, ext) == 0;
    };
    if (ends(".html")) return "text/html; charset=utf-8";
    if (ends(".js")) return "text/javascript; charset=utf-8";
    if (ends(".css")) return "text/css; charset=utf-8";
    if (ends(".svg")) return "image/svg+xml";
    if (ends(".json")) return "application/json";
    if (ends(".png")) return "image/png";
    if (ends(".ico")) return "image/x-icon";
    return "application/octet-stream";
}

std::string read_file(const fs::path & p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw Error(ErrorKind::ErrorKind_io, "cannot read " + p.filename().string());
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

int64_t mtime_ms(const fs::path & p) {
    std::error_code ec;
    const auto t = fs::last_write_time(p, ec);
    if (ec) return 0;
    const auto sys = std::chrono::file_clock::to_sys(t);
    return std::chrono::duration_cast<std::chrono::milliseconds>(sys.time_since_epoch()).count();
}

}  // namespace

class Dashboard {
public:
    explicit Dashboard(ServerContext & ctx) : ctx_(ctx), started_ms_(traces::now_ms()) {
        const agent::GatewayConfig & cfg = ctx.gateway.config();
        prices_ = cfg.prices.file.empty() ? traces::default_price_table() : traces::load_price_table(cfg.prices.file);
        cloud_price_ = prices_.find(cfg.prices.cloud_model);
        reasons_.push_back("");
        for (size_t i = 0; i < dashboard::k_n_assets; ++i) {
            const dashboard::Asset & a = dashboard::k_assets[i];
            uint64_t h = 1469598103934665603ull;  // FNV-1a 64 of the bytes: the asset's ETag
            for (size_t k = 0; k < a.size; ++k) h = (h ^ a.data[k]) * 1099511628211ull;
            char tag[24];
            std::snprintf(tag, sizeof tag, "\"%016llx\"", (unsigned long long)h);
            etags_.emplace_back(tag);
        }
    }

    void observe(const std::string & route, const httplib::Response & res, double secs) {
        if (!is_model_route(route)) return;
        Sample s;
        s.time_ms = traces::now_ms();
        s.latency_ms = (float)(secs * 1000.0);
        s.status = (uint16_t)std::clamp(res.status, 0, 999);
        const std::string by = res.get_header_value("X-Switchyard-Served-By");
        if (const auto sb = traces::served_by_from_name(by)) {
            s.served = *sb == traces::ServedBy::ServedBy_local      ? Served::Served_local
                       : *sb == traces::ServedBy::ServedBy_fallback ? Served::Served_fallback
                                                                    : Served::Served_external;
        }
        const std::string conf = res.get_header_value("X-Switchyard-Confidence");
        if (!conf.empty()) {
            char * end = nullptr;
            const double c = std::strtod(conf.c_str(), &end);
            if (end && *end == 0 && c >= 0 && c <= 1) s.confidence = (float)c;
        }
        const std::string reason = res.get_header_value("X-Switchyard-Reason");
        std::lock_guard<std::mutex> lk(mu_);
        s.reason = reason_index(reason);
        samples_.push_back(s);
        if (samples_.size() > k_max_samples) samples_.pop_front();
        ++n_total_;
        if (s.status >= 400) ++n_errors_;
        if (s.served == Served::Served_local) ++n_local_;
        if (s.served == Served::Served_fallback || s.served == Served::Served_external) ++n_fallback_;
    }

    ojson summary(const httplib::Request & req) {
        const int64_t window_s = int_param(req, "window", 0, 7 * 86400).value_or(300);
        const int64_t now = traces::now_ms();
        const int64_t since = window_s > 0 ? now - window_s * 1000 : INT64_MIN;
        const int64_t series_end = (now / k_series_bucket_ms + 1) * k_series_bucket_ms;
        const int64_t series_start = series_end - k_series_bucket_ms * k_series_buckets;
        const double threshold = ctx_.gateway.config().router.confidence_threshold;

        std::vector<int64_t> series(k_series_buckets, 0);
        std::vector<int64_t> bins(k_confidence_bins, 0);
        std::vector<double> latencies;
        std::map<std::string, int64_t> reasons;
        int64_t n_window = 0, n_minute = 0, w_local = 0, w_fallback = 0, w_external = 0, w_errors = 0, n_conf = 0, n_below = 0;
        int64_t n_total = 0, n_errors = 0, n_local = 0, n_fallback = 0;
        {
            std::lock_guard<std::mutex> lk(mu_);
            n_total = n_total_, n_errors = n_errors_, n_local = n_local_, n_fallback = n_fallback_;
            for (auto it = samples_.rbegin(); it != samples_.rend(); ++it) {
                const Sample & s = *it;
                if (s.time_ms < since && s.time_ms < series_start && s.time_ms < now - 60000) break;
                if (s.time_ms >= series_start && s.time_ms < series_end) ++series[(size_t)((s.time_ms - series_start) / k_series_bucket_ms)];
                if (s.time_ms >= now - 60000) ++n_minute;
                if (s.time_ms < since) continue;
                ++n_window;
                if (s.status >= 400) ++w_errors;
                if (s.served == Served::Served_local) ++w_local;
                if (s.served == Served::Served_fallback) ++w_fallback;
                if (s.served == Served::Served_external) ++w_external;
                if (s.reason) ++reasons[reasons_[s.reason]];
                if (s.status < 400) latencies.push_back(s.latency_ms);
                if (s.confidence >= 0) {
                    ++n_conf;
                    if (s.confidence < threshold) ++n_below;
                    ++bins[(size_t)std::min<int>(k_confidence_bins - 1, (int)(s.confidence * k_confidence_bins))];
                }
            }
        }
        std::sort(latencies.begin(), latencies.end());
        const double uptime_s = std::max(1.0, (double)(now - started_ms_) / 1000.0);

        ojson j = ojson::object();
        j["now_ms"] = now;
        j["started_ms"] = started_ms_;
        j["window_s"] = window_s;
        j["threshold"] = threshold;
        j["requests"] = {{"total", n_total},
                         {"errors", n_errors},
                         {"in_window", n_window},
                         {"errors_in_window", w_errors},
                         {"last_minute", n_minute},
                         {"rate_per_s", (double)n_minute / std::min(60.0, uptime_s)},
                         {"series", {{"bucket_s", k_series_bucket_ms / 1000}, {"end_ms", series_end}, {"counts", series}}}};
        const int64_t routed = w_local + w_fallback + w_external;
        j["served_by"] = {{"local", w_local},
                          {"fallback", w_fallback},
                          {"external", w_external},
                          {"local_share", routed ? ojson((double)w_local / (double)routed) : ojson(nullptr)},
                          {"total_local", n_local},
                          {"total_fallback", n_fallback}};
        j["reasons"] = reasons;
        j["confidence"] = {{"bins", bins}, {"n", n_conf}, {"below_threshold", n_below}};
        if (latencies.empty()) {
            j["latency_ms"] = {{"n", 0}, {"p50", nullptr}, {"p95", nullptr}, {"p99", nullptr}, {"max", nullptr}};
        } else {
            j["latency_ms"] = {{"n", latencies.size()},
                               {"p50", percentile(latencies, 50)},
                               {"p95", percentile(latencies, 95)},
                               {"p99", percentile(latencies, 99)},
                               {"max", latencies.back()}};
        }
        j["shadow"] = shadow_json();
        j["cost"] = cost_json(n_local + n_fallback);
        j["tracing"] = tracing_json();
        j["eval_report"] = !ctx_.gateway.config().dashboard.eval_report.empty();
        ojson models = ojson::array();
        for (const auto & m : ctx_.gateway.models())
            if (m.kind != "alias") models.push_back(m.id);
        j["models"] = models;
        ojson tools = ojson::array();
        for (const auto & t : ctx_.gateway.config().tools) tools.push_back(t.name);
        j["tools"] = tools;
        return j;
    }

    ojson trace_list(const httplib::Request & req) {
        traces::TraceStore * store = require_store();
        traces::TraceFilter f;
        f.since_ms = int_param(req, "since", 0, INT64_MAX);
        f.until_ms = int_param(req, "until", 0, INT64_MAX);
        f.model = str_param(req, "model");
        f.router_decision = str_param(req, "tool");
        if (const std::string sb = str_param(req, "served_by"); !sb.empty()) {
            f.served_by = traces::served_by_from_name(sb);
            if (!f.served_by) bad_request("served_by", "must be local, fallback or external, got '" + clip(sb, 40) + "'");
        }
        const std::string fb = str_param(req, "feedback");
        if (fb == "with") f.has_feedback = true;
        else if (fb == "without") f.has_feedback = false;
        else if (fb == "positive") f.min_rating = 1;
        else if (!fb.empty()) bad_request("feedback", "must be with, without or positive, got '" + clip(fb, 40) + "'");
        const std::string errors = str_param(req, "errors");
        if (errors == "hide") f.only_succeeded = true;
        else if (!errors.empty() && errors != "show") bad_request("errors", "must be show or hide");
        f.text = str_param(req, "q");
        const int64_t limit = int_param(req, "limit", 1, k_max_page).value_or(50);
        const int64_t offset = int_param(req, "offset", 0, INT64_MAX / 2).value_or(0);

        const int64_t total = store->count(f);
        f.newest_first = true;
        f.offset = offset;
        f.limit = limit;
        ojson rows = ojson::array();
        store->scan(f, [&](traces::Trace && t) {
            rows.push_back(row_json(t));
            return true;
        });
        return {{"total", total}, {"offset", offset}, {"limit", limit}, {"traces", rows}};
    }

    ojson trace_detail(const std::string & id) {
        traces::TraceStore * store = require_store();
        std::optional<traces::Trace> t = store->get(id);
        if (!t) {
            ctx_.gateway.flush_traces();  // it may still be queued
            t = store->get(id);
        }
        if (!t) throw HttpError(404, "invalid_request_error", "no trace with id '" + clip(id, 80) + "'", "id", "trace_not_found");
        return traces::trace_to_json(*t);
    }

    ojson eval_report() {
        const std::string & where = ctx_.gateway.config().dashboard.eval_report;
        ojson j = {{"configured", !where.empty()}, {"file", nullptr}, {"modified_ms", nullptr}, {"html", false},
                   {"report", nullptr}, {"message", nullptr}};
        if (where.empty()) {
            j["message"] = "no evaluation report configured: set dashboard.eval_report or start serve with --eval-report FILE.json|DIR";
            return j;
        }
        const std::optional<fs::path> p = newest_report(where);
        if (!p) {
            j["message"] = "no evaluation report found at '" + where + "' (switchyard eval --json FILE.json writes one)";
            return j;
        }
        j["file"] = p->filename().string();
        j["modified_ms"] = mtime_ms(*p);
        std::error_code ec;
        fs::path html = *p;
        html.replace_extension(".html");
        j["html"] = fs::is_regular_file(html, ec);
        if (fs::file_size(*p, ec) > k_max_report_bytes) {
            j["message"] = p->filename().string() + " is larger than 32 MiB; not shown";
            return j;
        }
        try {
            j["report"] = ojson::parse(read_file(*p));
            if (!j["report"].is_object()) throw std::runtime_error("the top level is not an object");
        } catch (const std::exception & e) {
            j["report"] = nullptr;
            j["message"] = p->filename().string() + " is not a valid evaluation report: " + e.what();
        }
        return j;
    }

    std::string eval_html() {
        const std::string & where = ctx_.gateway.config().dashboard.eval_report;
        const std::optional<fs::path> p = where.empty() ? std::nullopt : newest_report(where);
        if (p) {
            fs::path html = *p;
            html.replace_extension(".html");
            std::error_code ec;
            if (fs::is_regular_file(html, ec) && fs::file_size(html, ec) <= k_max_report_bytes) return read_file(html);
        }
        throw HttpError(404, "invalid_request_error", "no HTML evaluation report beside the newest JSON report "
                        "(switchyard eval --json X.json --report X.html writes both)", std::nullopt, "not_found");
    }

    // The embedded file named `name`, or nullptr.
    const dashboard::Asset * asset(const std::string & name, std::string & etag) const {
        for (size_t i = 0; i < dashboard::k_n_assets; ++i)
            if (name == dashboard::k_assets[i].name) {
                etag = etags_[i];
                return &dashboard::k_assets[i];
            }
        return nullptr;
    }

private:
    uint8_t reason_index(const std::string & reason) {  // under mu_
        if (reason.empty()) return 0;
        for (size_t i = 1; i < reasons_.size(); ++i)
            if (reasons_[i] == reason) return (uint8_t)i;
        if (reasons_.size() >= 255) return 0;  // reasons are a small fixed set; never grows without bound
        reasons_.push_back(reason);
        return (uint8_t)(reasons_.size() - 1);
    }

    traces::TraceStore * require_store() {
        traces::TraceStore * store = ctx_.gateway.trace_store();
        if (!store)
            throw HttpError(400, "invalid_request_error", "tracing is off on this server: start it with traces.url (or --traces) to browse traces");
        return store;
    }

    ojson shadow_json() const {
        const agent::Metrics & m = ctx_.gateway.metrics();
        auto count = [&](const char * kind, const char * agree) {
            return (int64_t)m.value("switchyard_shadow_agreement_total", {{"kind", kind}, {"agree", agree}});
        };
        const int64_t tool_yes = count("tool", "true"), tool_no = count("tool", "false");
        const int64_t exact_yes = count("exact", "true"), exact_no = count("exact", "false");
        const auto rate = [](int64_t yes, int64_t no) { return yes + no ? ojson((double)yes / (double)(yes + no)) : ojson(nullptr); };
        return {{"n", exact_yes + exact_no},
                {"sample_rate", ctx_.gateway.config().router.shadow_sample_rate},
                {"tool_agreement", rate(tool_yes, tool_no)},
                {"exact_agreement", rate(exact_yes, exact_no)}};
    }

    ojson cost_json(int64_t n_requests) const {
        const agent::Metrics & m = ctx_.gateway.metrics();
        auto tokens = [&](const char * dir, const char * by) {
            return (int64_t)m.value("switchyard_tokens_total", {{"direction", dir}, {"served_by", by}});
        };
        const int64_t local_in = tokens("in", "local"), local_out = tokens("out", "local");
        const int64_t remote_in = tokens("in", "fallback") + tokens("in", "external");
        const int64_t remote_out = tokens("out", "fallback") + tokens("out", "external");
        ojson j = {{"cloud_model", ctx_.gateway.config().prices.cloud_model},
                   {"priced", cloud_price_.has_value()},
                   {"requests", n_requests},
                   {"tokens", {{"local", {{"in", local_in}, {"out", local_out}}}, {"fallback", {{"in", remote_in}, {"out", remote_out}}}}},
                   {"cloud_only_usd", nullptr},
                   {"with_switchyard_usd", nullptr},
                   {"saved_usd", nullptr},
                   {"cloud_only_per_1k_usd", nullptr},
                   {"with_switchyard_per_1k_usd", nullptr}};
        if (!cloud_price_) return j;
        const double cloud_only = traces::cost_usd(*cloud_price_, local_in + remote_in, local_out + remote_out);
        const double with = traces::cost_usd(prices_.local, local_in, local_out) + traces::cost_usd(*cloud_price_, remote_in, remote_out);
        j["cloud_only_usd"] = cloud_only;
        j["with_switchyard_usd"] = with;
        j["saved_usd"] = cloud_only - with;
        if (n_requests > 0) {
            j["cloud_only_per_1k_usd"] = cloud_only / (double)n_requests * 1000.0;
            j["with_switchyard_per_1k_usd"] = with / (double)n_requests * 1000.0;
        }
        return j;
    }

    ojson tracing_json() const {
        traces::TraceStore * store = ctx_.gateway.trace_store();
        if (!store) return {{"enabled", false}};
        return {{"enabled", true}, {"backend", store->backend()}, {"traces", store->count({})}, {"feedback", store->count_feedback()}};
    }

    static ojson row_json(const traces::Trace & t) {
        std::string request, answer;
        ojson calls = ojson::array();
        previews(t.messages, request, answer, calls);
        return {{"id", t.id},
                {"time_ms", t.time_ms},
                {"api", t.api},
                {"model", t.model},
                {"adapter", t.adapter},
                {"router_decision", t.router_decision},
                {"confidence", opt_json(t.confidence)},
                {"served_by", traces::served_by_name(t.served_by)},
                {"served_reason", t.served_reason},
                {"shadow_agreement", t.shadow_agreement ? ojson(*t.shadow_agreement) : ojson(nullptr)},
                {"latency_ms", t.latency.total_ms},
                {"prompt_tokens", t.prompt_tokens},
                {"completion_tokens", t.completion_tokens},
                {"error", t.error},
                {"feedback_rating", t.feedback_rating ? ojson(*t.feedback_rating) : ojson(nullptr)},
                {"request", request},
                {"answer", answer},
                {"tool_calls", calls}};
    }

    // `where` itself when it is a file; for a folder, its newest *.json (by modification time, then name).
    static std::optional<fs::path> newest_report(const std::string & where) {
        std::error_code ec;
        if (fs::is_regular_file(where, ec)) return fs::path(where);
        if (!fs::is_directory(where, ec)) return std::nullopt;
        std::optional<fs::path> best;
        int64_t best_t = 0;
        for (const auto & e : fs::directory_iterator(where, ec)) {
            if (!e.is_regular_file(ec) || e.path().extension() != ".json") continue;
            const int64_t t = mtime_ms(e.path());
            if (!best || t > best_t || (t == best_t && e.path().filename() > best->filename())) {
                best = e.path();
                best_t = t;
            }
        }
        return best;
    }

    ServerContext & ctx_;
    const int64_t started_ms_;
    traces::PriceTable prices_;
    std::optional<traces::ModelPrice> cloud_price_;
    std::vector<std::string> etags_;

    std::mutex mu_;
    std::deque<Sample> samples_;
    std::vector<std::string> reasons_;  // index 0 = none
    int64_t n_total_ = 0, n_errors_ = 0, n_local_ = 0, n_fallback_ = 0;
};

std::shared_ptr<Dashboard> make_dashboard(ServerContext & ctx) {
    if (!ctx.gateway.config().dashboard.enabled) return nullptr;
    return std::make_shared<Dashboard>(ctx);
}

void dashboard_observe(Dashboard & dash, const std::string & route, const httplib::Response & res, double secs) {
    dash.observe(route, res, secs);
}

void add_dashboard_routes(httplib::Server & http, Dashboard & dash) {
    const ApiStyle s = ApiStyle::ApiStyle_openai;
    auto serve_asset = [&dash](const std::string & name, const httplib::Request & req, httplib::Response & res) {
        std::string etag;
        const dashboard::Asset * a = dash.asset(name, etag);
        if (!a) throw HttpError(404, "invalid_request_error", "no dashboard file '" + clip(name, 80) + "'", std::nullopt, "not_found");
        res.set_header("ETag", etag);
        res.set_header("Cache-Control", "no-cache");  // revalidate: a new binary may ship new files
        if (req.get_header_value("If-None-Match") == etag) {
            res.status = 304;
            return;
        }
        res.set_content(reinterpret_cast<const char *>(a->data), a->size, content_type_for(name));
    };
    add_route(http, Method::Method_get, "/", "/", s,
              [serve_asset](const httplib::Request & q, httplib::Response & r) { serve_asset("index.html", q, r); });
    add_route(http, Method::Method_get, R"(/dashboard/([A-Za-z0-9_.-]+))", "/dashboard/:file", s,
              [serve_asset](const httplib::Request & q, httplib::Response & r) { serve_asset(q.matches[1], q, r); });
    add_route(http, Method::Method_get, "/admin/dashboard/summary", "/admin/dashboard/summary", s,
              [&dash](const httplib::Request & q, httplib::Response & r) { r.set_content(dump_json(dash.summary(q)), "application/json"); });
    add_route(http, Method::Method_get, "/admin/dashboard/traces", "/admin/dashboard/traces", s,
              [&dash](const httplib::Request & q, httplib::Response & r) { r.set_content(dump_json(dash.trace_list(q)), "application/json"); });
    add_route(http, Method::Method_get, R"(/admin/dashboard/traces/([^/]+))", "/admin/dashboard/traces/:id", s,
              [&dash](const httplib::Request & q, httplib::Response & r) {
                  r.set_content(dump_json(dash.trace_detail(q.matches[1])), "application/json");
              });
    add_route(http, Method::Method_get, "/admin/dashboard/eval", "/admin/dashboard/eval", s,
              [&dash](const httplib::Request &, httplib::Response & r) { r.set_content(dump_json(dash.eval_report()), "application/json"); });
    add_route(http, Method::Method_get, "/admin/dashboard/eval.html", "/admin/dashboard/eval.html", s,
              [&dash](const httplib::Request &, httplib::Response & r) { r.set_content(dash.eval_html(), "text/html; charset=utf-8"); });
}

}  // namespace sy::server
