// Constrained vs unconstrained generation, end to end: tokens/s of engine::generate on a random-weight
// qwen2.5-0.5b-shape model (q4_0) with the real qwen2 vocabulary, greedy, same n_predict, for
//   no constraint | a tool grammar (10 tools, tool_choice required) | a JSON schema,
// each with and without jump-forward. Tokens/s counts every output token (forced ones included) per
// second of generation wall time (after the prompt); binding the grammar to the vocabulary is reported
// apart (a server does it once per tool set, GrammarCache), and so is the time spent in the constraint
// itself per token (masks, jump-forward, acceptance). Plain main; prints figures.
//   constrained_bench [MODEL.gguf] [--n-predict N] [--reps R] [--threads T]
// Without MODEL, the model is written next to the binary from the shared qwen2 vocabulary fixture.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/generate.h"
#include "engine/grammar_constraint.h"
#include "engine/model_init.h"

using namespace sy;
using namespace sy::engine;
using ojson = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

ojson make_tools(int n, uint32_t seed) {
    std::mt19937 rng(seed);
    const char * verbs[] = {"get", "set", "list", "create", "delete", "update", "search", "send"};
    const char * nouns[] = {"weather", "time", "user", "order", "invoice", "ticket", "email", "file", "event", "note"};
    ojson tools = ojson::array();
    for (int i = 0; i < n; ++i) {
        ojson props = ojson::object();
        ojson req = ojson::array();
        int np = 1 + (int)(rng() % 4);
        for (int k = 0; k < np; ++k) {
            std::string name = std::string(nouns[rng() % 10]) + "_" + std::to_string(k);
            switch (rng() % 4) {
            case 0: props[name] = {{"type", "string"}, {"maxLength", 24}}; break;
            case 1: props[name] = {{"type", "integer"}, {"minimum", 0}, {"maximum", 1000}}; break;
            case 2: props[name] = {{"enum", {"low", "medium", "high"}}}; break;
            default: props[name] = {{"type", "boolean"}}; break;
            }
            req.push_back(name);
        }
        std::string fname = std::string(verbs[rng() % 8]) + "_" + nouns[rng() % 10] + "_" + std::to_string(i);
        tools.push_back({{"type", "function"},
                         {"function", {{"name", fname}, {"parameters", {{"type", "object"}, {"properties", props}, {"required", req}}}}}});
    }
    return tools;
}

// Times the constraint's own work (masks, jump-forward, acceptance, the decision mass) around the real one.
class TimedConstraint : public TokenConstraint {
public:
    explicit TimedConstraint(TokenConstraint & inner) : inner_(inner) {}
    void fill_mask(uint32_t * words, int32_t n_vocab) override { time([&] { inner_.fill_mask(words, n_vocab); }); }
    void observe_distribution(const float * logits, int32_t n_vocab) override {
        time([&] { inner_.observe_distribution(logits, n_vocab); });
    }
    void accept(int32_t token, float prob) override { time([&] { inner_.accept(token, prob); }); }
    bool finished() const override { return inner_.finished(); }
    bool can_stop() const override { return inner_.can_stop(); }
    std::vector<int32_t> forced_tokens() override {
        std::vector<int32_t> out;
        time([&] { out = inner_.forced_tokens(); });
        return out;
    }
    double ms = 0.0;

private:
    template <class F>
    void time(F && f) {
        auto t0 = Clock::now();
        f();
        ms += ms_since(t0);
    }
    TokenConstraint & inner_;
};

struct Run {
    int32_t n_out = 0, n_forced = 0;
    double gen_ms = 0.0;
    std::string text;
    double constraint_ms = 0.0;
};

Run run_once(const Model & m, const std::vector<int32_t> & prompt, int32_t n_predict, int32_t n_threads,
             TokenConstraint * constraint) {
    ContextParams cp;
    cp.n_ctx = (int32_t)prompt.size() + n_predict + 8;
    cp.n_threads = n_threads;
    Context ctx(m, cp);
    GenerateParams gp;
    gp.n_predict = n_predict;
    gp.sampling.temperature = 0.0f;  // greedy
    GenerateResult r = generate(ctx, prompt, gp, constraint);
    return Run{(int32_t)r.tokens.size(), r.n_forced, r.gen_ms, r.text};
}

}  // namespace

int main(int argc, char ** argv) {
    std::string model_path;
    int32_t n_predict = 48, reps = 2, n_threads = 2;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--n-predict" && i + 1 < argc) n_predict = std::stoi(argv[++i]);
        else if (a == "--reps" && i + 1 < argc) reps = std::stoi(argv[++i]);
        else if (a == "--threads" && i + 1 < argc) n_threads = std::stoi(argv[++i]);
        else model_path = a;
    }
    try {
        if (model_path.empty()) {
            std::string here = __FILE__;
            std::string vocab = here.substr(0, here.rfind("/bench/")) + "/../shared/fixtures/vocab/ggml-vocab-qwen2.gguf";
            model_path = (std::filesystem::path(argv[0]).parent_path() / "constrained_bench_qwen2.5-0.5b-q4_0.gguf").string();
            if (!std::filesystem::exists(model_path)) {
                InitParams ip;
                ip.arch = "qwen2";
                ip.preset = "qwen2.5-0.5b";
                ip.dtype = "q4_0";
                ip.vocab_from = vocab;
                ip.seed = 5;
                ip.n_threads = n_threads;
                auto t0 = Clock::now();
                std::printf("%s (%.1f s)\n", init_random_model(ip, model_path).c_str(), ms_since(t0) / 1000);
            }
        }
        std::unique_ptr<Model> m = Model::load(model_path);
        const tok::Tokenizer & tk = m->tokenizer();
        const std::vector<int32_t> prompt = tk.encode("You are a helpful assistant. Call the right tool for: book a table for two.");

        auto t0 = Clock::now();
        bind_grammar(grammar::compile_json_object(), tk);  // builds the vocabulary table once (not timed below)
        double table_ms = ms_since(t0);
        t0 = Clock::now();
        auto tool_g = grammar::compile_tool_grammar(make_tools(10, 7), "required", false);
        double tool_compile_ms = ms_since(t0);
        t0 = Clock::now();
        auto tool_cg = bind_grammar(tool_g, tk);
        double tool_bind_ms = ms_since(t0);
        ojson schema = ojson::parse(R"({"type":"object","properties":{
            "title":{"type":"string","maxLength":40},"year":{"type":"integer","minimum":1900,"maximum":2100},
            "rating":{"type":"number"},"tags":{"type":"array","items":{"type":"string","maxLength":12},"maxItems":4},
            "kind":{"enum":["book","film","game"]},"done":{"type":"boolean"}},
            "required":["title","year","rating","tags","kind","done"]})");
        t0 = Clock::now();
        auto schema_g = grammar::compile_json_schema(schema);
        double schema_compile_ms = ms_since(t0);
        t0 = Clock::now();
        auto schema_cg = bind_grammar(schema_g, tk);
        double schema_bind_ms = ms_since(t0);
        std::printf("model %s | n_vocab %d | prompt %zu tokens | n_predict %d | threads %d | reps %d (best of)\n",
                    model_path.c_str(), m->hparams().n_vocab, prompt.size(), n_predict, n_threads, reps);
        std::printf("vocabulary table %.1f ms (once per tokenizer) | tool grammar (10 tools, required): compile %.1f ms, "
                    "bind %.1f ms | schema: compile %.1f ms, bind %.1f ms\n",
                    table_ms, tool_compile_ms, tool_bind_ms, schema_compile_ms, schema_bind_ms);

        // Warm-up (page in the weights).
        run_once(*m, prompt, 4, n_threads, nullptr);

        struct Config {
            const char * name;
            std::shared_ptr<const grammar::CompiledGrammar> cg;
            bool jump;
        };
        const Config configs[] = {{"unconstrained", nullptr, false},
                                  {"tools, no jump-forward", tool_cg, false},
                                  {"tools, jump-forward", tool_cg, true},
                                  {"schema, no jump-forward", schema_cg, false},
                                  {"schema, jump-forward", schema_cg, true}};
        // Rounds visit every configuration in turn, so that load changes on a shared machine hit all alike;
        // each configuration keeps its best round. Round 0 on a grammar is its first request (cold masks).
        const size_t n_cfg = sizeof(configs) / sizeof(configs[0]);
        std::vector<Run> best(n_cfg);
        std::vector<double> best_tps(n_cfg, 0.0), first_constraint_ms(n_cfg, 0.0);
        for (int r = 0; r < reps; ++r) {
            for (size_t k = 0; k < n_cfg; ++k) {
                const Config & c = configs[k];
                std::unique_ptr<GrammarConstraint> gc;
                std::unique_ptr<TimedConstraint> timed;
                if (c.cg) {
                    gc = std::make_unique<GrammarConstraint>(c.cg, tk, c.jump);
                    timed = std::make_unique<TimedConstraint>(*gc);
                }
                Run run = run_once(*m, prompt, n_predict, n_threads, timed.get());
                if (timed) run.constraint_ms = timed->ms;
                if (r == 0) first_constraint_ms[k] = run.constraint_ms;
                double tps = run.n_out / (run.gen_ms / 1000.0);
                if (tps > best_tps[k]) {
                    best_tps[k] = tps;
                    best[k] = run;
                }
            }
        }
        for (size_t k = 0; k < n_cfg; ++k) {
            std::string shown = best[k].text.substr(0, 60);
            for (char & ch : shown)
                if (ch == '\n') ch = ' ';
            std::printf("%-24s %3d tokens (%2d forced) in %7.1f ms = %6.2f tok/s (%5.1f%% of unconstrained) | constraint "
                        "%.3f ms/token (first request %.3f) | %s\n",
                        configs[k].name, best[k].n_out, best[k].n_forced, best[k].gen_ms, best_tps[k],
                        100.0 * best_tps[k] / best_tps[0], best[k].constraint_ms / std::max(1, best[k].n_out),
                        first_constraint_ms[k] / std::max(1, best[k].n_out), shown.c_str());
        }
    } catch (const std::exception & e) {
        std::fprintf(stderr, "constrained_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
