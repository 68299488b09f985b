// The x86 matmul table (private; included by matmul_avx2.cpp and matmul_avx512.cpp after matmul_x86*.h,
// inside their own anonymous namespace). The two ISAs differ only in register-tile sizes, given by S:
//   b32_mr/b32_nt  32-block types (q4_0 q4_1 q5_0 q5_1 q8_0)    kq_mr/kq_nt  K-quants (q4_K q5_K q6_K)
//   packed_nt      tokens per packed tile                        f32_*, f16_*  float weights (f16 and bf16)
//   pf16_groups, pf16_nt   packed f16 tile: row groups of 8 × tokens
// Types without a vector tile (q2_K, q3_K) keep the scalar one, with the vector activation quantizer.
#pragma once

namespace sy::detail {
namespace {

template <class S>
MatmulTable build_x86_table() {
    MatmulTable t = matmul_table_scalar();
    auto set = [&](DType d, ActQuantFn quant, TileFn tile, int mr, int nt) {
        MatmulType & e = t[(int)d];
        if (quant) e.quant = quant;
        e.tile = tile;
        e.mr = mr;
        e.nt = nt;
    };
    const ActQuantFn q32 = x86_quantize_act_q8_32, q256 = x86_quantize_act_q8_256;
    set(DType::DType_q4_0, q32, x86_tile_any<TileBlock32<DecQ4_0>, S::b32_mr, S::b32_nt>, S::b32_mr, S::b32_nt);
    set(DType::DType_q4_1, q32, x86_tile_any<TileBlock32<DecQ4_1>, S::b32_mr, S::b32_nt>, S::b32_mr, S::b32_nt);
    set(DType::DType_q5_0, q32, x86_tile_any<TileBlock32<DecQ5_0>, S::b32_mr, S::b32_nt>, S::b32_mr, S::b32_nt);
    set(DType::DType_q5_1, q32, x86_tile_any<TileBlock32<DecQ5_1>, S::b32_mr, S::b32_nt>, S::b32_mr, S::b32_nt);
    set(DType::DType_q8_0, q32, x86_tile_any<TileBlock32<DecQ8_0>, S::b32_mr, S::b32_nt>, S::b32_mr, S::b32_nt);
    set(DType::DType_q4_k, q256, x86_tile_any<TileQ45K<false>, S::kq_mr, S::kq_nt>, S::kq_mr, S::kq_nt);
    set(DType::DType_q5_k, q256, x86_tile_any<TileQ45K<true>, S::kq_mr, S::kq_nt>, S::kq_mr, S::kq_nt);
    set(DType::DType_q6_k, q256, x86_tile_any<TileQ6K, S::kq_mr, S::kq_nt>, S::kq_mr, S::kq_nt);
    auto set_packed = [&](DType d, TileFn tile, bool u8) {
        MatmulType & e = t[(int)d];
        e.ptile = tile;
        e.pnt = S::packed_nt;
        e.pact_u8 = u8;
    };
    set_packed(DType::DType_q4_0, x86_packed_any<PackedQ4_0, S::packed_nt>, false);
    set_packed(DType::DType_q8_0, x86_packed_any<PackedQ8_0, S::packed_nt>, kX86Vnni);
    set_packed(DType::DType_q5_0, x86_packed_any<PackedQ5_0, S::packed_nt>, false);
    set_packed(DType::DType_q4_k, x86_packed_any<PackedQ4K, S::packed_nt>, false);
    set_packed(DType::DType_q6_k, x86_packed_any<PackedQ6K, S::packed_nt>, false);
    set_packed(DType::DType_f16, x86_packed_g_any<PackedF16, S::pf16_groups, S::pf16_nt>, false);
    t[(int)DType::DType_f16].pnt = S::pf16_nt;
    t[(int)DType::DType_f16].pmr = S::pf16_groups * kPackRows;
    t[(int)DType::DType_q2_k].quant = q256;
    t[(int)DType::DType_q3_k].quant = q256;
    set(DType::DType_f32, nullptr, x86_tile_any<TileFloat<DType::DType_f32>, S::f32_mr, S::f32_nt>, S::f32_mr, S::f32_nt);
    set(DType::DType_f16, nullptr, x86_tile_any<TileFloat<DType::DType_f16>, S::f16_mr, S::f16_nt>, S::f16_mr, S::f16_nt);
    set(DType::DType_bf16, nullptr, x86_tile_any<TileFloat<DType::DType_bf16>, S::f16_mr, S::f16_nt>, S::f16_mr, S::f16_nt);
    return t;
}

}  // namespace
}  // namespace sy::detail
