// Scalar quantize/dequantize of the K-quants (super-blocks of 256 elements): q2_K q3_K q4_K q5_K q6_K and
// the activation type q8_K. Dequantization repeats ggml's float operations in the same order, so results
// are bit-identical; quantization is our own (same idea as ggml: per sub-block a searched scale, then the
// sub-block scales themselves quantized against one fp16 super-scale). The fits take per-element weights
// (room for importance data later); without such data every weight is 1, i.e. plain squared error, which on
// Gaussian rows beat weighting by |x| or x^2 for every K type.
//
// Bit placement inside one 256-element super-block (e = element index 0..255):
//   q2_K  code(e) = (qs[32*(e/128) + e%32] >> 2*((e%128)/32)) & 3; sub-block s = e/16:
//         scales[s] low nibble = scale, high nibble = min; value = d*sc*code - dmin*m
//   q3_K  low 2 bits as q2_K; high bit = hmask[e%32] bit (e/32), set means +4; value = d*(sc-32)*(code-4)
//         6-bit scales: low 4 bits in scales[s] (s<8) low nibble / scales[s-8] high nibble (s>=8),
//         high 2 bits in scales[8 + s%4] at bit 2*(s/4)
//   q4_K  sub-block s = e/32 (8 of them); code(e) = qs[32*(e/64) + e%32] low nibble if (e%64) < 32 else
//         high nibble; 6-bit scale/min pairs packed in 12 bytes (see unpack_scale_min);
//         value = d*sc*code - dmin*m
//   q5_K  as q4_K plus a fifth bit: qh[e%32] bit (e/32)
//   q6_K  sub-block s = e/16, int8 scale; with h = e/128, r = e%128, l = r%32, k = r/32:
//         low 4 bits = ql[64h + l + 32*(k&1)] nibble (k<2 low, else high), high 2 bits = qh[32h + l] bits 2k..2k+1;
//         value = d*sc*(code-32)
//
// Worked example (q4_K): scales = {10, 0,0,0, 3, 0,0,0, 0x52, ...}: sub-block 0 has scale 10 and min 3
// (bytes 0 and 4, low 6 bits); sub-block 4 has scale 0x2 | (scales[0]>>6)<<4 = 2 and min 0x5 | (scales[4]>>6)<<4 = 5.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/fp16.h"
#include "tensor/blocks.h"
#include "tensor/quant_internal.h"

namespace sy::detail {
namespace {

// ---- scale searches -------------------------------------------------------------------------------------

// Affine fit for one sub-block: x[i] ≈ scale * L[i] - min with L in [0, nmax], scale >= 0, min >= 0,
// minimising sum w[i] * err^2. Tries nstep+1 inverse scales (nmax + rmin + rdelta*k) / (max - min0), each
// followed by a weighted least-squares refit of (scale, min) for the codes it produces. Returns scale.
float fit_affine(int n, int nmax, const float * x, const float * w, uint8_t * L, float * min_out, float rmin,
                 float rdelta, int nstep) {
    float lo = x[0], hi = x[0];
    float sum_w = 0.0f, sum_x = 0.0f;
    for (int i = 0; i < n; ++i) {
        lo = std::min(lo, x[i]);
        hi = std::max(hi, x[i]);
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    lo = std::min(lo, 0.0f);
    if (hi == lo) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        *min_out = -lo;
        return 0.0f;
    }
    // start: plain min/max scaling
    float best_scale = (hi - lo) / (float)nmax;
    float best_off = lo;  // offset added to scale*L (<= 0)
    float best_err = 0.0f;
    {
        const float iscale = (float)nmax / (hi - lo);
        for (int i = 0; i < n; ++i) {
            L[i] = (uint8_t)std::clamp(nearest_int(iscale * (x[i] - lo)), 0, nmax);
            const float e = best_scale * (float)L[i] + best_off - x[i];
            best_err += w[i] * e * e;
        }
    }
    uint8_t trial[32];
    for (int k = 0; k <= nstep; ++k) {
        const float iscale = ((float)nmax + rmin + rdelta * (float)k) / (hi - lo);
        float sum_l = 0.0f, sum_ll = 0.0f, sum_xl = 0.0f;
        for (int i = 0; i < n; ++i) {
            const int l = std::clamp(nearest_int(iscale * (x[i] - lo)), 0, nmax);
            trial[i] = (uint8_t)l;
            sum_l += w[i] * (float)l;
            sum_ll += w[i] * (float)(l * l);
            sum_xl += w[i] * (float)l * x[i];
        }
        const float det = sum_w * sum_ll - sum_l * sum_l;
        if (det <= 0.0f) continue;
        float scale = (sum_w * sum_xl - sum_x * sum_l) / det;
        float off = (sum_ll * sum_x - sum_l * sum_xl) / det;
        if (off > 0.0f) {  // the format can only subtract a min
            off = 0.0f;
            scale = sum_xl / sum_ll;
        }
        float err = 0.0f;
        for (int i = 0; i < n; ++i) {
            const float e = scale * (float)trial[i] + off - x[i];
            err += w[i] * e * e;
        }
        if (err < best_err) {
            best_err = err;
            best_scale = scale;
            best_off = off;
            std::memcpy(L, trial, (size_t)n);
        }
    }
    *min_out = -best_off;
    return best_scale;
}

// Symmetric fit: x[i] ≈ scale * L[i] with L in [-nmax, nmax-1] (the element of largest magnitude gets the
// extra negative level, so scale has the opposite sign of that element). Tries inverse scales
// -(nmax + 0.1k)/max for k in [-nsteps, nsteps] with a least-squares scale for each; keeps the best.
// Writes L + nmax (unsigned codes) and returns the (signed) scale.
float fit_symmetric(int n, int nmax, const float * x, const float * w, int8_t * L, int nsteps) {
    float amax = 0.0f, max = 0.0f;
    for (int i = 0; i < n; ++i)
        if (std::fabs(x[i]) > amax) { amax = std::fabs(x[i]); max = x[i]; }
    if (amax < 1e-30f) {
        for (int i = 0; i < n; ++i) L[i] = (int8_t)nmax;
        return 0.0f;
    }
    float best_scale = 0.0f, best_gain = -1.0f;  // gain = sum_xl^2 / sum_ll (error = sum w x^2 - gain)
    int8_t trial[32];
    for (int k = -nsteps; k <= nsteps; ++k) {
        const float iscale = -((float)nmax + 0.1f * (float)k) / max;
        float sum_xl = 0.0f, sum_ll = 0.0f;
        for (int i = 0; i < n; ++i) {
            const int l = std::clamp(nearest_int(iscale * x[i]), -nmax, nmax - 1);
            trial[i] = (int8_t)l;
            sum_xl += w[i] * x[i] * (float)l;
            sum_ll += w[i] * (float)(l * l);
        }
        if (sum_ll <= 0.0f) continue;
        const float gain = sum_xl * sum_xl / sum_ll;
        if (gain > best_gain) {
            best_gain = gain;
            best_scale = sum_xl / sum_ll;
            for (int i = 0; i < n; ++i) L[i] = (int8_t)(trial[i] + nmax);
        }
    }
    // Polish: re-round every element against the fitted scale and refit, while that helps.
    for (int iter = 0; iter < 3 && best_gain > 0.0f; ++iter) {
        float sum_xl = 0.0f, sum_ll = 0.0f;
        for (int i = 0; i < n; ++i) {
            const int l = std::clamp(nearest_int(x[i] / best_scale), -nmax, nmax - 1);
            trial[i] = (int8_t)l;
            sum_xl += w[i] * x[i] * (float)l;
            sum_ll += w[i] * (float)(l * l);
        }
        if (sum_ll <= 0.0f || sum_xl * sum_xl / sum_ll <= best_gain) break;
        best_gain = sum_xl * sum_xl / sum_ll;
        best_scale = sum_xl / sum_ll;
        for (int i = 0; i < n; ++i) L[i] = (int8_t)(trial[i] + nmax);
    }
    if (best_gain < 0.0f) {  // every weight was zero: fall back to plain max scaling
        const float iscale = -(float)nmax / max;
        for (int i = 0; i < n; ++i) L[i] = (int8_t)(std::clamp(nearest_int(iscale * x[i]), -nmax, nmax - 1) + nmax);
        return 1.0f / iscale;
    }
    return best_scale;
}

// q4_K / q5_K 12-byte scale packing: sub-blocks 0..3 keep scale and min in the low 6 bits of bytes j and
// j+4; sub-blocks 4..7 keep their low 4 bits in byte j+4 (scale low nibble, min high nibble) and their top
// 2 bits in the top bits of bytes j-4 (scale) and j (min).
void unpack_scale_min(int j, const uint8_t * q, uint8_t * sc, uint8_t * m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

void pack_scale_min(const uint8_t * ls, const uint8_t * lm, uint8_t * q) {
    std::memset(q, 0, K_SCALE_SIZE);
    for (int j = 0; j < 8; ++j) {
        if (j < 4) {
            q[j] |= ls[j];
            q[j + 4] |= lm[j];
        } else {
            q[j + 4] = (uint8_t)((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
            q[j - 4] |= (uint8_t)((ls[j] >> 4) << 6);
            q[j] |= (uint8_t)((lm[j] >> 4) << 6);
        }
    }
}

// Shared body of q4_K / q5_K: 8 sub-blocks of 32 with codes in [0, nmax]. Fills d, dmin, packed scales and
// the final codes L[256] computed against the stored (rounded) scales.
void quantize_k_affine_superblock(const float * x, int nmax, uint16_t * d_out, uint16_t * dmin_out,
                                  uint8_t * scales_out, uint8_t * L) {
    float scales[8], mins[8], w[32];
    float max_scale = 0.0f, max_min = 0.0f;
    for (int j = 0; j < 8; ++j) {
        const float * xs = x + 32 * j;
        for (int i = 0; i < 32; ++i) w[i] = 1.0f;
        scales[j] = fit_affine(32, nmax, xs, w, L + 32 * j, &mins[j], -1.0f, 0.1f, 20);
        max_scale = std::max(max_scale, scales[j]);
        max_min = std::max(max_min, mins[j]);
    }
    const float inv_scale = max_scale > 0.0f ? 63.0f / max_scale : 0.0f;
    const float inv_min = max_min > 0.0f ? 63.0f / max_min : 0.0f;
    uint8_t ls[8], lm[8];
    for (int j = 0; j < 8; ++j) {
        ls[j] = (uint8_t)std::min(63, nearest_int(inv_scale * scales[j]));
        lm[j] = (uint8_t)std::min(63, nearest_int(inv_min * mins[j]));
    }
    pack_scale_min(ls, lm, scales_out);
    *d_out = fp32_to_fp16(max_scale / 63.0f);
    *dmin_out = fp32_to_fp16(max_min / 63.0f);
    const float d = fp16_to_fp32(*d_out), dmin = fp16_to_fp32(*dmin_out);
    for (int j = 0; j < 8; ++j) {
        const float ds = d * (float)ls[j];
        if (ds == 0.0f) continue;  // keep the fitted codes; they decode to -dm anyway
        const float dm = dmin * (float)lm[j];
        for (int i = 0; i < 32; ++i)
            L[32 * j + i] = (uint8_t)std::clamp(nearest_int((x[32 * j + i] + dm) / ds), 0, nmax);
    }
}

}  // namespace

// ---- q2_K -----------------------------------------------------------------------------------------------

void quantize_row_q2_K(const float * x, void * vy, int64_t n) {
    block_q2_K * y = (block_q2_K *)vy;
    for (int64_t b = 0; b < n / QK_K; ++b, x += QK_K) {
        uint8_t L[QK_K];
        float scales[16], mins[16], w[16];
        float max_scale = 0.0f, max_min = 0.0f;
        for (int j = 0; j < 16; ++j) {
            const float * xs = x + 16 * j;
            for (int i = 0; i < 16; ++i) w[i] = 1.0f;
            scales[j] = fit_affine(16, 3, xs, w, L + 16 * j, &mins[j], -0.5f, 0.1f, 15);
            max_scale = std::max(max_scale, scales[j]);
            max_min = std::max(max_min, mins[j]);
        }
        const float inv_scale = max_scale > 0.0f ? 15.0f / max_scale : 0.0f;
        const float inv_min = max_min > 0.0f ? 15.0f / max_min : 0.0f;
        for (int j = 0; j < 16; ++j) {
            const int ls = std::min(15, nearest_int(inv_scale * scales[j]));
            const int lm = std::min(15, nearest_int(inv_min * mins[j]));
            y[b].scales[j] = (uint8_t)(ls | (lm << 4));
        }
        y[b].d = fp32_to_fp16(max_scale / 15.0f);
        y[b].dmin = fp32_to_fp16(max_min / 15.0f);
        const float d = fp16_to_fp32(y[b].d), dmin = fp16_to_fp32(y[b].dmin);
        for (int j = 0; j < 16; ++j) {
            const float ds = d * (float)(y[b].scales[j] & 0xF);
            if (ds == 0.0f) continue;
            const float dm = dmin * (float)(y[b].scales[j] >> 4);
            for (int i = 0; i < 16; ++i)
                L[16 * j + i] = (uint8_t)std::clamp(nearest_int((x[16 * j + i] + dm) / ds), 0, 3);
        }
        for (int h = 0; h < 2; ++h)
            for (int l = 0; l < 32; ++l) {
                const uint8_t * Lh = L + 128 * h + l;
                y[b].qs[32 * h + l] = (uint8_t)(Lh[0] | (Lh[32] << 2) | (Lh[64] << 4) | (Lh[96] << 6));
            }
    }
}

void dequantize_row_q2_K(const void * vx, float * y, int64_t n) {
    const block_q2_K * x = (const block_q2_K *)vx;
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = fp16_to_fp32(x[b].d);
        const float dmin = fp16_to_fp32(x[b].dmin);
        for (int h = 0; h < 2; ++h) {          // elements 128h ..
            const uint8_t * q = x[b].qs + 32 * h;
            for (int k = 0; k < 4; ++k) {      // .. + 32k ..
                for (int half = 0; half < 2; ++half) {  // .. + 16 half + l
                    const uint8_t sc = x[b].scales[8 * h + 2 * k + half];
                    const float dl = d * (float)(sc & 0xF);
                    const float ml = dmin * (float)(sc >> 4);
                    for (int l = 0; l < 16; ++l) *y++ = dl * (float)((q[16 * half + l] >> (2 * k)) & 3) - ml;
                }
            }
        }
    }
}

// ---- q3_K -----------------------------------------------------------------------------------------------

void quantize_row_q3_K(const float * x, void * vy, int64_t n) {
    block_q3_K * y = (block_q3_K *)vy;
    for (int64_t b = 0; b < n / QK_K; ++b, x += QK_K) {
        int8_t L[QK_K];
        float scales[16], w[16];
        float max_scale = 0.0f, amax = 0.0f;
        for (int j = 0; j < 16; ++j) {
            const float * xs = x + 16 * j;
            for (int i = 0; i < 16; ++i) w[i] = 1.0f;
            scales[j] = fit_symmetric(16, 4, xs, w, L + 16 * j, 9);
            if (std::fabs(scales[j]) > amax) { amax = std::fabs(scales[j]); max_scale = scales[j]; }
        }
        std::memset(y[b].scales, 0, 12);
        std::memset(y[b].hmask, 0, sizeof(y[b].hmask));
        if (max_scale != 0.0f) {
            const float iscale = -32.0f / max_scale;
            for (int j = 0; j < 16; ++j) {
                const int l = std::clamp(nearest_int(iscale * scales[j]), -32, 31) + 32;
                if (j < 8) y[b].scales[j] |= (uint8_t)(l & 0xF);
                else y[b].scales[j - 8] |= (uint8_t)((l & 0xF) << 4);
                y[b].scales[8 + j % 4] |= (uint8_t)((l >> 4) << (2 * (j / 4)));
            }
            y[b].d = fp32_to_fp16(1.0f / iscale);
        } else {
            y[b].d = fp32_to_fp16(0.0f);
        }
        const float d = fp16_to_fp32(y[b].d);
        for (int j = 0; j < 16; ++j) {
            const int lo = j < 8 ? (y[b].scales[j] & 0xF) : (y[b].scales[j - 8] >> 4);
            const int sc = (lo | (((y[b].scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32;
            const float ds = d * (float)sc;
            if (ds == 0.0f) continue;
            for (int i = 0; i < 16; ++i)
                L[16 * j + i] = (int8_t)(std::clamp(nearest_int(x[16 * j + i] / ds), -4, 3) + 4);
        }
        for (int e = 0; e < QK_K; ++e) {
            int code = L[e];
            if (code > 3) {
                y[b].hmask[e % 32] |= (uint8_t)(1 << (e / 32));
                code -= 4;
            }
            L[e] = (int8_t)code;
        }
        for (int h = 0; h < 2; ++h)
            for (int l = 0; l < 32; ++l) {
                const int8_t * Lh = L + 128 * h + l;
                y[b].qs[32 * h + l] = (uint8_t)(Lh[0] | (Lh[32] << 2) | (Lh[64] << 4) | (Lh[96] << 6));
            }
    }
}

void dequantize_row_q3_K(const void * vx, float * y, int64_t n) {
    const block_q3_K * x = (const block_q3_K *)vx;
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d_all = fp16_to_fp32(x[b].d);
        int8_t sc[16];
        for (int j = 0; j < 16; ++j) {
            const int lo = j < 8 ? (x[b].scales[j] & 0xF) : (x[b].scales[j - 8] >> 4);
            sc[j] = (int8_t)((lo | (((x[b].scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32);
        }
        for (int h = 0; h < 2; ++h) {
            const uint8_t * q = x[b].qs + 32 * h;
            for (int k = 0; k < 4; ++k) {
                const uint8_t m = (uint8_t)(1 << (4 * h + k));  // hmask bit of elements 128h + 32k + l
                for (int half = 0; half < 2; ++half) {
                    const float dl = d_all * (float)sc[8 * h + 2 * k + half];
                    for (int l = 16 * half; l < 16 * half + 16; ++l) {
                        const int low = (q[l] >> (2 * k)) & 3;
                        *y++ = dl * (float)(low - ((x[b].hmask[l] & m) ? 0 : 4));
                    }
                }
            }
        }
    }
}

// ---- q4_K -----------------------------------------------------------------------------------------------

void quantize_row_q4_K(const float * x, void * vy, int64_t n) {
    block_q4_K * y = (block_q4_K *)vy;
    for (int64_t b = 0; b < n / QK_K; ++b, x += QK_K) {
        uint8_t L[QK_K];
        quantize_k_affine_superblock(x, 15, &y[b].d, &y[b].dmin, y[b].scales, L);
        for (int c = 0; c < 4; ++c)
            for (int l = 0; l < 32; ++l)
                y[b].qs[32 * c + l] = (uint8_t)(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
    }
}

void dequantize_row_q4_K(const void * vx, float * y, int64_t n) {
    const block_q4_K * x = (const block_q4_K *)vx;
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = fp16_to_fp32(x[b].d);
        const float dmin = fp16_to_fp32(x[b].dmin);
        for (int c = 0; c < 4; ++c) {
            const uint8_t * q = x[b].qs + 32 * c;
            uint8_t sc, m;
            unpack_scale_min(2 * c, x[b].scales, &sc, &m);
            const float d1 = d * (float)sc, m1 = dmin * (float)m;
            unpack_scale_min(2 * c + 1, x[b].scales, &sc, &m);
            const float d2 = d * (float)sc, m2 = dmin * (float)m;
            for (int l = 0; l < 32; ++l) *y++ = d1 * (float)(q[l] & 0xF) - m1;
            for (int l = 0; l < 32; ++l) *y++ = d2 * (float)(q[l] >> 4) - m2;
        }
    }
}

// ---- q5_K -----------------------------------------------------------------------------------------------

void quantize_row_q5_K(const float * x, void * vy, int64_t n) {
    block_q5_K * y = (block_q5_K *)vy;
    for (int64_t b = 0; b < n / QK_K; ++b, x += QK_K) {
        uint8_t L[QK_K];
        quantize_k_affine_superblock(x, 31, &y[b].d, &y[b].dmin, y[b].scales, L);
        std::memset(y[b].qh, 0, sizeof(y[b].qh));
        for (int c = 0; c < 4; ++c)
            for (int l = 0; l < 32; ++l) {
                const int lo = L[64 * c + l], hi = L[64 * c + 32 + l];
                y[b].qs[32 * c + l] = (uint8_t)((lo & 0xF) | ((hi & 0xF) << 4));
                y[b].qh[l] |= (uint8_t)(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
            }
    }
}

void dequantize_row_q5_K(const void * vx, float * y, int64_t n) {
    const block_q5_K * x = (const block_q5_K *)vx;
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = fp16_to_fp32(x[b].d);
        const float dmin = fp16_to_fp32(x[b].dmin);
        const uint8_t * qh = x[b].qh;
        for (int c = 0; c < 4; ++c) {
            const uint8_t * ql = x[b].qs + 32 * c;
            uint8_t sc, m;
            unpack_scale_min(2 * c, x[b].scales, &sc, &m);
            const float d1 = d * (float)sc, m1 = dmin * (float)m;
            unpack_scale_min(2 * c + 1, x[b].scales, &sc, &m);
            const float d2 = d * (float)sc, m2 = dmin * (float)m;
            const uint8_t u1 = (uint8_t)(1 << (2 * c)), u2 = (uint8_t)(2 << (2 * c));
            for (int l = 0; l < 32; ++l) *y++ = d1 * (float)((ql[l] & 0xF) + ((qh[l] & u1) ? 16 : 0)) - m1;
            for (int l = 0; l < 32; ++l) *y++ = d2 * (float)((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
        }
    }
}

// ---- q6_K -----------------------------------------------------------------------------------------------

void quantize_row_q6_K(const float * x, void * vy, int64_t n) {
    block_q6_K * y = (block_q6_K *)vy;
    for (int64_t b = 0; b < n / QK_K; ++b, x += QK_K) {
        int8_t L[QK_K];
        float scales[16], w[16];
        float max_scale = 0.0f, amax = 0.0f;
        for (int j = 0; j < 16; ++j) {
            const float * xs = x + 16 * j;
            for (int i = 0; i < 16; ++i) w[i] = 1.0f;
            scales[j] = fit_symmetric(16, 32, xs, w, L + 16 * j, 9);
            if (std::fabs(scales[j]) > amax) { amax = std::fabs(scales[j]); max_scale = scales[j]; }
        }
        std::memset(&y[b], 0, sizeof(block_q6_K));
        if (amax < 1e-30f) continue;  // all-zero super-block: d = 0 decodes to zeros
        const float iscale = -128.0f / max_scale;
        y[b].d = fp32_to_fp16(1.0f / iscale);
        for (int j = 0; j < 16; ++j) y[b].scales[j] = (int8_t)std::min(127, nearest_int(iscale * scales[j]));
        const float d = fp16_to_fp32(y[b].d);
        for (int j = 0; j < 16; ++j) {
            const float ds = d * (float)y[b].scales[j];
            if (ds == 0.0f) continue;
            for (int i = 0; i < 16; ++i)
                L[16 * j + i] = (int8_t)(std::clamp(nearest_int(x[16 * j + i] / ds), -32, 31) + 32);
        }
        for (int h = 0; h < 2; ++h) {
            uint8_t * ql = y[b].ql + 64 * h;
            uint8_t * qh = y[b].qh + 32 * h;
            const int8_t * Lh = L + 128 * h;
            for (int l = 0; l < 32; ++l) {
                ql[l] = (uint8_t)((Lh[l] & 0xF) | ((Lh[l + 64] & 0xF) << 4));
                ql[l + 32] = (uint8_t)((Lh[l + 32] & 0xF) | ((Lh[l + 96] & 0xF) << 4));
                qh[l] = (uint8_t)((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) | ((Lh[l + 64] >> 4) << 4) |
                                  ((Lh[l + 96] >> 4) << 6));
            }
        }
    }
}

void dequantize_row_q6_K(const void * vx, float * y, int64_t n) {
    const block_q6_K * x = (const block_q6_K *)vx;
    for (int64_t b = 0; b < n / QK_K; ++b, y += QK_K) {
        const float d = fp16_to_fp32(x[b].d);
        for (int h = 0; h < 2; ++h) {
            const uint8_t * ql = x[b].ql + 64 * h;
            const uint8_t * qh = x[b].qh + 32 * h;
            const int8_t * sc = x[b].scales + 8 * h;
            float * yh = y + 128 * h;
            for (int l = 0; l < 32; ++l) {
                const int is = l / 16;
                const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                yh[l] = d * (float)sc[is] * (float)q1;
                yh[l + 32] = d * (float)sc[is + 2] * (float)q2;
                yh[l + 64] = d * (float)sc[is + 4] * (float)q3;
                yh[l + 96] = d * (float)sc[is + 6] * (float)q4;
            }
        }
    }
}

// ---- q8_K (activations) ---------------------------------------------------------------------------------
// Same arithmetic as ggml's reference so dot products against K-quant weights agree: d = max / -127
// (signed max of largest magnitude), q = min(127, round(x * -127 / max)), bsums of each 16.

void quantize_row_q8_K(const float * x, void * vy, int64_t n) {
    block_q8_K * y = (block_q8_K *)vy;
    for (int64_t b = 0; b < n / QK_K; ++b, x += QK_K) {
        float amax = 0.0f, max = 0.0f;
        for (int i = 0; i < QK_K; ++i)
            if (std::fabs(x[i]) > amax) { amax = std::fabs(x[i]); max = x[i]; }
        if (amax == 0.0f) {
            std::memset(&y[b], 0, sizeof(block_q8_K));
            continue;
        }
        const float iscale = -127.0f / max;
        for (int i = 0; i < QK_K; ++i) y[b].qs[i] = (int8_t)std::min(127, nearest_int(iscale * x[i]));
        for (int j = 0; j < QK_K / 16; ++j) {
            int sum = 0;
            for (int i = 0; i < 16; ++i) sum += y[b].qs[16 * j + i];
            y[b].bsums[j] = (int16_t)sum;
        }
        y[b].d = 1.0f / iscale;
    }
}

void dequantize_row_q8_K(const void * vx, float * y, int64_t n) {
    const block_q8_K * x = (const block_q8_K *)vx;
    for (int64_t b = 0; b < n / QK_K; ++b)
        for (int i = 0; i < QK_K; ++i) *y++ = x[b].d * (float)x[b].qs[i];
}

}  // namespace sy::detail
