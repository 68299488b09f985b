// Private to the matmul kernels (matmul_scalar.cpp, matmul_avx2.cpp, matmul_avx512.cpp): the quantized
// activation layouts, the per-type kernel table and the ISA-neutral driver that tiles Y = X · Wᵀ over the
// thread pool. Not a public interface: the engine calls Kernels::matmul (ops.h).
//
// Every weight type names the activation form its dot product wants:
//   ActKind_f32    X rows as given (f32, f16, bf16 weights)
//   ActKind_q8_32  int8 per 32-block with a float scale and the block's integer sum (q4_0 q4_1 q5_0 q5_1 q8_0)
//   ActKind_q8_256 int8 per 256-super-block with a float scale and int16 sums per 16 (the K-quants)
// A quantized activation row of n_in elements is laid out as (offsets in ActLayout, row_bytes a multiple
// of 64):  qs int8[n_in] | d float[n_in / block] | sums (int32[n_in/32] or int16[n_in/16])
// with x[i] ≈ d[i / block] * qs[i] and qs in [-127, 127].
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "gguf/types.h"
#include "tensor/ops.h"

namespace sy::detail {

enum class ActKind { ActKind_f32, ActKind_q8_32, ActKind_q8_256 };

struct ActLayout {
    int64_t n_in = 0;
    size_t d_off = 0;    // float scales
    size_t sum_off = 0;  // int32 per 32 (q8_32) or int16 per 16 (q8_256)
    size_t row_bytes = 0;
};

inline ActLayout act_layout(ActKind kind, int64_t n_in) {
    ActLayout l;
    l.n_in = n_in;
    if (kind == ActKind::ActKind_f32) {
        l.row_bytes = (size_t)n_in * sizeof(float);
        return l;
    }
    const int64_t block = kind == ActKind::ActKind_q8_32 ? 32 : 256;
    const size_t sums_bytes = kind == ActKind::ActKind_q8_32 ? (size_t)(n_in / 32) * 4 : (size_t)(n_in / 16) * 2;
    l.d_off = ((size_t)n_in + 63) & ~(size_t)63;
    l.sum_off = l.d_off + (size_t)(n_in / block) * sizeof(float);
    l.row_bytes = (l.sum_off + sums_bytes + 63) & ~(size_t)63;
    return l;
}

// Quantizes one activation row x[n_in] into `row` (layout act_layout(kind, n_in)).
using ActQuantFn = void (*)(const float * x, uint8_t * row, int64_t n_in);

// One register tile: for r < nr, t < nt:  y[t * ldy + r] = dot(weight row r, activation row t).
// w points at weight row 0 (rows w_stride bytes apart); a at activation row 0 (rows lay.row_bytes apart).
struct TileArgs {
    int64_t n_in;
    const uint8_t * w;
    size_t w_stride;
    int nr;
    const uint8_t * a;
    const ActLayout * lay;
    int nt;
    float * y;
    int64_t ldy;
};
using TileFn = void (*)(const TileArgs & args);

struct MatmulType {
    ActKind act = ActKind::ActKind_f32;
    ActQuantFn quant = nullptr;  // unused for ActKind_f32
    TileFn tile = nullptr;       // nullptr: type not supported by matmul
    int mr = 1;                  // rows per tile (nr <= mr)
    int nt = 1;                  // tokens per tile (nt <= this)
    // Packed layout (matmul_pack.h), used when WeightView::packed is set: ptile computes one row group
    // (args.w = the group's first block, args.nr = valid rows 1..kPackRows, written to y[t * ldy + r]) for
    // nt <= pnt tokens. pact_u8: the tile wants activation quants as unsigned bytes q + 128. pmr: rows per
    // packed tile, a multiple of kPackRows (a tile of several groups finds group g at args.w + g * w_stride
    // and gets nr = valid rows of them all).
    TileFn ptile = nullptr;
    int pnt = 1;
    int pmr = 8;
    bool pact_u8 = false;
};

constexpr int kMatmulTableSize = 31;  // DType ids 0..30
using MatmulTable = std::array<MatmulType, kMatmulTableSize>;

// The scalar entries for every supported type (the fallback each ISA table starts from).
const MatmulTable & matmul_table_scalar();

// Y[n_tok][n_out] (rows ldy apart) = X[n_tok][n_in] · Wᵀ with the kernels of `table`, parallel over pool.
void matmul_drive(const MatmulTable & table, const WeightView & w, const float * x, int64_t n_tok, float * y,
                  int64_t ldy, ThreadPool & pool);

// Scalar tiles over the packed layouts (matmul_pack.cpp): the reference twins of the vector ones.
void packed_tile_q4_0_scalar(const TileArgs & a);
void packed_tile_q8_0_scalar(const TileArgs & a);
void packed_tile_q5_0_scalar(const TileArgs & a);
void packed_tile_q4_k_scalar(const TileArgs & a);
void packed_tile_q6_k_scalar(const TileArgs & a);
void packed_tile_f16_scalar(const TileArgs & a);

// Bytes of one packed block (kPackRows rows × one weight block) of type t; 0 when t has no packed layout.
size_t packed_block_bytes(DType t);
// Elements of a row in one packed block: the type's block size, 2 for f16 (pairs of elements).
int64_t packed_block_elems(DType t);

// Scalar activation quantizers (also the reference the vector ones are tested against).
void quantize_act_q8_32_scalar(const float * x, uint8_t * row, int64_t n_in);
void quantize_act_q8_256_scalar(const float * x, uint8_t * row, int64_t n_in);

// 6-bit scale and min j (0..7) of a q4_K / q5_K super-block.
inline void kquant_scale_min(int j, const uint8_t * q, int & sc, int & m) {
    if (j < 4) {
        sc = q[j] & 63;
        m = q[j + 4] & 63;
    } else {
        sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

}  // namespace sy::detail
