// switchyard serve: the gateway. Either a YAML config (--config, every key in examples/switchyard.yaml) or
// one local model in every role (-m MODEL.gguf), with flags for the common overrides (address, adapters,
// a remote fallback, the trace store, the confidence threshold). Prints "listening on http://HOST:PORT"
// once the socket is bound (port 0 picks a free one) and stops cleanly on SIGINT/SIGTERM: in-flight
// streams are cancelled and queued traces are written before exit.
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "agent/config.h"
#include "agent/gateway.h"
#include "cli/commands.h"
#include "common/error.h"
#include "server/server.h"

namespace sy::cli {
namespace {

struct ServeOpts {
    std::string config, model, host, fallback_url, fallback_model, fallback_key_env, traces, eval_report;
    std::vector<std::string> loras, api_key_envs;
    int port = 8080;
    double threshold = 0.8;
    int n_ctx = 0, n_slots = 0, threads = 0, http_threads = 0, max_tokens = 0;
    double request_timeout_s = 0;
    size_t max_body_bytes = 0;
};

agent::GatewayConfig build_config(const ServeOpts & o, const CLI::App & cmd) {
    const bool has_config = !o.config.empty(), has_model = !o.model.empty();
    if (has_config == has_model)
        throw Error(ErrorKind::ErrorKind_invalid_argument, "give either --config FILE.yaml or -m MODEL.gguf (exactly one)");
    agent::GatewayConfig cfg = has_config ? agent::load_config(o.config) : agent::default_config(o.model);

    if (!o.loras.empty()) {
        if (!has_model) throw Error(ErrorKind::ErrorKind_invalid_argument, "--lora goes with -m; with --config list adapters under models.<name>.adapters");
        for (const std::string & spec : o.loras) {
            const size_t eq = spec.find('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
                throw Error(ErrorKind::ErrorKind_invalid_argument, "--lora '" + spec + "': expected NAME=PATH");
            const std::string path = spec.substr(eq + 1);
            if (!std::filesystem::exists(path)) throw Error(ErrorKind::ErrorKind_invalid_argument, "--lora '" + spec + "': file not found: " + path);
            for (auto & m : cfg.models)
                if (m.kind == agent::ModelConfig::Kind::Kind_local) m.adapters[spec.substr(0, eq)] = path;
        }
    }
    if (!o.fallback_url.empty()) {
        agent::ModelConfig fb;
        fb.name = "remote";
        fb.kind = agent::ModelConfig::Kind::Kind_remote;
        fb.base_url = o.fallback_url;
        fb.remote_model = o.fallback_model.empty() ? std::string("gpt-4o") : o.fallback_model;
        fb.api_key_env = o.fallback_key_env;
        if (!fb.api_key_env.empty()) {
            const char * key = std::getenv(fb.api_key_env.c_str());
            if (!key || !*key) throw Error(ErrorKind::ErrorKind_invalid_argument, "--fallback-key-env " + fb.api_key_env + ": the variable is not set or empty");
            fb.api_key = key;
        }
        for (const auto & m : cfg.models)
            if (m.name == fb.name) throw Error(ErrorKind::ErrorKind_invalid_argument, "--fallback-url: the config already has a model named '" + fb.name + "'; set roles.fallback there instead");
        cfg.models.push_back(fb);
        cfg.roles.fallback = fb.name;
    } else if (!o.fallback_model.empty() || !o.fallback_key_env.empty()) {
        throw Error(ErrorKind::ErrorKind_invalid_argument, "--fallback-model and --fallback-key-env need --fallback-url");
    }
    if (cmd.count("--host")) cfg.server.host = o.host;
    if (cmd.count("--port")) cfg.server.port = o.port;
    if (cmd.count("--threshold")) cfg.router.confidence_threshold = o.threshold;
    if (cmd.count("--traces")) cfg.traces.url = o.traces;
    if (cmd.count("--eval-report")) cfg.dashboard.eval_report = o.eval_report;
    if (o.http_threads > 0) cfg.server.n_http_threads = o.http_threads;
    if (o.max_tokens > 0) cfg.server.max_tokens = o.max_tokens;
    if (o.max_body_bytes > 0) cfg.server.max_body_bytes = o.max_body_bytes;
    if (o.request_timeout_s > 0) cfg.server.request_timeout = std::chrono::milliseconds((int64_t)(o.request_timeout_s * 1000));
    for (const std::string & var : o.api_key_envs) {
        const char * v = std::getenv(var.c_str());
        if (!v || !*v) throw Error(ErrorKind::ErrorKind_invalid_argument, "--api-key-env " + var + ": the variable is not set or empty");
        cfg.server.api_key_envs.push_back(var);
        cfg.server.api_keys.push_back(v);
    }
    for (auto & m : cfg.models) {
        if (m.kind != agent::ModelConfig::Kind::Kind_local) continue;
        if (o.n_ctx > 0) m.n_ctx = o.n_ctx;
        if (o.n_slots > 0) m.n_slots = o.n_slots;
        if (o.threads > 0) m.n_threads = o.threads;
    }
    return cfg;
}

// SIGINT/SIGTERM write one byte to a pipe (all a signal handler may safely do); a waiter thread reads it and
// stops the server. Threads started before serve() (thread pools) may take the signal: the pipe does not care.
int g_signal_pipe[2] = {-1, -1};

void on_stop_signal(int) {
    const char b = 1;
    [[maybe_unused]] const ssize_t n = ::write(g_signal_pipe[1], &b, 1);
}

// What serves what, on stderr at start: the roles, and in plain words whether a fallback catches the
// requests the router is unsure of.
void print_roles(const agent::GatewayConfig & cfg) {
    auto show = [&](const char * role, const std::string & name) {
        if (name.empty()) return;
        const agent::ModelConfig * m = cfg.find_model(name.substr(0, name.find(':')));
        std::string where;
        if (m) where = m->kind == agent::ModelConfig::Kind::Kind_local ? m->path : m->base_url + " (" + m->remote_model + ")";
        std::fprintf(stderr, "switchyard serve: %-10s %s%s%s\n", role, name.c_str(), where.empty() ? "" : "  ", where.c_str());
    };
    show("router", cfg.roles.router);
    show("responder", cfg.roles.responder);
    show("fallback", cfg.roles.fallback);
    if (cfg.roles.fallback.empty())
        std::fprintf(stderr, "switchyard serve: fallback   off: requests below the router's confidence threshold (%.2f) are answered "
                             "locally (set roles.fallback, or --fallback-url URL)\n", cfg.router.confidence_threshold);
    else
        std::fprintf(stderr, "switchyard serve: router answers below confidence %.2f go to the fallback\n", cfg.router.confidence_threshold);
}

void serve(const ServeOpts & o, const CLI::App & cmd) {
    agent::Gateway gateway(build_config(o, cmd));
    print_roles(gateway.config());
    server::Server srv(gateway);
    const int port = srv.bind();

    if (::pipe(g_signal_pipe) != 0) throw Error(ErrorKind::ErrorKind_io, "cannot create the signal pipe");
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    std::thread waiter([&srv] {
        char b = 0;
        while (::read(g_signal_pipe[0], &b, 1) < 0 && errno == EINTR) {
        }
        srv.stop();
    });

    const std::string & host = gateway.config().server.host;
    const std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    std::printf("switchyard serve: listening on http://%s:%d\n", shown.c_str(), port);
    std::fflush(stdout);
    srv.run();
    on_stop_signal(0);  // wakes the waiter when run() ended on its own
    waiter.join();
    gateway.flush_traces();
    std::fprintf(stderr, "switchyard serve: stopped\n");
}

}  // namespace

void add_serve(CLI::App & app) {
    auto o = std::make_shared<ServeOpts>();
    CLI::App * cmd = app.add_subcommand("serve", "Serve models behind OpenAI- and Ollama-compatible HTTP APIs (the gateway)");
    cmd->add_option("--config", o->config, "Gateway YAML config (see examples/switchyard.yaml)");
    cmd->add_option("-m,--model", o->model, "Serve one local GGUF model in every role (no config file)");
    cmd->add_option("--lora", o->loras, "With -m: a LoRA adapter clients select by name, NAME=PATH (repeatable)");
    cmd->add_option("--host", o->host, "Listen address (default 127.0.0.1, or server.host)");
    cmd->add_option("--port", o->port, "Listen port; 0 picks a free one (default 8080, or server.port)")->check(CLI::Range(0, 65535));
    cmd->add_option("--fallback-url", o->fallback_url, "OpenAI-compatible base URL of the fallback model, e.g. https://api.openai.com/v1");
    cmd->add_option("--fallback-model", o->fallback_model, "Model name sent to the fallback (default gpt-4o)");
    cmd->add_option("--fallback-key-env", o->fallback_key_env, "Environment variable holding the fallback's API key");
    cmd->add_option("--traces", o->traces, "Trace store: a path, sqlite:PATH or postgresql://... (default: off, or traces.url)");
    cmd->add_option("--eval-report", o->eval_report, "Evaluation report the dashboard shows: a JSON file, or a folder whose newest *.json is shown (or dashboard.eval_report)");
    cmd->add_option("--threshold", o->threshold, "Router confidence threshold; below it the fallback answers (default 0.8)")->check(CLI::Range(0.0, 1.0));
    cmd->add_option("--api-key-env", o->api_key_envs, "Require 'Authorization: Bearer KEY' with the key in this environment variable (repeatable)");
    cmd->add_option("-c,--ctx-size", o->n_ctx, "Context positions per sequence slot of local models");
    cmd->add_option("--slots", o->n_slots, "Concurrent sequences per local model");
    cmd->add_option("-t,--threads", o->threads, "Engine threads per local model")->check(CLI::Range(1, 256));
    cmd->add_option("--http-threads", o->http_threads, "HTTP worker threads (one per open connection)")->check(CLI::Range(1, 4096));
    cmd->add_option("--max-tokens", o->max_tokens, "Cap on any request's max_tokens")->check(CLI::Range(1, 1 << 20));
    cmd->add_option("--max-body-bytes", o->max_body_bytes, "Largest accepted request body");
    cmd->add_option("--request-timeout", o->request_timeout_s, "Per-request timeout in seconds");
    cmd->callback([o, cmd] { serve(*o, *cmd); });
}

}  // namespace sy::cli
