// AVX-512 matmul: the shared x86 tiles (matmul_x86.h) with the VNNI integer dot (vpdpbusd on 256-bit
// vectors, AVX512-VL) and larger register tiles (32 vector registers). Types without a vector tile here
// (q2_K, q3_K) keep the scalar one.
#include <immintrin.h>

#include "tensor/kernels_internal.h"
#include "tensor/matmul_internal.h"

namespace sy::detail {
namespace {

// acc (int32 × 8) += Σ of 4 adjacent u·a; u unsigned bytes, a signed bytes (exact, no saturation).
inline __m256i dot_u8s8(__m256i acc, __m256i u, __m256i a) { return _mm256_dpbusd_epi32(acc, u, a); }

constexpr bool kX86Vnni = true;

}  // namespace
}  // namespace sy::detail

#include "tensor/matmul_x86_quant.h"
#include "tensor/matmul_x86.h"
#include "tensor/matmul_x86_packed.h"

namespace sy::detail {
namespace {

MatmulTable build_avx512_table() {
    MatmulTable t = matmul_table_scalar();
    auto set = [&](DType d, ActQuantFn quant, TileFn tile, int mr, int nt) {
        MatmulType & e = t[(int)d];
        if (quant) e.quant = quant;
        e.tile = tile;
        e.mr = mr;
        e.nt = nt;
    };
    const ActQuantFn q32 = x86_quantize_act_q8_32, q256 = x86_quantize_act_q8_256;
    set(DType::DType_q4_0, q32, x86_tile_any<TileBlock32<DecQ4_0>, 4, 4>, 4, 4);
    set(DType::DType_q4_1, q32, x86_tile_any<TileBlock32<DecQ4_1>, 4, 4>, 4, 4);
    set(DType::DType_q5_0, q32, x86_tile_any<TileBlock32<DecQ5_0>, 4, 4>, 4, 4);
    set(DType::DType_q5_1, q32, x86_tile_any<TileBlock32<DecQ5_1>, 4, 4>, 4, 4);
    set(DType::DType_q8_0, q32, x86_tile_any<TileBlock32<DecQ8_0>, 4, 4>, 4, 4);
    set(DType::DType_q4_k, q256, x86_tile_any<TileQ45K<false>, 2, 4>, 2, 4);
    set(DType::DType_q5_k, q256, x86_tile_any<TileQ45K<true>, 2, 4>, 2, 4);
    set(DType::DType_q6_k, q256, x86_tile_any<TileQ6K, 2, 4>, 2, 4);
    auto set_packed = [&](DType d, TileFn tile, int nt, bool u8) {
        MatmulType & e = t[(int)d];
        e.ptile = tile;
        e.pnt = nt;
        e.pact_u8 = u8;
    };
    set_packed(DType::DType_q4_0, x86_packed_any<PackedQ4_0, 4>, 4, false);
    set_packed(DType::DType_q8_0, x86_packed_any<PackedQ8_0, 4>, 4, kX86Vnni);
    set_packed(DType::DType_q5_0, x86_packed_any<PackedQ8_0, 4>, 4, kX86Vnni);
    set_packed(DType::DType_q4_k, x86_packed_any<PackedQ4K, 4>, 4, false);
    set_packed(DType::DType_q6_k, x86_packed_any<PackedQ6K, 4>, 4, false);
    t[(int)DType::DType_q2_k].quant = q256;
    t[(int)DType::DType_q3_k].quant = q256;
    set(DType::DType_f32, nullptr, x86_tile_any<TileFloat<DType::DType_f32>, 4, 4>, 4, 4);
    set(DType::DType_f16, nullptr, x86_tile_any<TileFloat<DType::DType_f16>, 3, 8>, 3, 8);
    set(DType::DType_bf16, nullptr, x86_tile_any<TileFloat<DType::DType_bf16>, 3, 8>, 3, 8);
    return t;
}

void matmul_avx512(const WeightView & w, const float * x, int64_t n_tok, float * y, int64_t ldy, ThreadPool & pool) {
    static const MatmulTable table = build_avx512_table();
    matmul_drive(table, w, x, n_tok, y, ldy, pool);
}

}  // namespace

void register_matmul_avx512(Kernels & k) { k.matmul = matmul_avx512; }

}  // namespace sy::detail
