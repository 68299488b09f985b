// Scalar quantize/dequantize of rows: the dispatch table over every supported DType, the plain types
// (f32, f16, bf16) and the 32-element block types (q4_0 q4_1 q5_0 q5_1 q8_0 q8_1). The 256-element
// K-quants live in quant_kquants.cpp. This is the reference code every vectorised kernel is tested
// against; dequantization reproduces ggml's float arithmetic operation for operation, so a GGUF written
// by llama.cpp decodes to the same bits.
//
// Layout reminders (one block, element i of 32; see blocks.h):
//   q4_0 / q4_1   qs[j] low nibble = element j, high nibble = element j + 16
//   q5_0 / q5_1   as q4 plus the fifth bit of element i at bit i of the little-endian u32 qh
//   q8_0 / q8_1   qs[i] = element i
#include "tensor/quant.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string>

#include "common/error.h"
#include "common/fp16.h"
#include "tensor/blocks.h"
#include "tensor/quant_internal.h"

namespace sy {
namespace {

using detail::nearest_int;

// ---- plain types ----------------------------------------------------------------------------------------

void quantize_row_f32(const float * x, void * y, int64_t n) { std::memcpy(y, x, (size_t)n * sizeof(float)); }
void dequantize_row_f32(const void * x, float * y, int64_t n) { std::memcpy(y, x, (size_t)n * sizeof(float)); }

void quantize_row_f16(const float * x, void * y, int64_t n) {
    uint16_t * h = (uint16_t *)y;
    for (int64_t i = 0; i < n; ++i) h[i] = fp32_to_fp16(x[i]);
}
void dequantize_row_f16(const void * x, float * y, int64_t n) {
    const uint16_t * h = (const uint16_t *)x;
    for (int64_t i = 0; i < n; ++i) y[i] = fp16_to_fp32(h[i]);
}

void quantize_row_bf16(const float * x, void * y, int64_t n) {
    uint16_t * h = (uint16_t *)y;
    for (int64_t i = 0; i < n; ++i) h[i] = fp32_to_bf16(x[i]);
}
void dequantize_row_bf16(const void * x, float * y, int64_t n) {
    const uint16_t * h = (const uint16_t *)x;
    for (int64_t i = 0; i < n; ++i) y[i] = bf16_to_fp32(h[i]);
}

// ---- symmetric 32-blocks (q4_0, q5_0) -------------------------------------------------------------------
//
// Codes are q in [0, 2^bits), value = d * (q - 2^(bits-1)). The element of largest magnitude goes to the
// extra negative level (-8 / -16) by giving d the opposite sign; then a few nearby scales are tried and the
// one with the smallest squared error is kept (d re-fitted by least squares for the chosen codes).

void quantize_sym_block(const float * x, int bits, uint8_t * q, float * d_out) {
    const int half = 1 << (bits - 1);
    float amax = 0.0f, max = 0.0f;
    for (int i = 0; i < 32; ++i)
        if (std::fabs(x[i]) > amax) { amax = std::fabs(x[i]); max = x[i]; }
    if (amax == 0.0f) {
        for (int i = 0; i < 32; ++i) q[i] = (uint8_t)half;
        *d_out = 0.0f;
        return;
    }
    float best_err = INFINITY;
    float best_d = 0.0f;
    for (int step = 0; step <= 8; ++step) {
        // candidate inverse scales from -half/max toward -(half - 1)/max
        const float iscale = -((float)half - 0.125f * (float)step) / max;
        int l[32];
        float sum_xl = 0.0f, sum_ll = 0.0f;
        for (int i = 0; i < 32; ++i) {
            l[i] = std::clamp(nearest_int(iscale * x[i]), -half, half - 1);
            sum_xl += x[i] * (float)l[i];
            sum_ll += (float)(l[i] * l[i]);
        }
        if (sum_ll == 0.0f) continue;
        const float d = fp16_to_fp32(fp32_to_fp16(sum_xl / sum_ll));  // what the block will hold
        float err = 0.0f;
        for (int i = 0; i < 32; ++i) {
            const float e = x[i] - d * (float)l[i];
            err += e * e;
        }
        if (err < best_err) {
            best_err = err;
            best_d = d;
            for (int i = 0; i < 32; ++i) q[i] = (uint8_t)(l[i] + half);
        }
    }
    *d_out = best_d;
}

void quantize_row_q4_0(const float * x, void * vy, int64_t n) {
    block_q4_0 * y = (block_q4_0 *)vy;
    for (int64_t b = 0; b < n / QK4_0; ++b, x += QK4_0) {
        uint8_t q[32];
        float d;
        quantize_sym_block(x, 4, q, &d);
        y[b].d = fp32_to_fp16(d);
        for (int j = 0; j < 16; ++j) y[b].qs[j] = (uint8_t)(q[j] | (q[j + 16] << 4));
    }
}

void dequantize_row_q4_0(const void * vx, float * y, int64_t n) {
    const block_q4_0 * x = (const block_q4_0 *)vx;
    for (int64_t b = 0; b < n / QK4_0; ++b, y += QK4_0) {
        const float d = fp16_to_fp32(x[b].d);
        for (int j = 0; j < 16; ++j) {
            y[j] = (float)((x[b].qs[j] & 0x0F) - 8) * d;
            y[j + 16] = (float)((x[b].qs[j] >> 4) - 8) * d;
        }
    }
}

void quantize_row_q5_0(const float * x, void * vy, int64_t n) {
    block_q5_0 * y = (block_q5_0 *)vy;
    for (int64_t b = 0; b < n / QK5_0; ++b, x += QK5_0) {
        uint8_t q[32];
        float d;
        quantize_sym_block(x, 5, q, &d);
        y[b].d = fp32_to_fp16(d);
        uint32_t qh = 0;
        for (int j = 0; j < 16; ++j) {
            y[b].qs[j] = (uint8_t)((q[j] & 0x0F) | ((q[j + 16] & 0x0F) << 4));
            qh |= (uint32_t)(q[j] >> 4) << j;
            qh |= (uint32_t)(q[j + 16] >> 4) << (j + 16);
        }
        std::memcpy(y[b].qh, &qh, 4);
    }
}

void dequantize_row_q5_0(const void * vx, float * y, int64_t n) {
    const block_q5_0 * x = (const block_q5_0 *)vx;
    for (int64_t b = 0; b < n / QK5_0; ++b, y += QK5_0) {
        const float d = fp16_to_fp32(x[b].d);
        uint32_t qh;
        std::memcpy(&qh, x[b].qh, 4);
        for (int j = 0; j < 16; ++j) {
            const int h0 = (int)((qh >> j) & 1) << 4;
            const int h1 = (int)((qh >> (j + 16)) & 1) << 4;
            y[j] = (float)(((x[b].qs[j] & 0x0F) | h0) - 16) * d;
            y[j + 16] = (float)(((x[b].qs[j] >> 4) | h1) - 16) * d;
        }
    }
}

// ---- affine 32-blocks (q4_1, q5_1) ----------------------------------------------------------------------
//
// value = d * q + m with q in [0, 2^bits). Start from m = min, d = (max - min) / (2^bits - 1), then
// alternate: codes for (d, m), least-squares (d, m) for those codes; keep the best by squared error.

void quantize_affine_block(const float * x, int bits, uint8_t * q, float * d_out, float * m_out) {
    const int nmax = (1 << bits) - 1;
    float mn = x[0], mx = x[0];
    for (int i = 1; i < 32; ++i) { mn = std::min(mn, x[i]); mx = std::max(mx, x[i]); }
    float d = (mx - mn) / (float)nmax;
    float m = mn;
    float best_err = INFINITY;
    for (int iter = 0; iter < 4; ++iter) {
        const float dh = fp16_to_fp32(fp32_to_fp16(d));
        const float mh = fp16_to_fp32(fp32_to_fp16(m));
        const float id = dh != 0.0f ? 1.0f / dh : 0.0f;
        int l[32];
        float err = 0.0f;
        for (int i = 0; i < 32; ++i) {
            l[i] = std::clamp(nearest_int((x[i] - mh) * id), 0, nmax);
            const float e = x[i] - ((float)l[i] * dh + mh);
            err += e * e;
        }
        if (err < best_err) {
            best_err = err;
            *d_out = dh;
            *m_out = mh;
            for (int i = 0; i < 32; ++i) q[i] = (uint8_t)l[i];
        } else {
            break;
        }
        // least-squares refit of (d, m) for these codes
        double sl = 0, sll = 0, sx = 0, sxl = 0;
        for (int i = 0; i < 32; ++i) {
            sl += l[i];
            sll += (double)l[i] * l[i];
            sx += x[i];
            sxl += (double)x[i] * l[i];
        }
        const double det = 32.0 * sll - sl * sl;
        if (det <= 0) break;
        d = (float)((32.0 * sxl - sl * sx) / det);
        m = (float)((sll * sx - sl * sxl) / det);
    }
}

void quantize_row_q4_1(const float * x, void * vy, int64_t n) {
    block_q4_1 * y = (block_q4_1 *)vy;
    for (int64_t b = 0; b < n / QK4_1; ++b, x += QK4_1) {
        uint8_t q[32];
        float d, m;
        quantize_affine_block(x, 4, q, &d, &m);
        y[b].d = fp32_to_fp16(d);
        y[b].m = fp32_to_fp16(m);
        for (int j = 0; j < 16; ++j) y[b].qs[j] = (uint8_t)(q[j] | (q[j + 16] << 4));
    }
}

void dequantize_row_q4_1(const void * vx, float * y, int64_t n) {
    const block_q4_1 * x = (const block_q4_1 *)vx;
    for (int64_t b = 0; b < n / QK4_1; ++b, y += QK4_1) {
        const float d = fp16_to_fp32(x[b].d);
        const float m = fp16_to_fp32(x[b].m);
        for (int j = 0; j < 16; ++j) {
            y[j] = (float)(x[b].qs[j] & 0x0F) * d + m;
            y[j + 16] = (float)(x[b].qs[j] >> 4) * d + m;
        }
    }
}

void quantize_row_q5_1(const float * x, void * vy, int64_t n) {
    block_q5_1 * y = (block_q5_1 *)vy;
    for (int64_t b = 0; b < n / QK5_1; ++b, x += QK5_1) {
        uint8_t q[32];
        float d, m;
        quantize_affine_block(x, 5, q, &d, &m);
        y[b].d = fp32_to_fp16(d);
        y[b].m = fp32_to_fp16(m);
        uint32_t qh = 0;
        for (int j = 0; j < 16; ++j) {
            y[b].qs[j] = (uint8_t)((q[j] & 0x0F) | ((q[j + 16] & 0x0F) << 4));
            qh |= (uint32_t)(q[j] >> 4) << j;
            qh |= (uint32_t)(q[j + 16] >> 4) << (j + 16);
        }
        std::memcpy(y[b].qh, &qh, 4);
    }
}

void dequantize_row_q5_1(const void * vx, float * y, int64_t n) {
    const block_q5_1 * x = (const block_q5_1 *)vx;
    for (int64_t b = 0; b < n / QK5_1; ++b, y += QK5_1) {
        const float d = fp16_to_fp32(x[b].d);
        const float m = fp16_to_fp32(x[b].m);
        uint32_t qh;
        std::memcpy(&qh, x[b].qh, 4);
        for (int j = 0; j < 16; ++j) {
            const int h0 = (int)((qh >> j) & 1) << 4;
            const int h1 = (int)((qh >> (j + 16)) & 1) << 4;
            y[j] = (float)((x[b].qs[j] & 0x0F) | h0) * d + m;
            y[j + 16] = (float)((x[b].qs[j] >> 4) | h1) * d + m;
        }
    }
}

// ---- 8-bit 32-blocks (q8_0, q8_1) -----------------------------------------------------------------------
// d = amax / 127, q = round(x / d).

void quantize_q8_block(const float * x, int8_t * q, float * d_out) {
    float amax = 0.0f;
    for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[i]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int i = 0; i < 32; ++i) q[i] = (int8_t)nearest_int(x[i] * id);
    *d_out = d;
}

void quantize_row_q8_0(const float * x, void * vy, int64_t n) {
    block_q8_0 * y = (block_q8_0 *)vy;
    for (int64_t b = 0; b < n / QK8_0; ++b, x += QK8_0) {
        float d;
        quantize_q8_block(x, y[b].qs, &d);
        y[b].d = fp32_to_fp16(d);
    }
}

void dequantize_row_q8_0(const void * vx, float * y, int64_t n) {
    const block_q8_0 * x = (const block_q8_0 *)vx;
    for (int64_t b = 0; b < n / QK8_0; ++b, y += QK8_0) {
        const float d = fp16_to_fp32(x[b].d);
        for (int j = 0; j < 32; ++j) y[j] = (float)x[b].qs[j] * d;
    }
}

void quantize_row_q8_1(const float * x, void * vy, int64_t n) {
    block_q8_1 * y = (block_q8_1 *)vy;
    for (int64_t b = 0; b < n / QK8_1; ++b, x += QK8_1) {
        float d;
        quantize_q8_block(x, y[b].qs, &d);
        int sum = 0;
        for (int j = 0; j < 32; ++j) sum += y[b].qs[j];
        y[b].d = fp32_to_fp16(d);
        y[b].s = fp32_to_fp16((float)sum * d);
    }
}

// ggml has no q8_1 -> float; this is the obvious d * q.
void dequantize_row_q8_1(const void * vx, float * y, int64_t n) {
    const block_q8_1 * x = (const block_q8_1 *)vx;
    for (int64_t b = 0; b < n / QK8_1; ++b, y += QK8_1) {
        const float d = fp16_to_fp32(x[b].d);
        for (int j = 0; j < 32; ++j) y[j] = (float)x[b].qs[j] * d;
    }
}

// ---- the table ------------------------------------------------------------------------------------------

struct QuantFns {
    DType type;
    void (*quantize)(const float * x, void * y, int64_t n);
    void (*dequantize)(const void * x, float * y, int64_t n);
};

constexpr std::array<QuantFns, 15> kQuantFns = {{
    {DType::DType_f32, quantize_row_f32, dequantize_row_f32},
    {DType::DType_f16, quantize_row_f16, dequantize_row_f16},
    {DType::DType_bf16, quantize_row_bf16, dequantize_row_bf16},
    {DType::DType_q4_0, quantize_row_q4_0, dequantize_row_q4_0},
    {DType::DType_q4_1, quantize_row_q4_1, dequantize_row_q4_1},
    {DType::DType_q5_0, quantize_row_q5_0, dequantize_row_q5_0},
    {DType::DType_q5_1, quantize_row_q5_1, dequantize_row_q5_1},
    {DType::DType_q8_0, quantize_row_q8_0, dequantize_row_q8_0},
    {DType::DType_q8_1, quantize_row_q8_1, dequantize_row_q8_1},
    {DType::DType_q2_k, detail::quantize_row_q2_K, detail::dequantize_row_q2_K},
    {DType::DType_q3_k, detail::quantize_row_q3_K, detail::dequantize_row_q3_K},
    {DType::DType_q4_k, detail::quantize_row_q4_K, detail::dequantize_row_q4_K},
    {DType::DType_q5_k, detail::quantize_row_q5_K, detail::dequantize_row_q5_K},
    {DType::DType_q6_k, detail::quantize_row_q6_K, detail::dequantize_row_q6_K},
    {DType::DType_q8_k, detail::quantize_row_q8_K, detail::dequantize_row_q8_K},
}};
static_assert(kQuantFns.size() == 15, "one row per type quant.h lists");

const QuantFns * find_fns(DType t) {
    for (const auto & f : kQuantFns)
        if (f.type == t) return &f;
    return nullptr;
}

// Checks type and length; returns the table row.
const QuantFns & checked_fns(DType t, int64_t n, const char * what) {
    const QuantFns * f = find_fns(t);
    if (!f)
        throw Error(ErrorKind::ErrorKind_unsupported,
                    std::string(what) + ": type " + dtype_info(t).name + " is not supported (supported: f32 f16 "
                    "bf16 q4_0 q4_1 q5_0 q5_1 q8_0 q8_1 q2_K q3_K q4_K q5_K q6_K q8_K)");
    const int64_t bs = dtype_info(t).block_size;
    if (n < 0 || n % bs != 0)
        throw Error(ErrorKind::ErrorKind_invalid_argument,
                    std::string(what) + ": row length " + std::to_string(n) + " is not a multiple of " +
                        dtype_info(t).name + "'s block size " + std::to_string(bs));
    return *f;
}

}  // namespace

bool dtype_supported(DType t) { return find_fns(t) != nullptr; }

void quantize_row(DType t, const float * x, void * y, int64_t n) {
    checked_fns(t, n, "quantize_row").quantize(x, y, n);
}

void dequantize_row(DType t, const void * x, float * y, int64_t n) {
    checked_fns(t, n, "dequantize_row").dequantize(x, y, n);
}

size_t quantize_rows(DType t, const float * x, void * y, int64_t n_rows, int64_t n_cols) {
    const QuantFns & f = checked_fns(t, n_cols, "quantize_rows");
    SY_ASSERT(n_rows >= 0);
    const size_t rb = *row_bytes(t, n_cols);
    uint8_t * out = (uint8_t *)y;
    for (int64_t r = 0; r < n_rows; ++r) f.quantize(x + r * n_cols, out + (size_t)r * rb, n_cols);
    return (size_t)n_rows * rb;
}

std::vector<uint8_t> quantize_rows(DType t, const float * x, int64_t n_rows, int64_t n_cols) {
    checked_fns(t, n_cols, "quantize_rows");
    std::vector<uint8_t> out((size_t)n_rows * *row_bytes(t, n_cols));
    quantize_rows(t, x, out.data(), n_rows, n_cols);
    return out;
}

std::vector<float> dequantize_rows(DType t, const void * x, int64_t n_rows, int64_t n_cols) {
    const QuantFns & f = checked_fns(t, n_cols, "dequantize_rows");
    SY_ASSERT(n_rows >= 0);
    const size_t rb = *row_bytes(t, n_cols);
    std::vector<float> out((size_t)(n_rows * n_cols));
    const uint8_t * in = (const uint8_t *)x;
    for (int64_t r = 0; r < n_rows; ++r) f.dequantize(in + (size_t)r * rb, out.data() + r * n_cols, n_cols);
    return out;
}

}  // namespace sy
