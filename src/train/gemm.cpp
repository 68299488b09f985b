// OpenBLAS-backed GEMM and its scalar twin (see gemm.h). OpenBLAS itself runs single-threaded; a product
// big enough to share is split into column (or row) blocks that the trainer's pool runs concurrently, so
// one set of worker threads serves both these products and the bf16 kernel (OpenBLAS's own workers would
// spin-yield between calls, competing with the pool's for the same cores). gemm_small's blocks run the
// AVX-512 small-matrix kernel (gemm_f32_avx512.cpp) where the CPU has it.
#include "train/gemm.h"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <type_traits>

#include "tensor/threadpool.h"
#include "train/gemm_bf16_internal.h"

namespace sy::train {
namespace {

int g_threads = 1;
std::unique_ptr<ThreadPool> g_pool;
std::atomic<bool> g_pool_busy{false};
std::once_flag g_blas_once;

void blas_single_threaded() {
    std::call_once(g_blas_once, [] { openblas_set_num_threads(1); });
}

// Products below this many multiply-adds run on the calling thread (a pool dispatch costs a few µs, and
// waking a parked worker tens).
constexpr int64_t kSplitMacs = int64_t(1) << 21;
// gemm_small runs the AVX-512 small-matrix kernel for k up to this (op(B)'s 32-column panel, k × 128
// bytes, stays in L2); about twice OpenBLAS's AVX2 kernel on LoRA's and attention's shapes.
constexpr int64_t kSmallMaxK = 1024;

inline void blas(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float * a, int64_t lda,
                 const float * b, int64_t ldb, float beta, float * c, int64_t ldc) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)m, (blasint)n,
                (blasint)k, alpha, a, (blasint)lda, b, (blasint)ldb, beta, c, (blasint)ldc);
}

inline void blas(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double * a, int64_t lda,
                 const double * b, int64_t ldb, double beta, double * c, int64_t ldc) {
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)m, (blasint)n,
                (blasint)k, alpha, a, (blasint)lda, b, (blasint)ldb, beta, c, (blasint)ldc);
}

// Splits C into blocks of columns (or of rows, when C is taller than wide) on multiples of 16, a few per
// pool thread, claimed from a shared counter: a worker that is still waking up (it parks after a short
// spin, e.g. during a single-threaded layer) joins late instead of leaving its fixed half to the caller.
// Every element of C is computed by one single-threaded call over the whole k, so the results do not
// depend on which thread ran a block (deterministic for a fixed thread count).
template <typename T>
void gemm_split(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T * a, int64_t lda, const T * b,
                int64_t ldb, T beta, T * c, int64_t ldc, bool small = false) {
    blas_single_threaded();
    auto blas = [small](bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T * a, int64_t lda,
                        const T * b, int64_t ldb, T beta, T * c, int64_t ldc) {
        if constexpr (std::is_same_v<T, float>)
            if (small) {
                detail::f32_gemm_small_avx512(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
                return;
            }
        sy::train::blas(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    };
    detail::PoolLease lease;
    ThreadPool & tp = lease.pool();
    const int nth = tp.size();
    if (nth == 1 || m * n * k < kSplitMacs) {
        blas(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    const bool by_cols = n >= m;
    const int64_t len = by_cols ? n : m, blocks = (len + 15) / 16;
    // About kSplitMacs / 2 multiply-adds per part, at most 4 parts per thread.
    const int64_t parts = std::clamp<int64_t>(m * n * k / (kSplitMacs / 2), 1, std::min<int64_t>(blocks, 4 * nth));
    std::atomic<int64_t> next{0};
    tp.run([&](int, int) {
        for (int64_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < parts;) {
            const int64_t s = blocks * i / parts * 16, e = std::min(len, blocks * (i + 1) / parts * 16);
            if (s >= e) continue;
            if (by_cols)
                blas(ta, tb, m, e - s, k, alpha, a, lda, tb ? b + s * ldb : b + s, ldb, beta, c + s, ldc);
            else
                blas(ta, tb, e - s, n, k, alpha, ta ? a + s : a + s * lda, lda, b, ldb, beta, c + s * ldc, ldc);
        }
    });
}

}  // namespace

template <>
void gemm<float>(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float * a, int64_t lda,
                 const float * b, int64_t ldb, float beta, float * c, int64_t ldc) {
    if (m == 0 || n == 0) return;
    gemm_split<float>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

template <>
void gemm<double>(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double * a, int64_t lda,
                  const double * b, int64_t ldb, double beta, double * c, int64_t ldc) {
    if (m == 0 || n == 0) return;
    gemm_split<double>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void gemm_small(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float * a, int64_t lda,
                const float * b, int64_t ldb, float beta, float * c, int64_t ldc) {
    if (m == 0 || n == 0) return;
    gemm_split<float>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, k <= kSmallMaxK && gemm_bf16_native());
}

template <typename T>
void gemm_ref(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T * a, int64_t lda, const T * b,
              int64_t ldb, T beta, T * c, int64_t ldc) {
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
            double s = 0.0;
            for (int64_t p = 0; p < k; ++p) {
                const T av = ta ? a[p * lda + i] : a[i * lda + p];
                const T bv = tb ? b[j * ldb + p] : b[p * ldb + j];
                s += (double)av * (double)bv;
            }
            T & cv = c[i * ldc + j];
            cv = (T)((double)alpha * s + (beta == T(0) ? 0.0 : (double)beta * (double)cv));
        }
}

template void gemm_ref<float>(bool, bool, int64_t, int64_t, int64_t, float, const float *, int64_t, const float *,
                              int64_t, float, float *, int64_t);
template void gemm_ref<double>(bool, bool, int64_t, int64_t, int64_t, double, const double *, int64_t, const double *,
                               int64_t, double, double *, int64_t);

void gemm_set_threads(int n_threads) {
    blas_single_threaded();
    g_threads = n_threads < 1 ? 1 : n_threads;
}

namespace detail {

int gemm_thread_count() { return g_threads; }

PoolLease::PoolLease() {
    static ThreadPool inline_pool(1);
    if (g_pool_busy.exchange(true, std::memory_order_acquire)) {
        pool_ = &inline_pool;  // another thread (or an enclosing job) holds the pool: run here
        return;
    }
    held_ = true;
    if (!g_pool || g_pool->size() != g_threads) g_pool = std::make_unique<ThreadPool>(g_threads);
    pool_ = g_pool.get();
}

PoolLease::~PoolLease() {
    if (held_) g_pool_busy.store(false, std::memory_order_release);
}

}  // namespace detail

}  // namespace sy::train
