// Server setup: thread pool, limits, authentication, the error handler for statuses httplib produces
// itself (404, 413, ...), HTTP metrics by route and status, /health and /metrics, and the route tables of
// the handler files.
#include "server/server.h"

#include <httplib.h>

#include <chrono>
#include <cstdio>

#include "common/error.h"
#include "server/chat_run.h"
#include "server/routes.h"

namespace sy::server {
namespace {

using Clock = std::chrono::steady_clock;

Clock::time_point & request_start() {
    thread_local Clock::time_point t{};
    return t;
}

// Constant-time comparison of a presented key with a configured one.
bool same_key(const std::string & a, const std::string & b) {
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    const size_t n = std::max(a.size(), b.size());
    for (size_t i = 0; i < n; ++i) diff |= (unsigned char)((i < a.size() ? a[i] : 0) ^ (i < b.size() ? b[i] : 0));
    return diff == 0;
}

bool key_accepted(const httplib::Request & req, const std::vector<std::string> & keys) {
    std::string auth = req.get_header_value("Authorization");
    static const std::string kBearer = "Bearer ";
    if (auth.size() <= kBearer.size() || auth.compare(0, kBearer.size(), kBearer) != 0) return false;
    const std::string presented = auth.substr(kBearer.size());
    bool ok = false;
    for (const auto & k : keys) ok |= same_key(presented, k);
    return ok;
}

bool starts_with(const std::string & s, const char * prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

struct Server::Impl {
    agent::Gateway & gateway;
    ServerContext ctx;
    httplib::Server http;
    std::shared_ptr<Dashboard> dashboard;  // nullptr when dashboard.enabled is false
    int port = 0;

    explicit Impl(agent::Gateway & gw) : gateway(gw), ctx{gw, gw.config().server, {}, {}, {}, {}, {false}} {}

    void setup() {
        const agent::ServerConfig & cfg = ctx.cfg;
        const size_t n_threads = (size_t)std::max(1, cfg.n_http_threads);
        http.new_task_queue = [n_threads] { return new httplib::ThreadPool(n_threads); };
        http.set_payload_max_length(cfg.max_body_bytes);
        http.set_read_timeout(30, 0);
        http.set_write_timeout(30, 0);
        http.set_keep_alive_max_count(1000);
        http.set_keep_alive_timeout(2);  // idle connections also delay shutdown by up to this long
        http.set_tcp_nodelay(true);

        agent::Metrics & m = gateway.metrics();
        m.counter("switchyard_http_requests_total", "HTTP requests by route and status");
        m.histogram("switchyard_http_request_duration_seconds", "HTTP request latency (to the last byte) by route",
                    {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120});

        http.set_pre_routing_handler([this](const httplib::Request & req, httplib::Response & res) {
            request_start() = Clock::now();
            current_route_label() = "unmatched";
            return authorize(req, res) ? httplib::Server::HandlerResponse::Unhandled : httplib::Server::HandlerResponse::Handled;
        });
        http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request & req, httplib::Response & res) {
            if (!res.body.empty() || res.is_chunked_content_provider_ || res.content_length_ > 0)
                return httplib::Server::HandlerResponse::Unhandled;
            set_error(res, error_for_status(res.status), style_for_path(req.path));
            return httplib::Server::HandlerResponse::Handled;
        }));
        http.set_exception_handler([](const httplib::Request & req, httplib::Response & res, std::exception_ptr ep) {
            set_error(res, classify(ep), style_for_path(req.path));
        });
        http.set_logger([this](const httplib::Request &, const httplib::Response & res) {
            std::string & label = current_route_label();
            const Clock::time_point start = request_start();
            const double secs = start == Clock::time_point{} ? 0.0 : std::chrono::duration<double>(Clock::now() - start).count();
            agent::Metrics & metrics = gateway.metrics();
            metrics.inc("switchyard_http_requests_total", {{"route", label}, {"status", std::to_string(res.status)}});
            metrics.observe("switchyard_http_request_duration_seconds", {{"route", label}}, secs);
            if (dashboard) dashboard_observe(*dashboard, label, res, secs);
            label = "unmatched";
            request_start() = Clock::time_point{};
        });

        add_route(http, Method::Method_get, "/health", "/health", ApiStyle::ApiStyle_openai,
                  [](const httplib::Request &, httplib::Response & res) {
                      res.set_content(dump_json({{"status", "ok"}}), "application/json");
                  });
        add_route(http, Method::Method_get, "/metrics", "/metrics", ApiStyle::ApiStyle_openai,
                  [this](const httplib::Request &, httplib::Response & res) {
                      res.set_content(gateway.render_metrics(), "text/plain; version=0.0.4; charset=utf-8");
                  });
        dashboard = make_dashboard(ctx);
        if (dashboard) {
            add_dashboard_routes(http, *dashboard);
        } else {
            add_route(http, Method::Method_get, "/", "/", ApiStyle::ApiStyle_openai, [](const httplib::Request &, httplib::Response & res) {
                res.set_content("Switchyard is running (dashboard.enabled is false)", "text/plain");
            });
        }
        add_openai_routes(http, ctx);
        add_ollama_routes(http, ctx);
        add_admin_routes(http, ctx);
    }

    // False (with a 401 set) when the route needs a key and the request has none that is accepted.
    bool authorize(const httplib::Request & req, httplib::Response & res) const {
        const agent::ServerConfig & cfg = ctx.cfg;
        const bool admin = starts_with(req.path, "/admin/");
        const bool api = starts_with(req.path, "/v1/") || starts_with(req.path, "/api/");
        if (!admin && !api) return true;
        const std::vector<std::string> & keys = admin && !cfg.admin_keys.empty() ? cfg.admin_keys : cfg.api_keys;
        if (keys.empty() || key_accepted(req, keys)) return true;
        current_route_label() = "unauthorized";
        set_error(res, error_for_status(401), style_for_path(req.path));
        res.set_header("WWW-Authenticate", "Bearer");
        return false;
    }

    void cancel_runs_and_wait() {
        std::unique_lock<std::mutex> lk(ctx.runs_mu);
        for (ChatRun * r : ctx.runs) r->cancel();
        ctx.runs_cv.wait(lk, [&] { return ctx.runs.empty(); });
    }
};

Server::Server(agent::Gateway & gateway) : impl_(std::make_unique<Impl>(gateway)) { impl_->setup(); }

Server::~Server() {
    stop();
    impl_->cancel_runs_and_wait();
}

int Server::bind() {
    const agent::ServerConfig & cfg = impl_->ctx.cfg;
    if (cfg.port == 0) {
        impl_->port = impl_->http.bind_to_any_port(cfg.host);
        if (impl_->port <= 0)
            throw Error(ErrorKind::ErrorKind_io, "cannot bind an HTTP port on '" + cfg.host + "' (check server.host)");
    } else {
        if (!impl_->http.bind_to_port(cfg.host, cfg.port))
            throw Error(ErrorKind::ErrorKind_io, "cannot listen on " + cfg.host + ":" + std::to_string(cfg.port) +
                                                     " (port in use or not allowed; pick another with --port or server.port)");
        impl_->port = cfg.port;
    }
    return impl_->port;
}

void Server::run() {
    impl_->http.listen_after_bind();
    impl_->cancel_runs_and_wait();
}

void Server::stop() {
    impl_->ctx.stopping = true;
    {
        std::lock_guard<std::mutex> lk(impl_->ctx.runs_mu);
        for (ChatRun * r : impl_->ctx.runs) r->cancel();
    }
    impl_->http.stop();
}

}  // namespace sy::server
