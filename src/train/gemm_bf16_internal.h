// Private to gemm_bf16.cpp and gemm_bf16_avx512.cpp: the AVX-512 BF16 kernel's packing and column loop.
//
// bf16 values travel in pairs along k (one uint32: element 2p in the low half, 2p+1 in the high half), the
// operand layout of vdpbf16ps. A is converted once per call to rows of k/2 pairs, padded to a multiple of
// kBf16Mr rows (rows past m and the odd k tail are zeros). B is either packed per thread into panels of
// kBf16Nr columns × kBf16Kc pairs, small enough to stay in L1 while all of A's row blocks stream past it,
// or (a frozen weight kept for the run, PackedBf16) packed once as whole column panels: panel q holds
// columns [q·kBf16Nr, (q+1)·kBf16Nr) for every pair, at bpack + q·k2·kBf16Nr, pair p's 48 columns
// contiguous (zeros past n and in the odd k tail). The kernel walks such a panel kBf16Kc pairs at a time.
#pragma once

#include <cstdint>

#include "train/gemm.h"

namespace sy {
class ThreadPool;
}

namespace sy::train::detail {

constexpr int64_t kBf16Mr = 8;    // rows of C per micro-tile
constexpr int64_t kBf16Nr = 48;   // columns of C per micro-tile (3 vectors of 16)
constexpr int64_t kBf16Kc = 128;  // k pairs per B panel (256 k: 48 × 256 × 2 bytes = 24 KiB)

// Converts rows [r0, r1) of A into `out` (row r at out + r · ceil(k/2)).
void bf16_pack_a_avx512(const float * a, int64_t lda, int64_t m, int64_t k, int64_t r0, int64_t r1, uint32_t * out);

// C[:, j0:j1) = packed A · op(B)[:, j0:j1) + beta · C[:, j0:j1); j0 a multiple of kBf16Nr.
void bf16_gemm_cols_avx512(const uint32_t * apack, int64_t m, int64_t k, bool trans_b, const float * b, int64_t ldb,
                           int64_t j0, int64_t j1, float beta, float * c, int64_t ldc);

// The same over whole-panel packed B (n columns, k2 pairs): C[:, panels [q0, q1)) for rows [i0, i1) of C
// (i0 a multiple of kBf16Mr); lr (optional) is added in f32 to the accumulators of the last k block.
void bf16_gemm_packed_avx512(const uint32_t * apack, int64_t i0, int64_t i1, int64_t k2, const uint32_t * bpack,
                             int64_t n, int64_t q0, int64_t q1, float beta, float * c, int64_t ldc,
                             const LowRankTerm * lr);

// ip.out rows [r0, r1) = ip.scale · A rows [r0, r1) · ip.g (f32; A [m][k] with row stride lda).
void bf16_input_product_avx512(const float * a, int64_t lda, int64_t k, int64_t r0, int64_t r1,
                               const InputProduct & ip);

// Whole-panel packs of a weight W [n_out][n_in] from its rows [r0, r1) given in f32 (`rows`, row stride ld):
//   fwd (op(B) = Wᵀ, columns = W's rows, pairs along n_in): r0 a multiple of kBf16Nr;
//   bwd (op(B) = W, columns = W's columns, pairs of W's rows): r0 even.
// Both write only the panel entries those rows own, so disjoint row ranges can be packed concurrently.
void bf16_pack_w_fwd_avx512(const float * rows, int64_t ld, int64_t r0, int64_t r1, int64_t n_in, uint32_t * fwd);
void bf16_pack_w_bwd_avx512(const float * rows, int64_t ld, int64_t r0, int64_t r1, int64_t n_out, int64_t n_in,
                            uint32_t * bwd);

// C = alpha · op(A) · op(B) + beta · C (beta 0: C is not read), single-threaded, for small products
// (gemm_f32_avx512.cpp; AVX-512F only).
void f32_gemm_small_avx512(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float * a,
                           int64_t lda, const float * b, int64_t ldb, float beta, float * c, int64_t ldc);

int gemm_thread_count();  // gemm_set_threads' value (gemm.cpp)

// The trainer's worker pool (gemm_set_threads' size, gemm.cpp) for one product: the shared pool when it
// is free, else (another thread, or a job already running on it) a one-thread pool that runs inline.
class PoolLease {
public:
    PoolLease();
    ~PoolLease();
    PoolLease(const PoolLease &) = delete;
    PoolLease & operator=(const PoolLease &) = delete;
    ThreadPool & pool() { return *pool_; }

private:
    ThreadPool * pool_ = nullptr;
    bool held_ = false;
};

}  // namespace sy::train::detail
