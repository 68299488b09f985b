// switchyard demo: the whole flywheel, visibly, on the example task agent:
//   1. traces   — requests a cloud model answered (generated, seeded) imported into a trace store
//   2. dataset  — `dataset build` over the store: filters, dedup, stratified train/valid/test
//   3. train    — a router from scratch (`train --preset`), quantized to q8_0 for serving
//   4. evaluate — `eval` on a held-out split phrased with templates and words training never saw;
//                 JSON metrics and an HTML report
//   5. summary  — one screen: tool selection, argument match, JSON validity, false tool calls, latency,
//                 fallback rate at the threshold, cost per 1,000 requests against the cloud model
//   6. serve    — the task API and the gateway with the new router (until Ctrl-C; --no-serve skips it)
// Each step runs this same binary as a child process (its own progress output shows), so every step is
// also a command a user can rerun by hand; the demo prints each command line.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/error.h"

extern char ** environ;

namespace sy::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct DemoArgs {
    std::string dir = "switchyard-demo", tools, preset = "router-default", cloud_model = "gpt-4o";
    int64_t n = 6000, n_test = 400, seed = 1;
    int32_t threads = 0, port = 8080, task_port = 8081;
    std::optional<int32_t> epochs;  // default: the preset's recipe
    std::optional<double> lr, threshold;
    bool no_serve = false, quick = false;
};

std::string self_exe() {
    std::error_code ec;
    const fs::path p = fs::read_symlink("/proc/self/exe", ec);
    if (ec) throw Error(ErrorKind::ErrorKind_io, "cannot find the switchyard binary (/proc/self/exe): " + ec.message());
    return p.string();
}

std::string shell_quote(const std::string & s) {
    if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,") == std::string::npos)
        return s;
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

pid_t spawn(const std::vector<std::string> & args) {
    std::vector<char *> argv;
    for (const auto & a : args) argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, args[0].c_str(), nullptr, nullptr, argv.data(), environ);
    if (rc != 0) throw Error(ErrorKind::ErrorKind_io, "cannot start " + args[0] + ": " + std::strerror(rc));
    return pid;
}

int wait_exit(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

class Steps {
public:
    Steps(std::string exe, int total) : exe_(std::move(exe)), total_(total) {}

    void begin(const std::string & title) {
        ++n_;
        t0_ = std::chrono::steady_clock::now();
        std::printf("\n== %d/%d %s ==\n", n_, total_, title.c_str());
        std::fflush(stdout);
    }
    // Runs `switchyard ARGS...`, printing the command line first; a failing step ends the demo.
    void run(std::vector<std::string> args) {
        std::string line = "$ switchyard";
        for (const auto & a : args) line += " " + shell_quote(a);
        std::printf("%s\n", line.c_str());
        std::fflush(stdout);
        args.insert(args.begin(), exe_);
        const int code = wait_exit(spawn(args));
        if (code != 0) throw Error(ErrorKind::ErrorKind_internal, "demo step failed (exit " + std::to_string(code) + "): " + line.substr(2));
    }
    void end() {
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
        std::printf("-- done in %.1fs\n", s);
        std::fflush(stdout);
    }

private:
    std::string exe_;
    int total_, n_ = 0;
    std::chrono::steady_clock::time_point t0_;
};

json read_json(const fs::path & p) {
    std::ifstream in(p);
    if (!in) throw Error(ErrorKind::ErrorKind_io, "cannot read " + p.string());
    json j = json::parse(in, nullptr, false);
    if (j.is_discarded()) throw Error(ErrorKind::ErrorKind_invalid_argument, p.string() + ": invalid JSON");
    return j;
}

std::string pct(const json & v) {
    if (!v.is_number()) return "-";
    char b[32];
    std::snprintf(b, sizeof b, "%.1f%%", 100.0 * v.get<double>());
    return b;
}
std::string num(const json & v, const char * fmt) {
    if (!v.is_number()) return "-";
    char b[48];
    std::snprintf(b, sizeof b, fmt, v.get<double>());
    return b;
}

// The one screen the demo ends with, from eval.json (keys in docs/eval.md).
std::string summary_screen(const json & ev, double threshold, const std::string & report) {
    const json & th = ev.contains("threshold") ? ev["threshold"] : json::object();
    const json & cost = ev.contains("cost") ? ev["cost"] : json::object();
    const json & lat = ev.contains("latency_ms") ? ev["latency_ms"] : json::object();
    const double fallback = th.contains("fallback_rate") && th["fallback_rate"].is_number() ? th["fallback_rate"].get<double>() : 0.0;
    const double local_1k = cost.value("per_1k_requests_usd", 0.0), cloud_1k = cost.value("cloud_per_1k_requests_usd", 0.0);
    const double routed_1k = local_1k + fallback * cloud_1k;
    char b[4096];
    std::string s;
    s += "\n+-------------------------------------------------------------------+\n";
    const std::string title = "Switchyard demo: the router on " + std::to_string(ev.value("n_examples", 0)) + " held-out requests";
    std::snprintf(b, sizeof b, "| %-65s |\n", title.c_str());
    s += b;
    s += "+-------------------------------------------------------------------+\n";
    auto row = [&](const std::string & k, const std::string & v) {
        std::snprintf(b, sizeof b, "| %-38s %26s |\n", k.c_str(), v.c_str());
        s += b;
    };
    row("tool selection accuracy", pct(ev["tool_selection_accuracy"]));
    row("argument exact match", pct(ev["argument_exact_match"]));
    row("JSON validity", pct(ev["json_validity"]));
    row("false tool-call rate", pct(ev["false_positive_rate"]));
    row("latency p50 / p95", num(lat.value("p50", json()), "%.1f ms") + " / " + num(lat.value("p95", json()), "%.1f ms"));
    std::snprintf(b, sizeof b, "fallback rate at threshold %.2f", threshold);
    row(b, pct(th.value("fallback_rate", json())));
    row("accuracy of what stays local", pct(th.value("accuracy", json())));
    const std::string cm = cost.value("cloud_model", std::string("cloud"));
    row("cost per 1,000 requests: " + cm, num(cost.value("cloud_per_1k_requests_usd", json()), "$%.4f"));
    row("cost per 1,000 requests: routed", num(json(routed_1k), "$%.4f"));
    if (cloud_1k > 0) row("saved vs " + cm, num(json(100.0 * (1.0 - routed_1k / cloud_1k)), "%.1f%%"));
    s += "+-------------------------------------------------------------------+\n";
    if (ev.contains("recommended_threshold") && ev["recommended_threshold"].is_number())
        s += "recommended threshold for " + pct(ev.value("target_accuracy", json(0.99))) + " accuracy: " +
             num(ev["recommended_threshold"], "%.3f") + " (covers " + pct(ev["coverage_at_threshold"]) + " locally)\n";
    s += "report: " + report + "\n";
    return s;
}

void write_serve_config(const fs::path & path, const DemoArgs & a, const fs::path & router, const fs::path & tools,
                        const fs::path & traces, const fs::path & eval_json) {
    std::ofstream out(path);
    const std::string task = "http://127.0.0.1:" + std::to_string(a.task_port) + "/tools/";
    out << "# Written by `switchyard demo`: the router it trained, the task API as the tools' backend.\n"
        << "models:\n  demo-router:\n    path: " << fs::absolute(router).string() << "\n    n_ctx: 1024\n    max_tokens: 192\n"
        << "roles:\n  router: demo-router\n  responder: demo-router\n"
        << "tools_file: " << fs::absolute(tools).string() << "\n"
        << "tools:\n";
    for (const char * t : {"create_task", "list_tasks", "update_task", "complete_task", "delete_task", "search_tasks"})
        out << "  - name: " << t << "\n    executor: {method: POST, url: \"" << task << t << "\"}\n";
    char th[32];
    std::snprintf(th, sizeof th, "%.4f", a.threshold.value_or(0.8));
    out << "router:\n  confidence_threshold: " << th << "\n"
        << "server:\n  host: 127.0.0.1\n  port: " << a.port << "\n  allowed_tool_hosts: [127.0.0.1]\n"
        << "traces:\n  url: " << fs::absolute(traces).string() << "\n"
        << "dashboard:\n  eval_report: " << fs::absolute(eval_json).string() << "\n";
    if (!out) throw Error(ErrorKind::ErrorKind_io, "cannot write " + path.string());
}

void run_demo(DemoArgs a) {
    if (a.quick) {  // a minute's worth: for trying the pipeline out and for tests
        a.n = std::min<int64_t>(a.n, 600);
        a.n_test = std::min<int64_t>(a.n_test, 60);
        a.epochs = 1;
    }
    if (a.threads <= 0) a.threads = (int32_t)std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN));
    const fs::path dir = a.dir;
    fs::create_directories(dir / "logs");
    std::string tools = a.tools;
    if (tools.empty()) {
        // The working directory, else the source tree the binary was built in (build/<preset>/bin/switchyard).
        const fs::path rel = "examples/task-agent/tools.json";
        for (const fs::path & c : {rel, fs::path(self_exe()).parent_path() / "../../.." / rel})
            if (fs::exists(c)) {
                tools = fs::weakly_canonical(c).string();
                break;
            }
        if (tools.empty()) throw Error(ErrorKind::ErrorKind_invalid_argument, "cannot find examples/task-agent/tools.json; give --tools FILE");
    }
    const double threshold = a.threshold.value_or(0.8);
    const auto t_start = std::chrono::steady_clock::now();
    Steps st(self_exe(), a.no_serve ? 5 : 6);
    const std::string seed = std::to_string(a.seed), th = std::to_string(threshold);

    st.begin("traces: " + std::to_string(a.n) + " requests a cloud model answered, into a trace store");
    const fs::path logs = dir / "logs" / "cloud-traffic.jsonl", store = dir / "traces.db";
    fs::remove(store);
    fs::remove(fs::path(store.string() + "-wal"));
    fs::remove(fs::path(store.string() + "-shm"));
    st.run({"dataset", "generate", "--tools", tools, "--split", "train", "--n", std::to_string(a.n), "--seed", seed, "-o", logs.string()});
    st.run({"traces", "import", logs.string(), "--store", store.string()});
    st.end();

    st.begin("dataset: filter, deduplicate, split");
    const fs::path ds = dir / "dataset";
    st.run({"dataset", "build", "--from", store.string(), "--out", ds.string(), "--valid", "0.05", "--test", "0.05", "--seed", seed});
    st.end();

    st.begin("train: a router from scratch (" + a.preset + "), quantized for serving");
    const fs::path f32 = dir / "router-f32.gguf", router = dir / "router.gguf";
    std::vector<std::string> train_args = {"train", "--data", (ds / "train.jsonl").string(), "--valid", (ds / "valid.jsonl").string(),
                                           "--preset", a.preset, "--seed", seed, "--threads", std::to_string(a.threads),
                                           "-o", f32.string()};
    if (a.epochs) train_args.insert(train_args.end(), {"--epochs", std::to_string(*a.epochs)});
    if (a.lr) {
        char lr[32];
        std::snprintf(lr, sizeof lr, "%g", *a.lr);
        train_args.insert(train_args.end(), {"--lr", lr});
    }
    st.run(train_args);
    st.run({"model", "quantize", f32.string(), router.string(), "q8_0"});
    st.end();

    st.begin("evaluate: " + std::to_string(a.n_test) + " held-out requests phrased with templates and words training never saw");
    const fs::path held = dir / "heldout.jsonl", evj = dir / "eval.json", evh = dir / "eval.html";
    st.run({"dataset", "generate", "--tools", tools, "--split", "test", "--n", std::to_string(a.n_test), "--seed", std::to_string(a.seed + 2),
            "-o", held.string()});
    st.run({"eval", "-m", router.string(), "--data", held.string(), "--json", evj.string(), "--report", evh.string(), "--threshold", th,
            "--cloud-model", a.cloud_model, "-t", std::to_string(a.threads)});
    st.end();

    st.begin("summary");
    const std::string screen = summary_screen(read_json(evj), threshold, fs::absolute(evh).string());
    std::fputs(screen.c_str(), stdout);
    std::ofstream(dir / "summary.txt") << screen;
    std::printf("whole flywheel: %.0fs\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count());
    st.end();
    if (a.no_serve) return;

    st.begin("serve: the task API and the gateway with the new router (Ctrl-C stops)");
    const fs::path cfg = dir / "switchyard.yaml";
    write_serve_config(cfg, a, router, tools, store, evj);
    std::printf("$ switchyard task-api --db %s --port %d &\n$ switchyard serve --config %s\n", (dir / "tasks.db").c_str(), a.task_port, cfg.c_str());
    std::printf("then: curl -s http://127.0.0.1:%d/v1/agent/chat -H 'Content-Type: application/json' -d '{\"model\": \"router\", "
                "\"messages\": [{\"role\": \"user\", \"content\": \"add a task to call the bank, high priority\"}]}'\n",
                a.port);
    std::printf("dashboard: http://127.0.0.1:%d/\n", a.port);
    std::fflush(stdout);
    const std::string exe = self_exe();
    const pid_t api = spawn({exe, "task-api", "--db", (dir / "tasks.db").string(), "--host", "127.0.0.1", "--port", std::to_string(a.task_port)});
    std::signal(SIGINT, SIG_IGN);  // the children (same process group) get Ctrl-C and stop cleanly
    const pid_t srv = spawn({exe, "serve", "--config", cfg.string(), "--threads", std::to_string(a.threads)});
    const int code = wait_exit(srv);
    ::kill(api, SIGTERM);
    wait_exit(api);
    if (code != 0 && code != 128 + SIGINT) throw Error(ErrorKind::ErrorKind_internal, "the gateway exited with " + std::to_string(code));
}

}  // namespace

void add_demo(CLI::App & app) {
    auto a = std::make_shared<DemoArgs>();
    CLI::App * c = app.add_subcommand("demo", "The flywheel on the example task agent: traces -> dataset -> train -> evaluate -> serve");
    c->add_option("--dir", a->dir, "Working folder (traces, dataset, models, reports)")->capture_default_str();
    c->add_option("--tools", a->tools, "Tools JSON (default examples/task-agent/tools.json)");
    c->add_option("--n", a->n, "Generated cloud-traffic requests")->capture_default_str()->check(CLI::Range((int64_t)50, (int64_t)1000000));
    c->add_option("--test-n", a->n_test, "Held-out requests to evaluate on")->capture_default_str()->check(CLI::Range((int64_t)10, (int64_t)100000));
    c->add_option("--preset", a->preset, "Router preset (switchyard train --preset)")->capture_default_str();
    c->add_option("--epochs", a->epochs, "Training epochs (default: the preset's recipe)")->check(CLI::Range(1, 1000));
    c->add_option("--lr", a->lr, "Learning rate (default: the preset's recipe)");
    c->add_option("--seed", a->seed, "Seed of data, split and training")->capture_default_str();
    c->add_option("--threshold", a->threshold, "Router confidence threshold (default 0.8, the gateway's default)")->check(CLI::Range(0.0, 1.0));
    c->add_option("--cloud-model", a->cloud_model, "Cloud model the costs compare against")->capture_default_str();
    c->add_option("-t,--threads", a->threads, "Threads (default: all cores)")->check(CLI::Range(1, 1024));
    c->add_option("--port", a->port, "Gateway port")->capture_default_str()->check(CLI::Range(1, 65535));
    c->add_option("--task-api-port", a->task_port, "Task API port")->capture_default_str()->check(CLI::Range(1, 65535));
    c->add_flag("--no-serve", a->no_serve, "Stop after the summary");
    c->add_flag("--quick", a->quick, "A small run (600 requests, 1 epoch, 60 held out): to try the pipeline, not for accuracy");
    c->callback([a] { run_demo(*a); });
}

}  // namespace sy::cli
