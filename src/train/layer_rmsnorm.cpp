// RMSNorm, y_j = x_j · r · w_j with r = 1/sqrt(mean(x²) + eps).
// Backward: dx_j = r · w_j · dy_j − (r³ / d) · x_j · Σ_k dy_k w_k x_k;  dw_j = Σ_tokens dy_j · x_j · r.
// Forward overwrites y and rstd; backward accumulates (+=) into dx and dw.
#include <cmath>

#include "train/layers.h"

namespace sy::train {

template <typename T>
void rmsnorm_forward(const T * x, const T * w, int64_t n, int64_t d, double eps, T * y, T * rstd) {
    for (int64_t t = 0; t < n; ++t) {
        const T * xr = x + t * d;
        double ss = 0.0;
        for (int64_t j = 0; j < d; ++j) ss += (double)xr[j] * xr[j];
        const T r = (T)(1.0 / std::sqrt(ss / (double)d + eps));
        rstd[t] = r;
        T * yr = y + t * d;
        for (int64_t j = 0; j < d; ++j) yr[j] = xr[j] * r * w[j];
    }
}

template <typename T>
void rmsnorm_backward(const T * x, const T * w, const T * rstd, const T * dy, int64_t n, int64_t d, T * dx, T * dw) {
    for (int64_t t = 0; t < n; ++t) {
        const T * xr = x + t * d;
        const T * g = dy + t * d;
        const double r = rstd[t];
        double dot = 0.0;
        for (int64_t j = 0; j < d; ++j) dot += (double)g[j] * w[j] * xr[j];
        const double c = r * r * r * dot / (double)d;
        T * o = dx + t * d;
        for (int64_t j = 0; j < d; ++j) o[j] += (T)(r * w[j] * g[j] - c * xr[j]);
        if (dw)
            for (int64_t j = 0; j < d; ++j) dw[j] += (T)(g[j] * xr[j] * r);
    }
}

template void rmsnorm_forward<float>(const float *, const float *, int64_t, int64_t, double, float *, float *);
template void rmsnorm_forward<double>(const double *, const double *, int64_t, int64_t, double, double *, double *);
template void rmsnorm_backward<float>(const float *, const float *, const float *, const float *, int64_t, int64_t,
                                      float *, float *);
template void rmsnorm_backward<double>(const double *, const double *, const double *, const double *, int64_t,
                                       int64_t, double *, double *);

}  // namespace sy::train
