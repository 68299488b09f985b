// Matmul throughput: for each weight type × ISA × shape, GEMV (one token: weight GB/s, the decode case)
// and GEMM (n_tok tokens, default 512: GFLOP/s, the prompt case), plus the thread pool's dispatch cost.
// Prints the median and the best of several repetitions (the machine may be shared: trust the best).
//
//   matmul_bench [--threads 2] [--types q4_0,q8_0,...] [--isa avx512,avx2,scalar] [--shapes 576x1536,...]
//                [--tokens 512] [--reps 5] [--no-gemm] [--no-gemv] [--layout plain,packed]
// Types with a packed (row-interleaved, matmul_pack.h) layout are measured in both layouts; the packed
// rows show the ISA with a "+p" suffix.
// A shape NxK is n_in × n_out (the GGUF ne0 × ne1 of the weight): 576x1536 is an FFN up projection.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gguf/types.h"
#include "tensor/isa.h"
#include "tensor/matmul_pack.h"
#include "tensor/ops.h"
#include "tensor/quant.h"
#include "tensor/threadpool.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Shape {
    int64_t n_in, n_out;
};

std::vector<std::string> split(const std::string & s) {
    std::vector<std::string> out;
    size_t p = 0;
    while (p <= s.size()) {
        size_t q = s.find(',', p);
        if (q == std::string::npos) q = s.size();
        if (q > p) out.push_back(s.substr(p, q - p));
        p = q + 1;
    }
    return out;
}

// A weight matrix of real-looking blocks: 64 rows quantized from Gaussian values, repeated.
std::vector<uint8_t> make_weights(sy::DType t, const Shape & s) {
    const int64_t base_rows = std::min<int64_t>(64, s.n_out);
    std::mt19937 rng(42);
    std::normal_distribution<float> dist(0.0f, 0.02f);
    std::vector<float> w((size_t)(base_rows * s.n_in));
    for (auto & v : w) v = dist(rng);
    const std::vector<uint8_t> base = sy::quantize_rows(t, w.data(), base_rows, s.n_in);
    const size_t rb = *sy::row_bytes(t, s.n_in);
    std::vector<uint8_t> out(rb * (size_t)s.n_out);
    for (int64_t r = 0; r < s.n_out; r += base_rows) {
        const int64_t n = std::min(base_rows, s.n_out - r);
        std::memcpy(out.data() + (size_t)r * rb, base.data(), (size_t)n * rb);
    }
    return out;
}

template <class F>
std::pair<double, double> time_it(int reps, F && f) {  // (median, best) seconds
    f();  // warm-up
    std::vector<double> ts;
    for (int i = 0; i < reps; ++i) {
        const auto t0 = Clock::now();
        f();
        ts.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    }
    std::sort(ts.begin(), ts.end());
    return {ts[ts.size() / 2], ts.front()};
}

}  // namespace

int main(int argc, char ** argv) {
    int n_threads = 2, reps = 5;
    int64_t n_gemm = 512;
    bool gemm = true, gemv = true;
    std::string types = "q4_0,q8_0,q4_K,q6_K,f16", isas = "avx512,avx2,scalar", layouts = "plain,packed";
    std::string shapes = "576x1536,1536x576,896x4864,4864x896,576x49152,896x151936";
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "matmul_bench: %s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--threads") n_threads = std::atoi(next().c_str());
        else if (a == "--types") types = next();
        else if (a == "--isa") isas = next();
        else if (a == "--shapes") shapes = next();
        else if (a == "--tokens") n_gemm = std::atoll(next().c_str());
        else if (a == "--reps") reps = std::max(1, std::atoi(next().c_str()));
        else if (a == "--layout") layouts = next();
        else if (a == "--no-gemm") gemm = false;
        else if (a == "--no-gemv") gemv = false;
        else {
            std::fprintf(stderr, "matmul_bench: unknown argument %s (see the header of bench/matmul_bench.cpp)\n",
                         a.c_str());
            return 2;
        }
    }
    sy::ThreadPool pool(n_threads);

    {
        for (int i = 0; i < 2000; ++i) pool.run([](int, int) {});
        auto [med, best] = time_it(5, [&] {
            for (int i = 0; i < 10000; ++i) pool.run([](int, int) {});
        });
        std::printf("pool dispatch (%d threads): median %.2f us, best %.2f us\n", n_threads, med * 1e6 / 10000,
                    best * 1e6 / 10000);
    }

    std::printf("%-6s %-9s %-12s %12s %9s %9s %12s %9s %9s\n", "type", "isa", "n_in x n_out", "gemv us", "GB/s",
                "best GB/s", "gemm ms", "GFLOP/s", "best GF/s");
    for (const auto & tname : split(types)) {
        const auto t = sy::dtype_from_name(tname);
        if (!t || !sy::matmul_supported(*t)) {
            std::fprintf(stderr, "matmul_bench: unsupported type %s\n", tname.c_str());
            return 2;
        }
        for (const auto & sname : split(shapes)) {
            Shape s{};
            if (std::sscanf(sname.c_str(), "%ldx%ld", &s.n_in, &s.n_out) != 2) {
                std::fprintf(stderr, "matmul_bench: bad shape %s (want N_INxN_OUT)\n", sname.c_str());
                return 2;
            }
            if (!sy::row_bytes(*t, s.n_in)) {  // e.g. K-quants need n_in % 256 == 0 (896 and 576 are not)
                std::printf("%-6s %-7s %ldx%ld: n_in is not a multiple of the block size, skipped\n", tname.c_str(),
                            "-", s.n_in, s.n_out);
                continue;
            }
            const std::vector<uint8_t> wdata = make_weights(*t, s);
            sy::WeightView w;
            w.type = *t;
            w.n_in = s.n_in;
            w.n_out = s.n_out;
            w.data = wdata.data();
            w.row_stride = *sy::row_bytes(*t, s.n_in);
            std::vector<uint8_t> pdata(sy::matmul_packed_bytes(*t, s.n_in, s.n_out));
            if (!pdata.empty()) sy::matmul_pack(w, pdata.data(), 0, sy::matmul_pack_groups(s.n_out));
            std::mt19937 rng(7);
            std::normal_distribution<float> dist(0.0f, 1.0f);
            std::vector<float> x((size_t)(s.n_in * n_gemm));
            for (auto & v : x) v = dist(rng);
            std::vector<float> y((size_t)(s.n_out * n_gemm));

            for (const auto & lname : split(layouts))
            for (const auto & iname : split(isas)) {
                const auto isa = sy::isa_from_name(iname);
                if (!isa || !sy::isa_supported(*isa)) continue;
                const bool packed = lname == "packed";
                if (packed && pdata.empty()) continue;
                w.packed = packed ? pdata.data() : nullptr;
                const std::string label = iname + (packed ? "+p" : "");
                const sy::Kernels & k = sy::kernels(*isa);
                double gv_med = 0, gv_best = 0, gm_med = 0, gm_best = 0;
                if (gemv) {
                    // Enough calls per sample to dwarf the timer; weights do not fit in cache for the big shapes.
                    const int inner = std::max<int>(1, (int)(4e6 / (double)wdata.size()));
                    auto [med, best] = time_it(reps, [&] {
                        for (int i = 0; i < inner; ++i) k.matmul(w, x.data(), 1, y.data(), s.n_out, pool);
                    });
                    gv_med = med / inner;
                    gv_best = best / inner;
                }
                const bool slow = *isa == sy::Isa::Isa_scalar;  // scalar GEMM would take minutes
                if (gemm && !slow) {
                    auto [med, best] = time_it(std::max(1, reps / 2), [&] {
                        k.matmul(w, x.data(), n_gemm, y.data(), s.n_out, pool);
                    });
                    gm_med = med;
                    gm_best = best;
                }
                const double bytes = (double)wdata.size(), flops = 2.0 * s.n_in * s.n_out * n_gemm;
                char shape_s[32];
                std::snprintf(shape_s, sizeof shape_s, "%ldx%ld", s.n_in, s.n_out);
                std::printf("%-6s %-9s %-12s", tname.c_str(), label.c_str(), shape_s);
                if (gv_med > 0) std::printf(" %12.1f %9.1f %9.1f", gv_med * 1e6, bytes / gv_med * 1e-9, bytes / gv_best * 1e-9);
                else std::printf(" %12s %9s %9s", "-", "-", "-");
                if (gm_med > 0) std::printf(" %12.2f %9.1f %9.1f", gm_med * 1e3, flops / gm_med * 1e-9, flops / gm_best * 1e-9);
                else std::printf(" %12s %9s %9s", "-", "-", "-");
                std::printf("\n");
                std::fflush(stdout);
            }
        }
    }
    return 0;
}
