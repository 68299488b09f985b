// Packing of weight matrices into the row-interleaved layouts of matmul_pack.h, and the scalar tiles over
// those layouts (the reference twins of the AVX2 / AVX-512 ones in matmul_x86_packed.h).
//
// The scalar tiles do the vector kernels' integer arithmetic per 32-block and row r of the group:
//   q4_0:  isum = Σ nibble·q_a − 8 · Σ q_a          y_r += (d_r · d_a) · isum
//   q5_0:  isum = Σ (nibble | hbit << 4)·q_a − 16 · Σ q_a
//   q8_0:  isum = Σ q_w·q_a                          y_r += (d_r · d_a) · isum
//   q4_K:  per sub-block j of 32: isum += sc_j · Σ nibble·q_a,  msum += mn_j · Σ q_a (from the activation sums)
//          y_r += (d_r · d_a) · isum − (dmin_r · d_a) · msum
//   q6_K:  isum = Σ_sub sc_sub · Σ (q − 32)·q_a      y_r += (d_r · d_a) · isum
//   f16:   y_r = Σ_k w_r[k] · x[k] in float (f32 activations as given)
// (activations signed; the VNNI q8_0 kernel uses q_a + 128 and subtracts 128 · Σw, the same integer).
#include "tensor/matmul_pack.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "common/fp16.h"
#include "tensor/blocks.h"
#include "tensor/matmul_internal.h"

namespace sy {
namespace detail {

size_t packed_block_bytes(DType t) {
    switch (t) {
    case DType::DType_q4_0: return 16 + 128;
    case DType::DType_q8_0: return 16 + 256;
    case DType::DType_q5_0: return 16 + 32 + 128;
    case DType::DType_q4_k: return 16 + 16 + 64 + 64 + 1024;
    case DType::DType_q6_k: return 16 + 128 + 1024 + 512;
    case DType::DType_f16: return 2 * 2 * kPackRows;
    default: return 0;
    }
}

int64_t packed_block_elems(DType t) { return t == DType::DType_f16 ? 2 : dtype_info(t).block_size; }

namespace {

void pack_q4_0(const uint8_t * const * rows, int64_t nb, uint8_t * dst) {
    for (int64_t b = 0; b < nb; ++b, dst += packed_block_bytes(DType::DType_q4_0)) {
        uint16_t * d = (uint16_t *)dst;
        uint8_t * qs = dst + 16;
        for (int r = 0; r < kPackRows; ++r) {
            if (!rows[r]) {
                d[r] = 0;
                for (int c = 0; c < 4; ++c) std::memset(qs + 32 * c + 4 * r, 0x88, 4);  // nibbles 8 = value 0
                continue;
            }
            const block_q4_0 * src = (const block_q4_0 *)rows[r] + b;
            d[r] = src->d;
            for (int c = 0; c < 4; ++c) std::memcpy(qs + 32 * c + 4 * r, src->qs + 4 * c, 4);
        }
    }
}

// q5_0: like q4_0 plus one byte of high bits per row and nibble chunk (see matmul_pack.h).
void pack_q5_0(const uint8_t * const * rows, int64_t nb, uint8_t * dst) {
    for (int64_t b = 0; b < nb; ++b, dst += packed_block_bytes(DType::DType_q5_0)) {
        uint16_t * d = (uint16_t *)dst;
        uint8_t * qh = dst + 16;
        uint8_t * qs = dst + 48;
        for (int r = 0; r < kPackRows; ++r) {
            if (!rows[r]) {  // d = 0: the row contributes nothing whatever its quants
                d[r] = 0;
                for (int c = 0; c < 4; ++c) {
                    qh[8 * c + r] = 0;
                    std::memset(qs + 32 * c + 4 * r, 0, 4);
                }
                continue;
            }
            const block_q5_0 * src = (const block_q5_0 *)rows[r] + b;
            d[r] = src->d;
            uint32_t h;
            std::memcpy(&h, src->qh, 4);
            for (int c = 0; c < 4; ++c) {
                std::memcpy(qs + 32 * c + 4 * r, src->qs + 4 * c, 4);
                qh[8 * c + r] = (uint8_t)(((h >> (4 * c)) & 0xF) | (((h >> (16 + 4 * c)) & 0xF) << 4));
            }
        }
    }
}

void pack_q8_0(const uint8_t * const * rows, int64_t nb, uint8_t * dst) {
    for (int64_t b = 0; b < nb; ++b, dst += packed_block_bytes(DType::DType_q8_0)) {
        uint16_t * d = (uint16_t *)dst;
        int8_t * qs = (int8_t *)(dst + 16);
        for (int r = 0; r < kPackRows; ++r) {
            if (!rows[r]) {
                d[r] = 0;
                for (int c = 0; c < 8; ++c) std::memset(qs + 32 * c + 4 * r, 0, 4);
                continue;
            }
            const block_q8_0 * src = (const block_q8_0 *)rows[r] + b;
            d[r] = src->d;
            for (int c = 0; c < 8; ++c) std::memcpy(qs + 32 * c + 4 * r, src->qs + 4 * c, 4);
        }
    }
}

void pack_q4_k(const uint8_t * const * rows, int64_t nsb, uint8_t * dst) {
    for (int64_t b = 0; b < nsb; ++b, dst += packed_block_bytes(DType::DType_q4_k)) {
        uint16_t * d = (uint16_t *)dst;
        uint16_t * dmin = (uint16_t *)(dst + 16);
        uint8_t * sc = dst + 32;
        uint8_t * mn = dst + 96;
        uint8_t * qs = dst + 160;
        for (int r = 0; r < kPackRows; ++r) {
            if (!rows[r]) {
                d[r] = dmin[r] = 0;
                for (int j = 0; j < 8; ++j) sc[8 * j + r] = mn[8 * j + r] = 0;
                for (int v = 0; v < 32; ++v) std::memset(qs + 32 * v + 4 * r, 0, 4);
                continue;
            }
            const block_q4_K * src = (const block_q4_K *)rows[r] + b;
            d[r] = src->d;
            dmin[r] = src->dmin;
            for (int j = 0; j < 8; ++j) {
                int s, m;
                kquant_scale_min(j, src->scales, s, m);
                sc[8 * j + r] = (uint8_t)s;
                mn[8 * j + r] = (uint8_t)m;
            }
            for (int v = 0; v < 32; ++v) std::memcpy(qs + 32 * v + 4 * r, src->qs + 4 * v, 4);
        }
    }
}

void pack_q6_k(const uint8_t * const * rows, int64_t nsb, uint8_t * dst) {
    for (int64_t b = 0; b < nsb; ++b, dst += packed_block_bytes(DType::DType_q6_k)) {
        uint16_t * d = (uint16_t *)dst;
        int8_t * sc = (int8_t *)(dst + 16);
        uint8_t * ql = dst + 144;
        uint8_t * qh = dst + 1168;
        for (int r = 0; r < kPackRows; ++r) {
            if (!rows[r]) {  // all quants 32 = value 0
                d[r] = 0;
                for (int j = 0; j < 16; ++j) sc[8 * j + r] = 0;
                for (int v = 0; v < 32; ++v) std::memset(ql + 32 * v + 4 * r, 0, 4);
                for (int v = 0; v < 16; ++v) std::memset(qh + 32 * v + 4 * r, 0xAA, 4);
                continue;
            }
            const block_q6_K * src = (const block_q6_K *)rows[r] + b;
            d[r] = src->d;
            for (int j = 0; j < 16; ++j) sc[8 * j + r] = src->scales[j];
            for (int v = 0; v < 32; ++v) std::memcpy(ql + 32 * v + 4 * r, src->ql + 4 * v, 4);
            for (int v = 0; v < 16; ++v) std::memcpy(qh + 32 * v + 4 * r, src->qh + 4 * v, 4);
        }
    }
}

// f16: row r's elements 2k, 2k+1 (4 bytes) at 4r of pair k's 32 bytes.
void pack_f16(const uint8_t * const * rows, int64_t np, uint8_t * dst) {
    for (int64_t p = 0; p < np; ++p, dst += packed_block_bytes(DType::DType_f16))
        for (int r = 0; r < kPackRows; ++r) {
            if (rows[r]) std::memcpy(dst + 4 * r, rows[r] + 4 * p, 4);
            else std::memset(dst + 4 * r, 0, 4);
        }
}

// Shared loop of the scalar packed tiles: per 32-block, per token, per row, isum from `dot`.
template <class Dot>
void packed_tile_32(const TileArgs & a, size_t block_bytes, Dot && dot) {
    const int64_t nb = a.n_in / 32;
    float acc[kPackRows][8] = {};
    SY_ASSERT(a.nt <= 8);
    for (int64_t b = 0; b < nb; ++b) {
        const uint8_t * blk = a.w + b * block_bytes;
        const uint16_t * d = (const uint16_t *)blk;
        for (int t = 0; t < a.nt; ++t) {
            const uint8_t * arow = a.a + t * a.lay->row_bytes;
            const int8_t * qa = (const int8_t *)arow + b * 32;
            const float da = ((const float *)(arow + a.lay->d_off))[b];
            const int32_t sa = ((const int32_t *)(arow + a.lay->sum_off))[b];
            for (int r = 0; r < kPackRows; ++r) {
                const int32_t isum = dot(blk, r, qa, sa);
                acc[r][t] += (fp16_to_fp32(d[r]) * da) * (float)isum;
            }
        }
    }
    for (int t = 0; t < a.nt; ++t)
        for (int r = 0; r < a.nr; ++r) a.y[t * a.ldy + r] = acc[r][t];
}

}  // namespace

void packed_tile_q4_0_scalar(const TileArgs & a) {
    packed_tile_32(a, packed_block_bytes(DType::DType_q4_0), [](const uint8_t * blk, int r, const int8_t * qa, int32_t sa) {
        const uint8_t * qs = blk + 16;
        int32_t isum = 0;
        for (int c = 0; c < 4; ++c)
            for (int k = 0; k < 4; ++k) {
                const uint8_t q = qs[32 * c + 4 * r + k];
                isum += (q & 0xF) * qa[4 * c + k] + (q >> 4) * qa[16 + 4 * c + k];
            }
        return isum - 8 * sa;
    });
}

void packed_tile_q5_0_scalar(const TileArgs & a) {
    packed_tile_32(a, packed_block_bytes(DType::DType_q5_0), [](const uint8_t * blk, int r, const int8_t * qa, int32_t sa) {
        const uint8_t * qh = blk + 16;
        const uint8_t * qs = blk + 48;
        int32_t isum = 0;
        for (int c = 0; c < 4; ++c) {
            const int h = qh[8 * c + r];
            for (int k = 0; k < 4; ++k) {
                const uint8_t q = qs[32 * c + 4 * r + k];
                const int lo = (q & 0xF) | (((h >> k) & 1) << 4), hi = (q >> 4) | (((h >> (4 + k)) & 1) << 4);
                isum += lo * qa[4 * c + k] + hi * qa[16 + 4 * c + k];
            }
        }
        return isum - 16 * sa;
    });
}

void packed_tile_q8_0_scalar(const TileArgs & a) {
    packed_tile_32(a, packed_block_bytes(DType::DType_q8_0), [](const uint8_t * blk, int r, const int8_t * qa, int32_t) {
        const int8_t * qs = (const int8_t *)(blk + 16);
        int32_t isum = 0;
        for (int c = 0; c < 8; ++c)
            for (int k = 0; k < 4; ++k) isum += qs[32 * c + 4 * r + k] * qa[4 * c + k];
        return isum;
    });
}

void packed_tile_q4_k_scalar(const TileArgs & a) {
    const int64_t nsb = a.n_in / 256;
    const size_t bb = packed_block_bytes(DType::DType_q4_k);
    float acc[kPackRows][8] = {};
    SY_ASSERT(a.nt <= 8);
    for (int64_t b = 0; b < nsb; ++b) {
        const uint8_t * blk = a.w + b * bb;
        const uint16_t * d = (const uint16_t *)blk;
        const uint16_t * dmin = (const uint16_t *)(blk + 16);
        const uint8_t * sc = blk + 32;
        const uint8_t * mn = blk + 96;
        const uint8_t * qs = blk + 160;
        for (int t = 0; t < a.nt; ++t) {
            const uint8_t * arow = a.a + t * a.lay->row_bytes;
            const int8_t * qa = (const int8_t *)arow + b * 256;
            const float da = ((const float *)(arow + a.lay->d_off))[b];
            const int16_t * bs = (const int16_t *)(arow + a.lay->sum_off) + b * 16;
            for (int r = 0; r < kPackRows; ++r) {
                int32_t isum = 0, msum = 0;
                for (int c = 0; c < 4; ++c) {
                    int32_t lo = 0, hi = 0;
                    for (int k = 0; k < 8; ++k)
                        for (int j = 0; j < 4; ++j) {
                            const uint8_t q = qs[32 * (8 * c + k) + 4 * r + j];
                            lo += (q & 0xF) * qa[64 * c + 4 * k + j];
                            hi += (q >> 4) * qa[64 * c + 32 + 4 * k + j];
                        }
                    isum += sc[8 * (2 * c) + r] * lo + sc[8 * (2 * c + 1) + r] * hi;
                }
                for (int j = 0; j < 8; ++j) msum += mn[8 * j + r] * (bs[2 * j] + bs[2 * j + 1]);
                acc[r][t] += (fp16_to_fp32(d[r]) * da) * (float)isum - (fp16_to_fp32(dmin[r]) * da) * (float)msum;
            }
        }
    }
    for (int t = 0; t < a.nt; ++t)
        for (int r = 0; r < a.nr; ++r) a.y[t * a.ldy + r] = acc[r][t];
}

void packed_tile_q6_k_scalar(const TileArgs & a) {
    const int64_t nsb = a.n_in / 256;
    const size_t bb = packed_block_bytes(DType::DType_q6_k);
    float acc[kPackRows][8] = {};
    SY_ASSERT(a.nt <= 8);
    for (int64_t b = 0; b < nsb; ++b) {
        const uint8_t * blk = a.w + b * bb;
        const uint16_t * d = (const uint16_t *)blk;
        const int8_t * sc = (const int8_t *)(blk + 16);
        const uint8_t * ql = blk + 144;
        const uint8_t * qh = blk + 1168;
        for (int t = 0; t < a.nt; ++t) {
            const uint8_t * arow = a.a + t * a.lay->row_bytes;
            const int8_t * qa = (const int8_t *)arow + b * 256;
            const float da = ((const float *)(arow + a.lay->d_off))[b];
            for (int r = 0; r < kPackRows; ++r) {
                int32_t isum = 0;
                for (int n = 0; n < 2; ++n)
                    for (int k = 0; k < 8; ++k)
                        for (int j = 0; j < 4; ++j) {
                            const int A = ql[32 * (16 * n + k) + 4 * r + j], B = ql[32 * (16 * n + 8 + k) + 4 * r + j];
                            const int H = qh[32 * (8 * n + k) + 4 * r + j];
                            const int q[4] = {(A & 0xF) | (H & 3) << 4, (B & 0xF) | ((H >> 2) & 3) << 4,
                                              (A >> 4) | ((H >> 4) & 3) << 4, (B >> 4) | ((H >> 6) & 3) << 4};
                            for (int e = 0; e < 4; ++e) {
                                const int sub = 8 * n + 2 * e + k / 4;
                                isum += sc[8 * sub + r] * (q[e] - 32) * qa[128 * n + 32 * e + 4 * k + j];
                            }
                        }
                acc[r][t] += (fp16_to_fp32(d[r]) * da) * (float)isum;
            }
        }
    }
    for (int t = 0; t < a.nt; ++t)
        for (int r = 0; r < a.nr; ++r) a.y[t * a.ldy + r] = acc[r][t];
}

void packed_tile_f16_scalar(const TileArgs & a) {
    const int64_t np = a.n_in / 2;
    for (int t = 0; t < a.nt; ++t) {
        const float * x = (const float *)(a.a + t * a.lay->row_bytes);
        float acc[kPackRows] = {};
        for (int64_t p = 0; p < np; ++p) {
            const uint16_t * w = (const uint16_t *)(a.w + p * packed_block_bytes(DType::DType_f16));
            for (int r = 0; r < kPackRows; ++r)
                acc[r] += fp16_to_fp32(w[2 * r]) * x[2 * p] + fp16_to_fp32(w[2 * r + 1]) * x[2 * p + 1];
        }
        for (int r = 0; r < a.nr; ++r) a.y[t * a.ldy + r] = acc[r];
    }
}

namespace {

// The 12 scale bytes of a q4_K / q5_K super-block from its unpacked 6-bit scales and mins (the inverse of
// kquant_scale_min).
void kquant_pack_scales(const uint8_t * sc, const uint8_t * mn, uint8_t * q) {
    for (int j = 0; j < 4; ++j) {
        q[j] = (uint8_t)((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
        q[j + 4] = (uint8_t)((mn[j] & 63) | ((mn[j + 4] >> 4) << 6));
        q[j + 8] = (uint8_t)((sc[j + 4] & 0xF) | ((mn[j + 4] & 0xF) << 4));
    }
}

}  // namespace

}  // namespace detail

void matmul_unpack_row(const WeightView & w, int64_t row, uint8_t * dst) {
    using namespace detail;
    SY_ASSERT(w.packed != nullptr && row >= 0 && row < w.n_out);
    const size_t bb = packed_block_bytes(w.type);
    const int64_t nb = w.n_in / packed_block_elems(w.type);
    const int r = (int)(row % kPackRows);
    const uint8_t * blk = w.packed + (size_t)(row / kPackRows) * (size_t)nb * bb;
    for (int64_t b = 0; b < nb; ++b, blk += bb) {
        const uint16_t * d = (const uint16_t *)blk;
        switch (w.type) {
        case DType::DType_q4_0: {
            block_q4_0 * o = (block_q4_0 *)dst + b;
            o->d = d[r];
            for (int c = 0; c < 4; ++c) std::memcpy(o->qs + 4 * c, blk + 16 + 32 * c + 4 * r, 4);
            break;
        }
        case DType::DType_q8_0: {
            block_q8_0 * o = (block_q8_0 *)dst + b;
            o->d = d[r];
            for (int c = 0; c < 8; ++c) std::memcpy(o->qs + 4 * c, blk + 16 + 32 * c + 4 * r, 4);
            break;
        }
        case DType::DType_q5_0: {
            block_q5_0 * o = (block_q5_0 *)dst + b;
            o->d = d[r];
            uint32_t h = 0;
            for (int c = 0; c < 4; ++c) {
                std::memcpy(o->qs + 4 * c, blk + 48 + 32 * c + 4 * r, 4);
                const uint32_t x = blk[16 + 8 * c + r];
                h |= (x & 0xF) << (4 * c) | (x >> 4) << (16 + 4 * c);
            }
            std::memcpy(o->qh, &h, 4);
            break;
        }
        case DType::DType_q4_k: {
            block_q4_K * o = (block_q4_K *)dst + b;
            o->d = d[r];
            o->dmin = ((const uint16_t *)(blk + 16))[r];
            uint8_t sc[8], mn[8];
            for (int j = 0; j < 8; ++j) {
                sc[j] = blk[32 + 8 * j + r];
                mn[j] = blk[96 + 8 * j + r];
            }
            kquant_pack_scales(sc, mn, o->scales);
            for (int v = 0; v < 32; ++v) std::memcpy(o->qs + 4 * v, blk + 160 + 32 * v + 4 * r, 4);
            break;
        }
        case DType::DType_q6_k: {
            block_q6_K * o = (block_q6_K *)dst + b;
            o->d = d[r];
            for (int j = 0; j < 16; ++j) o->scales[j] = (int8_t)blk[16 + 8 * j + r];
            for (int v = 0; v < 32; ++v) std::memcpy(o->ql + 4 * v, blk + 144 + 32 * v + 4 * r, 4);
            for (int v = 0; v < 16; ++v) std::memcpy(o->qh + 4 * v, blk + 1168 + 32 * v + 4 * r, 4);
            break;
        }
        case DType::DType_f16: std::memcpy(dst + 4 * b, blk + 4 * r, 4); break;
        default: SY_ASSERT_MSG(false, "matmul_unpack_row: type has no packed layout");
        }
    }
}

size_t matmul_packed_bytes(DType t, int64_t n_in, int64_t n_out) {
    const size_t bb = detail::packed_block_bytes(t);
    const int64_t be = detail::packed_block_elems(t);
    if (bb == 0 || n_in <= 0 || n_out <= 0 || n_in % be != 0) return 0;
    return (size_t)matmul_pack_groups(n_out) * (size_t)(n_in / be) * bb;
}

void matmul_pack(const WeightView & w, uint8_t * dst, int64_t g0, int64_t g1) {
    const size_t bb = detail::packed_block_bytes(w.type);
    SY_ASSERT_MSG(bb != 0, "matmul_pack: type has no packed layout");
    SY_ASSERT_MSG(w.n_in % detail::packed_block_elems(w.type) == 0, "matmul_pack: row length not packable");
    const int64_t nb = w.n_in / detail::packed_block_elems(w.type);
    SY_ASSERT(g0 >= 0 && g1 <= matmul_pack_groups(w.n_out));
    for (int64_t g = g0; g < g1; ++g) {
        const uint8_t * rows[kPackRows];
        for (int r = 0; r < kPackRows; ++r) {
            const int64_t row = g * kPackRows + r;
            rows[r] = row < w.n_out ? w.data + (size_t)row * w.row_stride : nullptr;
        }
        uint8_t * out = dst + (size_t)g * (size_t)nb * bb;
        switch (w.type) {
        case DType::DType_q4_0: detail::pack_q4_0(rows, nb, out); break;
        case DType::DType_q8_0: detail::pack_q8_0(rows, nb, out); break;
        case DType::DType_q5_0: detail::pack_q5_0(rows, nb, out); break;
        case DType::DType_q4_k: detail::pack_q4_k(rows, nb, out); break;
        case DType::DType_q6_k: detail::pack_q6_k(rows, nb, out); break;
        case DType::DType_f16: detail::pack_f16(rows, nb, out); break;
        default: SY_ASSERT_MSG(false, "matmul_pack: type has no packed layout");
        }
    }
}

}  // namespace sy
