// switchyard eval: one harness for a local router (GGUF + optional LoRA adapter), a running gateway or a
// cloud model (any OpenAI-compatible endpoint) on a test JSONL: metrics on stdout, --json and --report
// files, and --fail-under / --fail-over gates for CI (eval/: metrics, report, harness).
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "cli/commands.h"
#include "common/error.h"
#include "eval/evaluator.h"
#include "eval/report.h"
#include "providers/local_provider.h"
#include "providers/remote_provider.h"
#include "traces/prices.h"

namespace sy::cli {
namespace {

struct EvalArgs {
    std::string model, lora, endpoint, api_key_env, data, json_out, report_out, prices, cloud_model = "gpt-4o";
    std::optional<double> threshold;
    double target_accuracy = 0.99;
    std::vector<std::string> fail_under, fail_over;
    int64_t limit = 0;
    int32_t concurrency = 1;
    int32_t threads = (int32_t)std::max(1u, std::thread::hardware_concurrency());
    int32_t max_tokens = 256;
    int32_t timeout_s = 60;
    int32_t show = 10;
    bool no_logprobs = false;
    bool grounded_replies = false;
};

std::string utc_now() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// A base URL as OpenAI clients take it; one with no path gets "/v1".
std::string endpoint_base(std::string url) {
    while (!url.empty() && url.back() == '/') url.pop_back();
    const size_t scheme = url.find("://");
    if (scheme == std::string::npos)
        throw Error(ErrorKind::ErrorKind_invalid_argument, "--endpoint '" + url + "': expected http://HOST:PORT[/v1] or https://...");
    if (url.find('/', scheme + 3) == std::string::npos) url += "/v1";
    return url;
}

// Progress on stderr: a redrawn bar on a terminal, otherwise a line every 10% or 10 s.
class Progress {
public:
    Progress() : tty_(isatty(STDERR_FILENO) != 0) {}
    void update(const eval::EvalProgress & p) {
        const double rate = p.elapsed_s > 0 ? (double)p.done / p.elapsed_s : 0.0;
        const double eta = rate > 0 ? (double)(p.total - p.done) / rate : 0.0;
        if (tty_) {
            constexpr int kWidth = 30;
            const int filled = p.total ? (int)(kWidth * p.done / p.total) : kWidth;
            std::string bar(filled, '#');
            bar.resize(kWidth, '.');
            std::fprintf(stderr, "\r[%s] %lld/%lld  %.1f req/s  ETA %.0fs  errors %lld ", bar.c_str(), (long long)p.done,
                         (long long)p.total, rate, eta, (long long)p.errors);
            if (p.done == p.total) std::fprintf(stderr, "\n");
            std::fflush(stderr);
            return;
        }
        const int64_t decile = p.total ? 10 * p.done / p.total : 10;
        if (p.done == p.total || decile > last_decile_ || p.elapsed_s - last_s_ >= 10.0) {
            std::fprintf(stderr, "eval: %lld/%lld examples, %.1f req/s, %lld errors\n", (long long)p.done, (long long)p.total, rate,
                         (long long)p.errors);
            last_decile_ = decile;
            last_s_ = p.elapsed_s;
        }
    }

private:
    bool tty_;
    int64_t last_decile_ = 0;
    double last_s_ = 0;
};

std::string pct(const std::optional<double> & v) {
    char buf[32];
    if (!v) return "-";
    std::snprintf(buf, sizeof buf, "%.2f%%", 100.0 * *v);
    return buf;
}

std::string msec(const std::optional<double> & v) {
    char buf[32];
    if (!v) return "-";
    std::snprintf(buf, sizeof buf, "%.1f", *v);
    return buf;
}

// Control characters as escapes, so one mistake stays on one line.
std::string one_line(const std::string & s) {
    std::string o;
    for (char c : s) {
        if (c == '\n') o += "\\n";
        else if (c == '\r') o += "\\r";
        else if (c == '\t') o += "\\t";
        else if ((unsigned char)c < 0x20) o += '?';
        else o += c;
    }
    return o;
}

void print_summary(const eval::EvalReport & r) {
    const eval::Metrics & m = r.metrics;
    std::printf("examples                  %lld (%lld expect a call, %lld no tool, %lld errors) in %.1fs\n", (long long)m.n_examples,
                (long long)m.n_expected_calls, (long long)m.n_expected_none, (long long)m.n_errors, r.run.seconds);
    std::printf("tool selection accuracy   %s\n", pct(m.tool_selection_accuracy).c_str());
    std::printf("argument exact match      %s strict, %s normalised\n", pct(m.argument_exact_match).c_str(),
                pct(m.argument_exact_match_normalised).c_str());
    std::printf("argument precision/recall %s / %s\n", pct(m.argument_precision).c_str(), pct(m.argument_recall).c_str());
    std::printf("json validity             %s (malformed calls %s, no call %s)\n", pct(m.json_validity).c_str(),
                pct(m.malformed_call_rate).c_str(), pct(m.no_call_rate).c_str());
    std::printf("false positive / negative %s / %s\n", pct(m.false_positive_rate).c_str(), pct(m.false_negative_rate).c_str());
    std::printf("latency ms p50/p95/p99    %s / %s / %s\n", msec(m.latency_ms.p50).c_str(), msec(m.latency_ms.p95).c_str(),
                msec(m.latency_ms.p99).c_str());
    if (m.n_tool_replies > 0)
        std::printf("replies to tool results   %lld: grounded %s, reference values %s, exact %s\n", (long long)m.n_tool_replies,
                    pct(m.grounded_reply_rate).c_str(), pct(m.reply_value_match).c_str(), pct(m.reply_exact_match).c_str());
    if (m.calibration.ece) {
        std::printf("ece                       %.4f (confidence from %s)\n", *m.calibration.ece, r.run.confidence_source.c_str());
        if (m.recommended)
            std::printf("threshold for %.1f%%       %.4f (coverage %s, accuracy %s)\n", 100 * m.target_accuracy, m.recommended->threshold,
                        pct(m.recommended->coverage).c_str(), pct(m.recommended->accuracy).c_str());
        else
            std::printf("threshold for %.1f%%       none reaches it\n", 100 * m.target_accuracy);
    } else {
        std::printf("ece                       - (no confidence from this model)\n");
    }
    if (r.at_threshold)
        std::printf("at threshold %.4f        coverage %s, tool selection %s of the answered\n", r.at_threshold->threshold,
                    pct(r.at_threshold->coverage).c_str(), pct(r.at_threshold->covered.tool_selection_accuracy).c_str());
    if (r.cost.per_1k_usd && r.cost.cloud_per_1k_usd)
        std::printf("cost per 1k requests      $%.4f (%s) vs $%.4f on %s\n", *r.cost.per_1k_usd, r.cost.priced_as.c_str(),
                    *r.cost.cloud_per_1k_usd, r.cost.cloud_model.c_str());
    for (const eval::Mistake & mk : r.mistakes)
        std::printf("miss: %s  ->  %s  |  want %s\n", one_line(mk.request).c_str(), one_line(mk.predicted).c_str(),
                    one_line(mk.expected).c_str());
}

void write_file(const std::string & path, const std::string & text) {
    std::ofstream out(path, std::ios::binary);
    if (!out) throw Error(ErrorKind::ErrorKind_io, "cannot write '" + path + "'");
    out << text;
    out.close();
    if (!out) throw Error(ErrorKind::ErrorKind_io, "error writing '" + path + "'");
}

void run_eval_cmd(const EvalArgs & a) {
    const bool local = a.endpoint.empty();
    if (local && !a.api_key_env.empty())
        throw Error(ErrorKind::ErrorKind_invalid_argument, "--api-key-env applies to --endpoint only");
    if (!local && !a.lora.empty())
        throw Error(ErrorKind::ErrorKind_invalid_argument, "--lora applies to a local --model only, not to --endpoint");
    if (local && !std::filesystem::is_regular_file(a.model))
        throw Error(ErrorKind::ErrorKind_invalid_argument,
                    "--model '" + a.model + "' is not a file; give a GGUF path, or --endpoint URL with the remote model's name");
    if (a.target_accuracy <= 0 || a.target_accuracy > 1)
        throw Error(ErrorKind::ErrorKind_invalid_argument, "--target-accuracy must be in (0, 1]");

    // Gates are checked against the report's keys before anything runs.
    eval::EvalReport shape;
    if (a.threshold) shape.at_threshold = eval::ThresholdMetrics{};
    const eval::ojson keys = eval::report_to_json(shape);
    std::vector<eval::MetricGate> gates;
    for (const auto & s : a.fail_under) gates.push_back(eval::parse_metric_gate(s, false, keys));
    for (const auto & s : a.fail_over) gates.push_back(eval::parse_metric_gate(s, true, keys));
    const traces::PriceTable prices = a.prices.empty() ? traces::default_price_table() : traces::load_price_table(a.prices);

    const std::vector<eval::EvalExample> examples = eval::load_examples(a.data, a.limit);

    std::unique_ptr<providers::Provider> provider;
    eval::EvalParams params;
    params.concurrency = a.concurrency;
    params.max_tokens = a.max_tokens;
    if (local) {
        providers::LocalModelParams lp;
        lp.name = std::filesystem::path(a.model).stem().string();
        lp.path = a.model;
        if (!a.lora.empty()) lp.adapters["eval"] = a.lora;
        lp.scheduler.n_slots = a.concurrency;
        lp.scheduler.n_threads = a.threads;
        lp.max_tokens = a.max_tokens;
        lp.grounded_replies = a.grounded_replies;
        provider = std::make_unique<providers::LocalProvider>(lp);
        params.model = a.lora.empty() ? lp.name : lp.name + ":eval";
    } else {
        providers::RemoteModelParams rp;
        rp.name = a.model;
        rp.base_url = endpoint_base(a.endpoint);
        rp.model = a.model;
        if (!a.api_key_env.empty()) {
            const char * key = std::getenv(a.api_key_env.c_str());
            if (!key || !*key)
                throw Error(ErrorKind::ErrorKind_invalid_argument, "--api-key-env " + a.api_key_env + ": the variable is not set");
            rp.api_key = key;
        }
        rp.timeout = std::chrono::milliseconds((int64_t)a.timeout_s * 1000);
        provider = std::make_unique<providers::RemoteProvider>(rp);
        params.model = a.model;
        params.logprobs = !a.no_logprobs;
    }

    Progress progress;
    params.on_progress = [&](const eval::EvalProgress & p) { progress.update(p); };
    eval::EvalReport r;
    r.run.model = a.model;
    r.run.lora = a.lora;
    r.run.endpoint = a.endpoint;
    r.run.data = a.data;
    r.run.local = local;
    r.run.concurrency = a.concurrency;
    r.run.started_at = utc_now();
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<eval::ExampleOutcome> outcomes = eval::run_eval(*provider, examples, params);
    r.run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    bool any_confidence = false;
    for (const auto & o : outcomes) any_confidence = any_confidence || o.confidence.has_value();
    r.run.confidence_source = !any_confidence ? "none" : local ? "router" : "logprobs";

    eval::MetricsParams mp;
    mp.target_accuracy = a.target_accuracy;
    r.metrics = eval::compute_metrics(outcomes, mp);
    if (a.threshold) r.at_threshold = eval::metrics_at_threshold(outcomes, *a.threshold, mp);
    eval::CostParams cp;
    cp.prices = prices;
    cp.model = a.model;
    cp.local = local;
    cp.cloud_model = a.cloud_model;
    r.cost = eval::compute_cost(r.metrics, r.metrics.n_examples - r.metrics.n_errors, cp);
    r.mistakes = eval::collect_mistakes(outcomes, (size_t)std::max(0, a.show));

    const eval::ojson j = eval::report_to_json(r);
    if (!a.json_out.empty()) write_file(a.json_out, j.dump(2) + "\n");
    if (!a.report_out.empty()) write_file(a.report_out, eval::report_to_html(r));
    print_summary(r);
    if (!a.json_out.empty()) std::printf("wrote %s\n", a.json_out.c_str());
    if (!a.report_out.empty()) std::printf("wrote %s\n", a.report_out.c_str());
    std::fflush(stdout);

    const std::vector<std::string> failures = eval::check_gates(j, gates);
    if (!failures.empty()) {
        std::string msg = std::to_string(failures.size()) + " of " + std::to_string(gates.size()) + " metric gates failed: ";
        for (size_t i = 0; i < failures.size(); ++i) msg += (i ? "; " : "") + failures[i];
        throw Error(ErrorKind::ErrorKind_limit, msg);
    }
}

}  // namespace

void add_eval(CLI::App & app) {
    auto a = std::make_shared<EvalArgs>();
    CLI::App * cmd = app.add_subcommand(
        "eval", "Evaluate a local router or an OpenAI-compatible endpoint on test chat JSONL (tool selection, arguments, "
                "JSON validity, false calls, latency, calibration, cost)");
    cmd->add_option("-m,--model", a->model, "Local GGUF file; with --endpoint, the remote model's name")->required();
    cmd->add_option("--lora", a->lora, "LoRA adapter GGUF for a local model");
    cmd->add_option("--endpoint", a->endpoint, "OpenAI-compatible base URL (http://127.0.0.1:8080/v1, https://api.openai.com/v1)");
    cmd->add_option("--api-key-env", a->api_key_env, "Environment variable holding the endpoint's API key");
    cmd->add_option("--data", a->data, "Test JSONL (OpenAI fine-tuning format); each line's last assistant turn is the reference")
        ->required();
    cmd->add_option("--json", a->json_out, "Write the metrics as JSON (keys in docs/eval.md)");
    cmd->add_option("--report", a->report_out, "Write a self-contained HTML report");
    cmd->add_option("--threshold", a->threshold, "Also report the metrics of the answers with confidence >= T (what a router at T keeps)")
        ->check(CLI::Range(0.0, 1.0));
    cmd->add_option("--target-accuracy", a->target_accuracy, "Accuracy the recommended threshold must reach")->capture_default_str();
    cmd->add_option("--fail-under", a->fail_under, "METRIC=VALUE: exit 1 when METRIC is below VALUE (repeatable)");
    cmd->add_option("--fail-over", a->fail_over, "METRIC=VALUE: exit 1 when METRIC is above VALUE, e.g. false_positive_rate=0.02, "
                                                "latency_ms.p95=500 (repeatable)");
    cmd->add_option("--limit", a->limit, "Evaluate the first N examples only (0: all)")->check(CLI::NonNegativeNumber);
    cmd->add_option("--concurrency", a->concurrency, "Requests in flight")->capture_default_str()->check(CLI::Range(1, 256));
    cmd->add_option("-t,--threads", a->threads, "Engine threads (local model)")->check(CLI::Range(1, 1024));
    cmd->add_option("--max-tokens", a->max_tokens, "Longest answer")->capture_default_str()->check(CLI::Range(1, 32768));
    cmd->add_option("--timeout", a->timeout_s, "Seconds per request (endpoint)")->capture_default_str()->check(CLI::Range(1, 3600));
    cmd->add_option("--prices", a->prices, "Price table JSON (examples/prices.json); default: the built-in table");
    cmd->add_option("--cloud-model", a->cloud_model, "Reference cloud model for the cost comparison")->capture_default_str();
    cmd->add_option("--show", a->show, "Mistakes to print and to list in the reports")->capture_default_str();
    cmd->add_flag("--grounded-replies", a->grounded_replies,
                  "Local model: replies to a tool result state only its values (the serve config's grounded_replies)");
    cmd->add_flag("--no-logprobs", a->no_logprobs, "Do not ask an endpoint for logprobs (some reject them); no calibration then");
    cmd->callback([a] { run_eval_cmd(*a); });
}

}  // namespace sy::cli
