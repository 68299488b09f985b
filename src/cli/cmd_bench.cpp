// switchyard bench: prompt-processing and generation throughput, llama-bench style.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "engine/bench.h"

namespace sy::cli {

void add_bench(CLI::App & app) {
    struct Opts {
        std::string model;
        engine::BenchParams bp;
        bool json = false;
    };
    auto o = std::make_shared<Opts>();
    CLI::App * cmd = app.add_subcommand("bench", "Measure prompt processing (pp) and generation (tg) tokens/s");
    cmd->add_option("-m,--model", o->model, "GGUF model file")->required();
    cmd->add_option("-p,--n-prompt", o->bp.n_prompt, "Prompt tokens per pp run")->capture_default_str()->check(CLI::Range(0, 1 << 16));
    cmd->add_option("-n,--n-gen", o->bp.n_gen, "Generated tokens per tg run")->capture_default_str()->check(CLI::Range(0, 1 << 16));
    cmd->add_option("-t,--threads", o->bp.n_threads, "Threads")->capture_default_str()->check(CLI::Range(1, 256));
    cmd->add_option("-r,--repetitions", o->bp.reps, "Repetitions (after one warm-up)")->capture_default_str()->check(CLI::Range(1, 1000));
    cmd->add_flag("--json", o->json, "Print one JSON object");
    cmd->callback([o] {
        auto model = engine::Model::load(o->model);
        engine::BenchResult r = engine::run_bench(*model, o->bp);
        const auto & hp = model->hparams();
        if (o->json) {
            nlohmann::json j;
            j["model"] = o->model;
            j["model_bytes"] = model->weight_bytes();
            j["params"] = model->n_params();
            j["threads"] = o->bp.n_threads;
            j["isa"] = isa_name(kernels().isa);
            j["n_prompt"] = o->bp.n_prompt;
            j["n_gen"] = o->bp.n_gen;
            j["repetitions"] = o->bp.reps;
            j["pp_tokens_per_s"] = r.pp.median;
            j["pp_tokens_per_s_stddev"] = r.pp.stddev;
            j["pp_samples"] = r.pp.samples;
            j["tg_tokens_per_s"] = r.tg.median;
            j["tg_tokens_per_s_stddev"] = r.tg.stddev;
            j["tg_samples"] = r.tg.samples;
            j["bandwidth_gb_per_s"] = r.bandwidth_gbs;
            j["tg_bandwidth_bound_tokens_per_s"] = r.tg_bound_tokens_per_s;
            j["tg_fraction_of_bound"] = r.tg_bound_tokens_per_s > 0 ? r.tg.median / r.tg_bound_tokens_per_s : 0.0;
            std::cout << j.dump(2) << "\n";
            return;
        }
        std::printf("model: %s\n%s\nthreads: %d, isa: %s\n", o->model.c_str(), model->describe().c_str(),
                    o->bp.n_threads, isa_name(kernels().isa));
        std::printf("| test   |    t/s (median) |  min ..  max | stddev |\n|--------|-----------------|--------------|--------|\n");
        if (o->bp.n_prompt > 0)
            std::printf("| pp%-4d | %15.1f | %5.1f .. %5.1f | %6.1f |\n", o->bp.n_prompt, r.pp.median, r.pp.min, r.pp.max, r.pp.stddev);
        if (o->bp.n_gen > 0)
            std::printf("| tg%-4d | %15.1f | %5.1f .. %5.1f | %6.1f |\n", o->bp.n_gen, r.tg.median, r.tg.min, r.tg.max, r.tg.stddev);
        if (r.bandwidth_gbs > 0)
            std::printf("read bandwidth %.1f GB/s; %.1f MB read per token -> tg bound %.1f t/s; tg at %.0f%% of bound\n",
                        r.bandwidth_gbs, r.bytes_per_token / 1e6, r.tg_bound_tokens_per_s,
                        100.0 * r.tg.median / r.tg_bound_tokens_per_s);
        (void)hp;
    });
}

}  // namespace sy::cli
