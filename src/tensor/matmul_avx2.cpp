// AVX2 + FMA + F16C matmul: the shared x86 tiles (matmul_x86.h) with the maddubs/madd integer dot, and
// vector activation quantizers. Types without a vector tile here (q2_K, q3_K) keep the scalar one.
#include <immintrin.h>

#include <cmath>

#include "tensor/kernels_internal.h"
#include "tensor/matmul_internal.h"

namespace sy::detail {
namespace {

// acc (int32 × 8) += Σ of 4 adjacent u·a; u unsigned bytes ≤ 128, a signed bytes in [-127, 127], so the
// int16 pair sums of maddubs cannot saturate.
inline __m256i dot_u8s8(__m256i acc, __m256i u, __m256i a) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, a), _mm256_set1_epi16(1)));
}

constexpr bool kX86Vnni = false;

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
    static constexpr int b32_mr = 2;
    static constexpr int b32_nt = 4;
    static constexpr int kq_mr = 2;
    static constexpr int kq_nt = 2;
    static constexpr int pf16_groups = 1;
    static constexpr int pf16_nt = 4;
    static constexpr int packed_nt = 2;
    static constexpr int f32_mr = 4;
    static constexpr int f32_nt = 2;
    static constexpr int f16_mr = 4;
    static constexpr int f16_nt = 2;
};

void matmul_avx2(const WeightView & w, const float * x, int64_t n_tok, float * y, int64_t ldy, ThreadPool & pool) {
    static const MatmulTable table = build_x86_table<TileSizes>();
    matmul_drive(table, w, x, n_tok, y, ldy, pool);
}

}  // namespace

void register_matmul_avx2(Kernels & k) { k.matmul = matmul_avx2; }

}  // namespace sy::detail
