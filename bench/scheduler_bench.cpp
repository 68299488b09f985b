// Engine scheduler and local provider figures. Plain main; prints figures.
//
//   scheduler_bench streams -m MODEL.gguf [--streams 16] [-n 64] [-t 2] [--reps 2]
//     Aggregate generation tokens/s of S concurrent streams through one Scheduler (continuous batching)
//     vs one stream alone on the same scheduler. Every stream has its own short prompt and generates
//     exactly n tokens (end-of-generation tokens are masked out so streams do not end early). Tokens/s =
//     generated tokens / wall time from submit to the last result (prefill of the short prompts included).
//
//   scheduler_bench router -m MODEL.gguf --tools TOOLS.json [--requests 200] [-t 2] [--choice required]
//     Router decision latency through LocalProvider::chat (request struct in -> parsed tool call out:
//     chat template, tokenization, grammar cache lookup, prefix cache, constrained decoding, parsing),
//     one request at a time after a warm-up, over a rotating set of user messages; p50 / p95 / max.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "engine/scheduler.h"
#include "providers/local_provider.h"

using namespace sy;
using namespace sy::engine;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// Every token except end-of-generation ones.
class NoEog : public TokenConstraint {
public:
    explicit NoEog(const Model & m) : m_(m) {}
    void fill_mask(uint32_t * words, int32_t n_vocab) override {
        for (int32_t i = 0; i < (n_vocab + 31) / 32; ++i) words[i] = ~0u;
        for (int32_t id : m_.tokenizer().vocab().eog_ids_) words[id >> 5] &= ~(1u << (id & 31));
    }
    void accept(int32_t, float) override {}
    bool finished() const override { return false; }
    bool can_stop() const override { return false; }

private:
    const Model & m_;
};

struct Args {
    std::string mode, model, tools, choice = "required";
    int streams = 16, n = 64, threads = 2, reps = 2, requests = 200;
};

Args parse(int argc, char ** argv) {
    Args a;
    if (argc < 2) return a;
    a.mode = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "-m") a.model = v;
        else if (k == "--tools") a.tools = v;
        else if (k == "--choice") a.choice = v;
        else if (k == "--streams") a.streams = std::stoi(v);
        else if (k == "-n") a.n = std::stoi(v);
        else if (k == "-t") a.threads = std::stoi(v);
        else if (k == "--reps") a.reps = std::stoi(v);
        else if (k == "--requests") a.requests = std::stoi(v);
        else throw Error(ErrorKind::ErrorKind_invalid_argument, "unknown option " + k);
    }
    return a;
}

// Runs `s` streams at once; returns aggregate generated tokens per second.
double run_streams(Scheduler & sched, const Model & m, int s, int n, int rep) {
    std::vector<JobHandle> hs;
    const auto t0 = Clock::now();
    for (int i = 0; i < s; ++i) {
        Job j;
        j.prompt = m.tokenizer().encode("Stream " + std::to_string(i) + " of rep " + std::to_string(rep) + ": tell me something.");
        j.params.n_predict = n;
        j.params.sampling.temperature = 0.0f;
        j.constraint = std::make_shared<NoEog>(m);
        hs.push_back(sched.submit(std::move(j)));
    }
    size_t tokens = 0;
    for (auto & h : hs) tokens += h.wait().result.tokens.size();
    return (double)tokens * 1000.0 / ms_since(t0);
}

int streams(const Args & a) {
    auto m = Model::load(a.model);
    SchedulerParams sp;
    sp.n_slots = a.streams;
    sp.n_ctx = 256;
    sp.n_threads = a.threads;
    sp.prefix_cache = false;
    Scheduler sched(*m, sp);
    std::printf("model: %s\nstreams: %d, %d tokens each, %d threads\n", m->describe().c_str(), a.streams, a.n, a.threads);
    run_streams(sched, *m, 1, 8, -1);  // warm-up
    double best1 = 0, bestS = 0;
    for (int r = 0; r < a.reps; ++r) {  // interleaved so machine noise hits both alike
        const double one = run_streams(sched, *m, 1, a.n, r);
        const double many = run_streams(sched, *m, a.streams, a.n, r);
        std::printf("rep %d: 1 stream %.1f tok/s, %d streams %.1f tok/s aggregate (%.2fx)\n", r, one, a.streams, many, many / one);
        best1 = std::max(best1, one);
        bestS = std::max(bestS, many);
    }
    std::printf("best: 1 stream %.1f tok/s, %d streams %.1f tok/s aggregate, ratio %.2fx\n", best1, a.streams, bestS, bestS / best1);
    return 0;
}

double pct(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, (size_t)(p * (double)(v.size() - 1) + 0.5))];
}

int router(const Args & a) {
    std::ifstream in(a.tools);
    if (!in) throw Error(ErrorKind::ErrorKind_io, "cannot open " + a.tools);
    providers::ojson tools = providers::ojson::parse(in);
    if (tools.is_object() && tools.contains("tools")) tools = providers::ojson(tools["tools"]);
    providers::LocalModelParams lp;
    lp.name = "router";
    lp.path = a.model;
    lp.scheduler.n_slots = 2;
    lp.scheduler.n_ctx = 2048;
    lp.scheduler.n_threads = a.threads;
    lp.max_tokens = 128;
    providers::LocalProvider p(lp);
    const std::vector<std::string> msgs = {"add buy milk to my list, high priority", "what is still open?",
                                           "mark task 12 as done", "move the dentist task to friday",
                                           "delete task 3", "show me everything due before 2025-07-01"};
    std::vector<double> lat;
    std::vector<double> n_tok, queue, prefill, decode, outside;
    int n_calls = 0;
    for (int i = -10; i < a.requests; ++i) {  // 10 warm-up requests
        providers::ChatRequest r;
        r.model = "router";
        r.messages.push_back({"user", msgs[(size_t)(i + 10) % msgs.size()], {}, "", ""});
        r.tools = tools;
        r.tool_choice = a.choice;
        r.gen.temperature = 0.0f;
        const auto t0 = Clock::now();
        const providers::ChatResponse resp = p.chat(r);
        const double ms = ms_since(t0);
        if (i < 0) continue;
        lat.push_back(ms);
        queue.push_back(resp.timing.queue_ms);
        prefill.push_back(resp.timing.prefill_ms);
        decode.push_back(resp.timing.decode_ms);
        outside.push_back(ms - resp.timing.queue_ms - resp.timing.prefill_ms - resp.timing.decode_ms);
        n_tok.push_back((double)resp.usage.completion_tokens);
        n_calls += resp.message.tool_calls.empty() ? 0 : 1;
    }
    double mean_tok = 0;
    for (double t : n_tok) mean_tok += t / (double)n_tok.size();
    std::printf("model: %s\nrequests: %d, tool_choice %s, %d threads; %d tool calls; %.1f output tokens per request on average\n",
                p.model().describe().c_str(), a.requests, a.choice.c_str(), a.threads, n_calls, mean_tok);
    std::printf("decision latency: p50 %.2f ms, p95 %.2f ms, max %.2f ms\n", pct(lat, 0.5), pct(lat, 0.95), pct(lat, 1.0));
    std::printf("p50 parts: queue %.2f ms, prefill %.2f ms, decode %.2f ms, outside the engine (template, tokenize, "
                "grammar lookup, parse, hand-offs) %.2f ms\n",
                pct(queue, 0.5), pct(prefill, 0.5), pct(decode, 0.5), pct(outside, 0.5));
    const SchedulerStats st = p.scheduler_stats();
    std::printf("prompt tokens computed %llu, reused from the prefix cache %llu\n", (unsigned long long)st.n_prompt_tokens,
                (unsigned long long)st.n_cached_tokens);
    return 0;
}

}  // namespace

int main(int argc, char ** argv) {
    try {
        const Args a = parse(argc, argv);
        if (a.mode == "streams" && !a.model.empty()) return streams(a);
        if (a.mode == "router" && !a.model.empty() && !a.tools.empty()) return router(a);
        std::fprintf(stderr,
                     "usage: scheduler_bench streams -m MODEL.gguf [--streams 16] [-n 64] [-t 2] [--reps 2]\n"
                     "       scheduler_bench router -m MODEL.gguf --tools TOOLS.json [--requests 200] [-t 2] [--choice required]\n");
        return 2;
    } catch (const std::exception & e) {
        std::fprintf(stderr, "scheduler_bench: error: %s\n", e.what());
        return 1;
    }
}
