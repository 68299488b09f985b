// Scalar twins of every element-wise / attention op in struct Kernels (everything except matmul): the
// fallback on CPUs without AVX2 and the plain statement of each op's contract that the vector paths in
// ops_avx2.cpp / ops_avx512.cpp must match. Written for clarity, not speed; reductions accumulate in
// double so this path is also a tight oracle. Not here: matmul (matmul_*.cpp), quantization (quant.cpp).
#include <algorithm>
#include <cmath>
#include <vector>

#include "common/error.h"
#include "common/fp16.h"
#include "tensor/kernels_internal.h"
#include "tensor/ops_internal.h"
#include "tensor/quant.h"

namespace sy::detail {
namespace {

// Every half's float value (256 KiB, built on first use): the bit-by-bit fp16_to_fp32 costs ~10 ns, too
// slow for attention reading a whole f16 KV cache per token.
const float * f16_table() {
    static const std::vector<float> table = [] {
        std::vector<float> t(65536);
        for (uint32_t h = 0; h < 65536; ++h) t[h] = fp16_to_fp32((uint16_t)h);
        return t;
    }();
    return table.data();
}

// y[n] = x[n] / sqrt(mean(x²) + eps) * w[n]
void rmsnorm(const float * x, const float * w, float * y, int64_t n, float eps) {
    double ss = 0.0;
    for (int64_t i = 0; i < n; ++i) ss += (double)x[i] * x[i];
    const float inv = (float)(1.0 / std::sqrt(ss / (double)n + (double)eps));
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * inv * w[i];
}

// x [n_head][head_dim], cos/sin [n_rot/2]
void rope(float * x, int n_head, int head_dim, int n_rot, const float * cos, const float * sin, RopeMode mode) {
    SY_ASSERT(n_rot % 2 == 0 && n_rot <= head_dim);
    const int half = n_rot / 2;
    for (int h = 0; h < n_head; ++h) {
        float * xh = x + (int64_t)h * head_dim;
        for (int i = 0; i < half; ++i) {
            const int i0 = mode == RopeMode::RopeMode_normal ? 2 * i : i;
            const int i1 = mode == RopeMode::RopeMode_normal ? 2 * i + 1 : i + half;
            const float x0 = xh[i0], x1 = xh[i1];
            xh[i0] = x0 * cos[i] - x1 * sin[i];
            xh[i1] = x0 * sin[i] + x1 * cos[i];
        }
    }
}

void softmax(float * x, int64_t n) {
    if (n <= 0) return;
    float mx = x[0];
    for (int64_t i = 1; i < n; ++i) mx = std::max(mx, x[i]);
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        x[i] = std::exp(x[i] - mx);
        sum += x[i];
    }
    const float inv = (float)(1.0 / sum);
    for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

inline float silu1(float v) { return v / (1.0f + std::exp(-v)); }

void swiglu(const float * gate, const float * up, float * out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = silu1(gate[i]) * up[i];
}

void silu(const float * x, float * out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = silu1(x[i]);
}

void add(const float * x, float * y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

void f32_to_f16(const float * x, uint16_t * y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] = fp32_to_fp16(x[i]);
}

void f16_to_f32(const uint16_t * x, float * y, int64_t n) {
    const float * tab = f16_table();
    for (int64_t i = 0; i < n; ++i) y[i] = tab[x[i]];
}

float dot_f32(const float * a, const float * b, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; ++i) s += (double)a[i] * b[i];
    return (float)s;
}

float dot_row(DType t, const void * w_row, const float * x, int64_t n) {
    if (t == DType::DType_f32) return dot_f32((const float *)w_row, x, n);
    if (t == DType::DType_f16 || t == DType::DType_bf16) {
        const uint16_t * w = (const uint16_t *)w_row;
        const float * tab = f16_table();
        double s = 0.0;
        for (int64_t i = 0; i < n; ++i) s += (double)(t == DType::DType_f16 ? tab[w[i]] : bf16_to_fp32(w[i])) * x[i];
        return (float)s;
    }
    return dot_row_dequant(t, w_row, x, n, dot_f32);
}

}  // namespace

// q [n_head][head_dim], out [n_head][head_dim], scratch [n_kv]: per head, scores -> softmax -> Σ p·v.
void attention_scalar(const float * q, const AttentionParams & p, float * out, float * scratch) {
    SY_ASSERT(p.n_head_kv > 0 && p.n_head % p.n_head_kv == 0);
    const int group = p.n_head / p.n_head_kv;
    const int d = p.head_dim;
    const float * tab = f16_table();
    for (int h = 0; h < p.n_head; ++h) {
        const int kvh = h / group;
        const float * qh = q + (int64_t)h * d;
        float * oh = out + (int64_t)h * d;
        for (int64_t t = 0; t < p.n_kv; ++t) {
            const uint16_t * kt = p.k + t * p.k_stride + (int64_t)kvh * d;
            float s = 0.0f;
            for (int i = 0; i < d; ++i) s += qh[i] * tab[kt[i]];
            scratch[t] = s * p.scale;
        }
        softmax(scratch, p.n_kv);
        std::fill(oh, oh + d, 0.0f);
        for (int64_t t = 0; t < p.n_kv; ++t) {
            const uint16_t * vt = p.v + t * p.v_stride + (int64_t)kvh * d;
            for (int i = 0; i < d; ++i) oh[i] += scratch[t] * tab[vt[i]];
        }
    }
}

float dot_row_dequant(DType t, const void * w_row, const float * x, int64_t n,
                      float (*dot_f32)(const float * a, const float * b, int64_t n)) {
    SY_ASSERT_MSG(dtype_supported(t), "dot_row on a type quant.cpp does not handle");
    const int64_t bs = dtype_info(t).block_size;
    SY_ASSERT(n % bs == 0 && kDotChunk % bs == 0);
    const size_t chunk_bytes = (size_t)(kDotChunk / bs) * dtype_info(t).type_size;
    alignas(64) float buf[kDotChunk];
    const uint8_t * w = (const uint8_t *)w_row;
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i += kDotChunk) {
        const int64_t m = std::min(kDotChunk, n - i);
        dequantize_row(t, w, buf, m);
        sum += dot_f32(buf, x + i, m);
        w += chunk_bytes;
    }
    return sum;
}

void register_ops_scalar(Kernels & k) {
    k.rmsnorm = rmsnorm;
    k.rope = rope;
    k.softmax = softmax;
    k.swiglu = swiglu;
    k.silu = silu;
    k.add = add;
    k.attention = attention_scalar;
    k.f32_to_f16 = f32_to_f16;
    k.f16_to_f32 = f16_to_f32;
    k.dot_row = dot_row;
}

}  // namespace sy::detail
