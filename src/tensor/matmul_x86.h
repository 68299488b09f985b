// x86 matmul tiles shared by matmul_avx2.cpp and matmul_avx512.cpp (private; 256-bit vectors). Each of
// those files is compiled with its own ISA flags and includes this header inside its own namespace after
// defining the integer dot primitive below (in sy::detail's anonymous namespace), so the two copies never mix:
//   __m256i dot_u8s8(__m256i acc, __m256i u, __m256i a)   acc (int32 × 8) += Σ of 4 adjacent u[i]·a[i],
//   u unsigned bytes, a signed bytes (pair sums must fit int16 on AVX2: u·a ≤ 255·127 holds for |a| ≤ 127
//   and u ≤ 128)
//
// Kernels compute one register tile of R weight rows × T activation rows (template parameters) over the
// whole row length; x86_tile_any<> picks the instantiation for a remainder tile. Per 32-block the weight side
// (decode, abs) is done once per row and the activation side (load, scale) once per token, so a tile of
// R × T reuses each of them T or R times. The integer arithmetic is the scalar twin's (matmul_scalar.cpp);
// only the order of the float additions differs.
#pragma once

#include <immintrin.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "tensor/blocks.h"
#include "tensor/matmul_internal.h"

namespace sy::detail {
namespace {  // internal linkage: each ISA file gets its own copy, compiled with its own flags

inline float x86_hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

inline float x86_half(uint16_t h) { return _cvtsh_ss(h); }

// 32 bits -> 32 bytes, byte i = 0xFF where bit i is set.
inline __m256i x86_bits_to_bytes(uint32_t bits) {
    const __m256i shuf = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), shuf);
    v = _mm256_or_si256(v, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
    return _mm256_cmpeq_epi8(v, _mm256_set1_epi64x(-1));
}

// 16 packed bytes -> 32 nibbles: low nibbles are elements 0..15, high nibbles 16..31.
inline __m256i x86_nibbles(const uint8_t * qs) {
    const __m128i x = _mm_loadu_si128((const __m128i *)qs);
    const __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(x), _mm_srli_epi16(x, 4), 1);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}

// ---- tile selection -------------------------------------------------------------------------------------

template <class Kern, int MR, int NT, size_t... I>
constexpr std::array<TileFn, sizeof...(I)> x86_tile_fns(std::index_sequence<I...>) {
    return {{&Kern::template run<(int)(I / NT) + 1, (int)(I % NT) + 1>...}};
}

template <class Kern, int MR, int NT>
void x86_tile_any(const TileArgs & a) {
    static constexpr auto fns = x86_tile_fns<Kern, MR, NT>(std::make_index_sequence<MR * NT>{});
    fns[(a.nr - 1) * NT + (a.nt - 1)](a);
}

// ---- 32-blocks: q4_0 q4_1 q5_0 q5_1 q8_0 ------------------------------------------------------------------
// decode() gives 32 int8 values with value = d * q (+ m for the unsigned types).

struct DecQ4_0 {
    static constexpr size_t bytes = sizeof(block_q4_0);
    static constexpr bool is_signed = true;
    static __m256i decode(const uint8_t * p, float & d, float & m) {
        const auto * b = (const block_q4_0 *)p;
        d = x86_half(b->d);
        m = 0.0f;
        return _mm256_sub_epi8(x86_nibbles(b->qs), _mm256_set1_epi8(8));
    }
};

struct DecQ4_1 {
    static constexpr size_t bytes = sizeof(block_q4_1);
    static constexpr bool is_signed = false;
    static __m256i decode(const uint8_t * p, float & d, float & m) {
        const auto * b = (const block_q4_1 *)p;
        d = x86_half(b->d);
        m = x86_half(b->m);
        return x86_nibbles(b->qs);
    }
};

struct DecQ5_0 {
    static constexpr size_t bytes = sizeof(block_q5_0);
    static constexpr bool is_signed = true;
    static __m256i decode(const uint8_t * p, float & d, float & m) {
        const auto * b = (const block_q5_0 *)p;
        d = x86_half(b->d);
        m = 0.0f;
        uint32_t qh;
        std::memcpy(&qh, b->qh, 4);
        const __m256i hi = _mm256_and_si256(x86_bits_to_bytes(qh), _mm256_set1_epi8(0x10));
        return _mm256_sub_epi8(_mm256_or_si256(x86_nibbles(b->qs), hi), _mm256_set1_epi8(16));
    }
};

struct DecQ5_1 {
    static constexpr size_t bytes = sizeof(block_q5_1);
    static constexpr bool is_signed = false;
    static __m256i decode(const uint8_t * p, float & d, float & m) {
        const auto * b = (const block_q5_1 *)p;
        d = x86_half(b->d);
        m = x86_half(b->m);
        uint32_t qh;
        std::memcpy(&qh, b->qh, 4);
        const __m256i hi = _mm256_and_si256(x86_bits_to_bytes(qh), _mm256_set1_epi8(0x10));
        return _mm256_or_si256(x86_nibbles(b->qs), hi);
    }
};

struct DecQ8_0 {
    static constexpr size_t bytes = sizeof(block_q8_0);
    static constexpr bool is_signed = true;
    static __m256i decode(const uint8_t * p, float & d, float & m) {
        const auto * b = (const block_q8_0 *)p;
        d = x86_half(b->d);
        m = 0.0f;
        return _mm256_loadu_si256((const __m256i *)b->qs);
    }
};

template <class Dec>
struct TileBlock32 {
    template <int R, int T>
    static void run(const TileArgs & a) {
        const int64_t nb = a.n_in / 32;
        const size_t astride = a.lay->row_bytes;
        const uint8_t * arow[T];
        const float * ad[T];
        const int32_t * as[T];
        for (int t = 0; t < T; ++t) {
            arow[t] = a.a + t * astride;
            ad[t] = (const float *)(arow[t] + a.lay->d_off);
            as[t] = (const int32_t *)(arow[t] + a.lay->sum_off);
        }
        __m256 acc[R][T];
        float corr[R][T];
        for (int r = 0; r < R; ++r)
            for (int t = 0; t < T; ++t) {
                acc[r][t] = _mm256_setzero_ps();
                corr[r][t] = 0.0f;
            }
        for (int64_t b = 0; b < nb; ++b) {
            __m256i wq[R], wabs[R];
            __m256 dwv[R];
            float dw[R], mw[R];
            for (int r = 0; r < R; ++r) {
                const uint8_t * p = a.w + r * a.w_stride + b * Dec::bytes;
                _mm_prefetch((const char *)p + 8 * Dec::bytes, _MM_HINT_T0);
                wq[r] = Dec::decode(p, dw[r], mw[r]);
                dwv[r] = _mm256_set1_ps(dw[r]);
                if constexpr (Dec::is_signed) wabs[r] = _mm256_abs_epi8(wq[r]);
            }
            for (int t = 0; t < T; ++t) {
                const __m256i aq = _mm256_load_si256((const __m256i *)(arow[t] + b * 32));
                const float da = ad[t][b];
                const __m256 dav = _mm256_set1_ps(da);
                for (int r = 0; r < R; ++r) {
                    __m256i p;
                    if constexpr (Dec::is_signed)
                        p = dot_u8s8(_mm256_setzero_si256(), wabs[r], _mm256_sign_epi8(aq, wq[r]));
                    else
                        p = dot_u8s8(_mm256_setzero_si256(), wq[r], aq);
                    // (p · d_w) · d_a: the weight scale is broadcast once per row, the activation's once per token
                    acc[r][t] = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(p), dwv[r]), dav, acc[r][t]);
                    if constexpr (!Dec::is_signed) corr[r][t] += mw[r] * da * (float)as[t][b];
                }
            }
        }
        for (int t = 0; t < T; ++t)
            for (int r = 0; r < R; ++r) a.y[t * a.ldy + r] = x86_hsum(acc[r][t]) + corr[r][t];
    }
};

// ---- q4_K (and q5_K): 8 sub-blocks of 32 with 6-bit scales and mins --------------------------------------

template <bool Five>
struct TileQ45K {
    using Block = std::conditional_t<Five, block_q5_K, block_q4_K>;

    template <int R, int T>
    static void run(const TileArgs & a) {
        const int64_t nsb = a.n_in / 256;
        const size_t astride = a.lay->row_bytes;
        __m256 acc[R][T];
        for (int r = 0; r < R; ++r)
            for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
        const __m256i m4 = _mm256_set1_epi8(0x0F);
        for (int64_t sb = 0; sb < nsb; ++sb) {
            const Block * blk[R];
            alignas(32) int16_t sc[R][8];
            __m256i mins16[R];  // per-16 mins: m0 m0 m1 m1 ... m7 m7
            float dw[R], dmw[R];
            for (int r = 0; r < R; ++r) {
                blk[r] = (const Block *)(a.w + r * a.w_stride) + sb;
                _mm_prefetch((const char *)(blk[r] + 1), _MM_HINT_T0);
                _mm_prefetch((const char *)(blk[r] + 1) + 64, _MM_HINT_T0);
                dw[r] = x86_half(blk[r]->d);
                dmw[r] = x86_half(blk[r]->dmin);
                alignas(32) int16_t mn[16];
                for (int j = 0; j < 8; ++j) {
                    int s, m;
                    kquant_scale_min(j, blk[r]->scales, s, m);
                    sc[r][j] = (int16_t)s;
                    mn[2 * j] = mn[2 * j + 1] = (int16_t)m;
                }
                mins16[r] = _mm256_load_si256((const __m256i *)mn);
            }
            __m256i isum[R][T];
            for (int r = 0; r < R; ++r)
                for (int t = 0; t < T; ++t) isum[r][t] = _mm256_setzero_si256();
            for (int c = 0; c < 4; ++c) {
                __m256i lo[R], hi[R];
                for (int r = 0; r < R; ++r) {
                    const __m256i q = _mm256_loadu_si256((const __m256i *)(blk[r]->qs + 32 * c));
                    lo[r] = _mm256_and_si256(q, m4);
                    hi[r] = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
                    if constexpr (Five) {
                        const __m256i h = _mm256_loadu_si256((const __m256i *)blk[r]->qh);
                        const __m256i b0 = _mm256_set1_epi8((char)(1 << (2 * c)));
                        const __m256i b1 = _mm256_set1_epi8((char)(1 << (2 * c + 1)));
                        lo[r] = _mm256_or_si256(lo[r], _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(h, b0), b0),
                                                                        _mm256_set1_epi8(0x10)));
                        hi[r] = _mm256_or_si256(hi[r], _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(h, b1), b1),
                                                                        _mm256_set1_epi8(0x10)));
                    }
                }
                for (int t = 0; t < T; ++t) {
                    const int8_t * qa = (const int8_t *)(a.a + t * astride) + sb * 256 + 64 * c;
                    const __m256i a0 = _mm256_load_si256((const __m256i *)qa);
                    const __m256i a1 = _mm256_load_si256((const __m256i *)(qa + 32));
                    for (int r = 0; r < R; ++r) {
                        const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo[r], a0),
                                                             _mm256_set1_epi16(sc[r][2 * c]));
                        const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi[r], a1),
                                                             _mm256_set1_epi16(sc[r][2 * c + 1]));
                        isum[r][t] = _mm256_add_epi32(isum[r][t], _mm256_add_epi32(p0, p1));
                    }
                }
            }
            for (int t = 0; t < T; ++t) {
                const uint8_t * arow = a.a + t * astride;
                const float da = ((const float *)(arow + a.lay->d_off))[sb];
                const __m256i bs = _mm256_loadu_si256((const __m256i *)(arow + a.lay->sum_off) + sb);
                for (int r = 0; r < R; ++r) {
                    const __m256i imin = _mm256_madd_epi16(mins16[r], bs);
                    acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[r][t]), _mm256_set1_ps(dw[r] * da), acc[r][t]);
                    acc[r][t] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(imin), _mm256_set1_ps(dmw[r] * da), acc[r][t]);
                }
            }
        }
        for (int t = 0; t < T; ++t)
            for (int r = 0; r < R; ++r) a.y[t * a.ldy + r] = x86_hsum(acc[r][t]);
    }
};

// ---- q6_K: 16 sub-blocks of 16, 6-bit values offset by 32, int8 scales -----------------------------------

struct TileQ6K {
    template <int R, int T>
    static void run(const TileArgs & a) {
        const int64_t nsb = a.n_in / 256;
        const size_t astride = a.lay->row_bytes;
        __m256 acc[R][T];
        for (int r = 0; r < R; ++r)
            for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
        const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(0x03);
        for (int64_t sb = 0; sb < nsb; ++sb) {
            const block_q6_K * blk[R];
            __m256i sc16[R];   // the 16 scales as int16
            __m256i off16[R];  // -32 * scales (the value offset, applied through the activation sums)
            float dw[R];
            for (int r = 0; r < R; ++r) {
                blk[r] = (const block_q6_K *)(a.w + r * a.w_stride) + sb;
                _mm_prefetch((const char *)(blk[r] + 1), _MM_HINT_T0);
                _mm_prefetch((const char *)(blk[r] + 1) + 64, _MM_HINT_T0);
                _mm_prefetch((const char *)(blk[r] + 1) + 128, _MM_HINT_T0);
                dw[r] = x86_half(blk[r]->d);
                sc16[r] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)blk[r]->scales));
                off16[r] = _mm256_slli_epi16(_mm256_sub_epi16(_mm256_setzero_si256(), sc16[r]), 5);
            }
            __m256i isum[R][T];
            for (int r = 0; r < R; ++r)
                for (int t = 0; t < T; ++t) isum[r][t] = _mm256_setzero_si256();
            for (int n = 0; n < 2; ++n) {
                for (int k = 0; k < 4; ++k) {
                    // vector k of half n: elements 128n + 32k .. +31, sub-blocks 8n + 2k and 8n + 2k + 1
                    __m256i u[R], s[R];
                    const int j0 = 8 * n + 2 * k;
                    for (int r = 0; r < R; ++r) {
                        const uint8_t * ql = blk[r]->ql + 64 * n + (k & 1) * 32;
                        const __m256i l = _mm256_loadu_si256((const __m256i *)ql);
                        const __m256i h = _mm256_loadu_si256((const __m256i *)(blk[r]->qh + 32 * n));
                        const __m256i lo = k < 2 ? _mm256_and_si256(l, m4) : _mm256_and_si256(_mm256_srli_epi16(l, 4), m4);
                        const __m256i hb = _mm256_and_si256(_mm256_srli_epi16(h, 2 * k), m3);
                        u[r] = _mm256_or_si256(lo, _mm256_slli_epi16(hb, 4));
                        const __m128i s0 = _mm_set1_epi16(blk[r]->scales[j0]);
                        const __m128i s1 = _mm_set1_epi16(blk[r]->scales[j0 + 1]);
                        s[r] = _mm256_inserti128_si256(_mm256_castsi128_si256(s0), s1, 1);
                    }
                    for (int t = 0; t < T; ++t) {
                        const int8_t * qa = (const int8_t *)(a.a + t * astride) + sb * 256 + 128 * n + 32 * k;
                        const __m256i av = _mm256_load_si256((const __m256i *)qa);
                        for (int r = 0; r < R; ++r)
                            isum[r][t] = _mm256_add_epi32(isum[r][t],
                                                          _mm256_madd_epi16(_mm256_maddubs_epi16(u[r], av), s[r]));
                    }
                }
            }
            for (int t = 0; t < T; ++t) {
                const uint8_t * arow = a.a + t * astride;
                const float da = ((const float *)(arow + a.lay->d_off))[sb];
                const __m256i bs = _mm256_loadu_si256((const __m256i *)(arow + a.lay->sum_off) + sb);
                for (int r = 0; r < R; ++r) {
                    const __m256i tot = _mm256_add_epi32(isum[r][t], _mm256_madd_epi16(off16[r], bs));
                    acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(tot), _mm256_set1_ps(dw[r] * da), acc[r][t]);
                }
            }
        }
        for (int t = 0; t < T; ++t)
            for (int r = 0; r < R; ++r) a.y[t * a.ldy + r] = x86_hsum(acc[r][t]);
    }
};

// ---- f32 / f16 / bf16 weights against f32 activations ----------------------------------------------------

template <DType W>
struct TileFloat {
    static __m256 load8(const uint8_t * row, int64_t i) {
        if constexpr (W == DType::DType_f32) return _mm256_loadu_ps((const float *)row + i);
        else if constexpr (W == DType::DType_f16)
            return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)row + i)));
        else
            return _mm256_castsi256_ps(_mm256_slli_epi32(
                _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)((const uint16_t *)row + i))), 16));
    }
    static float load1(const uint8_t * row, int64_t i) {
        if constexpr (W == DType::DType_f32) return ((const float *)row)[i];
        else if constexpr (W == DType::DType_f16) return x86_half(((const uint16_t *)row)[i]);
        else {
            const uint32_t bits = (uint32_t)((const uint16_t *)row)[i] << 16;
            float f;
            std::memcpy(&f, &bits, 4);
            return f;
        }
    }

    template <int R, int T>
    static void run(const TileArgs & a) {
        const int64_t n = a.n_in, n8 = n & ~(int64_t)7;
        const float * x[T];
        for (int t = 0; t < T; ++t) x[t] = (const float *)(a.a + t * a.lay->row_bytes);
        const uint8_t * w[R];
        for (int r = 0; r < R; ++r) w[r] = a.w + r * a.w_stride;
        __m256 acc[R][T];
        for (int r = 0; r < R; ++r)
            for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
        constexpr int64_t kElemBytes = W == DType::DType_f32 ? 4 : 2;
        for (int64_t i = 0; i < n8; i += 8) {
            __m256 wv[R];
            for (int r = 0; r < R; ++r) {
                if (i % 32 == 0) _mm_prefetch((const char *)(w[r] + (i + 4096) * kElemBytes), _MM_HINT_T0);
                wv[r] = load8(w[r], i);
            }
            for (int t = 0; t < T; ++t) {
                const __m256 xv = _mm256_loadu_ps(x[t] + i);
                for (int r = 0; r < R; ++r) acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);
            }
        }
        for (int t = 0; t < T; ++t)
            for (int r = 0; r < R; ++r) {
                float s = x86_hsum(acc[r][t]);
                for (int64_t i = n8; i < n; ++i) s += load1(w[r], i) * x[t][i];
                a.y[t * a.ldy + r] = s;
            }
    }
};

}  // namespace
}  // namespace sy::detail
