// x86 tiles over the packed (row-interleaved) weight layouts of matmul_pack.h, shared by matmul_avx2.cpp
// and matmul_avx512.cpp (private). Like matmul_x86.h, each ISA file includes it after defining, in
// sy::detail's anonymous namespace,
//   __m256i dot_u8s8(__m256i acc, __m256i u, __m256i a)   (vpdpbusd, or maddubs + madd on AVX2)
//   constexpr bool kX86Vnni                                (true: dot_u8s8 is exact for any u8 × s8)
//
// One tile = one group of 8 rows (one row per int32 / float lane) × T tokens. Per 32-block the weight
// vectors are loaded / unpacked once and reused for the T tokens; each token contributes broadcasts of
// 4 activation bytes. The integer sum per block is exact and equals the scalar twin's (matmul_pack.cpp).
#pragma once

#include <immintrin.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <utility>

#include "tensor/matmul_internal.h"
#include "tensor/matmul_pack.h"

namespace sy::detail {
namespace {

inline __m256i x86_bcast4(const uint8_t * p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

// Stores the 8 row lanes of acc to y[0..nr).
inline void x86_store_rows(float * y, __m256 acc, int nr) {
    if (nr == kPackRows) {
        _mm256_storeu_ps(y, acc);
        return;
    }
    alignas(32) float tmp[8];
    _mm256_store_ps(tmp, acc);
    for (int r = 0; r < nr; ++r) y[r] = tmp[r];
}

// q4_0 and q5_0 (Five): unsigned nibbles (q5_0: | the high bit << 4, one byte of high bits per row and
// chunk, spread to the chunk's 4 bytes by a shuffle and a bit test), the offset 8 (16) taken off through
// the activation block sums.
template <bool Five>
struct PackedNib {
    static constexpr size_t kBlock = Five ? 176 : 144;
    static constexpr size_t kQs = Five ? 48 : 16;  // offset of the nibbles in a block
    static constexpr int kOffset = Five ? 16 : 8;

    template <int T>
    static void run(const TileArgs & a) {
        const int64_t nb = a.n_in / 32;
        const size_t astride = a.lay->row_bytes;
        const uint8_t * arow[T];
        const float * ad[T];
        const int32_t * as[T];
        __m256 acc[T];
        for (int t = 0; t < T; ++t) {
            arow[t] = a.a + t * astride;
            ad[t] = (const float *)(arow[t] + a.lay->d_off);
            as[t] = (const int32_t *)(arow[t] + a.lay->sum_off);
            acc[t] = _mm256_setzero_ps();
        }
        const __m256i m4 = _mm256_set1_epi8(0x0F);
        // q5_0: lane r's 4 bytes all get row r's high-bit byte; byte k tests bit k (low nibble, element
        // 4c + k) or bit 4 + k (high nibble, element 16 + 4c + k).
        const __m256i rep = _mm256_setr_epi8(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5,
                                             6, 6, 6, 6, 7, 7, 7, 7);
        const __m256i sel_lo = _mm256_set1_epi32(0x08040201), sel_hi = _mm256_set1_epi32((int)0x80402010);
        const __m256i b16 = _mm256_set1_epi8(0x10);
        const uint8_t * blk = a.w;
        for (int64_t b = 0; b < nb; ++b, blk += kBlock) {
            _mm_prefetch((const char *)blk + 4 * kBlock, _MM_HINT_T0);
            _mm_prefetch((const char *)blk + 4 * kBlock + 64, _MM_HINT_T0);
            _mm_prefetch((const char *)blk + 4 * kBlock + 128, _MM_HINT_T0);
            __m256i lo[4], hi[4];
            for (int c = 0; c < 4; ++c) {
                const __m256i v = _mm256_loadu_si256((const __m256i *)(blk + kQs + 32 * c));
                lo[c] = _mm256_and_si256(v, m4);
                hi[c] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
                if constexpr (Five) {
                    const __m256i h = _mm256_shuffle_epi8(
                        _mm256_broadcastq_epi64(_mm_loadl_epi64((const __m128i *)(blk + 16 + 8 * c))), rep);
                    lo[c] = _mm256_or_si256(lo[c], _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(h, sel_lo), sel_lo), b16));
                    hi[c] = _mm256_or_si256(hi[c], _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(h, sel_hi), sel_hi), b16));
                }
            }
            const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)blk));
            for (int t = 0; t < T; ++t) {
                const uint8_t * qa = arow[t] + b * 32;
                __m256i isum;
                if constexpr (kX86Vnni) {
                    __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
                    for (int c = 0; c < 4; ++c) {
                        s0 = dot_u8s8(s0, lo[c], x86_bcast4(qa + 4 * c));
                        s1 = dot_u8s8(s1, hi[c], x86_bcast4(qa + 16 + 4 * c));
                    }
                    isum = _mm256_add_epi32(s0, s1);
                } else if constexpr (!Five) {
                    // int16 lanes sum 16 products of at most 15 · 127: no saturation.
                    __m256i s = _mm256_maddubs_epi16(lo[0], x86_bcast4(qa));
                    s = _mm256_add_epi16(s, _mm256_maddubs_epi16(hi[0], x86_bcast4(qa + 16)));
                    for (int c = 1; c < 4; ++c) {
                        s = _mm256_add_epi16(s, _mm256_maddubs_epi16(lo[c], x86_bcast4(qa + 4 * c)));
                        s = _mm256_add_epi16(s, _mm256_maddubs_epi16(hi[c], x86_bcast4(qa + 16 + 4 * c)));
                    }
                    isum = _mm256_madd_epi16(s, _mm256_set1_epi16(1));
                } else {
                    // int16 lanes sum 8 products of at most 31 · 127 each (low and high nibbles apart).
                    __m256i sl = _mm256_maddubs_epi16(lo[0], x86_bcast4(qa));
                    __m256i sh = _mm256_maddubs_epi16(hi[0], x86_bcast4(qa + 16));
                    for (int c = 1; c < 4; ++c) {
                        sl = _mm256_add_epi16(sl, _mm256_maddubs_epi16(lo[c], x86_bcast4(qa + 4 * c)));
                        sh = _mm256_add_epi16(sh, _mm256_maddubs_epi16(hi[c], x86_bcast4(qa + 16 + 4 * c)));
                    }
                    const __m256i one = _mm256_set1_epi16(1);
                    isum = _mm256_add_epi32(_mm256_madd_epi16(sl, one), _mm256_madd_epi16(sh, one));
                }
                isum = _mm256_sub_epi32(isum, _mm256_set1_epi32(kOffset * as[t][b]));
                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(dw, _mm256_set1_ps(ad[t][b])), acc[t]);
            }
        }
        for (int t = 0; t < T; ++t) x86_store_rows(a.y + t * a.ldy, acc[t], a.nr);
    }
};
using PackedQ4_0 = PackedNib<false>;
using PackedQ5_0 = PackedNib<true>;

// VNNI: activations arrive as unsigned q + 128 (MatmulType::pact_u8); the 128 · Σw excess is computed once
// per block and tile (8 vpdpbusd of 128 × w, shared by the T tokens) rather than stored, so the packed
// copy is no larger than the plain rows. AVX2: signed activations, |w| × sign(a, w) as in the unpacked tiles.
struct PackedQ8_0 {
    static constexpr size_t kBlock = 272;

    template <int T>
    static void run(const TileArgs & a) {
        const int64_t nb = a.n_in / 32;
        const size_t astride = a.lay->row_bytes;
        const uint8_t * arow[T];
        const float * ad[T];
        __m256 acc[T];
        for (int t = 0; t < T; ++t) {
            arow[t] = a.a + t * astride;
            ad[t] = (const float *)(arow[t] + a.lay->d_off);
            acc[t] = _mm256_setzero_ps();
        }
        const uint8_t * blk = a.w;
        for (int64_t b = 0; b < nb; ++b, blk += kBlock) {
            for (int i = 0; i < 5; ++i) _mm_prefetch((const char *)blk + 3 * kBlock + 64 * i, _MM_HINT_T0);
            const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)blk));
            __m256i w[8];
            for (int c = 0; c < 8; ++c) w[c] = _mm256_loadu_si256((const __m256i *)(blk + 16 + 32 * c));
            if constexpr (kX86Vnni) {
                const __m256i k128 = _mm256_set1_epi8((char)0x80);
                __m256i c0 = _mm256_setzero_si256(), c1 = _mm256_setzero_si256();
                for (int c = 0; c < 8; c += 2) {
                    c0 = dot_u8s8(c0, k128, w[c]);
                    c1 = dot_u8s8(c1, k128, w[c + 1]);
                }
                const __m256i corr = _mm256_add_epi32(c0, c1);
                for (int t = 0; t < T; ++t) {
                    const uint8_t * qa = arow[t] + b * 32;
                    __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
                    for (int c = 0; c < 8; c += 2) {
                        s0 = dot_u8s8(s0, x86_bcast4(qa + 4 * c), w[c]);
                        s1 = dot_u8s8(s1, x86_bcast4(qa + 4 * c + 4), w[c + 1]);
                    }
                    const __m256i isum = _mm256_sub_epi32(_mm256_add_epi32(s0, s1), corr);
                    acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(dw, _mm256_set1_ps(ad[t][b])),
                                             acc[t]);
                }
            } else {
                __m256i wabs[8];
                for (int c = 0; c < 8; ++c) wabs[c] = _mm256_abs_epi8(w[c]);
                for (int t = 0; t < T; ++t) {
                    const uint8_t * qa = arow[t] + b * 32;
                    __m256i s = _mm256_setzero_si256();
                    for (int c = 0; c < 8; ++c)
                        s = dot_u8s8(s, wabs[c], _mm256_sign_epi8(x86_bcast4(qa + 4 * c), w[c]));
                    acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dw, _mm256_set1_ps(ad[t][b])), acc[t]);
                }
            }
        }
        for (int t = 0; t < T; ++t) x86_store_rows(a.y + t * a.ldy, acc[t], a.nr);
    }
};

// q4_K: per super-block and token, the 8 sub-block sums of nibble × q_a (one lane per row) are scaled by
// the rows' 6-bit scales and the mins are applied through the activation's per-16 sums.
// VNNI: vpdpbusd per 4-byte chunk, then vpmulld by the scales. AVX2: maddubs pairs summed in int16 over
// the 8 chunks of a sub-block (8 · 2 · 15 · 127 < 32768), then one madd by the scale (each row's scale sits
// in both int16 halves of its lane).
struct PackedQ4K {
    static constexpr size_t kBlock = 1184;

    template <int T>
    static void run(const TileArgs & a) {
        const int64_t nsb = a.n_in / 256;
        const size_t astride = a.lay->row_bytes;
        const uint8_t * arow[T];
        const float * ad[T];
        const int16_t * abs16[T];
        __m256 acc[T];
        for (int t = 0; t < T; ++t) {
            arow[t] = a.a + t * astride;
            ad[t] = (const float *)(arow[t] + a.lay->d_off);
            abs16[t] = (const int16_t *)(arow[t] + a.lay->sum_off);
            acc[t] = _mm256_setzero_ps();
        }
        const __m256i m4 = _mm256_set1_epi8(0x0F);
        const uint8_t * blk = a.w;
        for (int64_t b = 0; b < nsb; ++b, blk += kBlock) {
            const uint8_t * sc = blk + 32;
            const uint8_t * mn = blk + 96;
            const uint8_t * qs = blk + 160;
            __m256i isum[T];
            for (int t = 0; t < T; ++t) isum[t] = _mm256_setzero_si256();
            for (int c = 0; c < 4; ++c) {
                for (int i = 0; i < 4; ++i)
                    _mm_prefetch((const char *)qs + kBlock + 256 * c + 64 * i, _MM_HINT_T0);
                __m256i slo[T], shi[T];
                for (int t = 0; t < T; ++t) slo[t] = shi[t] = _mm256_setzero_si256();
                for (int k = 0; k < 8; ++k) {
                    const __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * (8 * c + k)));
                    const __m256i lo = _mm256_and_si256(v, m4);
                    const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
                    for (int t = 0; t < T; ++t) {
                        const uint8_t * qa = arow[t] + b * 256 + 64 * c + 4 * k;
                        if constexpr (kX86Vnni) {
                            slo[t] = dot_u8s8(slo[t], lo, x86_bcast4(qa));
                            shi[t] = dot_u8s8(shi[t], hi, x86_bcast4(qa + 32));
                        } else {
                            slo[t] = _mm256_add_epi16(slo[t], _mm256_maddubs_epi16(lo, x86_bcast4(qa)));
                            shi[t] = _mm256_add_epi16(shi[t], _mm256_maddubs_epi16(hi, x86_bcast4(qa + 32)));
                        }
                    }
                }
                const __m128i s_lo8 = _mm_loadl_epi64((const __m128i *)(sc + 8 * (2 * c)));
                const __m128i s_hi8 = _mm_loadl_epi64((const __m128i *)(sc + 8 * (2 * c + 1)));
                if constexpr (kX86Vnni) {
                    const __m256i s_lo = _mm256_cvtepu8_epi32(s_lo8), s_hi = _mm256_cvtepu8_epi32(s_hi8);
                    for (int t = 0; t < T; ++t)
                        isum[t] = _mm256_add_epi32(isum[t], _mm256_add_epi32(_mm256_mullo_epi32(slo[t], s_lo),
                                                                             _mm256_mullo_epi32(shi[t], s_hi)));
                } else {
                    // u8 scale r -> int16 lanes 2r and 2r+1
                    const __m256i s_lo = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(s_lo8, s_lo8));
                    const __m256i s_hi = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(s_hi8, s_hi8));
                    for (int t = 0; t < T; ++t)
                        isum[t] = _mm256_add_epi32(isum[t], _mm256_add_epi32(_mm256_madd_epi16(slo[t], s_lo),
                                                                             _mm256_madd_epi16(shi[t], s_hi)));
                }
            }
            const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)blk));
            const __m256 dmw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(blk + 16)));
            for (int t = 0; t < T; ++t) {
                const int16_t * bs = abs16[t] + b * 16;
                __m256i msum = _mm256_setzero_si256();
                for (int j = 0; j < 8; ++j) {
                    const __m256i m = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(mn + 8 * j)));
                    msum = _mm256_add_epi32(msum, _mm256_mullo_epi32(m, _mm256_set1_epi32(bs[2 * j] + bs[2 * j + 1])));
                }
                const __m256 dav = _mm256_set1_ps(ad[t][b]);
                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_mul_ps(dw, dav), acc[t]);
                acc[t] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_mul_ps(dmw, dav), acc[t]);
            }
        }
        for (int t = 0; t < T; ++t) x86_store_rows(a.y + t * a.ldy, acc[t], a.nr);
    }
};

// q6_K: per super-block half n and chunk k, three loads (two ql, one qh) give the 6-bit values of four
// sub-blocks for the 8 rows; the -32 offset is applied through the activation's per-16 sums.
// VNNI: vpdpbusd over the 4 chunks of a sub-block, then vpmulld by the (signed) scale. AVX2: maddubs then
// madd by the scale per chunk (pairs of 63 · 127 products do not saturate int16).
struct PackedQ6K {
    static constexpr size_t kBlock = 1680;

    template <int T>
    static void run(const TileArgs & a) {
        const int64_t nsb = a.n_in / 256;
        const size_t astride = a.lay->row_bytes;
        const uint8_t * arow[T];
        const float * ad[T];
        const int16_t * abs16[T];
        __m256 acc[T];
        for (int t = 0; t < T; ++t) {
            arow[t] = a.a + t * astride;
            ad[t] = (const float *)(arow[t] + a.lay->d_off);
            abs16[t] = (const int16_t *)(arow[t] + a.lay->sum_off);
            acc[t] = _mm256_setzero_ps();
        }
        const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);
        const uint8_t * blk = a.w;
        for (int64_t b = 0; b < nsb; ++b, blk += kBlock) {
            const int8_t * sc = (const int8_t *)(blk + 16);
            const uint8_t * ql = blk + 144;
            const uint8_t * qh = blk + 1168;
            for (int i = 0; i < 26; ++i) _mm_prefetch((const char *)blk + kBlock + 64 * i, _MM_HINT_T0);
            __m256i isum[T];
            for (int t = 0; t < T; ++t) isum[t] = _mm256_setzero_si256();
            for (int n = 0; n < 2; ++n) {
                for (int h = 0; h < 2; ++h) {
                    __m256i sc32[4], sc16[4];
                    for (int e = 0; e < 4; ++e) {
                        const __m128i s8 = _mm_loadl_epi64((const __m128i *)(sc + 8 * (8 * n + 2 * e + h)));
                        if constexpr (kX86Vnni) sc32[e] = _mm256_cvtepi8_epi32(s8);
                        else sc16[e] = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(s8, s8));
                    }
                    __m256i s[4][T];
                    for (int e = 0; e < 4; ++e)
                        for (int t = 0; t < T; ++t) s[e][t] = _mm256_setzero_si256();
                    for (int k = 4 * h; k < 4 * h + 4; ++k) {
                        const __m256i A = _mm256_loadu_si256((const __m256i *)(ql + 32 * (16 * n + k)));
                        const __m256i B = _mm256_loadu_si256((const __m256i *)(ql + 32 * (16 * n + 8 + k)));
                        const __m256i H = _mm256_loadu_si256((const __m256i *)(qh + 32 * (8 * n + k)));
                        __m256i u[4];
                        u[0] = _mm256_or_si256(_mm256_and_si256(A, m4), _mm256_and_si256(_mm256_slli_epi16(H, 4), m30));
                        u[1] = _mm256_or_si256(_mm256_and_si256(B, m4), _mm256_and_si256(_mm256_slli_epi16(H, 2), m30));
                        u[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(A, 4), m4), _mm256_and_si256(H, m30));
                        u[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(B, 4), m4),
                                               _mm256_and_si256(_mm256_srli_epi16(H, 2), m30));
                        for (int t = 0; t < T; ++t) {
                            const uint8_t * qa = arow[t] + b * 256 + 128 * n + 4 * k;
                            for (int e = 0; e < 4; ++e) {
                                if constexpr (kX86Vnni)
                                    s[e][t] = dot_u8s8(s[e][t], u[e], x86_bcast4(qa + 32 * e));
                                else
                                    s[e][t] = _mm256_add_epi32(
                                        s[e][t], _mm256_madd_epi16(_mm256_maddubs_epi16(u[e], x86_bcast4(qa + 32 * e)), sc16[e]));
                            }
                        }
                    }
                    for (int t = 0; t < T; ++t)
                        for (int e = 0; e < 4; ++e) {
                            if constexpr (kX86Vnni) isum[t] = _mm256_add_epi32(isum[t], _mm256_mullo_epi32(s[e][t], sc32[e]));
                            else isum[t] = _mm256_add_epi32(isum[t], s[e][t]);
                        }
                }
            }
            const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)blk));
            for (int t = 0; t < T; ++t) {
                const int16_t * bs = abs16[t] + b * 16;
                __m256i msum = _mm256_setzero_si256();
                for (int j = 0; j < 16; ++j) {
                    const __m256i m = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(sc + 8 * j)));
                    msum = _mm256_add_epi32(msum, _mm256_mullo_epi32(m, _mm256_set1_epi32(bs[j])));
                }
                const __m256i tot = _mm256_sub_epi32(isum[t], _mm256_slli_epi32(msum, 5));
                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(tot), _mm256_mul_ps(dw, _mm256_set1_ps(ad[t][b])), acc[t]);
            }
        }
        for (int t = 0; t < T; ++t) x86_store_rows(a.y + t * a.ldy, acc[t], a.nr);
    }
};

// f16: per pair of elements, one 32-byte load gives 8 rows × 2 elements; the activation pair (x[2k],
// x[2k+1]) is broadcast as one 64-bit value, so lanes 2r / 2r+1 (row r, even / odd element) are summed
// once at the end. A tile is G groups (8·G rows) × T tokens; with few tokens U partial accumulators per
// (group, token) hide the FMA latency. AVX-512: one 512-bit vector per group; AVX2: two 256-bit vectors.
struct PackedF16 {
    static constexpr size_t kPair = 32;

#if defined(__AVX512F__)
    using V = __m512;
    static constexpr int kVecs = 1;  // vectors per group and element pair
    static V zero() { return _mm512_setzero_ps(); }
    static V load_w(const uint8_t * p, int) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)); }
    static V bcast_pair(const float * x) {
        double d;
        std::memcpy(&d, x, 8);
        return _mm512_castpd_ps(_mm512_set1_pd(d));
    }
    static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
    static V add(V a, V b) { return _mm512_add_ps(a, b); }
    // lanes (2r, 2r+1) -> y[r], r < nr
    static void store(float * y, const V * acc, int nr) {
        const V s = _mm512_add_ps(acc[0], _mm512_permute_ps(acc[0], 0xB1));
        const __m512i even = _mm512_set_epi32(14, 12, 10, 8, 6, 4, 2, 0, 14, 12, 10, 8, 6, 4, 2, 0);
        x86_store_rows(y, _mm512_castps512_ps256(_mm512_permutexvar_ps(even, s)), nr);
    }
#else
    using V = __m256;
    static constexpr int kVecs = 2;
    static V zero() { return _mm256_setzero_ps(); }
    static V load_w(const uint8_t * p, int h) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + 16 * h))); }
    static V bcast_pair(const float * x) {
        double d;
        std::memcpy(&d, x, 8);
        return _mm256_castpd_ps(_mm256_set1_pd(d));
    }
    static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
    static V add(V a, V b) { return _mm256_add_ps(a, b); }
    static void store(float * y, const V * acc, int nr) {
        // hadd: [r0 r1 r4 r5 | r2 r3 r6 r7] -> reorder the 64-bit pairs
        const __m256 h = _mm256_hadd_ps(acc[0], acc[1]);
        x86_store_rows(y, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(h), 0xD8)), nr);
    }
#endif

    template <int G, int T>
    static void run(const TileArgs & a) {
        constexpr int U = G * T * kVecs >= 8 ? 1 : 8 / (G * T * kVecs);  // partial sums per accumulator
        constexpr int S = U < 2 ? 2 : U;                                    // element pairs per step
        const int64_t np = a.n_in / 2;
        const float * x[T];
        for (int t = 0; t < T; ++t) x[t] = (const float *)(a.a + t * a.lay->row_bytes);
        const uint8_t * wg[G];
        for (int g = 0; g < G; ++g) wg[g] = a.w + g * a.w_stride;
        V acc[U][G][T][kVecs];
        for (int u = 0; u < U; ++u)
            for (int g = 0; g < G; ++g)
                for (int t = 0; t < T; ++t)
                    for (int h = 0; h < kVecs; ++h) acc[u][g][t][h] = zero();
        int64_t p = 0;
        for (; p + S <= np; p += S) {
            for (int g = 0; g < G; ++g)
                for (int i = 0; i < S * (int)kPair / 64; ++i)
                    _mm_prefetch((const char *)wg[g] + (p + 64) * kPair + 64 * i, _MM_HINT_T0);
            for (int s = 0; s < S; ++s) {
                V w[G][kVecs];
                for (int g = 0; g < G; ++g)
                    for (int h = 0; h < kVecs; ++h) w[g][h] = load_w(wg[g] + (p + s) * kPair, h);
                for (int t = 0; t < T; ++t) {
                    const V xv = bcast_pair(x[t] + 2 * (p + s));
                    for (int g = 0; g < G; ++g)
                        for (int h = 0; h < kVecs; ++h) acc[s % U][g][t][h] = fma(w[g][h], xv, acc[s % U][g][t][h]);
                }
            }
        }
        for (; p < np; ++p) {
            for (int t = 0; t < T; ++t) {
                const V xv = bcast_pair(x[t] + 2 * p);
                for (int g = 0; g < G; ++g)
                    for (int h = 0; h < kVecs; ++h) acc[0][g][t][h] = fma(load_w(wg[g] + p * kPair, h), xv, acc[0][g][t][h]);
            }
        }
        for (int g = 0; g < G; ++g) {
            const int nr = a.nr - kPackRows * g;
            if (nr <= 0) break;
            for (int t = 0; t < T; ++t) {
                V sum[kVecs];
                for (int h = 0; h < kVecs; ++h) {
                    sum[h] = acc[0][g][t][h];
                    for (int u = 1; u < U; ++u) sum[h] = add(sum[h], acc[u][g][t][h]);
                }
                store(a.y + t * a.ldy + kPackRows * g, sum, nr < kPackRows ? nr : kPackRows);
            }
        }
    }
};

template <class Kern, int G, int NT, size_t... I>
constexpr std::array<TileFn, sizeof...(I)> x86_packed_g_fns(std::index_sequence<I...>) {
    return {{&Kern::template run<(int)(I / NT) + 1, (int)(I % NT) + 1>...}};
}

// Picks run<groups, nt> for a tile of 1..G groups (args.nr rows) and 1..NT tokens.
template <class Kern, int G, int NT>
void x86_packed_g_any(const TileArgs & a) {
    static constexpr auto fns = x86_packed_g_fns<Kern, G, NT>(std::make_index_sequence<G * NT>{});
    fns[(a.nr - 1) / kPackRows * NT + (a.nt - 1)](a);
}

template <class Kern, size_t... I>
constexpr std::array<TileFn, sizeof...(I)> x86_packed_fns(std::index_sequence<I...>) {
    return {{&Kern::template run<(int)I + 1>...}};
}

// Picks run<nt> for a tile of 1..NT tokens.
template <class Kern, int NT>
void x86_packed_any(const TileArgs & a) {
    static constexpr auto fns = x86_packed_fns<Kern>(std::make_index_sequence<NT>{});
    fns[a.nt - 1](a);
}

}  // namespace
}  // namespace sy::detail
