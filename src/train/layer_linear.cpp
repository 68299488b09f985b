// Linear layer with optional bias and LoRA, the trainer's side of engine/lora.h's wrapper:
//   y = x · Wᵀ + b + scale · (drop(x) · Aᵀ) · Bᵀ
// Backward (h = drop(x) · Aᵀ, saved by the forward):
//   dx += dy · W + ((scale · dy · B) · A) ⊙ mask     dW += dyᵀ · x     db += Σ_tokens dy
//   dB += scale · dyᵀ · h                             dA += (scale · dy · B)ᵀ · drop(x)
// The forward overwrites y and lora_h; the backward accumulates (+=) into dx and every parameter gradient.
// A frozen W of any GGUF type is dequantized kTileBytes at a time (rows r0..r1) and multiplied tile by
// tile, so a quantized base is never held whole in f32; an f32 base is used in place. With frozen_matmul()
// = bf16 (gemm.h) the float path multiplies by the frozen W in bf16 (f32 accumulation), from the W the
// model keeps packed in bf16 for the run (LinearParams::packed) when it has one, else converting the tiles
// per call; LoRA's A and B and a trainable W stay in T. From a pack, LoRA's scale · h · Bᵀ (forward) and
// dh · A (backward, without dropout) are added in f32 inside the same product (gemm.h LowRankTerm), and
// without dropout h = x · Aᵀ and dh = scale · dy · B come out of the pass that converts x or dy to bf16
// (InputProduct): of LoRA's six f32 products only dB and dA remain separate calls.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "common/error.h"
#include "tensor/quant.h"
#include "train/gemm.h"
#include "train/layers.h"

namespace sy::train {
namespace {

constexpr int64_t kTileFloats = 1 << 18;  // 1 MiB of dequantized rows per tile

// Keep-probability mask value for element `idx`: 0 or 1/(1-p), from a stateless hash of (seed, idx).
inline float dropout_mask(uint64_t seed, uint64_t idx, float p) {
    uint64_t z = seed + idx * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    const float u = (float)(z >> 40) * (1.0f / 16777216.0f);
    return u < p ? 0.0f : 1.0f / (1.0f - p);
}

// Calls fn(r0, r1, rows) for tiles of the frozen weight, rows [r1-r0][n_in] f32.
template <typename Fn>
void for_each_tile(const WeightView & w, std::vector<float> & buf, Fn && fn) {
    if (w.type == DType::DType_f32) {
        fn(int64_t(0), w.n_out, reinterpret_cast<const float *>(w.data));
        return;
    }
    const int64_t tile = std::max<int64_t>(16, kTileFloats / std::max<int64_t>(1, w.n_in));
    buf.resize((size_t)(std::min(tile, w.n_out) * w.n_in));
    for (int64_t r0 = 0; r0 < w.n_out; r0 += tile) {
        const int64_t r1 = std::min(w.n_out, r0 + tile);
        for (int64_t r = r0; r < r1; ++r)
            dequantize_row(w.type, w.data + (size_t)r * w.row_stride, buf.data() + (r - r0) * w.n_in, w.n_in);
        fn(r0, r1, buf.data());
    }
}

thread_local std::vector<float> t_tile;

// LoRA's own products (one side or k of rank size): gemm_small for float.
template <typename T>
void gemm_lora(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T * a, int64_t lda, const T * b,
               int64_t ldb, T beta, T * c, int64_t ldc) {
    if constexpr (std::is_same_v<T, float>) gemm_small(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    else gemm<T>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
thread_local std::vector<float> t_lora_e;  // scale · Bᵀ [rank][n_out] for a fused forward
thread_local std::vector<float> t_lora_g;  // Aᵀ [n_in][rank] for a fused forward

}  // namespace

template <typename T>
void linear_forward(const LinearParams<T> & p, const T * x, int64_t n, T * y, T * lora_h, std::vector<T> & scratch) {
    if (n == 0) return;
    // h = drop(x) · Aᵀ (LoRA's first product).
    auto lora_first = [&] {
        const T * xd = x;
        if (p.dropout > 0.0f) {
            scratch.resize((size_t)(n * p.n_in));
            for (int64_t i = 0; i < n * p.n_in; ++i) scratch[i] = x[i] * (T)dropout_mask(p.dropout_seed, i, p.dropout);
            xd = scratch.data();
        }
        gemm_lora<T>(false, true, n, p.rank, p.n_in, T(1), xd, p.n_in, p.a, p.n_in, T(0), lora_h, p.rank);
    };
    bool lora_done = false;
    if (p.frozen) {
        if constexpr (std::is_same_v<T, float>) {
            SY_ASSERT(p.frozen->n_in == p.n_in && p.frozen->n_out == p.n_out);
            const bool bf16 = frozen_matmul() == FrozenMatmul::FrozenMatmul_bf16;
            if (bf16 && p.packed) {
                // From the bf16 pack, with scale · h · Bᵀ added in f32 to the same accumulators.
                // Without dropout h = x · Aᵀ comes out of the same pass that converts x (InputProduct).
                LowRankTerm lr;
                InputProduct ip;
                if (p.rank > 0) {
                    if (p.dropout > 0.0f) {
                        lora_first();
                    } else {
                        t_lora_g.resize((size_t)(p.n_in * p.rank));
                        for (int64_t q = 0; q < p.rank; ++q)
                            for (int64_t i = 0; i < p.n_in; ++i) t_lora_g[i * p.rank + q] = p.a[q * p.n_in + i];
                        ip = InputProduct{t_lora_g.data(), p.rank, p.rank, 1.0f, lora_h, p.rank};
                    }
                    t_lora_e.resize((size_t)(p.rank * p.n_out));
                    for (int64_t o = 0; o < p.n_out; ++o)
                        for (int64_t q = 0; q < p.rank; ++q) t_lora_e[q * p.n_out + o] = p.scale * p.b[o * p.rank + q];
                    lr = LowRankTerm{lora_h, p.rank, t_lora_e.data(), p.n_out, p.rank};
                    lora_done = true;
                }
                p.packed->forward(n, x, p.n_in, y, p.n_out, lora_done ? &lr : nullptr, ip.rank ? &ip : nullptr);
            } else {
                for_each_tile(*p.frozen, t_tile, [&](int64_t r0, int64_t r1, const float * rows) {
                    if (bf16) gemm_bf16(true, n, r1 - r0, p.n_in, x, p.n_in, rows, p.n_in, 0.0f, y + r0, p.n_out);
                    else
                        gemm<float>(false, true, n, r1 - r0, p.n_in, 1.0f, x, p.n_in, rows, p.n_in, 0.0f, y + r0,
                                    p.n_out);
                });
            }
        } else {
            SY_ASSERT_MSG(false, "a frozen GGUF weight needs T = float");
        }
    } else {
        gemm<T>(false, true, n, p.n_out, p.n_in, T(1), x, p.n_in, p.w, p.n_in, T(0), y, p.n_out);
    }
    if (p.bias)
        for (int64_t t = 0; t < n; ++t)
            for (int64_t o = 0; o < p.n_out; ++o) y[t * p.n_out + o] += p.bias[o];
    if (p.rank > 0 && !lora_done) {
        lora_first();
        gemm_lora<T>(false, true, n, p.n_out, p.rank, p.scale, lora_h, p.rank, p.b, p.rank, T(1), y, p.n_out);
    }
}

template <typename T>
void linear_backward(const LinearParams<T> & p, const T * x, const T * lora_h, const T * dy, int64_t n, T * dx,
                     const LinearGrads<T> & g, std::vector<T> & scratch) {
    if (n == 0) return;
    const bool drop = p.rank > 0 && p.dropout > 0.0f;
    // A bf16 pack with LoRA and no dropout: dx += dy · W + dh · A in one product, after dh is known.
    bool fused = false;
    if constexpr (std::is_same_v<T, float>)
        fused = dx && p.frozen && p.packed && p.rank > 0 && !drop &&
                frozen_matmul() == FrozenMatmul::FrozenMatmul_bf16;
    if (dx && !fused) {
        if (p.frozen) {
            if constexpr (std::is_same_v<T, float>) {
                const bool bf16 = frozen_matmul() == FrozenMatmul::FrozenMatmul_bf16;
                if (bf16 && p.packed) p.packed->backward(n, dy, p.n_out, dx, p.n_in);
                else for_each_tile(*p.frozen, t_tile, [&](int64_t r0, int64_t r1, const float * rows) {
                    if (bf16)
                        gemm_bf16(false, n, p.n_in, r1 - r0, dy + r0, p.n_out, rows, p.n_in, 1.0f, dx, p.n_in);
                    else
                        gemm<float>(false, false, n, p.n_in, r1 - r0, 1.0f, dy + r0, p.n_out, rows, p.n_in, 1.0f, dx,
                                    p.n_in);
                });
            }
        } else {
            gemm<T>(false, false, n, p.n_in, p.n_out, T(1), dy, p.n_out, p.w, p.n_in, T(1), dx, p.n_in);
        }
    }
    if (g.dw) gemm<T>(true, false, p.n_out, p.n_in, n, T(1), dy, p.n_out, x, p.n_in, T(1), g.dw, p.n_in);
    if (g.dbias)
        for (int64_t t = 0; t < n; ++t)
            for (int64_t o = 0; o < p.n_out; ++o) g.dbias[o] += dy[t * p.n_out + o];
    if (p.rank > 0) {
        // scratch: dh [n][rank], then drop(x) [n][n_in] and (dh·A) [n][n_in] when dropout is on.
        scratch.resize((size_t)(n * p.rank + (drop ? 2 * n * p.n_in : 0)));
        T * dh = scratch.data();
        if (fused) {
            // dh = scale · dy · B while dy is converted, then dx += dy · W + dh · A in the same product.
            if constexpr (std::is_same_v<T, float>) {
                const InputProduct ip{p.b, p.rank, p.rank, p.scale, dh, p.rank};
                const LowRankTerm lr{dh, p.rank, p.a, p.n_in, p.rank};
                p.packed->backward(n, dy, p.n_out, dx, p.n_in, &lr, &ip);
            }
        } else {
            gemm_lora<T>(false, false, n, p.rank, p.n_out, p.scale, dy, p.n_out, p.b, p.rank, T(0), dh, p.rank);
        }
        if (g.db)
            gemm_lora<T>(true, false, p.n_out, p.rank, n, p.scale, dy, p.n_out, lora_h, p.rank, T(1), g.db, p.rank);
        const T * xd = x;
        T * xdrop = dh + n * p.rank;
        if (drop) {
            for (int64_t i = 0; i < n * p.n_in; ++i) xdrop[i] = x[i] * (T)dropout_mask(p.dropout_seed, i, p.dropout);
            xd = xdrop;
        }
        if (g.da) gemm_lora<T>(true, false, p.rank, p.n_in, n, T(1), dh, p.rank, xd, p.n_in, T(1), g.da, p.n_in);
        if (dx && !fused) {
            if (!drop) {
                gemm_lora<T>(false, false, n, p.n_in, p.rank, T(1), dh, p.rank, p.a, p.n_in, T(1), dx, p.n_in);
            } else {
                T * tmp = xdrop + n * p.n_in;
                gemm_lora<T>(false, false, n, p.n_in, p.rank, T(1), dh, p.rank, p.a, p.n_in, T(0), tmp, p.n_in);
                for (int64_t i = 0; i < n * p.n_in; ++i) dx[i] += tmp[i] * (T)dropout_mask(p.dropout_seed, i, p.dropout);
            }
        }
    }
}

template void linear_forward<float>(const LinearParams<float> &, const float *, int64_t, float *, float *,
                                    std::vector<float> &);
template void linear_forward<double>(const LinearParams<double> &, const double *, int64_t, double *, double *,
                                     std::vector<double> &);
template void linear_backward<float>(const LinearParams<float> &, const float *, const float *, const float *, int64_t,
                                     float *, const LinearGrads<float> &, std::vector<float> &);
template void linear_backward<double>(const LinearParams<double> &, const double *, const double *, const double *,
                                      int64_t, double *, const LinearGrads<double> &, std::vector<double> &);

}  // namespace sy::train
