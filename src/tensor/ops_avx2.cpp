// AVX2 + FMA + F16C versions of the element-wise and attention ops (8 floats per vector). Loop tails
// fall back to the same formula in scalar code; shapes the vector attention does not cover (head_dim not
// a multiple of 8, or over 512) use the scalar twin. Contracts and shapes: ops.h; oracle: ops_scalar.cpp.
//
// exp: x is clamped to [-87, 88], split as x = n·ln2 + r with |r| <= ln2/2 (Cody–Waite, two-part ln2),
// e^r by its degree-6 Taylor polynomial (truncation <= 1.7e-7 relative), times 2^n built in the exponent
// bits. Below e^-87 the result is ~1e-38 instead of 0, which no caller can tell apart.
//
// Attention (one query token, grouped-query heads): the kv positions are walked in blocks of T (T·head_dim
// <= 4096 floats, so one K block and one V block stay in L1). Each block of K and V rows for one kv head
// is converted from f16 once and shared by every query head of the group; per head the block's scores
// come from 8-position dot products reduced with a horizontal-add tree, then an online softmax update
// (running max m, running sum l, rescale factor e^(m_old - m_new)) and V accumulation with up to 64
// output floats held in registers. out[h] is divided by l at the end.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "common/fp16.h"
#include "tensor/kernels_internal.h"
#include "tensor/ops_internal.h"

namespace sy::detail {
namespace {

constexpr int W = 8;  // floats per vector

inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

inline float hmax(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// e^x, see the header comment for the accuracy.
inline __m256 exp8(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.0f / 720);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

inline __m256 silu8(__m256 x) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), x));
    return _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

inline float silu1(float v) { return v / (1.0f + std::exp(-v)); }

float dot_f32(const float * a, const float * b, int64_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + W), _mm256_loadu_ps(b + i + W), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 2 * W), _mm256_loadu_ps(b + i + 2 * W), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 3 * W), _mm256_loadu_ps(b + i + 3 * W), s3);
    }
    for (; i + W <= n; i += W) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    float s = hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < n; ++i) s += a[i] * b[i];
    return s;
}

void rmsnorm(const float * x, const float * w, float * y, int64_t n, float eps) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0;
    int64_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
        const __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + W);
        s0 = _mm256_fmadd_ps(a, a, s0);
        s1 = _mm256_fmadd_ps(b, b, s1);
    }
    for (; i + W <= n; i += W) {
        const __m256 a = _mm256_loadu_ps(x + i);
        s0 = _mm256_fmadd_ps(a, a, s0);
    }
    double ss = hsum(_mm256_add_ps(s0, s1));
    for (; i < n; ++i) ss += (double)x[i] * x[i];
    const float inv = (float)(1.0 / std::sqrt(ss / (double)n + (double)eps));
    const __m256 vinv = _mm256_set1_ps(inv);
    i = 0;
    for (; i + W <= n; i += W)
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), vinv), _mm256_loadu_ps(w + i)));
    for (; i < n; ++i) y[i] = x[i] * inv * w[i];
}

void rope(float * x, int n_head, int head_dim, int n_rot, const float * cos, const float * sin, RopeMode mode) {
    SY_ASSERT(n_rot % 2 == 0 && n_rot <= head_dim);
    const int half = n_rot / 2;
    const __m256i dup = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);
    for (int h = 0; h < n_head; ++h) {
        float * xh = x + (int64_t)h * head_dim;
        int i = 0;
        if (mode == RopeMode::RopeMode_normal) {
            for (; i + W / 2 <= half; i += W / 2) {  // 4 pairs (x[2i], x[2i+1]) per vector
                const __m256 c = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_loadu_ps(cos + i)), dup);
                const __m256 s = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_loadu_ps(sin + i)), dup);
                const __m256 v = _mm256_loadu_ps(xh + 2 * i);
                const __m256 swapped = _mm256_permute_ps(v, 0xB1);  // (x1, x0) per pair
                // even lanes: x0 c - x1 s; odd lanes: x1 c + x0 s
                _mm256_storeu_ps(xh + 2 * i, _mm256_fmaddsub_ps(v, c, _mm256_mul_ps(swapped, s)));
            }
            for (; i < half; ++i) {
                const float x0 = xh[2 * i], x1 = xh[2 * i + 1];
                xh[2 * i] = x0 * cos[i] - x1 * sin[i];
                xh[2 * i + 1] = x0 * sin[i] + x1 * cos[i];
            }
        } else {
            for (; i + W <= half; i += W) {
                const __m256 c = _mm256_loadu_ps(cos + i), s = _mm256_loadu_ps(sin + i);
                const __m256 x0 = _mm256_loadu_ps(xh + i), x1 = _mm256_loadu_ps(xh + i + half);
                _mm256_storeu_ps(xh + i, _mm256_fmsub_ps(x0, c, _mm256_mul_ps(x1, s)));
                _mm256_storeu_ps(xh + i + half, _mm256_fmadd_ps(x0, s, _mm256_mul_ps(x1, c)));
            }
            for (; i < half; ++i) {
                const float x0 = xh[i], x1 = xh[i + half];
                xh[i] = x0 * cos[i] - x1 * sin[i];
                xh[i + half] = x0 * sin[i] + x1 * cos[i];
            }
        }
    }
}

float max_f32(const float * x, int64_t n) {
    __m256 m = _mm256_set1_ps(-INFINITY);
    int64_t i = 0;
    for (; i + W <= n; i += W) m = _mm256_max_ps(m, _mm256_loadu_ps(x + i));
    float mx = hmax(m);
    for (; i < n; ++i) mx = std::max(mx, x[i]);
    return mx;
}

// x[i] = e^(x[i] - mx) for i < n; returns the sum.
float exp_sub_sum(float * x, int64_t n, float mx) {
    const __m256 vm = _mm256_set1_ps(mx);
    __m256 s = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + W <= n; i += W) {
        const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
        _mm256_storeu_ps(x + i, e);
        s = _mm256_add_ps(s, e);
    }
    float sum = hsum(s);
    for (; i < n; ++i) sum += x[i] = std::exp(x[i] - mx);
    return sum;
}

void scale_f32(float * x, int64_t n, float a) {
    const __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + W <= n; i += W) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), va));
    for (; i < n; ++i) x[i] *= a;
}

void softmax(float * x, int64_t n) {
    if (n <= 0) return;
    const float sum = exp_sub_sum(x, n, max_f32(x, n));
    scale_f32(x, n, 1.0f / sum);
}

void swiglu(const float * gate, const float * up, float * out, int64_t n) {
    int64_t i = 0;
    for (; i + W <= n; i += W)
        _mm256_storeu_ps(out + i, _mm256_mul_ps(silu8(_mm256_loadu_ps(gate + i)), _mm256_loadu_ps(up + i)));
    for (; i < n; ++i) out[i] = silu1(gate[i]) * up[i];
}

void silu(const float * x, float * out, int64_t n) {
    int64_t i = 0;
    for (; i + W <= n; i += W) _mm256_storeu_ps(out + i, silu8(_mm256_loadu_ps(x + i)));
    for (; i < n; ++i) out[i] = silu1(x[i]);
}

void add(const float * x, float * y, int64_t n) {
    int64_t i = 0;
    for (; i + W <= n; i += W) _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_loadu_ps(x + i)));
    for (; i < n; ++i) y[i] += x[i];
}

void f32_to_f16(const float * x, uint16_t * y, int64_t n) {
    int64_t i = 0;
    for (; i + W <= n; i += W)
        _mm_storeu_si128((__m128i *)(y + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; ++i) y[i] = fp32_to_fp16(x[i]);
}

inline __m256 load_f16(const uint16_t * x) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)x)); }
inline __m256 load_bf16(const uint16_t * x) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)x)), 16));
}

void f16_to_f32(const uint16_t * x, float * y, int64_t n) {
    int64_t i = 0;
    for (; i + W <= n; i += W) _mm256_storeu_ps(y + i, load_f16(x + i));
    for (; i < n; ++i) y[i] = fp16_to_fp32(x[i]);
}

float dot_row(DType t, const void * w_row, const float * x, int64_t n) {
    if (t == DType::DType_f32) return dot_f32((const float *)w_row, x, n);
    if (t == DType::DType_f16 || t == DType::DType_bf16) {
        const uint16_t * w = (const uint16_t *)w_row;
        const bool f16 = t == DType::DType_f16;
        __m256 s0 = _mm256_setzero_ps(), s1 = s0;
        int64_t i = 0;
        for (; i + 2 * W <= n; i += 2 * W) {
            s0 = _mm256_fmadd_ps(f16 ? load_f16(w + i) : load_bf16(w + i), _mm256_loadu_ps(x + i), s0);
            s1 = _mm256_fmadd_ps(f16 ? load_f16(w + i + W) : load_bf16(w + i + W), _mm256_loadu_ps(x + i + W), s1);
        }
        float s = hsum(_mm256_add_ps(s0, s1));
        for (; i < n; ++i) s += (f16 ? fp16_to_fp32(w[i]) : bf16_to_fp32(w[i])) * x[i];
        return s;
    }
    return dot_row_dequant(t, w_row, x, n, dot_f32);
}

// ---- attention ----

constexpr int kBlockFloats = 4096;  // one K (or V) block: T positions x head_dim floats
constexpr int kMaxGroup = 32;       // query heads of one kv head processed together

// 8 dot products a[u] summed lane-wise -> one vector of the 8 totals, in order.
inline __m256 reduce8(const __m256 * a) {
    const __m256 h01 = _mm256_hadd_ps(a[0], a[1]), h23 = _mm256_hadd_ps(a[2], a[3]);
    const __m256 h45 = _mm256_hadd_ps(a[4], a[5]), h67 = _mm256_hadd_ps(a[6], a[7]);
    const __m256 h0123 = _mm256_hadd_ps(h01, h23), h4567 = _mm256_hadd_ps(h45, h67);
    return _mm256_add_ps(_mm256_permute2f128_ps(h0123, h4567, 0x20), _mm256_permute2f128_ps(h0123, h4567, 0x31));
}

// s[t] = scale · q·kb[t] for t < n8 (a multiple of 8); kb [n8][d] f32, d % 8 == 0.
void block_scores(const float * qh, const float * kb, int n8, int d, float scale, float * s) {
    const __m256 vscale = _mm256_set1_ps(scale);
    for (int t = 0; t < n8; t += 8) {
        __m256 acc[8];
        for (int u = 0; u < 8; ++u) acc[u] = _mm256_setzero_ps();
        const float * k0 = kb + (int64_t)t * d;
        for (int c = 0; c < d; c += W) {
            const __m256 qc = _mm256_loadu_ps(qh + c);
            for (int u = 0; u < 8; ++u) acc[u] = _mm256_fmadd_ps(qc, _mm256_load_ps(k0 + u * d + c), acc[u]);
        }
        _mm256_storeu_ps(s + t, _mm256_mul_ps(reduce8(acc), vscale));
    }
}

// o[0 .. NR·8) = o · corr + Σ_t p[t] · vb[t][0 .. NR·8), accumulators in registers. vb rows are d apart.
template <int NR>
void accumulate_v_chunk(float * o, float corr, const float * p, const float * vb, int n, int d) {
    __m256 acc[NR];
    const __m256 vc = _mm256_set1_ps(corr);
    for (int r = 0; r < NR; ++r) acc[r] = _mm256_mul_ps(_mm256_loadu_ps(o + r * W), vc);
    for (int t = 0; t < n; ++t) {
        const __m256 pt = _mm256_set1_ps(p[t]);
        const float * vt = vb + (int64_t)t * d;
        for (int r = 0; r < NR; ++r) acc[r] = _mm256_fmadd_ps(pt, _mm256_load_ps(vt + r * W), acc[r]);
    }
    for (int r = 0; r < NR; ++r) _mm256_storeu_ps(o + r * W, acc[r]);
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
        for (int c = 0; c < d; c += W) _mm256_store_ps(dst + (int64_t)t * d + c, load_f16(r + c));
    }
    std::fill(dst + (int64_t)n * d, dst + (int64_t)n8 * d, 0.0f);
}

// q [n_head][head_dim], out [n_head][head_dim]; scratch unused (blocks live on the stack).
void attention(const float * q, const AttentionParams & p, float * out, float * scratch) {
    const int d = p.head_dim;
    if (d % W != 0 || d > kBlockFloats / 8) {
        attention_scalar(q, p, out, scratch);
        return;
    }
    SY_ASSERT(p.n_head_kv > 0 && p.n_head % p.n_head_kv == 0);
    const int group = p.n_head / p.n_head_kv;
    const int T = (kBlockFloats / d) & ~7;
    alignas(32) float kb[kBlockFloats], vb[kBlockFloats], s[kBlockFloats / 8];
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

void register_ops_avx2(Kernels & k) {
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
