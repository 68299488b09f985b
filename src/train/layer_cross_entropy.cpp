// Cross-entropy over the vocabulary with per-row weights (the loss mask and the 1/N normaliser folded in):
//   loss = Σ_i w_i · (logsumexp(z_i) − z_i[target_i]),  dz_i = w_i · (softmax(z_i) − onehot(target_i)).
// The backward overwrites dlogits (it may alias logits: the output head's logits buffer is reused).
#include <algorithm>
#include <cmath>

#include "train/layers.h"

namespace sy::train {
namespace {

template <typename T>
double row_logsumexp(const T * z, int64_t n) {
    T mx = z[0];
    for (int64_t j = 1; j < n; ++j) mx = std::max(mx, z[j]);
    double s = 0.0;
    for (int64_t j = 0; j < n; ++j) s += std::exp((double)(z[j] - mx));
    return (double)mx + std::log(s);
}

}  // namespace

template <typename T>
double cross_entropy_forward(const T * logits, const int32_t * target, const T * weight, int64_t m, int64_t n_vocab) {
    double loss = 0.0;
    for (int64_t i = 0; i < m; ++i) {
        const T * z = logits + i * n_vocab;
        loss += (double)weight[i] * (row_logsumexp(z, n_vocab) - (double)z[target[i]]);
    }
    return loss;
}

template <typename T>
double cross_entropy_backward(const T * logits, const int32_t * target, const T * weight, int64_t m, int64_t n_vocab,
                              T * dlogits) {
    double loss = 0.0;
    for (int64_t i = 0; i < m; ++i) {
        const T * z = logits + i * n_vocab;
        T * dz = dlogits + i * n_vocab;
        const double lse = row_logsumexp(z, n_vocab);
        const double w = weight[i];
        loss += w * (lse - (double)z[target[i]]);
        for (int64_t j = 0; j < n_vocab; ++j) dz[j] = (T)(w * std::exp((double)z[j] - lse));
        dz[target[i]] -= (T)w;
    }
    return loss;
}

template double cross_entropy_forward<float>(const float *, const int32_t *, const float *, int64_t, int64_t);
template double cross_entropy_forward<double>(const double *, const int32_t *, const double *, int64_t, int64_t);
template double cross_entropy_backward<float>(const float *, const int32_t *, const float *, int64_t, int64_t,
                                              float *);
template double cross_entropy_backward<double>(const double *, const int32_t *, const double *, int64_t, int64_t,
                                               double *);

}  // namespace sy::train
