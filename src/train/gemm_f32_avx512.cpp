// A small-matrix f32 GEMM for the trainer's short products (attention within a segment, LoRA's dA and dB:
// one side or k of a few hundred), where OpenBLAS's packing and blocking cost as much as the arithmetic.
// Compiled with the AVX-512 flags and called only when the CPU has them (gemm.cpp). op(B) is copied per
// 32-column panel into [k][32] (zeros past n); micro-tiles of 8 rows × 32 columns keep 16 accumulators
// and broadcast op(A)'s elements straight from memory.
#include <immintrin.h>

#include <algorithm>
#include <vector>

#include "train/gemm_bf16_internal.h"

namespace sy::train::detail {
namespace {

constexpr int64_t kNr = 32, kMr = 8;

thread_local std::vector<float> t_bpanel;

// op(B)[:, j0 : j0 + cols) as [k][kNr].
void pack_panel(bool tb, int64_t k, const float * b, int64_t ldb, int64_t j0, int64_t cols, float * out) {
    if (!tb) {
        const __mmask16 m0 = (__mmask16)((1u << std::clamp<int64_t>(cols, 0, 16)) - 1);
        const __mmask16 m1 = (__mmask16)((1u << std::clamp<int64_t>(cols - 16, 0, 16)) - 1);
        for (int64_t p = 0; p < k; ++p) {
            const float * row = b + p * ldb + j0;
            _mm512_storeu_ps(out + p * kNr, _mm512_maskz_loadu_ps(m0, row));
            _mm512_storeu_ps(out + p * kNr + 16, _mm512_maskz_loadu_ps(m1, row + 16));
        }
        return;
    }
    for (int64_t j = 0; j < kNr; ++j) {
        if (j < cols) {
            const float * col = b + (j0 + j) * ldb;
            for (int64_t p = 0; p < k; ++p) out[p * kNr + j] = col[p];
        } else {
            for (int64_t p = 0; p < k; ++p) out[p * kNr + j] = 0.0f;
        }
    }
}

// C rows [i, i + rows) × panel columns (masks) = alpha · op(A) rows · panel + beta · C.
template <bool Full>
inline void tile(bool ta, int64_t i, int64_t rows, int64_t k, const float * a, int64_t lda, const float * bp,
                 float alpha, float beta, float * c, int64_t ldc, __mmask16 m0, __mmask16 m1) {
    __m512 acc[kMr][2];
#pragma GCC unroll 8
    for (int r = 0; r < kMr; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    // Element (r, p) of op(A) for row i + r (rows past the tile repeat its last row; never stored).
    int64_t ro[kMr];
#pragma GCC unroll 8
    for (int r = 0; r < kMr; ++r) ro[r] = (i + (Full ? r : std::min<int64_t>(r, rows - 1))) * (ta ? 1 : lda);
    const int64_t ps = ta ? lda : 1;
    for (int64_t p = 0; p < k; ++p) {
        const __m512 b0 = _mm512_loadu_ps(bp + p * kNr), b1 = _mm512_loadu_ps(bp + p * kNr + 16);
        const float * ap = a + p * ps;
#pragma GCC unroll 8
        for (int r = 0; r < kMr; ++r) {
            const __m512 av = _mm512_set1_ps(ap[ro[r]]);
            acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
        }
    }
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int64_t r = 0; r < (Full ? kMr : rows); ++r) {
        float * cr = c + (i + r) * ldc;
        __m512 x0 = _mm512_mul_ps(acc[r][0], va), x1 = _mm512_mul_ps(acc[r][1], va);
        if (beta != 0.0f) {
            x0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, cr), x0);
            x1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, cr + 16), x1);
        }
        _mm512_mask_storeu_ps(cr, m0, x0);
        _mm512_mask_storeu_ps(cr + 16, m1, x1);
    }
}

}  // namespace

void f32_gemm_small_avx512(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float * a,
                           int64_t lda, const float * b, int64_t ldb, float beta, float * c, int64_t ldc) {
    t_bpanel.resize((size_t)(std::max<int64_t>(k, 1) * kNr));
    float * bp = t_bpanel.data();
    for (int64_t j0 = 0; j0 < n; j0 += kNr) {
        const int64_t cols = std::min(kNr, n - j0);
        pack_panel(tb, k, b, ldb, j0, cols, bp);
        const __mmask16 m0 = (__mmask16)((1u << std::clamp<int64_t>(cols, 0, 16)) - 1);
        const __mmask16 m1 = (__mmask16)((1u << std::clamp<int64_t>(cols - 16, 0, 16)) - 1);
        for (int64_t i = 0; i < m; i += kMr) {
            const int64_t rows = std::min(kMr, m - i);
            if (rows == kMr) tile<true>(ta, i, rows, k, a, lda, bp, alpha, beta, c + j0, ldc, m0, m1);
            else tile<false>(ta, i, rows, k, a, lda, bp, alpha, beta, c + j0, ldc, m0, m1);
        }
    }
}

}  // namespace sy::train::detail
