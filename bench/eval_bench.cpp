// The evaluator's own overhead: the harness over an in-process provider that answers instantly (the
// reference answer for most examples, a wrong tool or a text answer for the rest), so every millisecond
// measured is the evaluator's — request building, judging, bookkeeping — and then the metrics and both
// reports. Compare the per-example figure with a model's latency (tens of ms for the smallest router).
//
//   eval_bench [N=10000] [CONCURRENCY=1] [REPORT.html]   (the report shows what the charts look like)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>

#include "eval/evaluator.h"
#include "eval/report.h"
#include "train/datagen.h"

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

class InstantProvider : public sy::providers::Provider {
public:
    explicit InstantProvider(std::map<std::string, sy::chat::Message> answers) : answers_(std::move(answers)) {}
    const std::string & name() const override { return name_; }
    bool is_local() const override { return true; }
    std::vector<sy::providers::ModelEntry> models() const override { return {}; }
    sy::providers::ChatResponse chat(const sy::providers::ChatRequest & req, const sy::providers::DeltaFn &) override {
        sy::providers::ChatResponse r;
        const std::string & user = req.messages.back().content;
        auto it = answers_.find(user);
        r.message = it != answers_.end() ? it->second : sy::chat::Message{"assistant", "I cannot help with that.", {}, "", ""};
        const uint64_t h = std::hash<std::string>{}(user);
        if (h % 10 == 0 && !r.message.tool_calls.empty()) r.message.tool_calls[0].name = "list_tasks";  // 10% wrong tool
        sy::grammar::OutputConfidence c;
        c.is_tool_call = !r.message.tool_calls.empty();
        c.decision = 0.5 + (double)(h % 500) / 1000.0;
        if (c.is_tool_call) c.calls.push_back({c.decision, 1.0, {}, c.decision});
        r.confidence = c;
        r.usage.prompt_tokens = 120;
        r.usage.completion_tokens = 20;
        return r;
    }

private:
    std::string name_ = "instant";
    std::map<std::string, sy::chat::Message> answers_;
};

}  // namespace

int main(int argc, char ** argv) {
    const int64_t n = argc > 1 ? std::atoll(argv[1]) : 10000;
    const int32_t concurrency = argc > 2 ? std::atoi(argv[2]) : 1;
    std::ifstream in(std::string(SY_BENCH_SOURCE_DIR) + "/examples/task-agent/tools.json");
    const sy::chat::ojson tools = sy::chat::ojson::parse(in);
    sy::train::DatagenParams gp;
    gp.n = n;
    gp.seed = 7;
    gp.split = sy::train::DataSplit::DataSplit_test;
    std::vector<sy::eval::EvalExample> examples;
    std::map<std::string, sy::chat::Message> answers;
    for (const auto & row : sy::train::generate_task_examples(tools, gp)) {
        const sy::chat::Conversation conv = sy::chat::parse_conversation(row);
        examples.push_back(sy::eval::make_example(conv, "generated"));
        answers[examples.back().request] = conv.messages.back();
    }
    InstantProvider provider(std::move(answers));
    sy::eval::EvalParams params;
    params.model = "instant";
    params.concurrency = concurrency;

    auto t0 = Clock::now();
    const auto outcomes = sy::eval::run_eval(provider, examples, params);
    const double harness_ms = ms_since(t0);
    t0 = Clock::now();
    sy::eval::EvalReport r;
    r.metrics = sy::eval::compute_metrics(outcomes);
    r.at_threshold = sy::eval::metrics_at_threshold(outcomes, 0.8);
    r.cost = sy::eval::compute_cost(r.metrics, (int64_t)outcomes.size(), {});
    r.mistakes = sy::eval::collect_mistakes(outcomes, 10);
    const double metrics_ms = ms_since(t0);
    t0 = Clock::now();
    const std::string json = sy::eval::report_to_json(r).dump(2);
    const double json_ms = ms_since(t0);
    t0 = Clock::now();
    const std::string html = sy::eval::report_to_html(r);
    const double html_ms = ms_since(t0);

    if (argc > 3) std::ofstream(argv[3], std::ios::binary) << html;
    std::printf("eval_bench: %lld examples, concurrency %d\n", (long long)n, concurrency);
    std::printf("  harness (request + judge + bookkeeping): %.1f ms total, %.1f us per example\n", harness_ms,
                1000.0 * harness_ms / (double)std::max<int64_t>(1, n));
    std::printf("  metrics + threshold + cost + mistakes:   %.1f ms\n", metrics_ms);
    std::printf("  JSON report: %.1f ms (%zu bytes); HTML report: %.1f ms (%zu bytes)\n", json_ms, json.size(), html_ms, html.size());
    std::printf("  tool selection accuracy %.4f, ece %.4f\n", r.metrics.tool_selection_accuracy.value_or(0),
                r.metrics.calibration.ece.value_or(0));
    return 0;
}
