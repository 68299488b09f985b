// The AVX-512 BF16 GEMM kernel (compiled with the AVX-512 flags, called only when the CPU has them; see
// gemm_bf16_internal.h for the layouts). Micro-tile: kBf16Mr rows × kBf16Nr columns = 24 f32 accumulators;
// per k pair it loads 3 B vectors, broadcasts 8 A pairs and issues 24 vdpbf16ps.
#include <immintrin.h>

#include <algorithm>
#include <vector>

#include "train/gemm_bf16_internal.h"

namespace sy::train::detail {
namespace {

constexpr int kNv = (int)(kBf16Nr / 16);

// 16 floats → 16 bf16 (round to nearest even) in a 256-bit vector.
inline __m256i to_bf16(__m512 v) { return (__m256i)_mm512_cvtneps_pbh(v); }

// Pairs (src[2p], src[2p+1]) for p in [0, np) as uint32, with src valid for `avail` floats (zeros past it),
// written to dst[p * stride].
void row_pairs(const float * src, int64_t avail, int64_t np, uint32_t * dst, int64_t stride) {
    const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                           _mm512_set1_epi32((int)stride));
    for (int64_t p = 0; p < np; p += 16) {
        const int64_t f0 = 2 * p;
        const int64_t n_lo = std::clamp<int64_t>(avail - f0, 0, 16), n_hi = std::clamp<int64_t>(avail - f0 - 16, 0, 16);
        const __m512 lo = _mm512_maskz_loadu_ps((__mmask16)((1u << n_lo) - 1), src + f0);
        const __m512 hi = _mm512_maskz_loadu_ps((__mmask16)((1u << n_hi) - 1), src + f0 + 16);
        // cvtne2ps_pbh(hi, lo): bf16 elements 0..15 from lo, 16..31 from hi = the floats in memory order.
        const __m512i v = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
        const int64_t cnt = std::min<int64_t>(16, np - p);
        if (stride == 1) _mm512_mask_storeu_epi32(dst + p, (__mmask16)((1u << cnt) - 1), v);
        else _mm512_mask_i32scatter_epi32(dst + p * stride, (__mmask16)((1u << cnt) - 1), idx, v, 4);
    }
}

// B panel for op(B) = B (B stored [k][n]): pairs of rows 2p, 2p+1, columns [j, j + cols).
void pack_b_rows(const float * b, int64_t ldb, int64_t k, int64_t p0, int64_t np, int64_t j, int64_t cols,
                 uint32_t * out) {
    for (int64_t p = 0; p < np; ++p) {
        const int64_t r = 2 * (p0 + p);
        const float * lo_row = b + r * ldb + j;
        const float * hi_row = r + 1 < k ? lo_row + ldb : nullptr;
        for (int v = 0; v < kNv; ++v) {
            const int64_t c0 = v * 16, n = std::clamp<int64_t>(cols - c0, 0, 16);
            const __mmask16 mk = (__mmask16)((1u << n) - 1);
            const __m512 lo = _mm512_maskz_loadu_ps(mk, lo_row + c0);
            const __m512 hi = hi_row ? _mm512_maskz_loadu_ps(mk, hi_row + c0) : _mm512_setzero_ps();
            const __m512i lo32 = _mm512_cvtepu16_epi32(to_bf16(lo));
            const __m512i hi32 = _mm512_slli_epi32(_mm512_cvtepu16_epi32(to_bf16(hi)), 16);
            _mm512_storeu_si512(out + p * kBf16Nr + c0, _mm512_or_si512(lo32, hi32));
        }
    }
}

// B panel for op(B) = Bᵀ (B stored [n][k]): row j + c of B gives column c, pairs along its k.
void pack_b_cols(const float * b, int64_t ldb, int64_t k, int64_t p0, int64_t np, int64_t j, int64_t cols,
                 uint32_t * out) {
    for (int64_t c = 0; c < kBf16Nr; ++c) {
        if (c < cols) {
            row_pairs(b + (j + c) * ldb + 2 * p0, k - 2 * p0, np, out + c, kBf16Nr);
        } else {
            for (int64_t p = 0; p < np; ++p) out[p * kBf16Nr + c] = 0;
        }
    }
}

// An f32 low-rank term for one micro-tile: C[r][j] += Σ_q h[r][q] · e[q][j] (h rows past the tile's valid
// rows point at zeros).
struct TileLowRank {
    const float * h[kBf16Mr];
    const float * e;  // offset to the tile's first column
    int64_t lde, rank;
};

// acc[r][v] over np pairs (plus the low-rank term when lr is set), then C (+)= acc for `rows` rows and the
// columns in the masks.
template <bool Full>
inline void micro(const uint32_t * ap, int64_t lda2, const uint32_t * bp, int64_t np, float * c, int64_t ldc, int64_t rows,
                  const __mmask16 * mask, bool add, const TileLowRank * lr) {
    __m512 acc[kBf16Mr][kNv];
#pragma GCC unroll 8
    for (int r = 0; r < kBf16Mr; ++r)
#pragma GCC unroll 3
        for (int v = 0; v < kNv; ++v) acc[r][v] = _mm512_setzero_ps();
    for (int64_t p = 0; p < np; ++p) {
        __m512bh bv[kNv];
#pragma GCC unroll 3
        for (int v = 0; v < kNv; ++v) bv[v] = (__m512bh)_mm512_loadu_si512(bp + p * kBf16Nr + v * 16);
#pragma GCC unroll 8
        for (int r = 0; r < kBf16Mr; ++r) {
            const __m512bh av = (__m512bh)_mm512_set1_epi32((int)ap[r * lda2 + p]);
#pragma GCC unroll 3
            for (int v = 0; v < kNv; ++v) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], av, bv[v]);
        }
    }
    if (lr) {
        for (int64_t q = 0; q < lr->rank; ++q) {
            __m512 ev[kNv];
            const float * eq = lr->e + q * lr->lde;
#pragma GCC unroll 3
            for (int v = 0; v < kNv; ++v)
                ev[v] = Full ? _mm512_loadu_ps(eq + v * 16) : _mm512_maskz_loadu_ps(mask[v], eq + v * 16);
#pragma GCC unroll 8
            for (int r = 0; r < kBf16Mr; ++r) {
                const __m512 hv = _mm512_set1_ps(lr->h[r][q]);
#pragma GCC unroll 3
                for (int v = 0; v < kNv; ++v) acc[r][v] = _mm512_fmadd_ps(hv, ev[v], acc[r][v]);
            }
        }
    }
    for (int64_t r = 0; r < (Full ? kBf16Mr : rows); ++r) {
        float * cr = c + r * ldc;
#pragma GCC unroll 3
        for (int v = 0; v < kNv; ++v) {
            __m512 x = acc[r][v];
            if (Full) {
                if (add) x = _mm512_add_ps(x, _mm512_loadu_ps(cr + v * 16));
                _mm512_storeu_ps(cr + v * 16, x);
            } else {
                if (add) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(mask[v], cr + v * 16));
                _mm512_mask_storeu_ps(cr + v * 16, mask[v], x);
            }
        }
    }
}

// C[i0:i1, j:j+cols) (+)= A rows [i0, i1) · one B block of np pairs × kBf16Nr columns (at bp, pair stride
// kBf16Nr); A pairs from ap (row stride lda2, already offset to the block's first pair); plus the low-rank
// term (columns from j) when lr is set.
void block_rows(const uint32_t * ap, int64_t lda2, int64_t i0, int64_t i1, const uint32_t * bp, int64_t np,
                int64_t cols, float * c, int64_t ldc, bool add, const LowRankTerm * lr, int64_t j) {
    __mmask16 mask[kNv];
    for (int v = 0; v < kNv; ++v) {
        const int64_t n = std::clamp<int64_t>(cols - v * 16, 0, 16);
        mask[v] = (__mmask16)((1u << n) - 1);
    }
    const bool full_cols = cols == kBf16Nr;
    thread_local std::vector<float> zeros;
    TileLowRank tl;
    if (lr) {
        if ((int64_t)zeros.size() < lr->rank) zeros.assign((size_t)lr->rank, 0.0f);
        tl.e = lr->e + j;
        tl.lde = lr->lde;
        tl.rank = lr->rank;
    }
    for (int64_t i = i0; i < i1; i += kBf16Mr) {
        const int64_t rows = std::min(kBf16Mr, i1 - i);
        if (lr)
            for (int64_t r = 0; r < kBf16Mr; ++r) tl.h[r] = r < rows ? lr->h + (i + r) * lr->ldh : zeros.data();
        const TileLowRank * t = lr ? &tl : nullptr;
        if (full_cols && rows == kBf16Mr) micro<true>(ap + i * lda2, lda2, bp, np, c + i * ldc, ldc, rows, mask, add, t);
        else micro<false>(ap + i * lda2, lda2, bp, np, c + i * ldc, ldc, rows, mask, add, t);
    }
}

thread_local std::vector<uint32_t> t_panel;

}  // namespace

void bf16_pack_a_avx512(const float * a, int64_t lda, int64_t m, int64_t k, int64_t r0, int64_t r1, uint32_t * out) {
    const int64_t k2 = (k + 1) / 2;
    for (int64_t r = r0; r < r1; ++r) {
        uint32_t * dst = out + r * k2;
        if (r < m) row_pairs(a + r * lda, k, k2, dst, 1);
        else std::fill(dst, dst + k2, 0u);
    }
}

void bf16_gemm_cols_avx512(const uint32_t * apack, int64_t m, int64_t k, bool trans_b, const float * b, int64_t ldb,
                           int64_t j0, int64_t j1, float beta, float * c, int64_t ldc) {
    const int64_t k2 = (k + 1) / 2;
    t_panel.resize((size_t)(kBf16Kc * kBf16Nr));
    uint32_t * panel = t_panel.data();
    for (int64_t p0 = 0; p0 < k2; p0 += kBf16Kc) {
        const int64_t np = std::min(kBf16Kc, k2 - p0);
        const bool add = p0 > 0 || beta != 0.0f;
        for (int64_t j = j0; j < j1; j += kBf16Nr) {
            const int64_t cols = std::min(kBf16Nr, j1 - j);
            if (trans_b) pack_b_cols(b, ldb, k, p0, np, j, cols, panel);
            else pack_b_rows(b, ldb, k, p0, np, j, cols, panel);
            block_rows(apack + p0, k2, 0, m, panel, np, cols, c + j, ldc, add, nullptr, j);
        }
    }
}

void bf16_gemm_packed_avx512(const uint32_t * apack, int64_t i0, int64_t i1, int64_t k2, const uint32_t * bpack,
                             int64_t n, int64_t q0, int64_t q1, float beta, float * c, int64_t ldc,
                             const LowRankTerm * lr) {
    for (int64_t p0 = 0; p0 < k2; p0 += kBf16Kc) {
        const int64_t np = std::min(kBf16Kc, k2 - p0);
        const bool add = p0 > 0 || beta != 0.0f, last = p0 + np >= k2;
        for (int64_t q = q0; q < q1; ++q) {
            const int64_t j = q * kBf16Nr;
            block_rows(apack + p0, k2, i0, i1, bpack + (q * k2 + p0) * kBf16Nr, np, std::min(kBf16Nr, n - j), c + j,
                       ldc, add, last ? lr : nullptr, j);
        }
    }
}

void bf16_input_product_avx512(const float * a, int64_t lda, int64_t k, int64_t r0, int64_t r1,
                               const InputProduct & ip) {
    const __m512 scale = _mm512_set1_ps(ip.scale);
    for (int64_t c0 = 0; c0 < ip.rank; c0 += 16) {
        const __mmask16 mk = (__mmask16)((1u << std::min<int64_t>(16, ip.rank - c0)) - 1);
        const float * g = ip.g + c0;
        for (int64_t i = r0; i < r1; i += kBf16Mr) {
            const int64_t rows = std::min(kBf16Mr, r1 - i);
            __m512 acc[kBf16Mr];
            const float * ar[kBf16Mr];
#pragma GCC unroll 8
            for (int r = 0; r < kBf16Mr; ++r) {
                acc[r] = _mm512_setzero_ps();
                ar[r] = a + (i + std::min<int64_t>(r, rows - 1)) * lda;  // short tile: repeat the last row
            }
            for (int64_t p = 0; p < k; ++p) {
                const __m512 gv = _mm512_maskz_loadu_ps(mk, g + p * ip.ldg);
#pragma GCC unroll 8
                for (int r = 0; r < kBf16Mr; ++r) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(ar[r][p]), gv, acc[r]);
            }
            for (int64_t r = 0; r < rows; ++r)
                _mm512_mask_storeu_ps(ip.out + (i + r) * ip.ldo + c0, mk, _mm512_mul_ps(acc[r], scale));
        }
    }
}

void bf16_pack_w_fwd_avx512(const float * rows, int64_t ld, int64_t r0, int64_t r1, int64_t n_in, uint32_t * fwd) {
    const int64_t k2 = (n_in + 1) / 2;
    for (int64_t r = r0; r < r1; ++r)
        row_pairs(rows + (r - r0) * ld, n_in, k2, fwd + (r / kBf16Nr) * k2 * kBf16Nr + r % kBf16Nr, kBf16Nr);
}

void bf16_pack_w_bwd_avx512(const float * rows, int64_t ld, int64_t r0, int64_t r1, int64_t n_out, int64_t n_in,
                            uint32_t * bwd) {
    const int64_t k2 = (n_out + 1) / 2, panels = (n_in + kBf16Nr - 1) / kBf16Nr;
    // pack_b_rows over B = these rows (k = r1 - r0 of them), one panel of columns at a time.
    for (int64_t q = 0; q < panels; ++q) {
        const int64_t j = q * kBf16Nr;
        pack_b_rows(rows, ld, r1 - r0, 0, (r1 - r0 + 1) / 2, j, std::min(kBf16Nr, n_in - j),
                    bwd + (q * k2 + r0 / 2) * kBf16Nr);
    }
}

}  // namespace sy::train::detail
