// AVX-512 (F/BW/VL/DQ) versions of the element-wise and attention ops: 16 floats per vector, loop tails
// done with masked loads and stores instead of scalar code. Same algorithms as ops_avx2.cpp (see its
// header for the attention blocking); differences: exp scales by 2^n with vscalefps, so its range is
// [-104, 88.7] (results below e^-104 are 0) at the same ~1.7e-7 relative accuracy, and attention with a
// head_dim that is a multiple of 8 but not of 16 falls back to the entry this table held before (AVX2).
// Contracts and shapes: ops.h; oracle: ops_scalar.cpp.
// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*(), which its -Wuninitialized flags at every
// inlined use (a compiler bug fixed in GCC 13); the pragma covers the header's lines only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "common/fp16.h"
#include "tensor/kernels_internal.h"
#include "tensor/ops_internal.h"

namespace sy::detail {
namespace {

constexpr int W = 16;  // floats per vector

inline __mmask16 tail_mask(int64_t left) { return (__mmask16)((1u << left) - 1); }  // left in [0, 16)

// e^x: x = n·ln2 + r, |r| <= ln2/2, degree-6 Taylor polynomial for e^r, then scalef by n.
inline __m512 exp16(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-104.0f)), _mm512_set1_ps(88.7f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.0f / 720);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

inline __m512 silu16(__m512 x) {
    const __m512 e = exp16(_mm512_sub_ps(_mm512_setzero_ps(), x));
    return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

float dot_f32(const float * a, const float * b, int64_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + W), _mm512_loadu_ps(b + i + W), s1);
        s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 2 * W), _mm512_loadu_ps(b + i + 2 * W), s2);
        s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 3 * W), _mm512_loadu_ps(b + i + 3 * W), s3);
    }
    for (; i + W <= n; i += W) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    if (i < n) {
        const __mmask16 m = tail_mask(n - i);
        s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

void rmsnorm(const float * x, const float * w, float * y, int64_t n, float eps) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0;
    int64_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
        const __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + W);
        s0 = _mm512_fmadd_ps(a, a, s0);
        s1 = _mm512_fmadd_ps(b, b, s1);
    }
    for (; i < n; i += W) {
        const __m512 a = _mm512_maskz_loadu_ps(n - i >= W ? 0xffff : tail_mask(n - i), x + i);
        s0 = _mm512_fmadd_ps(a, a, s0);
    }
    const double ss = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
    const __m512 vinv = _mm512_set1_ps((float)(1.0 / std::sqrt(ss / (double)n + (double)eps)));
    for (i = 0; i < n; i += W) {
        const __mmask16 m = n - i >= W ? 0xffff : tail_mask(n - i);
        const __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), vinv);
        _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(v, _mm512_maskz_loadu_ps(m, w + i)));
    }
}

void rope(float * x, int n_head, int head_dim, int n_rot, const float * cos, const float * sin, RopeMode mode) {
    SY_ASSERT(n_rot % 2 == 0 && n_rot <= head_dim);
    const int half = n_rot / 2;
    const __m512i dup = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    for (int h = 0; h < n_head; ++h) {
        float * xh = x + (int64_t)h * head_dim;
        if (mode == RopeMode::RopeMode_normal) {
            for (int i = 0; i < half; i += W / 2) {  // 8 pairs (x[2i], x[2i+1]) per vector
                const int left = std::min(W / 2, half - i);
                const __mmask8 mc = (__mmask8)((1u << left) - 1);
                const __mmask16 mx = (__mmask16)((1u << (2 * left)) - 1);
                const __m512 c = _mm512_permutexvar_ps(dup, _mm512_castps256_ps512(_mm256_maskz_loadu_ps(mc, cos + i)));
                const __m512 s = _mm512_permutexvar_ps(dup, _mm512_castps256_ps512(_mm256_maskz_loadu_ps(mc, sin + i)));
                const __m512 v = _mm512_maskz_loadu_ps(mx, xh + 2 * i);
                const __m512 swapped = _mm512_permute_ps(v, 0xB1);  // (x1, x0) per pair
                // even lanes: x0 c - x1 s; odd lanes: x1 c + x0 s
                _mm512_mask_storeu_ps(xh + 2 * i, mx, _mm512_fmaddsub_ps(v, c, _mm512_mul_ps(swapped, s)));
            }
        } else {
            for (int i = 0; i < half; i += W) {
                const __mmask16 m = half - i >= W ? 0xffff : tail_mask(half - i);
                const __m512 c = _mm512_maskz_loadu_ps(m, cos + i), s = _mm512_maskz_loadu_ps(m, sin + i);
                const __m512 x0 = _mm512_maskz_loadu_ps(m, xh + i), x1 = _mm512_maskz_loadu_ps(m, xh + i + half);
                _mm512_mask_storeu_ps(xh + i, m, _mm512_fmsub_ps(x0, c, _mm512_mul_ps(x1, s)));
                _mm512_mask_storeu_ps(xh + i + half, m, _mm512_fmadd_ps(x0, s, _mm512_mul_ps(x1, c)));
            }
        }
    }
}

float max_f32(const float * x, int64_t n) {
    __m512 m = _mm512_set1_ps(-INFINITY);
    for (int64_t i = 0; i < n; i += W) {
        const __mmask16 k = n - i >= W ? 0xffff : tail_mask(n - i);
        m = _mm512_mask_max_ps(m, k, m, _mm512_maskz_loadu_ps(k, x + i));
    }
    return _mm512_reduce_max_ps(m);
}

// x[i] = e^(x[i] - mx) for i < n; returns the sum.
float exp_sub_sum(float * x, int64_t n, float mx) {
    const __m512 vm = _mm512_set1_ps(mx);
    __m512 s = _mm512_setzero_ps();
    for (int64_t i = 0; i < n; i += W) {
        const __mmask16 k = n - i >= W ? 0xffff : tail_mask(n - i);
        const __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + i), vm));
        _mm512_mask_storeu_ps(x + i, k, e);
        s = _mm512_mask_add_ps(s, k, s, e);
    }
    return _mm512_reduce_add_ps(s);
}

void scale_f32(float * x, int64_t n, float a) {
    const __m512 va = _mm512_set1_ps(a);
    for (int64_t i = 0; i < n; i += W) {
        const __mmask16 k = n - i >= W ? 0xffff : tail_mask(n - i);
        _mm512_mask_storeu_ps(x + i, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, x + i), va));
    }
}

void softmax(float * x, int64_t n) {
    if (n <= 0) return;
    const float sum = exp_sub_sum(x, n, max_f32(x, n));
    scale_f32(x, n, 1.0f / sum);
}

void swiglu(const float * gate, const float * up, float * out, int64_t n) {
    for (int64_t i = 0; i < n; i += W) {
        const __mmask16 k = n - i >= W ? 0xffff : tail_mask(n - i);
        const __m512 g = silu16(_mm512_maskz_loadu_ps(k, gate + i));
        _mm512_mask_storeu_ps(out + i, k, _mm512_mul_ps(g, _mm512_maskz_loadu_ps(k, up + i)));
    }
}

void silu(const float * x, float * out, int64_t n) {
    for (int64_t i = 0; i < n; i += W) {
        const __mmask16 k = n - i >= W ? 0xffff : tail_mask(n - i);
        _mm512_mask_storeu_ps(out + i, k, silu16(_mm512_maskz_loadu_ps(k, x + i)));
    }
}

void add(const float * x, float * y, int64_t n) {
    for (int64_t i = 0; i < n; i += W) {
        const __mmask16 k = n - i >= W ? 0xffff : tail_mask(n - i);
        _mm512_mask_storeu_ps(y + i, k, _mm512_add_ps(_mm512_maskz_loadu_ps(k, y + i), _mm512_maskz_loadu_ps(k, x + i)));
    }
}

void f32_to_f16(const float * x, uint16_t * y, int64_t n) {
    for (int64_t i = 0; i < n; i += W) {
        const __mmask16 k = n - i >= W ? 0xffff : tail_mask(n - i);
        const __m256i h = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(k, x + i), _MM_FROUND_TO_NEAREST_INT);
        _mm256_mask_storeu_epi16(y + i, k, h);
    }
}

inline __m512 load_f16(const uint16_t * x) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)x)); }
inline __m512 load_f16(const uint16_t * x, __mmask16 k) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(k, x)); }
inline __m512 load_bf16(const uint16_t * x, __mmask16 k) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(k, x)), 16));
}

void f16_to_f32(const uint16_t * x, float * y, int64_t n) {
    for (int64_t i = 0; i < n; i += W) {
        const __mmask16 k = n - i >= W ? 0xffff : tail_mask(n - i);
        _mm512_mask_storeu_ps(y + i, k, load_f16(x + i, k));
    }
}

float dot_row(DType t, const void * w_row, const float * x, int64_t n) {
    if (t == DType::DType_f32) return dot_f32((const float *)w_row, x, n);
    if (t == DType::DType_f16 || t == DType::DType_bf16) {
        const uint16_t * w = (const uint16_t *)w_row;
        const bool f16 = t == DType::DType_f16;
        __m512 s0 = _mm512_setzero_ps();
        for (int64_t i = 0; i < n; i += W) {
            const __mmask16 k = n - i >= W ? 0xffff : tail_mask(n - i);
            const __m512 wv = f16 ? load_f16(w + i, k) : load_bf16(w + i, k);
            s0 = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(k, x + i), s0);
        }
        return _mm512_reduce_add_ps(s0);
    }
    return dot_row_dequant(t, w_row, x, n, dot_f32);
}

// ---- attention (blocking as in ops_avx2.cpp) ----

constexpr int kBlockFloats = 4096;  // one K (or V) block: T positions x head_dim floats
constexpr int kMaxGroup = 32;       // query heads of one kv head processed together

// The table's attention before this file registered (AVX2), for head_dim % 16 == 8. Set once while the
// kernel tables are built.
void (*g_attention_narrow)(const float * q, const AttentionParams & p, float * out, float * scratch) = nullptr;

// 8 lane-wise partial dot products -> one ymm holding the 8 totals, in order.
inline __m256 reduce8(const __m512 * a) {
    __m256 h[8];
    for (int u = 0; u < 8; ++u)
        h[u] = _mm256_add_ps(_mm512_castps512_ps256(a[u]), _mm512_extractf32x8_ps(a[u], 1));
    const __m256 h01 = _mm256_hadd_ps(h[0], h[1]), h23 = _mm256_hadd_ps(h[2], h[3]);
    const __m256 h45 = _mm256_hadd_ps(h[4], h[5]), h67 = _mm256_hadd_ps(h[6], h[7]);
    const __m256 h0123 = _mm256_hadd_ps(h01, h23), h4567 = _mm256_hadd_ps(h45, h67);
    return _mm256_add_ps(_mm256_permute2f128_ps(h0123, h4567, 0x20), _mm256_permute2f128_ps(h0123, h4567, 0x31));
}

// s[t] = scale · q·kb[t] for t < n8 (a multiple of 8); kb [n8][d] f32, d % 16 == 0.
void block_scores(const float * qh, const float * kb, int n8, int d, float scale, float * s) {
    const __m256 vscale = _mm256_set1_ps(scale);
    for (int t = 0; t < n8; t += 8) {
        __m512 acc[8];
        for (int u = 0; u < 8; ++u) acc[u] = _mm512_setzero_ps();
        const float * k0 = kb + (int64_t)t * d;
        for (int c = 0; c < d; c += W) {
            const __m512 qc = _mm512_loadu_ps(qh + c);
            for (int u = 0; u < 8; ++u) acc[u] = _mm512_fmadd_ps(qc, _mm512_load_ps(k0 + u * d + c), acc[u]);
        }
        _mm256_storeu_ps(s + t, _mm256_mul_ps(reduce8(acc), vscale));
    }
}

// o[0 .. NR·16) = o · corr + Σ_t p[t] · vb[t][0 .. NR·16), accumulators in registers. vb rows are d apart.
template <int NR>
void accumulate_v_chunk(float * o, float corr, const float * p, const float * vb, int n, int d) {
    __m512 acc[NR];
    const __m512 vc = _mm512_set1_ps(corr);
    for (int r = 0; r < NR; ++r) acc[r] = _mm512_mul_ps(_mm512_loadu_ps(o + r * W), vc);
    for (int t = 0; t < n; ++t) {
        const __m512 pt = _mm512_set1_ps(p[t]);
        const float * vt = vb + (int64_t)t * d;
        for (int r = 0; r < NR; ++r) acc[r] = _mm512_fmadd_ps(pt, _mm512_load_ps(vt + r * W), acc[r]);
    }
    for (int r = 0; r < NR; ++r) _mm512_storeu_ps(o + r * W, acc[r]);
}

void accumulate_v(float * o, float corr, const float * p, const float * vb, int n, int d) {
    for (int c = 0; c < d; c += 8 * W) {
        switch (std::min(8, (d - c) / W)) {
            case 8: accumulate_v_chunk<8>(o + c, corr, p, vb + c, n, d); break;
            case 7: accumulate_v_chunk<7>(o + c, corr, p, vb + c, n, d); break;
            case 6: accumulate_v_chunk<6>(o + c, corr, p, vb + c, n, d); break;
            case 5: accumulate_v_chunk<5>(o + c, corr, p, vb + c, n, d); break;
            case 4: accumulate_v_chunk<4>(o + c, corr, p, vb + c, n, d); break;
            case 3: accumulate_v_chunk<3>(o + c, corr, p, vb + c, n, d); break;
            case 2: accumulate_v_chunk<2>(o + c, corr, p, vb + c, n, d); break;
            default: accumulate_v_chunk<1>(o + c, corr, p, vb + c, n, d); break;
        }
    }
}

// dst [n][d] f32 <- rows of src (f16, rows `stride` elements apart); rows n .. n8 are zeroed.
void convert_block(const uint16_t * src, size_t stride, int n, int n8, int d, float * dst) {
    for (int t = 0; t < n; ++t) {
        const uint16_t * r = src + (int64_t)t * stride;
        for (int c = 0; c < d; c += W) _mm512_store_ps(dst + (int64_t)t * d + c, load_f16(r + c));
    }
    std::fill(dst + (int64_t)n * d, dst + (int64_t)n8 * d, 0.0f);
}

// q [n_head][head_dim], out [n_head][head_dim]; scratch unused (blocks live on the stack).
void attention(const float * q, const AttentionParams & p, float * out, float * scratch) {
    const int d = p.head_dim;
    if (d % W != 0 || d > kBlockFloats / 8) {
        g_attention_narrow(q, p, out, scratch);
        return;
    }
    SY_ASSERT(p.n_head_kv > 0 && p.n_head % p.n_head_kv == 0);
    const int group = p.n_head / p.n_head_kv;
    const int T = (kBlockFloats / d) & ~7;
    alignas(64) float kb[kBlockFloats], vb[kBlockFloats], s[kBlockFloats / 8];
    float m[kMaxGroup], l[kMaxGroup];
    for (int kvh = 0; kvh < p.n_head_kv; ++kvh) {
        for (int g0 = 0; g0 < group; g0 += kMaxGroup) {
            const int ng = std::min(kMaxGroup, group - g0);
            const int h0 = kvh * group + g0;
            std::fill(out + (int64_t)h0 * d, out + (int64_t)(h0 + ng) * d, 0.0f);
            std::fill(m, m + ng, -INFINITY);
            std::fill(l, l + ng, 0.0f);
            for (int64_t t0 = 0; t0 < p.n_kv; t0 += T) {
                const int n = (int)std::min<int64_t>(T, p.n_kv - t0), n8 = (n + 7) & ~7;
                convert_block(p.k + t0 * p.k_stride + (int64_t)kvh * d, p.k_stride, n, n8, d, kb);
                convert_block(p.v + t0 * p.v_stride + (int64_t)kvh * d, p.v_stride, n, n, d, vb);
                for (int j = 0; j < ng; ++j) {
                    const int h = h0 + j;
                    block_scores(q + (int64_t)h * d, kb, n8, d, p.scale, s);
                    const float m_new = std::max(m[j], max_f32(s, n));
                    const float corr = std::exp(m[j] - m_new);  // 0 on the first block (m = -inf)
                    l[j] = l[j] * corr + exp_sub_sum(s, n, m_new);
                    m[j] = m_new;
                    accumulate_v(out + (int64_t)h * d, corr, s, vb, n, d);
                }
            }
            for (int j = 0; j < ng; ++j)  // n_kv == 0 gives zeros, as in the scalar twin
                scale_f32(out + (int64_t)(h0 + j) * d, d, l[j] > 0.0f ? 1.0f / l[j] : 0.0f);
        }
    }
}

}  // namespace

void register_ops_avx512(Kernels & k) {
    g_attention_narrow = k.attention;
    k.rmsnorm = rmsnorm;
    k.rope = rope;
    k.softmax = softmax;
    k.swiglu = swiglu;
    k.silu = silu;
    k.add = add;
    k.attention = attention;
    k.f32_to_f16 = f32_to_f16;
    k.f16_to_f32 = f16_to_f32;
    k.dot_row = dot_row;
}

}  // namespace sy::detail
