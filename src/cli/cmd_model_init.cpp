// switchyard model init: write a random-weight model of a real shape (tests, benchmarks).
#include <cstdio>

#include "cli/commands.h"
#include "engine/model_init.h"

namespace sy::cli {

void add_model_init(CLI::App & model) {
    auto p = std::make_shared<engine::InitParams>();
    auto out = std::make_shared<std::string>();
    auto vocab = std::make_shared<std::string>();
    CLI::App * cmd = model.add_subcommand("init", "Write a random-weight model of a real shape, loadable by llama.cpp");
    cmd->add_option("--arch", p->arch, "Architecture: llama or qwen2")->capture_default_str();
    cmd->add_option("--preset", p->preset, "Shape: " + engine::shape_preset_names())->capture_default_str();
    cmd->add_option("--vocab", *vocab, "Copy the tokenizer of this GGUF file (default: a synthetic BPE vocabulary)");
    cmd->add_option("--dtype", p->dtype, "Weight type (f32, f16, bf16, q8_0, q4_0, ...) or recipe (q4_k_m, q5_k_m, ...)")
        ->capture_default_str();
    cmd->add_option("-o,--output", *out, "Output GGUF path")->required();
    cmd->add_option("--seed", p->seed, "Random seed")->capture_default_str();
    cmd->add_option("-t,--threads", p->n_threads, "Threads")->capture_default_str()->check(CLI::Range(1, 256));
    cmd->callback([p, out, vocab] {
        if (!vocab->empty()) p->vocab_from = *vocab;
        std::printf("%s\n", engine::init_random_model(*p, *out).c_str());
    });
}

}  // namespace sy::cli
