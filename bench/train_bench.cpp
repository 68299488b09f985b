// Training throughput: LoRA (rank 16, all seven projections) on the SmolLM2-135M shape with a frozen base
// (f32 unless told another GGUF type), in training tokens/s, and the achieved FLOP/s against a measured f32
// GEMM peak on this machine. Also prints peak resident memory. Runs the frozen-base products three ways in
// one process unless told one (see train/gemm.h): f32 sgemm, bf16 converting W per call, and bf16 from the
// packs the model keeps for the run, taking turns over a few rounds (median per mode). Usage: train_bench
// [threads] [batch_tokens] [steps per round] [dtype] [matmul: all|f32|bf16|packed] [rounds, default 3]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "engine/model_init.h"
#include "train/gemm.h"
#include "train/optimizer.h"
#include "train/trainer.h"

using namespace sy;
using Clock = std::chrono::steady_clock;

static double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The 1-, 5- and 15-minute load averages (Linux), or "n/a".
static std::string load_average() {
    std::FILE * f = std::fopen("/proc/loadavg", "r");
    if (!f) return "n/a";
    double a = 0, b = 0, c = 0;
    const int got = std::fscanf(f, "%lf %lf %lf", &a, &b, &c);
    std::fclose(f);
    if (got != 3) return "n/a";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f %.2f %.2f", a, b, c);
    return buf;
}

// GEMM peak: the best of a few square 1536³ products, f32 (OpenBLAS sgemm) or gemm_bf16, all threads.
static double gemm_peak_gflops(bool bf16) {
    const int64_t n = 1536;
    std::vector<float> a(n * n, 0.5f), b(n * n, 0.25f), c(n * n);
    double best = 0;
    for (int r = 0; r < 4; ++r) {
        const auto t = Clock::now();
        if (bf16) train::gemm_bf16(true, n, n, n, a.data(), n, b.data(), n, 0.0f, c.data(), n);
        else train::gemm<float>(false, true, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
        best = std::max(best, 2.0 * n * n * n / seconds_since(t) / 1e9);
    }
    return best;
}

int main(int argc, char ** argv) {
    const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
    const int64_t batch_tokens = argc > 2 ? std::atoll(argv[2]) : 512;
    const int steps = argc > 3 ? std::atoi(argv[3]) : 3;
    const std::string dtype = argc > 4 ? argv[4] : "f32";
    const std::string which = argc > 5 ? argv[5] : "all";
    const int rounds = std::max(1, argc > 6 ? std::atoi(argv[6]) : 3);
    struct Mode {
        train::FrozenMatmul matmul;
        bool packed;
        const char * name;
    };
    const Mode f32{train::FrozenMatmul::FrozenMatmul_f32, false, "f32"};
    const Mode percall{train::FrozenMatmul::FrozenMatmul_bf16, false, "bf16"};
    const Mode packed{train::FrozenMatmul::FrozenMatmul_bf16, true, "packed"};
    std::vector<Mode> modes;
    if (which == "all" || which == "both") modes = {f32, percall, packed};
    else if (which == "packed") modes = {packed};
    else modes = {train::frozen_matmul_from_name(which) == f32.matmul ? f32 : percall};
    train::gemm_set_threads(threads);

    const std::string path = (std::filesystem::temp_directory_path() / ("sy_train_bench_135m_" + dtype + ".gguf")).string();
    if (!std::filesystem::exists(path)) {
        engine::InitParams ip;
        ip.preset = "smollm2-135m";
        ip.dtype = dtype;
        ip.n_threads = threads;
        std::printf("%s\n", engine::init_random_model(ip, path).c_str());
    }
    auto base = engine::Model::load(path);
    const engine::HParams & hp = base->hparams();
    train::LoraConfig lc;
    lc.rank = 16;
    lc.alpha = 32;
    auto tm = train::TrainModel::lora(*base, lc, 1);

    // Packed batch: examples of 128 tokens, loss on every position.
    std::mt19937 rng(1);
    std::vector<train::TrainExample> ex;
    for (int64_t t = 0; t < batch_tokens; t += 128) {
        train::TrainExample e;
        for (int i = 0; i < 129; ++i) e.tokens.push_back((int32_t)(rng() % (uint32_t)hp.n_vocab));
        e.loss_mask.assign(e.tokens.size(), 1);
        ex.push_back(std::move(e));
    }
    std::vector<size_t> order(ex.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    const train::Batch b = train::pack_batches(ex, order, batch_tokens).at(0);
    const int64_t n = (int64_t)b.tokens.size();

    // FLOPs per step: forward GEMMs (2·n·params of every matrix incl. the output head) + backward dX (same
    // again; frozen weights need no dW) + attention (QKᵀ, PV forward; 4 products backward) + LoRA (small).
    const double d = hp.n_embd, qd = (double)hp.n_head * hp.head_dim, kvd = (double)hp.n_head_kv * hp.head_dim;
    const double lin = hp.n_layer * (d * qd * 2 + d * kvd * 2 + 3.0 * d * hp.n_ff) + d * hp.n_vocab;
    const double seg = 128;
    const double attn = hp.n_layer * 2.0 * seg * qd * 2 * n;  // per forward: QKᵀ + PV over 128-token segments
    const double lora = hp.n_layer * 16.0 * (d * 6 + qd + kvd * 2 + 3.0 * hp.n_ff + d) * 2;
    const double flops = n * (2 * lin * 2 + 2 * lora * 3) + attn * 3;
    double peak = gemm_peak_gflops(false), peak_bf16 = gemm_peak_gflops(true);
    std::printf("model: %s\n", base->describe().c_str());
    std::printf("LoRA r16 all projections (%.2fM trainable), %d threads, %lld tokens/step, %d rounds of %d steps per "
                "mode; bf16 kernel: %s; load average at start: %s\n",
                tm->n_trainable() / 1e6, threads, (long long)n, rounds, steps,
                train::gemm_bf16_native() ? "avx512-bf16" : "none (rounded sgemm)", load_average().c_str());

    // The modes take turns, one round each, so a shared machine's load changes hit all of them alike (one
    // optimizer carries on across them: the step's cost does not depend on its state). Switching packs off
    // frees them, so a packed round rebuilds them in its (untimed) warm-up step.
    train::AdamW opt(tm->params(), train::AdamWParams{});
    std::vector<std::vector<double>> secs(modes.size());
    std::vector<double> rss(modes.size()), warm(modes.size());
    size_t pack_bytes = 0;
    for (int round = 0; round < rounds; ++round) {
        if (round > 0) {
            peak = std::max(peak, gemm_peak_gflops(false));
            peak_bf16 = std::max(peak_bf16, gemm_peak_gflops(true));
        }
        for (size_t mi = 0; mi < modes.size(); ++mi) {
            const Mode & mode = modes[mi];
            train::set_frozen_matmul(mode.matmul);
            tm->set_pack_frozen(mode.packed);
            auto step = [&] {
                tm->zero_grad();
                tm->forward_backward(b, 1.0f / (float)b.n_loss(), 0);
                opt.step(tm->params(), 1e-4f);
            };
            const auto tw = Clock::now();
            step();  // warm-up (builds the packs in packed mode)
            if (round == 0) warm[mi] = seconds_since(tw);
            const auto t0 = Clock::now();
            for (int s = 0; s < steps; ++s) step();
            secs[mi].push_back(seconds_since(t0) / steps);
            if (round == 0) {
                struct rusage ru;
                getrusage(RUSAGE_SELF, &ru);
                rss[mi] = ru.ru_maxrss / 1024.0;
            }
            pack_bytes = std::max(pack_bytes, tm->packed_bytes());
        }
    }
    std::printf("measured GEMM peak (1536^3, best of the rounds): f32 sgemm %.1f GFLOP/s, gemm_bf16 %.1f GFLOP/s; "
                "llama.cpp finetune anchor: 89 tokens/s (full fine-tune F32); goal >= 267\n",
                peak, peak_bf16);
    for (size_t mi = 0; mi < modes.size(); ++mi) {
        std::vector<double> v = secs[mi];
        std::sort(v.begin(), v.end());
        const double sec = v[v.size() / 2];
        std::printf("[%-6s] median %.2f s/step (rounds:", modes[mi].name, sec);
        for (double x : secs[mi]) std::printf(" %.2f", x);
        std::printf("), training tokens/s: %.1f, achieved %.1f GFLOP/s = %.0f%% of the f32 GEMM peak, peak RSS after "
                    "its first round %.0f MiB",
                    n / sec, flops / sec / 1e9, 100.0 * flops / sec / 1e9 / peak, rss[mi]);
        if (modes[mi].packed)
            std::printf(" (packs %.0f MiB; first step incl. packing %.2f s)", pack_bytes / 1048576.0, warm[mi]);
        std::printf("\n");
    }
    std::printf("load average at end: %s\n", load_average().c_str());
    return 0;
}
