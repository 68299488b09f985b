// Grammar benchmark: per-token mask time (median, p99) on real vocabularies for tool grammars of 1, 10 and
// 50 tools, including the first requests on a freshly bound grammar; compile and bind (vocabulary
// binding, with the loop-shape classification) times; cached lookup time; masks under the copy rule
// (grammar/copy.h) with a ~500-byte source, split into steps inside copy strings and the others. Plain
// main; prints figures.
//   grammar_bench [SHARED_DIR]     (default: the shared fixtures next to the source tree)
// Generation is simulated: a seeded RNG picks among the allowed tokens (preferring to close up after a
// while), so every measured step is a real decoding position.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "grammar/copy.h"
#include "grammar/grammar.h"
#include "tokenizer/tokenizer.h"

using namespace sy;
using namespace sy::grammar;
using Clock = std::chrono::steady_clock;

static double us_since(Clock::time_point t0) { return std::chrono::duration<double, std::micro>(Clock::now() - t0).count(); }

static ojson make_tools(int n, uint32_t seed) {
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
            switch (rng() % 5) {
            case 0: props[name] = {{"type", "string"}, {"description", "free text"}}; break;
            case 1: props[name] = {{"type", "integer"}, {"minimum", 0}, {"maximum", 1000}}; break;
            case 2: props[name] = {{"enum", {"low", "medium", "high"}}}; break;
            case 3: props[name] = {{"type", "boolean"}}; break;
            default: props[name] = {{"type", "array"}, {"items", {{"type", "string"}}}, {"maxItems", 5}}; break;
            }
            if (rng() % 2) req.push_back(name);
        }
        std::string fname = std::string(verbs[rng() % 8]) + "_" + nouns[rng() % 10] + "_" + std::to_string(i);
        tools.push_back({{"type", "function"},
                         {"function", {{"name", fname}, {"parameters", {{"type", "object"}, {"properties", props}, {"required", req}}}}}});
    }
    return tools;
}

static double pct(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, (size_t)(p * (double)(v.size() - 1) + 0.5))];
}

// Simulated decoding; returns per-step mask times in microseconds.
static std::vector<double> simulate(const std::shared_ptr<const CompiledGrammar> & cg, int n_runs, uint32_t seed) {
    std::mt19937 rng(seed);
    const TokenTable & tt = cg->tokens();
    std::vector<uint32_t> mask(mask_words(tt.n_tokens()));
    std::vector<double> times;
    std::vector<TokenId> allowed, closing;
    for (int r = 0; r < n_runs; ++r) {
        GrammarMatcher m(cg);
        for (int step = 0; step < 400 && !m.is_terminated(); ++step) {
            auto t0 = Clock::now();
            m.fill_mask(mask.data());
            times.push_back(us_since(t0));
            allowed.clear();
            closing.clear();
            for (TokenId id = 0; id < tt.n_tokens(); ++id) {
                if (!mask_test(mask.data(), id)) continue;
                allowed.push_back(id);
                if (tt.is_stop(id)) closing.insert(closing.begin(), id);
                else if (!tt.bytes(id).empty() && std::string("\"}]<\n").find(tt.bytes(id)[0]) != std::string::npos)
                    closing.push_back(id);
            }
            if (allowed.empty()) {
                std::fprintf(stderr, "dead end at step %d\n", step);
                break;
            }
            TokenId pick = allowed[rng() % allowed.size()];
            if (step > 30 && !closing.empty()) pick = tt.is_stop(closing[0]) ? closing[0] : closing[rng() % closing.size()];
            if (!m.accept_token(pick)) {
                std::fprintf(stderr, "mask allowed a token the matcher rejects\n");
                return times;
            }
        }
    }
    return times;
}

// Decoding the task-agent tools with copy fields: mask times inside copy strings (first = fresh string,
// every span start live) and elsewhere.
static void bench_copy(const std::shared_ptr<const TokenTable> & tokens, const std::string & source_dir) {
    std::FILE * f = std::fopen((source_dir + "/examples/task-agent/tools.json").c_str(), "rb");
    if (!f) {
        std::printf("copy: skip (no examples/task-agent/tools.json)\n");
        return;
    }
    std::string text;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
    std::fclose(f);
    const ojson tools = ojson::parse(text);
    const std::set<std::string> fields = {"create_task.title", "create_task.tags[]", "search_tasks.query"};
    auto cg = std::make_shared<const CompiledGrammar>(compile_tool_grammar(tools, "required", false, ToolCallFormat::hermes(), fields),
                                                      tokens);
    // ~500 bytes of user text with punctuation, quotes and a few non-ASCII words.
    const char * words[] = {"please", "add", "a", "task", "to", "review", "the", "\"quarterly\"", "budget", "report,",
                            "call", "Zoë", "about", "the", "café", "order;", "tag", "it", "finance", "and", "urgent."};
    std::string source;
    for (int i = 0; source.size() < 500; ++i) source += std::string(words[(i * 7) % 21]) + " ";
    auto cc = std::make_shared<const CopyConstraint>(tokens, std::vector<std::string>{source});
    std::mt19937 rng(5);
    std::vector<uint32_t> mask(mask_words(tokens->n_tokens()));
    std::vector<double> inside, first, other;
    std::vector<TokenId> allowed;
    int n_fallback = 0;
    for (int r = 0; r < 40; ++r) {
        GrammarMatcher m(cg);
        m.set_copy_constraint(cc);
        bool was_active = false;
        for (int step = 0; step < 300 && !m.is_terminated(); ++step) {
            const bool active = m.copy_active();
            auto t0 = Clock::now();
            m.fill_mask(mask.data());
            const double us = us_since(t0);
            (active ? (was_active ? inside : first) : other).push_back(us);
            n_fallback += m.copy_fallback();
            was_active = active;
            allowed.clear();
            for (TokenId id = 0; id < tokens->n_tokens(); ++id)
                if (mask_test(mask.data(), id)) allowed.push_back(id);
            if (allowed.empty()) break;
            TokenId pick = allowed[rng() % allowed.size()];
            for (TokenId id : allowed)  // close strings and calls after a while
                if (step > 40 && (tokens->is_stop(id) || tokens->bytes(id)[0] == '"' || tokens->bytes(id)[0] == '}')) pick = id;
            m.accept_token(pick);
        }
    }
    std::printf("copy (task-agent tools, %zu-byte source, %zu span starts): mask us inside copy strings median %.2f p99 %.1f "
                "(%zu steps) | first step of a string median %.1f p99 %.1f max %.0f (%zu) | elsewhere median %.2f p99 %.1f "
                "(%zu) | fallbacks %d\n",
                source.size(), cc->starts().size(), pct(inside, 0.5), pct(inside, 0.99), inside.size(), pct(first, 0.5),
                pct(first, 0.99), pct(first, 1.0), first.size(), pct(other, 0.5), pct(other, 0.99), other.size(), n_fallback);
}

static double cpu_ms() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static std::string load_average() {
    std::FILE * f = std::fopen("/proc/loadavg", "r");
    char buf[64] = {0};
    if (f) {
        if (!std::fgets(buf, sizeof buf, f)) buf[0] = 0;
        std::fclose(f);
    }
    std::string s = buf;
    return s.substr(0, s.find(' '));
}

int main(int argc, char ** argv) {
    // Default: <source tree>/../shared, found from this file's path.
    std::string here = __FILE__;
    std::string shared = argc > 1 ? argv[1] : here.substr(0, here.rfind("/bench/")) + "/../shared";
    std::printf("load average at start: %s (wall-clock figures include preemption on a shared machine)\n",
                load_average().c_str());
    for (const char * vocab_name : {"ggml-vocab-qwen2.gguf", "ggml-vocab-starcoder.gguf"}) {
        std::string path = shared + "/fixtures/vocab/" + vocab_name;
        std::unique_ptr<tok::Tokenizer> tk;
        try {
            gguf::File f = gguf::File::open(path);
            tk = tok::Tokenizer::from_gguf(f);
        } catch (const std::exception & e) {
            std::printf("skip %s: %s\n", vocab_name, e.what());
            continue;
        }
        auto t0 = Clock::now();
        auto tokens = TokenTable::from_vocab(tk->vocab());
        std::printf("\n== %s: %d tokens (table built in %.1f ms)\n", vocab_name, tokens->n_tokens(), us_since(t0) / 1000);
        bench_copy(tokens, here.substr(0, here.rfind("/bench/")));
        for (int n_tools : {1, 10, 50}) {
            ojson tools = make_tools(n_tools, 1234 + n_tools);
            std::vector<double> compile_ms, compile_cpu;
            std::shared_ptr<const Grammar> g;
            for (int i = 0; i < 5; ++i) {
                auto c0 = Clock::now();
                double k0 = cpu_ms();
                g = compile_tool_grammar(tools, "required", true);
                compile_cpu.push_back(cpu_ms() - k0);
                compile_ms.push_back(us_since(c0) / 1000);
            }
            // Bind on a table that has never seen a grammar (every loop shape classified now), then on the
            // warm table (shapes shared with earlier grammars). Masks are measured on the cold binding.
            auto cold_tokens = TokenTable::from_vocab(tk->vocab());
            auto b0 = Clock::now();
            double k0 = cpu_ms();
            auto cold = std::make_shared<const CompiledGrammar>(g, cold_tokens);
            double bind_cold_cpu = cpu_ms() - k0, bind_cold_ms = us_since(b0) / 1000;
            std::vector<double> bind_warm_ms;
            for (int i = 0; i < 3; ++i) {
                auto w0 = Clock::now();
                CompiledGrammar warm(g, cold_tokens);
                bind_warm_ms.push_back(us_since(w0) / 1000);
            }
            // Masks are measured under tool_choice "required" so that every run decodes tool calls.
            GrammarCache cache(8);
            uint64_t key = tool_grammar_key(tools, "required", true, ToolCallFormat::hermes());
            auto cg = cache.get_or_build(key, tokens, [&] { return compile_tool_grammar(tools, "required", true); });
            const int n_lookups = 200000;
            auto l0 = Clock::now();
            size_t sink = 0;
            for (int i = 0; i < n_lookups; ++i) sink += (size_t)cache.find(key, tokens->fingerprint()).get();
            double lookup_us = us_since(l0) / n_lookups;
            auto h0 = Clock::now();
            uint64_t k2 = tool_grammar_key(tools, "required", true, ToolCallFormat::hermes());
            double key_us = us_since(h0);

            std::vector<double> first = simulate(cold, 4, 7);  // the first requests on a fresh binding
            std::vector<double> warm = simulate(cold, 4, 7);   // same runs again, every state cached
            std::vector<double> fresh = simulate(cold, 8, 99); // new runs over the warm cache
            std::printf("tools=%2d states=%5d | compile median %.1f ms (cpu %.1f) | bind: new vocabulary %.1f ms (cpu %.1f, "
                        "%d shapes, %d shared states), known shapes %.1f ms | compile+bind %.1f ms\n",
                        n_tools, g->n_states(), pct(compile_ms, 0.5), pct(compile_cpu, 0.5), bind_cold_ms, bind_cold_cpu,
                        cold->n_component_shapes(), cold->n_component_states(), pct(bind_warm_ms, 0.5),
                        pct(compile_ms, 0.5) + bind_cold_ms);
            std::printf("          mask us: first requests median %.2f p99 %.1f max %.0f (%zu steps) | repeated median %.2f "
                        "p99 %.1f | new runs median %.2f p99 %.1f (%zu steps) | cached lookup %.3f us (key hash %.1f us) | "
                        "states cached %d%s\n",
                        pct(first, 0.5), pct(first, 0.99), pct(first, 1.0), first.size(), pct(warm, 0.5), pct(warm, 0.99),
                        pct(fresh, 0.5), pct(fresh, 0.99), fresh.size(), lookup_us, key_us, cold->n_cached_states(),
                        (sink == 0 || k2 != key) ? " (!)" : "");
        }
    }
    std::printf("load average at end: %s\n", load_average().c_str());
    return 0;
}
