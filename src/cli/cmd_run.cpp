// switchyard run: load a model (with optional LoRA adapters), tokenize a prompt and stream the
// continuation to stdout.
#include <cstdio>
#include <iostream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/util.h"
#include "engine/generate.h"

namespace sy::cli {

void add_run(CLI::App & app) {
    struct Opts {
        std::string model, prompt;
        std::vector<std::string> loras;
        int n_predict = 128, threads = 2, n_ctx = 0;
        float temp = 0.8f, top_p = 0.95f, min_p = 0.05f, repeat_penalty = 1.0f;
        int top_k = 40;
        uint64_t seed = 0;
        bool json = false;
    };
    auto o = std::make_shared<Opts>();
    CLI::App * cmd = app.add_subcommand("run", "Generate text from a prompt with a GGUF model");
    cmd->add_option("-m,--model", o->model, "GGUF model file")->required();
    cmd->add_option("-p,--prompt", o->prompt, "Prompt text ('-' reads stdin)")->required();
    cmd->add_option("--lora", o->loras, "LoRA adapter GGUF, optionally with a scale: FILE[:SCALE] (repeatable)");
    cmd->add_option("-n,--n-predict", o->n_predict, "Tokens to generate")->capture_default_str();
    cmd->add_option("--temp", o->temp, "Temperature (0 = greedy)")->capture_default_str();
    cmd->add_option("--top-k", o->top_k, "Top-k (0 = off)")->capture_default_str();
    cmd->add_option("--top-p", o->top_p, "Top-p (1 = off)")->capture_default_str();
    cmd->add_option("--min-p", o->min_p, "Min-p (0 = off)")->capture_default_str();
    cmd->add_option("--repeat-penalty", o->repeat_penalty, "Repetition penalty (1 = off)")->capture_default_str();
    cmd->add_option("--seed", o->seed, "Sampling seed")->capture_default_str();
    cmd->add_option("-t,--threads", o->threads, "Threads")->capture_default_str()->check(CLI::Range(1, 256));
    cmd->add_option("-c,--ctx-size", o->n_ctx, "Context size (default: prompt + n-predict)");
    cmd->add_flag("--json", o->json, "Print one JSON record instead of streaming text");
    cmd->callback([o] {
        auto model = engine::Model::load(o->model);
        std::string prompt = o->prompt;
        if (prompt == "-") prompt.assign(std::istreambuf_iterator<char>(std::cin), {});
        tok::EncodeOptions eo;
        eo.add_special = true;
        eo.parse_special = true;
        std::vector<int32_t> ids = model->tokenizer().encode(prompt, eo);
        if (ids.empty()) throw Error(ErrorKind::ErrorKind_invalid_argument, "the prompt tokenizes to nothing");

        engine::ContextParams cp;
        cp.n_threads = o->threads;
        cp.n_ctx = o->n_ctx > 0 ? o->n_ctx : (int32_t)ids.size() + o->n_predict + 1;
        engine::Context ctx(*model, cp);
        std::vector<engine::ActiveLora> loras;
        for (const auto & spec : o->loras) {
            auto [path, scale] = parse_path_scale(spec);
            loras.push_back({engine::LoraAdapter::load(path, *model), scale});
        }
        ctx.set_loras(loras);

        engine::GenerateParams gp;
        gp.n_predict = o->n_predict;
        gp.sampling.temperature = o->temp;
        gp.sampling.top_k = o->top_k;
        gp.sampling.top_p = o->top_p;
        gp.sampling.min_p = o->min_p;
        gp.sampling.repeat_penalty = o->repeat_penalty;
        gp.sampling.seed = o->seed;

        if (o->json) {
            engine::GenerateResult r = engine::generate(ctx, ids, gp);
            nlohmann::json j;
            j["prompt_tokens"] = r.n_prompt;
            j["completion_tokens"] = r.tokens.size();
            j["text"] = r.text;
            j["finish_reason"] = engine::stop_reason_name(r.stop_reason);
            j["prompt_ms"] = r.prompt_ms;
            j["gen_ms"] = r.gen_ms;
            std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
            return;
        }
        engine::GenerateResult r = engine::generate(ctx, ids, gp, nullptr, [](const std::string & s) {
            std::fwrite(s.data(), 1, s.size(), stdout);
            std::fflush(stdout);
            return true;
        });
        std::printf("\n");
        std::fprintf(stderr, "prompt: %d tokens in %.1f ms (%.1f t/s); generated: %zu tokens in %.1f ms (%.1f t/s); %s\n",
                     r.n_prompt, r.prompt_ms, r.n_prompt * 1000.0 / std::max(r.prompt_ms, 1e-9), r.tokens.size(),
                     r.gen_ms, r.tokens.size() * 1000.0 / std::max(r.gen_ms, 1e-9), engine::stop_reason_name(r.stop_reason));
    });
}

}  // namespace sy::cli
