// switchyard train: LoRA fine-tuning over a base GGUF, or a router model from scratch (preset + a BPE
// vocabulary trained on the data), from OpenAI chat JSONL. Progress on stderr, JSONL log of every step,
// Ctrl-C saves a checkpoint (resume with --resume).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>

#include "chat/chat_format.h"
#include "cli/commands.h"
#include "train/data.h"
#include "train/outputs.h"
#include "train/router_aids.h"
#include "train/presets.h"
#include "train/trainer.h"

namespace sy::cli {
namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_sigint(int) { g_stop.store(true); }

struct TrainArgs {
    std::string data, valid, base, preset, out, log, lora_targets = "q,k,v,o,gate,up,down", resume, checkpoint;
    std::string copy_fields;  // auto | none | comma-separated paths; empty: auto for --preset, none for LoRA
    int32_t lora_rank = 0;
    float lora_alpha = 0.0f, lora_dropout = 0.0f;
    train::TrainConfig cfg;
    int64_t seed = 0;
    int32_t threads = 2;
    std::vector<std::string> given;  // recipe flags given on the command line (a preset's recipe fills the rest)
};

std::string fmt_time(double s) {
    char b[32];
    if (s >= 3600) std::snprintf(b, sizeof b, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
    else std::snprintf(b, sizeof b, "%dm%02ds", (int)(s / 60), (int)s % 60);
    return b;
}

void run_train(TrainArgs & a) {
    if (a.base.empty() == a.preset.empty())
        throw Error(ErrorKind::ErrorKind_invalid_argument, "give either --base M.gguf with --lora-rank R, or --preset NAME");
    if (!a.base.empty() && a.lora_rank <= 0)
        throw Error(ErrorKind::ErrorKind_invalid_argument, "--base needs --lora-rank R (e.g. 16)");
    a.cfg.seed = (uint64_t)a.seed;
    a.cfg.n_threads = a.threads;
    a.cfg.log_path = a.log.empty() ? a.out + ".log.jsonl" : a.log;
    a.cfg.checkpoint_path = a.checkpoint.empty() ? a.out + ".ckpt" : a.checkpoint;

    // Data and its split.
    std::vector<chat::Conversation> chats = train::read_chat_jsonl(a.data), vchats;
    if (!a.valid.empty()) {
        vchats = train::read_chat_jsonl(a.valid);
    } else {
        std::vector<size_t> ti, vi;
        train::split_train_valid(chats.size(), 0.1, a.cfg.seed, ti, vi);
        for (size_t i : vi) vchats.push_back(chats[i]);
        std::vector<chat::Conversation> keep;
        for (size_t i : ti) keep.push_back(std::move(chats[i]));
        chats = std::move(keep);
    }
    const std::string fingerprint = train::common_tools_fingerprint(chats);

    std::unique_ptr<engine::Model> base;
    std::unique_ptr<tok::Tokenizer> own_tk;
    const tok::Tokenizer * tk = nullptr;
    std::unique_ptr<train::TrainModel> model;
    std::optional<chat::ChatFormat> format;
    if (!a.base.empty()) {
        base = engine::Model::load(a.base);
        tk = &base->tokenizer();
        format = chat::ChatFormat::detect(base->file(), tk->vocab());
        train::LoraConfig lc;
        lc.rank = a.lora_rank;
        lc.alpha = a.lora_alpha > 0 ? a.lora_alpha : 2.0f * (float)a.lora_rank;
        lc.dropout = a.lora_dropout;
        lc.targets = train::parse_lora_targets(a.lora_targets);
        model = train::TrainModel::lora(*base, lc, a.cfg.seed);
        std::fprintf(stderr, "base: %s\nLoRA rank %d alpha %g on %s: %.2fM trainable parameters\n", base->describe().c_str(),
                     lc.rank, lc.alpha, a.lora_targets.c_str(), model->n_trainable() / 1e6);
    } else {
        const train::ModelPreset * ps = train::find_model_preset(a.preset);
        if (!ps)
            throw Error(ErrorKind::ErrorKind_invalid_argument,
                        "unknown preset '" + a.preset + "' (one of: " + train::model_preset_names() + ")");
        format = train::preset_chat_format();
        auto given = [&](const char * flag) { return std::find(a.given.begin(), a.given.end(), flag) != a.given.end(); };
        if (!given("--epochs")) a.cfg.epochs = ps->recipe.epochs;
        if (!given("--lr")) a.cfg.opt.lr = ps->recipe.lr;
        if (!given("--batch-tokens")) a.cfg.batch_tokens = ps->recipe.batch_tokens;
        if (!given("--weight-decay")) a.cfg.opt.weight_decay = ps->recipe.weight_decay;
        if (!given("--eval-every")) a.cfg.eval_every = ps->recipe.eval_every;
        std::fprintf(stderr, "recipe: %d epochs, lr %g, %lld-token batches, weight decay %g, validation every %lld steps\n",
                     a.cfg.epochs, a.cfg.opt.lr, (long long)a.cfg.batch_tokens, a.cfg.opt.weight_decay,
                     (long long)a.cfg.eval_every);
        const auto t0 = std::chrono::steady_clock::now();
        own_tk = tok::Tokenizer::from_vocab(train::train_preset_vocab(chats, *format, ps->n_vocab));
        tk = own_tk.get();
        engine::HParams hp = train::preset_hparams(*ps);
        hp.n_vocab = tk->vocab().n_tokens();
        model = train::TrainModel::create(hp, a.cfg.seed);
        std::fprintf(stderr, "tokenizer: %d tokens trained in %.1fs\npreset %s: %.2fM parameters\n", hp.n_vocab,
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), ps->name,
                     model->n_trainable() / 1e6);
    }
    const std::vector<std::string> copy_fields =
        train::resolve_copy_fields(a.copy_fields.empty() ? (a.preset.empty() ? "none" : "auto") : a.copy_fields, chats, *format);
    if (!copy_fields.empty()) {
        std::string names;
        for (const std::string & f : copy_fields) names += (names.empty() ? "" : ", ") + f;
        std::fprintf(stderr, "copy fields: %s\n", names.c_str());
    }
    // A from-scratch router also gets its linear aids (train/router_aids.h).
    train::RouterAids aids;
    if (!model->is_lora()) aids = train::train_router_aids(chats, copy_fields, a.cfg.seed, a.cfg.n_threads, stderr);
    std::vector<train::TrainExample> tr, va;
    int64_t n_tok = 0;
    for (const auto & c : chats) {
        tr.push_back(train::tokenize_conversation(c, *format, *tk));
        n_tok += (int64_t)tr.back().tokens.size();
    }
    for (const auto & c : vchats) va.push_back(train::tokenize_conversation(c, *format, *tk));
    std::fprintf(stderr, "data: %zu training examples (%lld tokens), %zu validation; chat format %s%s%s\n", tr.size(),
                 (long long)n_tok, va.size(), chat::chat_format_name(format->kind()),
                 fingerprint.empty() ? "" : "; tool set ", fingerprint.c_str());

    g_stop = false;
    std::signal(SIGINT, on_sigint);
    a.cfg.stop = &g_stop;
    std::optional<double> last_valid;
    a.cfg.on_step = [&](const train::StepInfo & s) {
        if (s.valid_loss) last_valid = s.valid_loss;
        const double eta = s.elapsed_s / (double)s.step * (double)(s.total - s.step);
        const int width = 24, fill = (int)(width * s.step / std::max<int64_t>(1, s.total));
        std::string bar(fill, '#');
        bar += std::string(width - fill, '.');
        char vbuf[32] = "-";
        if (last_valid) std::snprintf(vbuf, sizeof vbuf, "%.4f", *last_valid);
        std::fprintf(stderr, "\r[%s] %lld/%lld loss %.4f val %s | %.0f tok/s | ETA %s   ", bar.c_str(), (long long)s.step,
                     (long long)s.total, s.loss, vbuf, s.tokens_per_s, fmt_time(eta).c_str());
        if (s.step == s.total) std::fprintf(stderr, "\n");
    };
    train::TrainResult r = train::train(*model, tr, va, a.cfg, a.resume);
    std::signal(SIGINT, SIG_DFL);
    std::fprintf(stderr, "\n");
    if (r.interrupted) {
        std::fprintf(stderr, "interrupted at step %lld: checkpoint saved to %s (continue with --resume %s)\n",
                     (long long)r.steps, a.cfg.checkpoint_path.c_str(), a.cfg.checkpoint_path.c_str());
        return;
    }
    if (model->is_lora()) {
        train::save_adapter(*model, a.out, fingerprint, copy_fields);
    } else {
        train::SaveModelParams sp;
        sp.chat_format = chat::chat_format_name(format->kind());
        sp.tools_fingerprint = fingerprint;
        sp.copy_fields = copy_fields;
        sp.tagger = aids.tagger;
        sp.intent = aids.intent;
        train::save_full_model(*model, tk->vocab(), a.out, sp);
    }
    std::printf("trained %lld steps in %s (%.0f tokens/s), final loss %.4f", (long long)r.steps, fmt_time(r.seconds).c_str(),
                r.tokens / std::max(1e-9, r.seconds), r.losses.empty() ? 0.0 : r.losses.back());
    if (r.best_valid_loss) std::printf(", best validation loss %.4f at step %lld", *r.best_valid_loss, (long long)r.best_step);
    if (r.stopped_early) std::printf(" (stopped early)");
    std::printf("\nwrote %s (%s); log %s\n", a.out.c_str(), model->is_lora() ? "LoRA adapter" : "model",
                a.cfg.log_path.c_str());
}

}  // namespace

void add_train(CLI::App & app) {
    auto a = std::make_shared<TrainArgs>();
    CLI::App * cmd = app.add_subcommand("train", "Fine-tune a LoRA adapter or train a router model from scratch on chat JSONL");
    cmd->add_option("--data", a->data, "Training data: OpenAI chat fine-tuning JSONL")->required();
    cmd->add_option("--valid", a->valid, "Validation JSONL (default: a deterministic 10% of --data)");
    cmd->add_option("--base", a->base, "Base model GGUF for LoRA (any weight type; stays frozen)");
    cmd->add_option("--lora-rank", a->lora_rank, "LoRA rank (with --base)");
    cmd->add_option("--lora-alpha", a->lora_alpha, "LoRA alpha (default 2 x rank)");
    cmd->add_option("--lora-dropout", a->lora_dropout, "LoRA input dropout")->capture_default_str();
    cmd->add_option("--lora-targets", a->lora_targets, "Projections to adapt")->capture_default_str();
    cmd->add_option("--preset", a->preset,
                    "Train from scratch: " + train::model_preset_names() +
                        "; each brings its recipe (epochs, lr, batch tokens, weight decay, eval every) for flags not given");
    cmd->add_option("-o,--output", a->out, "Output: adapter GGUF (LoRA) or model GGUF (preset)")->required();
    cmd->add_option("--epochs", a->cfg.epochs, "Epochs")->capture_default_str()->check(CLI::Range(1, 100000));
    cmd->add_option("--lr", a->cfg.opt.lr, "Peak learning rate")->capture_default_str();
    cmd->add_option("--weight-decay", a->cfg.opt.weight_decay, "AdamW weight decay")->capture_default_str();
    cmd->add_option("--clip", a->cfg.opt.clip_norm, "Gradient clipping (global norm; 0 = off)")->capture_default_str();
    cmd->add_option("--warmup", a->cfg.warmup_steps, "Warmup steps (-1: 5% of steps)")->capture_default_str();
    cmd->add_option("--batch-tokens", a->cfg.batch_tokens, "Tokens per micro-batch (packed)")->capture_default_str();
    cmd->add_option("--grad-accum", a->cfg.grad_accum, "Micro-batches per optimizer step")->capture_default_str();
    cmd->add_option("--max-steps", a->cfg.max_steps, "Stop after this many steps (0: no limit)")->capture_default_str();
    cmd->add_option("--eval-every", a->cfg.eval_every, "Steps between validation passes")->capture_default_str();
    cmd->add_option("--patience", a->cfg.patience, "Early stopping: evaluations without improvement (0: off)")
        ->capture_default_str();
    cmd->add_option("--seed", a->seed, "Random seed (data order, init, dropout, split)")->capture_default_str();
    cmd->add_option("-t,--threads", a->threads, "Threads")->capture_default_str()->check(CLI::Range(1, 256));
    cmd->add_option("--log", a->log, "JSONL log of every step (default OUT.log.jsonl)");
    cmd->add_option("--checkpoint", a->checkpoint, "Checkpoint path (default OUT.ckpt; written on Ctrl-C and at the end)");
    cmd->add_option("--checkpoint-every", a->cfg.checkpoint_every, "Steps between checkpoints (0: end and Ctrl-C only)")
        ->capture_default_str();
    cmd->add_option("--resume", a->resume, "Continue from this checkpoint (same data and flags)");
    cmd->add_option("--copy-fields", a->copy_fields,
                    "String arguments decoded as copies of the request's text, recorded in the output: auto (fields "
                    "copied in >= 98% of >= 20 training calls), none, or a list like create_task.title,search_tasks.query "
                    "(default: auto with --preset, none with --base)");
    cmd->callback([a, cmd] {
        for (const char * f : {"--epochs", "--lr", "--batch-tokens", "--weight-decay", "--eval-every"})
            if (cmd->count(f)) a->given.push_back(f);
        run_train(*a);
    });
}

}  // namespace sy::cli
