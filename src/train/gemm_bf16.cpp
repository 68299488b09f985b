// gemm_bf16's dispatch (see gemm.h): the AVX-512 BF16 kernel threaded over column panels, or bf16-rounded
// copies through sgemm where the CPU lacks it; and the process-wide choice of the frozen-base matmul.
#include <cblas.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <vector>

#include "common/error.h"
#include "common/fp16.h"
#include "tensor/isa.h"
#include "tensor/threadpool.h"
#include "train/gemm.h"
#include "train/gemm_bf16_internal.h"

namespace sy::train {
namespace {

using namespace detail;

ThreadPool & pool() {
    static std::unique_ptr<ThreadPool> p;
    const int n = gemm_thread_count();
    if (!p || p->size() != n) p = std::make_unique<ThreadPool>(n);
    return *p;
}

inline float round_bf16(float x) { return bf16_to_fp32(fp32_to_bf16(x)); }

// Fallback: round copies of A and B to bf16, then sgemm (f32 accumulation).
void gemm_bf16_rounded(bool tb, int64_t m, int64_t n, int64_t k, const float * a, int64_t lda, const float * b,
                       int64_t ldb, float beta, float * c, int64_t ldc) {
    std::vector<float> ar((size_t)(m * k)), br((size_t)(n * k));
    for (int64_t i = 0; i < m; ++i)
        for (int64_t p = 0; p < k; ++p) ar[i * k + p] = round_bf16(a[i * lda + p]);
    const int64_t rows = tb ? n : k, cols = tb ? k : n;
    for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < cols; ++j) br[i * cols + j] = round_bf16(b[i * ldb + j]);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)m, (blasint)n, (blasint)k, 1.0f,
                ar.data(), (blasint)k, br.data(), (blasint)cols, beta, c, (blasint)ldc);
}

thread_local std::vector<uint32_t> g_apack;

}  // namespace

bool gemm_bf16_native() {
    static const bool native = [] {
        // Isa_avx512 requires AVX512-BF16 besides F/BW/VL/DQ/VNNI (tensor/isa.cpp).
        try {
            return isa_active() == Isa::Isa_avx512;
        } catch (const Error &) {
            return false;
        }
    }();
    return native;
}

void gemm_bf16(bool trans_b, int64_t m, int64_t n, int64_t k, const float * a, int64_t lda, const float * b,
               int64_t ldb, float beta, float * c, int64_t ldc) {
    SY_ASSERT_MSG(beta == 0.0f || beta == 1.0f, "gemm_bf16: beta must be 0 or 1");
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        if (beta == 0.0f)
            for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
        return;
    }
    if (!gemm_bf16_native()) {
        gemm_bf16_rounded(trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    const int64_t k2 = (k + 1) / 2, mb = (m + kBf16Mr - 1) / kBf16Mr;
    g_apack.resize((size_t)(mb * kBf16Mr * k2));
    uint32_t * apack = g_apack.data();
    ThreadPool & tp = pool();
    tp.parallel_for(mb, [&](int64_t b0, int64_t b1, int) {
        bf16_pack_a_avx512(a, lda, m, k, b0 * kBf16Mr, b1 * kBf16Mr, apack);
    });
    const int64_t panels = (n + kBf16Nr - 1) / kBf16Nr;
    tp.parallel_for(panels, [&](int64_t p0, int64_t p1, int) {
        bf16_gemm_cols_avx512(apack, m, k, trans_b, b, ldb, p0 * kBf16Nr, std::min(n, p1 * kBf16Nr), beta, c, ldc);
    });
}

namespace {
std::once_flag g_mode_once;
FrozenMatmul g_mode = FrozenMatmul::FrozenMatmul_f32;
bool g_mode_set = false;

void init_mode() {
    std::call_once(g_mode_once, [] {
        if (g_mode_set) return;
        const char * env = std::getenv("SY_TRAIN_MATMUL");
        g_mode = env && *env ? frozen_matmul_from_name(env)
                             : (gemm_bf16_native() ? FrozenMatmul::FrozenMatmul_bf16 : FrozenMatmul::FrozenMatmul_f32);
    });
}
}  // namespace

FrozenMatmul frozen_matmul() {
    init_mode();
    return g_mode;
}

void set_frozen_matmul(FrozenMatmul m) {
    g_mode_set = true;
    init_mode();
    g_mode = m;
}

FrozenMatmul frozen_matmul_from_name(const std::string & name) {
    if (name == "f32") return FrozenMatmul::FrozenMatmul_f32;
    if (name == "bf16") return FrozenMatmul::FrozenMatmul_bf16;
    throw Error(ErrorKind::ErrorKind_invalid_argument, "matmul '" + name + "' is not one of bf16, f32");
}

const char * frozen_matmul_name(FrozenMatmul m) { return m == FrozenMatmul::FrozenMatmul_bf16 ? "bf16" : "f32"; }

}  // namespace sy::train
