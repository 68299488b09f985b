// Scalar matmul: the reference twin of the AVX2 / AVX-512 kernels and the fallback for every weight type,
// plus the ISA-neutral driver (activation quantization and row × token tiling over the thread pool).
//
// The scalar kernels do the same arithmetic as the vector ones: activations are quantized once per call
// (q8 per 32 for q4_0..q8_0 weights, q8 per 256 for the K-quants), each weight block is decoded to small
// integers and dotted with the int8 activations in integer arithmetic, then scaled in float:
//   32-blocks:  y += d_w · d_a · Σ q_w·q_a  (+ m_w · d_a · Σ q_a   for q4_1 / q5_1)
//   K-quants:   y += d_a · (d · Σ_j sc_j Σ q_w·q_a  −  dmin · Σ_j m_j · bsum_j)   (j = sub-block of 16)
// f32 / f16 / bf16 weights are dotted with the f32 activations directly.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/fp16.h"
#include "tensor/blocks.h"
#include "tensor/kernels_internal.h"
#include "tensor/matmul_internal.h"
#include "tensor/matmul_pack.h"

namespace sy::detail {

// ---- activation quantizers --------------------------------------------------------------------------

void quantize_act_q8_32_scalar(const float * x, uint8_t * row, int64_t n_in) {
    const ActLayout lay = act_layout(ActKind::ActKind_q8_32, n_in);
    int8_t * qs = (int8_t *)row;
    float * d = (float *)(row + lay.d_off);
    int32_t * sums = (int32_t *)(row + lay.sum_off);
    for (int64_t b = 0; b < n_in / 32; ++b) {
        float amax = 0.0f;
        for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[b * 32 + i]));
        const float db = amax / 127.0f;
        const float id = amax > 0.0f ? 127.0f / amax : 0.0f;
        int32_t s = 0;
        for (int i = 0; i < 32; ++i) {
            const int v = (int)std::nearbyint(x[b * 32 + i] * id);
            qs[b * 32 + i] = (int8_t)v;
            s += v;
        }
        d[b] = db;
        sums[b] = s;
    }
}

void quantize_act_q8_256_scalar(const float * x, uint8_t * row, int64_t n_in) {
    const ActLayout lay = act_layout(ActKind::ActKind_q8_256, n_in);
    int8_t * qs = (int8_t *)row;
    float * d = (float *)(row + lay.d_off);
    int16_t * bsums = (int16_t *)(row + lay.sum_off);
    for (int64_t b = 0; b < n_in / 256; ++b) {
        float amax = 0.0f;
        for (int i = 0; i < 256; ++i) amax = std::max(amax, std::fabs(x[b * 256 + i]));
        const float id = amax > 0.0f ? 127.0f / amax : 0.0f;
        d[b] = amax / 127.0f;
        for (int j = 0; j < 16; ++j) {
            int s = 0;
            for (int i = 0; i < 16; ++i) {
                const int v = (int)std::nearbyint(x[b * 256 + j * 16 + i] * id);
                qs[b * 256 + j * 16 + i] = (int8_t)v;
                s += v;
            }
            bsums[b * 16 + j] = (int16_t)s;
        }
    }
}

namespace {

// ---- weight decoders ----------------------------------------------------------------------------------

// One 32-element block -> q[32] small integers with value = d * q + m.
void decode_block32(DType t, const uint8_t * p, int8_t * q, float & d, float & m) {
    m = 0.0f;
    switch (t) {
    case DType::DType_q4_0: {
        const auto * b = (const block_q4_0 *)p;
        d = fp16_to_fp32(b->d);
        for (int j = 0; j < 16; ++j) {
            q[j] = (int8_t)((b->qs[j] & 0xF) - 8);
            q[j + 16] = (int8_t)((b->qs[j] >> 4) - 8);
        }
        return;
    }
    case DType::DType_q4_1: {
        const auto * b = (const block_q4_1 *)p;
        d = fp16_to_fp32(b->d);
        m = fp16_to_fp32(b->m);
        for (int j = 0; j < 16; ++j) {
            q[j] = (int8_t)(b->qs[j] & 0xF);
            q[j + 16] = (int8_t)(b->qs[j] >> 4);
        }
        return;
    }
    case DType::DType_q5_0: {
        const auto * b = (const block_q5_0 *)p;
        d = fp16_to_fp32(b->d);
        uint32_t qh;
        std::memcpy(&qh, b->qh, 4);
        for (int j = 0; j < 16; ++j) {
            q[j] = (int8_t)(((b->qs[j] & 0xF) | (((qh >> j) & 1) << 4)) - 16);
            q[j + 16] = (int8_t)(((b->qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16);
        }
        return;
    }
    case DType::DType_q5_1: {
        const auto * b = (const block_q5_1 *)p;
        d = fp16_to_fp32(b->d);
        m = fp16_to_fp32(b->m);
        uint32_t qh;
        std::memcpy(&qh, b->qh, 4);
        for (int j = 0; j < 16; ++j) {
            q[j] = (int8_t)((b->qs[j] & 0xF) | (((qh >> j) & 1) << 4));
            q[j + 16] = (int8_t)((b->qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4));
        }
        return;
    }
    case DType::DType_q8_0: {
        const auto * b = (const block_q8_0 *)p;
        d = fp16_to_fp32(b->d);
        std::memcpy(q, b->qs, 32);
        return;
    }
    default: SY_ASSERT_MSG(false, "decode_block32: not a 32-block type");
    }
}

// One 256-element super-block -> q[256], per-16 scales sc[16] and mins mn[16]:
// value(i) = d * sc[i/16] * q[i] - dmin * mn[i/16].
void decode_superblock(DType t, const uint8_t * p, int8_t * q, int * sc, int * mn, float & d, float & dmin) {
    dmin = 0.0f;
    for (int j = 0; j < 16; ++j) mn[j] = 0;
    switch (t) {
    case DType::DType_q2_k: {
        const auto * b = (const block_q2_K *)p;
        d = fp16_to_fp32(b->d);
        dmin = fp16_to_fp32(b->dmin);
        for (int j = 0; j < 16; ++j) {
            sc[j] = b->scales[j] & 0xF;
            mn[j] = b->scales[j] >> 4;
        }
        for (int n = 0; n < 2; ++n)
            for (int s = 0; s < 4; ++s)
                for (int l = 0; l < 32; ++l) q[128 * n + 32 * s + l] = (int8_t)((b->qs[32 * n + l] >> (2 * s)) & 3);
        return;
    }
    case DType::DType_q3_k: {
        const auto * b = (const block_q3_K *)p;
        d = fp16_to_fp32(b->d);
        uint32_t aux[4];
        std::memcpy(aux, b->scales, 12);
        const uint32_t kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f, tmp = aux[2];
        aux[2] = ((aux[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
        aux[3] = ((aux[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
        aux[0] = (aux[0] & kmask2) | (((tmp >> 0) & kmask1) << 4);
        aux[1] = (aux[1] & kmask2) | (((tmp >> 2) & kmask1) << 4);
        int8_t scales[16];
        std::memcpy(scales, aux, 16);
        for (int j = 0; j < 16; ++j) sc[j] = scales[j] - 32;
        for (int n = 0; n < 2; ++n)
            for (int s = 0; s < 4; ++s)
                for (int l = 0; l < 32; ++l) {
                    const int lo = (b->qs[32 * n + l] >> (2 * s)) & 3;
                    const int hi = (b->hmask[l] >> (4 * n + s)) & 1;
                    q[128 * n + 32 * s + l] = (int8_t)(lo - (hi ? 0 : 4));
                }
        return;
    }
    case DType::DType_q4_k:
    case DType::DType_q5_k: {
        const bool five = t == DType::DType_q5_k;
        const uint8_t * scales = five ? ((const block_q5_K *)p)->scales : ((const block_q4_K *)p)->scales;
        const uint8_t * qs = five ? ((const block_q5_K *)p)->qs : ((const block_q4_K *)p)->qs;
        const uint16_t dh = five ? ((const block_q5_K *)p)->d : ((const block_q4_K *)p)->d;
        const uint16_t mh = five ? ((const block_q5_K *)p)->dmin : ((const block_q4_K *)p)->dmin;
        d = fp16_to_fp32(dh);
        dmin = fp16_to_fp32(mh);
        for (int j = 0; j < 8; ++j) {
            int s, m;
            kquant_scale_min(j, scales, s, m);
            sc[2 * j] = sc[2 * j + 1] = s;
            mn[2 * j] = mn[2 * j + 1] = m;
        }
        for (int c = 0; c < 4; ++c)
            for (int l = 0; l < 32; ++l) {
                int lo = qs[32 * c + l] & 0xF, hi = qs[32 * c + l] >> 4;
                if (five) {
                    const uint8_t h = ((const block_q5_K *)p)->qh[l];
                    lo |= ((h >> (2 * c)) & 1) << 4;
                    hi |= ((h >> (2 * c + 1)) & 1) << 4;
                }
                q[64 * c + l] = (int8_t)lo;
                q[64 * c + 32 + l] = (int8_t)hi;
            }
        return;
    }
    case DType::DType_q6_k: {
        const auto * b = (const block_q6_K *)p;
        d = fp16_to_fp32(b->d);
        for (int j = 0; j < 16; ++j) sc[j] = b->scales[j];
        for (int n = 0; n < 2; ++n) {
            const uint8_t * ql = b->ql + 64 * n;
            const uint8_t * qh = b->qh + 32 * n;
            for (int l = 0; l < 32; ++l) {
                q[128 * n + l] = (int8_t)(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
                q[128 * n + l + 32] = (int8_t)(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
                q[128 * n + l + 64] = (int8_t)(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                q[128 * n + l + 96] = (int8_t)(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
            }
        }
        return;
    }
    default: SY_ASSERT_MSG(false, "decode_superblock: not a K-quant type");
    }
}

// ---- tiles --------------------------------------------------------------------------------------------

constexpr int kScalarNt = 4;

template <DType T>
void tile_block32(const TileArgs & a) {
    const size_t bsize = dtype_info(T).type_size;
    const int64_t nb = a.n_in / 32;
    for (int r = 0; r < a.nr; ++r) {
        const uint8_t * wrow = a.w + r * a.w_stride;
        float acc[kScalarNt] = {};
        for (int64_t b = 0; b < nb; ++b) {
            int8_t q[32];
            float d, m;
            decode_block32(T, wrow + b * bsize, q, d, m);
            for (int t = 0; t < a.nt; ++t) {
                const uint8_t * arow = a.a + t * a.lay->row_bytes;
                const int8_t * qa = (const int8_t *)arow + b * 32;
                const float da = ((const float *)(arow + a.lay->d_off))[b];
                const int32_t sa = ((const int32_t *)(arow + a.lay->sum_off))[b];
                int32_t isum = 0;
                for (int i = 0; i < 32; ++i) isum += q[i] * qa[i];
                acc[t] += d * da * (float)isum + m * da * (float)sa;
            }
        }
        for (int t = 0; t < a.nt; ++t) a.y[t * a.ldy + r] = acc[t];
    }
}

template <DType T>
void tile_kquant(const TileArgs & a) {
    const size_t bsize = dtype_info(T).type_size;
    const int64_t nsb = a.n_in / 256;
    for (int r = 0; r < a.nr; ++r) {
        const uint8_t * wrow = a.w + r * a.w_stride;
        float acc[kScalarNt] = {};
        for (int64_t b = 0; b < nsb; ++b) {
            int8_t q[256];
            int sc[16], mn[16];
            float d, dmin;
            decode_superblock(T, wrow + b * bsize, q, sc, mn, d, dmin);
            for (int t = 0; t < a.nt; ++t) {
                const uint8_t * arow = a.a + t * a.lay->row_bytes;
                const int8_t * qa = (const int8_t *)arow + b * 256;
                const float da = ((const float *)(arow + a.lay->d_off))[b];
                const int16_t * bs = (const int16_t *)(arow + a.lay->sum_off) + b * 16;
                int32_t isum = 0, imin = 0;
                for (int j = 0; j < 16; ++j) {
                    int32_t s = 0;
                    for (int i = 0; i < 16; ++i) s += q[16 * j + i] * qa[16 * j + i];
                    isum += sc[j] * s;
                    imin += mn[j] * bs[j];
                }
                acc[t] += da * (d * (float)isum - dmin * (float)imin);
            }
        }
        for (int t = 0; t < a.nt; ++t) a.y[t * a.ldy + r] = acc[t];
    }
}

template <DType T>
float load_float(const uint8_t * row, int64_t i) {
    if constexpr (T == DType::DType_f32) {
        float v;
        std::memcpy(&v, row + 4 * i, 4);
        return v;
    } else {
        uint16_t h;
        std::memcpy(&h, row + 2 * i, 2);
        if constexpr (T == DType::DType_f16) return fp16_to_fp32(h);
        else return bf16_to_fp32(h);
    }
}

template <DType T>
void tile_float(const TileArgs & a) {
    for (int r = 0; r < a.nr; ++r) {
        const uint8_t * wrow = a.w + r * a.w_stride;
        for (int t = 0; t < a.nt; ++t) {
            const float * x = (const float *)(a.a + t * a.lay->row_bytes);
            float acc = 0.0f;
            for (int64_t i = 0; i < a.n_in; ++i) acc += load_float<T>(wrow, i) * x[i];
            a.y[t * a.ldy + r] = acc;
        }
    }
}

MatmulTable build_scalar_table() {
    MatmulTable t{};
    auto set = [&](DType d, ActKind act, TileFn fn) {
        MatmulType & e = t[(int)d];
        e.act = act;
        e.tile = fn;
        e.quant = act == ActKind::ActKind_q8_32    ? quantize_act_q8_32_scalar
                  : act == ActKind::ActKind_q8_256 ? quantize_act_q8_256_scalar
                                                   : nullptr;
        e.mr = 1;
        e.nt = kScalarNt;
    };
    set(DType::DType_f32, ActKind::ActKind_f32, tile_float<DType::DType_f32>);
    set(DType::DType_f16, ActKind::ActKind_f32, tile_float<DType::DType_f16>);
    set(DType::DType_bf16, ActKind::ActKind_f32, tile_float<DType::DType_bf16>);
    set(DType::DType_q4_0, ActKind::ActKind_q8_32, tile_block32<DType::DType_q4_0>);
    set(DType::DType_q4_1, ActKind::ActKind_q8_32, tile_block32<DType::DType_q4_1>);
    set(DType::DType_q5_0, ActKind::ActKind_q8_32, tile_block32<DType::DType_q5_0>);
    set(DType::DType_q5_1, ActKind::ActKind_q8_32, tile_block32<DType::DType_q5_1>);
    set(DType::DType_q8_0, ActKind::ActKind_q8_32, tile_block32<DType::DType_q8_0>);
    set(DType::DType_q2_k, ActKind::ActKind_q8_256, tile_kquant<DType::DType_q2_k>);
    set(DType::DType_q3_k, ActKind::ActKind_q8_256, tile_kquant<DType::DType_q3_k>);
    set(DType::DType_q4_k, ActKind::ActKind_q8_256, tile_kquant<DType::DType_q4_k>);
    set(DType::DType_q5_k, ActKind::ActKind_q8_256, tile_kquant<DType::DType_q5_k>);
    set(DType::DType_q6_k, ActKind::ActKind_q8_256, tile_kquant<DType::DType_q6_k>);
    t[(int)DType::DType_q4_0].ptile = packed_tile_q4_0_scalar;
    t[(int)DType::DType_q8_0].ptile = packed_tile_q8_0_scalar;
    t[(int)DType::DType_q5_0].ptile = packed_tile_q5_0_scalar;
    t[(int)DType::DType_q4_k].ptile = packed_tile_q4_k_scalar;
    t[(int)DType::DType_q6_k].ptile = packed_tile_q6_k_scalar;
    t[(int)DType::DType_f16].ptile = packed_tile_f16_scalar;
    t[(int)DType::DType_f16].pnt = kScalarNt;
    t[(int)DType::DType_q4_k].pnt = t[(int)DType::DType_q6_k].pnt = kScalarNt;
    t[(int)DType::DType_q4_0].pnt = t[(int)DType::DType_q8_0].pnt = t[(int)DType::DType_q5_0].pnt = kScalarNt;
    return t;
}

void matmul_scalar(const WeightView & w, const float * x, int64_t n_tok, float * y, int64_t ldy, ThreadPool & pool) {
    matmul_drive(matmul_table_scalar(), w, x, n_tok, y, ldy, pool);
}

// Scratch for quantized activations, owned by the calling thread and reused across calls.
uint8_t * act_scratch(size_t bytes) {
    static thread_local std::vector<uint8_t> buf;
    if (buf.size() < bytes + 64) buf.resize(bytes + 64);
    return (uint8_t *)(((uintptr_t)buf.data() + 63) & ~(uintptr_t)63);
}

}  // namespace

const MatmulTable & matmul_table_scalar() {
    static const MatmulTable table = build_scalar_table();
    return table;
}

void matmul_drive(const MatmulTable & table, const WeightView & w, const float * x, int64_t n_tok, float * y,
                  int64_t ldy, ThreadPool & pool) {
    const uint32_t id = (uint32_t)w.type;
    if (id >= (uint32_t)kMatmulTableSize || !table[id].tile)
        throw Error(ErrorKind::ErrorKind_unsupported,
                    std::string("matmul does not support weights of type ") + dtype_info(w.type).name);
    if (n_tok <= 0 || w.n_out <= 0) return;
    const MatmulType & k = table[id];
    SY_ASSERT_MSG(w.n_in % dtype_info(w.type).block_size == 0, "matmul: n_in not a multiple of the block size");
    SY_ASSERT(ldy >= w.n_out);

    const bool packed = w.packed != nullptr && k.ptile != nullptr;
    const ActLayout lay = act_layout(k.act, w.n_in);
    const uint8_t * acts = (const uint8_t *)x;
    if (k.act != ActKind::ActKind_f32) {
        uint8_t * buf = act_scratch(lay.row_bytes * (size_t)n_tok);
        const bool to_u8 = packed && k.pact_u8;
        auto quant_rows = [&](int64_t t0, int64_t t1) {
            for (int64_t t = t0; t < t1; ++t) {
                uint8_t * row = buf + t * lay.row_bytes;
                k.quant(x + t * w.n_in, row, w.n_in);
                if (to_u8)
                    for (int64_t i = 0; i < w.n_in; ++i) row[i] ^= 0x80;  // int8 q -> uint8 q + 128
            }
        };
        if (n_tok < 4 || pool.size() == 1) quant_rows(0, n_tok);
        else pool.parallel_for(n_tok, [&](int64_t t0, int64_t t1, int) { quant_rows(t0, t1); });
        acts = buf;
    }

    // Rows (or row groups when packed) are cut into chunks handed out dynamically (a shared machine may
    // stall a thread); inside a chunk, token tiles are the outer loop so the chunk's weights stay in L2
    // while each tile of activations stays in L1.
    const int mr = packed ? k.pmr : k.mr, ntile = packed ? k.pnt : k.nt, nth = pool.size();
    const int64_t n_rows = w.n_out;
    const size_t unit_bytes =
        packed ? (size_t)(w.n_in / packed_block_elems(w.type)) * packed_block_bytes(w.type) / kPackRows
               : w.row_stride;
    int64_t per_chunk;
    if (n_tok <= ntile) {
        per_chunk = (n_rows + nth * 8 - 1) / (nth * 8);
    } else {
        const int64_t l2_rows = std::max<int64_t>(1, (int64_t)(256 * 1024 / std::max<size_t>(unit_bytes, 1)));
        per_chunk = std::min((n_rows + nth * 4 - 1) / (nth * 4), l2_rows);
    }
    per_chunk = std::max<int64_t>(per_chunk, mr);
    per_chunk = (per_chunk + mr - 1) / mr * mr;
    const int64_t n_chunks = (n_rows + per_chunk - 1) / per_chunk;

    std::atomic<int64_t> next{0};
    auto work = [&](int, int) {
        TileArgs ta;
        ta.n_in = w.n_in;
        ta.w_stride = packed ? unit_bytes * kPackRows : w.row_stride;
        ta.lay = &lay;
        ta.ldy = ldy;
        const TileFn tile = packed ? k.ptile : k.tile;
        const uint8_t * base = packed ? w.packed : w.data;
        const size_t row_step = packed ? unit_bytes : w.row_stride;  // bytes per row (a group is mr rows)
        for (int64_t c = next.fetch_add(1, std::memory_order_relaxed); c < n_chunks;
             c = next.fetch_add(1, std::memory_order_relaxed)) {
            const int64_t r0 = c * per_chunk, r1 = std::min(n_rows, r0 + per_chunk);
            for (int64_t t0 = 0; t0 < n_tok; t0 += ntile) {
                ta.nt = (int)std::min<int64_t>(ntile, n_tok - t0);
                ta.a = acts + t0 * lay.row_bytes;
                for (int64_t r = r0; r < r1; r += mr) {
                    ta.nr = (int)std::min<int64_t>(mr, r1 - r);
                    ta.w = base + r * row_step;
                    ta.y = y + t0 * ldy + r;
                    tile(ta);
                }
            }
        }
    };
    if (n_chunks == 1) work(0, 1);
    else pool.run(work);
}

void register_matmul_scalar(Kernels & k) { k.matmul = matmul_scalar; }

}  // namespace sy::detail

namespace sy {

bool matmul_supported(DType t) {
    const uint32_t id = (uint32_t)t;
    return id < (uint32_t)detail::kMatmulTableSize && detail::matmul_table_scalar()[id].tile != nullptr;
}

}  // namespace sy
