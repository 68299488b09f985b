// Gateway HTTP figures. Plain main; prints figures. Runs the real server (agent::Gateway + server::Server)
// in this process on a free loopback port and talks to it with cpp-httplib clients.
//
//   gateway_bench overhead -m MODEL.gguf [--requests 300] [-n 1]
//     The same chat request, one at a time, (a) straight to a LocalProvider (the engine through its
//     scheduler: template, tokenize, prefill, decode n tokens) and (b) as POST /v1/chat/completions to the
//     server (HTTP, JSON parse and render, routing, trace-free). p50/p99 of each and the p50 delta: what
//     the gateway adds over calling the engine directly.
//
//   gateway_bench load -m MODEL.gguf [--connections 64] [--seconds 60] [-n 4] [--slots 8]
//     C client threads, each with its own kept-alive connection, send chat requests back to back for S
//     seconds. Counts failed requests (transport errors and any status other than 200), requests/s, and
//     the latency percentiles of all requests.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "agent/config.h"
#include "agent/gateway.h"
#include "providers/local_provider.h"
#include "server/server.h"

using namespace sy;
using Clock = std::chrono::steady_clock;
using ojson = nlohmann::ordered_json;

namespace {

struct Args {
    std::string mode, model;
    int requests = 300, n_predict = 1, connections = 64, seconds = 60, slots = 8, threads = 2;
};

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double pct(std::vector<double> v, double p) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, (size_t)(p / 100.0 * (double)v.size()))];
}

// A running server over a gateway with the model in every role.
struct LiveServer {
    agent::Gateway gateway;
    server::Server srv;
    int port;
    std::thread thread;
    LiveServer(const Args & a, int http_threads)
        : gateway(config(a, http_threads)), srv(gateway), port(srv.bind()), thread([this] { srv.run(); }) {}
    ~LiveServer() {
        srv.stop();
        thread.join();
    }
    static agent::GatewayConfig config(const Args & a, int http_threads) {
        agent::GatewayConfig c = agent::default_config(a.model);
        c.server.port = 0;
        c.server.n_http_threads = http_threads;
        for (auto & m : c.models) {
            m.n_slots = a.slots;
            m.n_threads = a.threads;
            m.n_ctx = 512;
        }
        return c;
    }
};

std::string request_body(int i, int n_predict) {
    return ojson{{"model", "responder"},
                 {"messages", ojson::array({{{"role", "user"}, {"content", "Request number " + std::to_string(i % 7)}}})},
                 {"max_tokens", n_predict},
                 {"temperature", 0}}
        .dump();
}

int overhead(const Args & a) {
    providers::LocalModelParams lp;
    lp.name = "direct";
    lp.path = a.model;
    lp.scheduler.n_slots = a.slots;
    lp.scheduler.n_ctx = 512;
    lp.scheduler.n_threads = a.threads;
    providers::LocalProvider direct(lp);
    LiveServer live(a, 4);
    httplib::Client cli("127.0.0.1", live.port);
    cli.set_read_timeout(60, 0);

    std::vector<double> t_direct, t_http;
    const int warm = 20;
    for (int i = 0; i < a.requests + warm; ++i) {
        providers::ChatRequest req;
        req.model = "direct";
        req.messages.push_back({"user", "Request number " + std::to_string(i % 7), {}, "", ""});
        req.gen.max_tokens = a.n_predict;
        req.gen.temperature = 0.0f;
        auto t0 = Clock::now();
        direct.chat(req);
        const double d = ms_since(t0);
        const std::string body = request_body(i, a.n_predict);
        t0 = Clock::now();
        auto r = cli.Post("/v1/chat/completions", body, "application/json");
        const double h = ms_since(t0);
        if (!r || r->status != 200) {
            std::fprintf(stderr, "request failed: %s\n", r ? r->body.c_str() : httplib::to_string(r.error()).c_str());
            return 1;
        }
        if (i >= warm) {
            t_direct.push_back(d);
            t_http.push_back(h);
        }
    }
    std::printf("gateway overhead, %d sequential requests, %d generated token(s) each\n", a.requests, a.n_predict);
    std::printf("  engine direct (LocalProvider::chat): p50 %.3f ms  p99 %.3f ms\n", pct(t_direct, 50), pct(t_direct, 99));
    std::printf("  through HTTP (/v1/chat/completions): p50 %.3f ms  p99 %.3f ms\n", pct(t_http, 50), pct(t_http, 99));
    std::printf("  p50 delta (gateway overhead):        %.3f ms\n", pct(t_http, 50) - pct(t_direct, 50));
    return 0;
}

int load(const Args & a) {
    LiveServer live(a, a.connections + 8);
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> n_ok{0}, n_fail{0};
    std::vector<std::vector<double>> lat(a.connections);
    std::vector<std::thread> clients;
    const auto t_start = Clock::now();
    for (int c = 0; c < a.connections; ++c) {
        clients.emplace_back([&, c] {
            httplib::Client cli("127.0.0.1", live.port);
            cli.set_read_timeout(120, 0);
            cli.set_keep_alive(true);
            for (int i = 0; !stop.load(std::memory_order_relaxed); ++i) {
                const std::string body = request_body(c * 1000 + i, a.n_predict);
                const auto t0 = Clock::now();
                auto r = cli.Post("/v1/chat/completions", body, "application/json");
                const double ms = ms_since(t0);
                if (r && r->status == 200) {
                    ++n_ok;
                    lat[c].push_back(ms);
                } else {
                    if (n_fail.fetch_add(1) < 5)
                        std::fprintf(stderr, "failed: %s\n", r ? (std::to_string(r->status) + " " + r->body).c_str() : httplib::to_string(r.error()).c_str());
                }
            }
        });
    }
    std::this_thread::sleep_for(std::chrono::seconds(a.seconds));
    stop = true;
    for (auto & t : clients) t.join();
    const double secs = ms_since(t_start) / 1000.0;
    std::vector<double> all;
    for (auto & v : lat) all.insert(all.end(), v.begin(), v.end());
    std::printf("load: %d connections for %.1f s, %d generated token(s) per request, %d sequence slots\n", a.connections, secs,
                a.n_predict, a.slots);
    std::printf("  requests ok %llu  failed %llu  (%.1f req/s)\n", (unsigned long long)n_ok.load(), (unsigned long long)n_fail.load(),
                (double)n_ok.load() / secs);
    std::printf("  latency p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  max %.1f ms\n", pct(all, 50), pct(all, 90), pct(all, 99), pct(all, 100));
    return n_fail.load() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char ** argv) {
    Args a;
    if (argc < 2) {
        std::fprintf(stderr, "usage: gateway_bench overhead|load -m MODEL.gguf [--requests N] [-n TOKENS] [--connections C] [--seconds S] [--slots K] [-t THREADS]\n");
        return 2;
    }
    a.mode = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        const char * v = argv[i + 1];
        if (k == "-m") a.model = v;
        else if (k == "--requests") a.requests = std::atoi(v);
        else if (k == "-n") a.n_predict = std::atoi(v);
        else if (k == "--connections") a.connections = std::atoi(v);
        else if (k == "--seconds") a.seconds = std::atoi(v);
        else if (k == "--slots") a.slots = std::atoi(v);
        else if (k == "-t") a.threads = std::atoi(v);
        else {
            std::fprintf(stderr, "unknown option %s\n", k.c_str());
            return 2;
        }
    }
    if (a.model.empty()) {
        std::fprintf(stderr, "-m MODEL.gguf is required (switchyard model init --preset tiny -o tiny.gguf)\n");
        return 2;
    }
    try {
        if (a.mode == "overhead") return overhead(a);
        if (a.mode == "load") return load(a);
    } catch (const std::exception & e) {
        std::fprintf(stderr, "gateway_bench: %s\n", e.what());
        return 1;
    }
    std::fprintf(stderr, "unknown mode %s (overhead | load)\n", a.mode.c_str());
    return 2;
}
