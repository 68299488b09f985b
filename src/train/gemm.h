// Dense GEMM for the trainer: C = alpha · op(A) · op(B) + beta · C, row-major, over OpenBLAS (sgemm /
// dgemm), plus a plain scalar twin (accumulating in double) that tests use as the oracle.
//
// Shapes: op(A) is [m][k], op(B) is [k][n], C is [m][n]; lda/ldb/ldc are row strides in elements of the
// matrices as stored (before op). The trainer's layers are templated on float (training) and double
// (finite-difference checks); both go through gemm<T>.
#pragma once

#include <cstdint>

namespace sy::train {

template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T * a, int64_t lda, const T * b,
          int64_t ldb, T beta, T * c, int64_t ldc);

// Scalar reference (same contract).
template <typename T>
void gemm_ref(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T * a, int64_t lda,
              const T * b, int64_t ldb, T beta, T * c, int64_t ldc);

// Threads OpenBLAS may use for one call (process-wide setting of the BLAS library; set once at start-up
// of a training run). Results are deterministic for a fixed thread count.
void gemm_set_threads(int n_threads);

}  // namespace sy::train
