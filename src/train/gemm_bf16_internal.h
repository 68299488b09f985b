// Private to gemm_bf16.cpp and gemm_bf16_avx512.cpp: the AVX-512 BF16 kernel's packing and column loop.
//
// bf16 values travel in pairs along k (one uint32: element 2p in the low half, 2p+1 in the high half), the
// operand layout of vdpbf16ps. A is converted once per call to rows of k/2 pairs, padded to a multiple of
// kBf16Mr rows (rows past m and the odd k tail are zeros); B is packed per thread into panels of kBf16Nr
// columns × kBf16Kc pairs, small enough to stay in L1 while all of A's row blocks stream past it.
#pragma once

#include <cstdint>

namespace sy::train::detail {

constexpr int64_t kBf16Mr = 8;    // rows of C per micro-tile
constexpr int64_t kBf16Nr = 48;   // columns of C per micro-tile (3 vectors of 16)
constexpr int64_t kBf16Kc = 128;  // k pairs per B panel (256 k: 48 × 256 × 2 bytes = 24 KiB)

// Converts rows [r0, r1) of A into `out` (row r at out + r · ceil(k/2)).
void bf16_pack_a_avx512(const float * a, int64_t lda, int64_t m, int64_t k, int64_t r0, int64_t r1, uint32_t * out);

// C[:, j0:j1) = packed A · op(B)[:, j0:j1) + beta · C[:, j0:j1); j0 a multiple of kBf16Nr.
void bf16_gemm_cols_avx512(const uint32_t * apack, int64_t m, int64_t k, bool trans_b, const float * b, int64_t ldb,
                           int64_t j0, int64_t j1, float beta, float * c, int64_t ldc);

int gemm_thread_count();  // gemm_set_threads' value (gemm.cpp)

}  // namespace sy::train::detail
