// SwiGLU: out = silu(g) ⊙ u, silu(g) = g·σ(g).
// Backward: dg = dout · u · σ(g)·(1 + g·(1 − σ(g))), du = dout · silu(g). Both overwrite.
#include <cmath>

#include "train/layers.h"

namespace sy::train {

template <typename T>
void swiglu_forward(const T * gate, const T * up, int64_t n, T * out) {
    for (int64_t i = 0; i < n; ++i) {
        const T g = gate[i];
        const T sg = T(1) / (T(1) + std::exp(-g));
        out[i] = g * sg * up[i];
    }
}

template <typename T>
void swiglu_backward(const T * gate, const T * up, const T * dout, int64_t n, T * dgate, T * dup) {
    for (int64_t i = 0; i < n; ++i) {
        const T g = gate[i];
        const T sg = T(1) / (T(1) + std::exp(-g));
        const T d = dout[i];
        dup[i] = d * g * sg;
        dgate[i] = d * up[i] * sg * (T(1) + g * (T(1) - sg));
    }
}

template void swiglu_forward<float>(const float *, const float *, int64_t, float *);
template void swiglu_forward<double>(const double *, const double *, int64_t, double *);
template void swiglu_backward<float>(const float *, const float *, const float *, int64_t, float *, float *);
template void swiglu_backward<double>(const double *, const double *, const double *, int64_t, double *, double *);

}  // namespace sy::train
