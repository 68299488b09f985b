// Vector activation quantizers for the x86 matmul paths (private; see matmul_x86.h for how the two ISA
// files include it). Same arithmetic as quantize_act_*_scalar: scale 127 / amax, round to nearest even.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "tensor/matmul_internal.h"

namespace sy::detail {
namespace {

inline float x86_hmax(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

inline int32_t x86_hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

// 32 floats (4 vectors) -> 32 int8 stored at q (in order); returns the four int32 vectors' sum.
inline __m256i x86_quant32(const float * x, __m256 scale, int8_t * q) {
    const __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x), scale));
    const __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8), scale));
    const __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 16), scale));
    const __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 24), scale));
    // packs interleave 128-bit lanes; the permute restores element order.
    const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
    _mm256_storeu_si256((__m256i *)q, _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
    return _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3));
}

inline __m256 x86_abs(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

void x86_quantize_act_q8_32(const float * x, uint8_t * row, int64_t n_in) {
    const ActLayout lay = act_layout(ActKind::ActKind_q8_32, n_in);
    int8_t * qs = (int8_t *)row;
    float * d = (float *)(row + lay.d_off);
    int32_t * sums = (int32_t *)(row + lay.sum_off);
    for (int64_t b = 0; b < n_in / 32; ++b) {
        const float * xb = x + b * 32;
        __m256 m = _mm256_max_ps(x86_abs(_mm256_loadu_ps(xb)), x86_abs(_mm256_loadu_ps(xb + 8)));
        m = _mm256_max_ps(m, _mm256_max_ps(x86_abs(_mm256_loadu_ps(xb + 16)), x86_abs(_mm256_loadu_ps(xb + 24))));
        const float amax = x86_hmax(m);
        const float id = amax > 0.0f ? 127.0f / amax : 0.0f;
        d[b] = amax / 127.0f;
        sums[b] = x86_hsum_i32(x86_quant32(xb, _mm256_set1_ps(id), qs + b * 32));
    }
}

void x86_quantize_act_q8_256(const float * x, uint8_t * row, int64_t n_in) {
    const ActLayout lay = act_layout(ActKind::ActKind_q8_256, n_in);
    int8_t * qs = (int8_t *)row;
    float * d = (float *)(row + lay.d_off);
    int16_t * bsums = (int16_t *)(row + lay.sum_off);
    for (int64_t b = 0; b < n_in / 256; ++b) {
        const float * xb = x + b * 256;
        __m256 m = _mm256_setzero_ps();
        for (int i = 0; i < 256; i += 8) m = _mm256_max_ps(m, x86_abs(_mm256_loadu_ps(xb + i)));
        const float amax = x86_hmax(m);
        const float id = amax > 0.0f ? 127.0f / amax : 0.0f;
        d[b] = amax / 127.0f;
        const __m256 scale = _mm256_set1_ps(id);
        for (int j = 0; j < 8; ++j) {
            // 32 elements = two sums of 16
            const float * xj = xb + 32 * j;
            int8_t * q = qs + b * 256 + 32 * j;
            const __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xj), scale));
            const __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xj + 8), scale));
            const __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xj + 16), scale));
            const __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xj + 24), scale));
            const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
            _mm256_storeu_si256((__m256i *)q, _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
            bsums[b * 16 + 2 * j] = (int16_t)x86_hsum_i32(_mm256_add_epi32(i0, i1));
            bsums[b * 16 + 2 * j + 1] = (int16_t)x86_hsum_i32(_mm256_add_epi32(i2, i3));
        }
    }
}

}  // namespace
}  // namespace sy::detail
