// Dense GEMM for the trainer: C = alpha · op(A) · op(B) + beta · C, row-major, over OpenBLAS (sgemm /
// dgemm), plus a plain scalar twin (accumulating in double) that tests use as the oracle.
//
// Shapes: op(A) is [m][k], op(B) is [k][n], C is [m][n]; lda/ldb/ldc are row strides in elements of the
// matrices as stored (before op). The trainer's layers are templated on float (training) and double
// (finite-difference checks); both go through gemm<T>.
#pragma once

#include <cstdint>
#include <string>

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

// ---- bf16 products with a frozen base (gemm_bf16.cpp, kernel in gemm_bf16_avx512.cpp) -------------------
// C = A · op(B) + beta · C (beta 0 or 1) with A [m][k] and B f32 in memory, both rounded to bf16 (round to
// nearest even) and the products accumulated in f32. op(B) = Bᵀ (B stored [n][k], the forward x · Wᵀ) or B
// (stored [k][n], the backward dY · W). Runs the AVX-512 BF16 kernel (vdpbf16ps) when the active ISA has it,
// threaded over column panels with gemm_set_threads' count; elsewhere it rounds copies of A and B to bf16 and
// calls sgemm, so both paths give bf16-rounded inputs with f32 accumulation.
void gemm_bf16(bool trans_b, int64_t m, int64_t n, int64_t k, const float * a, int64_t lda, const float * b,
               int64_t ldb, float beta, float * c, int64_t ldc);
bool gemm_bf16_native();  // the AVX-512 BF16 kernel is in use (CPU has it and SWITCHYARD_ISA allows it)

// How the float trainer multiplies by frozen base weights (LoRA): f32 sgemm, or gemm_bf16. Process-wide;
// the default is SY_TRAIN_MATMUL=bf16|f32 when set (anything else is an sy::Error), else bf16 when
// gemm_bf16_native() and f32 otherwise. The double (finite-difference) path always uses f64 GEMMs.
enum class FrozenMatmul { FrozenMatmul_f32, FrozenMatmul_bf16 };
FrozenMatmul frozen_matmul();
void set_frozen_matmul(FrozenMatmul m);
FrozenMatmul frozen_matmul_from_name(const std::string & name);  // "f32" | "bf16"; sy::Error otherwise
const char * frozen_matmul_name(FrozenMatmul m);

// Sets the mode for a scope (tests that compare with exact f32 products pin f32).
struct ScopedFrozenMatmul {
    explicit ScopedFrozenMatmul(FrozenMatmul m) : saved(frozen_matmul()) { set_frozen_matmul(m); }
    ~ScopedFrozenMatmul() { set_frozen_matmul(saved); }
    ScopedFrozenMatmul(const ScopedFrozenMatmul &) = delete;
    ScopedFrozenMatmul & operator=(const ScopedFrozenMatmul &) = delete;
    FrozenMatmul saved;
};

}  // namespace sy::train
