// OpenBLAS-backed GEMM and its scalar twin (see gemm.h).
#include "train/gemm.h"

#include <cblas.h>

namespace sy::train {

template <>
void gemm<float>(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float * a, int64_t lda,
                 const float * b, int64_t ldb, float beta, float * c, int64_t ldc) {
    if (m == 0 || n == 0) return;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)m, (blasint)n,
                (blasint)k, alpha, a, (blasint)lda, b, (blasint)ldb, beta, c, (blasint)ldc);
}

template <>
void gemm<double>(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double * a, int64_t lda,
                  const double * b, int64_t ldb, double beta, double * c, int64_t ldc) {
    if (m == 0 || n == 0) return;
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)m, (blasint)n,
                (blasint)k, alpha, a, (blasint)lda, b, (blasint)ldb, beta, c, (blasint)ldc);
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

namespace {
int g_threads = 1;
}

void gemm_set_threads(int n_threads) {
    g_threads = n_threads < 1 ? 1 : n_threads;
    openblas_set_num_threads(g_threads);
}

namespace detail {
int gemm_thread_count() { return g_threads; }
}  // namespace detail

}  // namespace sy::train
