// AVX-512 matmul: the shared x86 tiles (matmul_x86.h) with the VNNI integer dot (vpdpbusd on 256-bit
// vectors, AVX512-VL) and larger register tiles (32 vector registers). Types without a vector tile here
// (q2_K, q3_K) keep the scalar one.
// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*(), which its -Wuninitialized flags at every
// inlined use (a compiler bug fixed in GCC 13); the pragma covers the header's lines only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

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
#include "tensor/matmul_x86_table.h"

namespace sy::detail {
namespace {

// Register-tile sizes of this ISA (see matmul_x86_table.h).
struct TileSizes {
    static constexpr int b32_mr = 4;
    static constexpr int b32_nt = 4;
    static constexpr int kq_mr = 2;
    static constexpr int kq_nt = 4;
    static constexpr int pf16_groups = 2;
    static constexpr int pf16_nt = 12;
    static constexpr int packed_nt = 4;
    static constexpr int f32_mr = 4;
    static constexpr int f32_nt = 4;
    static constexpr int f16_mr = 3;
    static constexpr int f16_nt = 8;
};

void matmul_avx512(const WeightView & w, const float * x, int64_t n_tok, float * y, int64_t ldy, ThreadPool & pool) {
    static const MatmulTable table = build_x86_table<TileSizes>();
    matmul_drive(table, w, x, n_tok, y, ldy, pool);
}

}  // namespace

void register_matmul_avx512(Kernels & k) { k.matmul = matmul_avx512; }

}  // namespace sy::detail
