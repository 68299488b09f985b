#include "engine/bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <random>
#include <thread>

#include "engine/context.h"
#include "tensor/matmul_pack.h"

namespace sy::engine {
namespace {

using Clock = std::chrono::steady_clock;

BenchStat stats(std::vector<double> xs) {
    BenchStat s;
    s.samples = xs;
    if (xs.empty()) return s;
    std::sort(xs.begin(), xs.end());
    s.min = xs.front();
    s.max = xs.back();
    s.median = xs.size() % 2 ? xs[xs.size() / 2] : 0.5 * (xs[xs.size() / 2 - 1] + xs[xs.size() / 2]);
    double mean = 0.0;
    for (double x : xs) mean += x;
    mean /= xs.size();
    double var = 0.0;
    for (double x : xs) var += (x - mean) * (x - mean);
    s.stddev = xs.size() > 1 ? std::sqrt(var / (xs.size() - 1)) : 0.0;
    return s;
}

// Sums the 64-bit words of [p, p + n) (a tail of less than 32 bytes is skipped).
uint64_t sum_words(const uint8_t * p, size_t n) {
    uint64_t s[4] = {};
    for (size_t i = 0; i + 32 <= n; i += 32)
        for (int k = 0; k < 4; ++k) {
            uint64_t v;
            std::memcpy(&v, p + i + 8 * k, 8);
            s[k] += v;
        }
    return s[0] + s[1] + s[2] + s[3];
}

// Best-of-3 read bandwidth over the model's own matmul weights as the kernels read them (the packed copy,
// else the mapped rows), split evenly over n_threads threads. These pages are resident already, so unlike
// a scratch buffer the measurement adds nothing to the peak resident size; the weights of the benchmark
// shapes (75 MiB and more) exceed the last-level cache, so this is a DRAM read rate.
double measure_weight_read_bandwidth(const Model & model, int n_threads) {
    struct Span {
        const uint8_t * p;
        size_t n;
    };
    std::vector<Span> spans;
    size_t total = 0;
    auto add = [&](const WeightView & w) {
        const size_t pb = w.packed ? matmul_packed_bytes(w.type, w.n_in, w.n_out) : 0;
        const Span s = pb ? Span{w.packed, pb} : Span{w.data, w.row_stride * (size_t)w.n_out};
        spans.push_back(s);
        total += s.n;
    };
    for (const LayerWeights & l : model.layers())
        for (const WeightView * v : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) add(*v);
    add(model.output());
    if (total == 0) return 0.0;
    double best = 0.0;
    for (int rep = 0; rep < 3; ++rep) {
        std::vector<uint64_t> sums(n_threads);
        auto t0 = Clock::now();
        std::vector<std::thread> th;
        for (int t = 0; t < n_threads; ++t)
            th.emplace_back([&, t] {
                // this thread's byte range [b, e) of the concatenated spans
                const size_t b = (total * t / n_threads) & ~(size_t)63;
                const size_t e = t + 1 == n_threads ? total : (total * (t + 1) / n_threads) & ~(size_t)63;
                size_t off = 0;
                uint64_t s = 0;
                for (const Span & sp : spans) {
                    const size_t lo = std::max(off, b), hi = std::min(off + sp.n, e);
                    if (lo < hi) s += sum_words(sp.p + (lo - off), hi - lo);
                    off += sp.n;
                }
                sums[t] = s;
            });
        for (auto & t : th) t.join();
        const double sec = std::chrono::duration<double>(Clock::now() - t0).count();
        volatile uint64_t sink = 0;
        for (uint64_t x : sums) sink = sink + x;
        best = std::max(best, (double)total / sec / 1e9);
    }
    return best;
}

}  // namespace

double measure_read_bandwidth(int n_threads) {
    const size_t n = (size_t)256 << 20 >> 3;  // 256 MiB of uint64
    std::vector<uint64_t> buf(n);
    for (size_t i = 0; i < n; ++i) buf[i] = i;
    double best = 0.0;
    for (int rep = 0; rep < 3; ++rep) {
        std::vector<uint64_t> sums(n_threads);
        auto t0 = Clock::now();
        std::vector<std::thread> th;
        for (int t = 0; t < n_threads; ++t)
            th.emplace_back([&, t] {
                const size_t b = n * t / n_threads, e = n * (t + 1) / n_threads;
                uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                for (size_t i = b; i + 4 <= e; i += 4) {
                    s0 += buf[i];
                    s1 += buf[i + 1];
                    s2 += buf[i + 2];
                    s3 += buf[i + 3];
                }
                sums[t] = s0 + s1 + s2 + s3;
            });
        for (auto & t : th) t.join();
        const double s = std::chrono::duration<double>(Clock::now() - t0).count();
        volatile uint64_t sink = 0;
        for (uint64_t x : sums) sink = sink + x;
        best = std::max(best, n * 8.0 / s / 1e9);
    }
    return best;
}

BenchResult run_bench(const Model & model, const BenchParams & bp) {
    const HParams & hp = model.hparams();
    ContextParams cp;
    cp.n_ctx = std::max(bp.n_prompt, bp.n_gen) + 1;
    cp.n_batch = std::max(bp.n_prompt, 1);
    cp.n_threads = bp.n_threads;
    Context ctx(model, cp);
    std::mt19937 rng(1234);
    std::uniform_int_distribution<int32_t> tok(0, hp.n_vocab - 1);

    BenchResult r;
    std::vector<double> pp, tg;
    for (int rep = -1; rep < bp.reps; ++rep) {  // rep -1 is the warm-up
        if (bp.n_prompt > 0) {
            ctx.seq_clear(0);
            std::vector<BatchToken> batch(bp.n_prompt);
            for (int i = 0; i < bp.n_prompt; ++i) batch[i] = {tok(rng), i, 0, i + 1 == bp.n_prompt};
            auto t0 = Clock::now();
            ctx.decode(batch);
            const double s = std::chrono::duration<double>(Clock::now() - t0).count();
            if (rep >= 0) pp.push_back(bp.n_prompt / s);
        }
        if (bp.n_gen > 0) {
            ctx.seq_clear(0);
            auto t0 = Clock::now();
            for (int i = 0; i < bp.n_gen; ++i) ctx.decode({BatchToken{tok(rng), i, 0, true}});
            const double s = std::chrono::duration<double>(Clock::now() - t0).count();
            if (rep >= 0) tg.push_back(bp.n_gen / s);
        }
    }
    r.pp = stats(pp);
    r.tg = stats(tg);
    // Per generated token every weight is read once, except the embedding table (one row) — unless it is
    // also the (tied) output head.
    const uint64_t embd_bytes = (uint64_t)model.token_embd().row_stride * hp.n_vocab;
    r.bytes_per_token = model.weight_bytes() - (hp.tied_output ? 0 : embd_bytes);
    if (bp.measure_bandwidth) {
        r.bandwidth_gbs = measure_weight_read_bandwidth(model, bp.n_threads);
        r.tg_bound_tokens_per_s = r.bandwidth_gbs * 1e9 / (double)r.bytes_per_token;
    }
    return r;
}

}  // namespace sy::engine
