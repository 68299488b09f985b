// Dense GEMM for the trainer: C = alpha · op(A) · op(B) + beta · C, row-major, over OpenBLAS (sgemm /
// dgemm), plus a plain scalar twin (accumulating in double) that tests use as the oracle.
//
// Shapes: op(A) is [m][k], op(B) is [k][n], C is [m][n]; lda/ldb/ldc are row strides in elements of the
// matrices as stored (before op). The trainer's layers are templated on float (training) and double
// (finite-difference checks); both go through gemm<T>.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace sy::train {

template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T * a, int64_t lda, const T * b,
          int64_t ldb, T beta, T * c, int64_t ldc);

// gemm<float> for short products (LoRA's rank-sized ones): the AVX-512 small-matrix kernel where the CPU
// has it and k <= 1024, else gemm<float>. Same contract; f32 results differ from OpenBLAS's only by
// summation order.
void gemm_small(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float * a,
                int64_t lda, const float * b, int64_t ldb, float beta, float * c, int64_t ldc);

// Scalar reference (same contract).
template <typename T>
void gemm_ref(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T * a, int64_t lda,
              const T * b, int64_t ldb, T beta, T * c, int64_t ldc);

// Threads one product may use (process-wide; set once at start-up of a training run): the trainer's own
// pool runs gemm's column/row blocks (OpenBLAS single-threaded inside each) and the bf16 kernel. A product
// called while another thread is using the pool runs single-threaded. Results are deterministic for a
// fixed thread count.
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

// An f32 low-rank term that PackedBf16's products add to their result: C += h · e with h [m][rank] (row
// stride ldh) and e [rank][n] (row stride lde), n the product's columns; LoRA's x · Aᵀ · Bᵀ in the
// forward (e = scale · Bᵀ) and dh · A in the backward, fused so C is written once.
struct LowRankTerm {
    const float * h = nullptr;
    int64_t ldh = 0;
    const float * e = nullptr;
    int64_t lde = 0;
    int64_t rank = 0;
};

// An f32 by-product of a PackedBf16 product, computed while its input rows are converted to bf16 (before
// the product proper, so a LowRankTerm of the same call may read it): out [m][rank] (row stride ldo) =
// scale · in · g, g [k][rank] (row stride ldg), k the product's inner dimension; LoRA's h = x · Aᵀ in the
// forward (g = Aᵀ) and dh = scale · dy · B in the backward (g = B).
struct InputProduct {
    const float * g = nullptr;
    int64_t ldg = 0;
    int64_t rank = 0;
    float scale = 1.0f;
    float * out = nullptr;
    int64_t ldo = 0;
};

// A frozen weight W [n_out][n_in] converted once to bf16 and kept for a whole run, in the two layouts the
// kernel reads: for the forward y = x · Wᵀ (columns = W's rows, pairs along n_in) and for the backward
// dx += dy · W (columns = W's columns, pairs of W's rows). Products round x / dy to bf16 and accumulate in
// f32, bit for bit what gemm_bf16 gives on the same W, without converting W on every call. Needs
// gemm_bf16_native() (pack() throws sy::Error otherwise). Size: about 2 × n_out × n_in × 2 bytes.
class PackedBf16 {
public:
    // rows(r0, r1, out) writes W's rows [r0, r1) in f32 to out ([r1 - r0][n_in]); it is called from several
    // threads at once for disjoint ranges (a dequantizer, or a copy of an f32 W). Threads: gemm_set_threads'.
    using RowSource = std::function<void(int64_t r0, int64_t r1, float * out)>;
    static std::unique_ptr<PackedBf16> pack(int64_t n_out, int64_t n_in, const RowSource & rows);

    int64_t n_out() const { return n_out_; }
    int64_t n_in() const { return n_in_; }
    size_t bytes() const { return (fwd_size_ + bwd_size_) * sizeof(uint32_t); }

    // y[m][n_out] (row stride ldy) = x · Wᵀ (+ lr) (overwrite); x [m][n_in] with row stride ldx.
    void forward(int64_t m, const float * x, int64_t ldx, float * y, int64_t ldy, const LowRankTerm * lr = nullptr,
                 const InputProduct * ip = nullptr) const;
    // dx[m][n_in] (row stride lddx) += dy · W (+ lr); dy [m][n_out] with row stride lddy.
    void backward(int64_t m, const float * dy, int64_t lddy, float * dx, int64_t lddx,
                  const LowRankTerm * lr = nullptr, const InputProduct * ip = nullptr) const;

    ~PackedBf16();
    PackedBf16(const PackedBf16 &) = delete;
    PackedBf16 & operator=(const PackedBf16 &) = delete;

private:
    PackedBf16() = default;
    int64_t n_out_ = 0, n_in_ = 0;
    size_t fwd_size_ = 0, bwd_size_ = 0;  // uint32 pairs
    uint32_t * fwd_ = nullptr;             // 64-byte aligned
    uint32_t * bwd_ = nullptr;
};

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
