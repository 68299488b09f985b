// Rotary position embedding with the engine's conventions (engine/context.cpp, tensor/ops.h).
// Forward rotates each pair (x0, x1) by theta; backward applies the inverse rotation to the gradient
// (a rotation's Jacobian is the rotation itself, so dx = Rᵀ dy). Both work in place (overwrite).
#include <cmath>

#include "common/error.h"
#include "train/layers.h"

namespace sy::train {

void rope_tables(const int32_t * pos, int64_t n, int n_rot, float base, float freq_scale, const float * freq_factors,
                 float * cos, float * sin) {
    const int half = n_rot / 2;
    for (int64_t t = 0; t < n; ++t)
        for (int i = 0; i < half; ++i) {
            double theta = pos[t] * std::pow((double)base, -2.0 * i / n_rot) * freq_scale;
            if (freq_factors) theta /= freq_factors[i];
            cos[t * half + i] = (float)std::cos(theta);
            sin[t * half + i] = (float)std::sin(theta);
        }
}

namespace {

template <typename T>
void rotate(T * x, int64_t n, int n_head, int head_dim, int n_rot, const float * cos, const float * sin, RopeMode mode,
            T sign) {
    SY_ASSERT(n_rot % 2 == 0 && n_rot <= head_dim);
    const int half = n_rot / 2;
    for (int64_t t = 0; t < n; ++t) {
        const float * c = cos + t * half;
        const float * s = sin + t * half;
        for (int h = 0; h < n_head; ++h) {
            T * xh = x + (t * n_head + h) * head_dim;
            for (int i = 0; i < half; ++i) {
                const int i0 = mode == RopeMode::RopeMode_normal ? 2 * i : i;
                const int i1 = mode == RopeMode::RopeMode_normal ? 2 * i + 1 : i + half;
                const T x0 = xh[i0], x1 = xh[i1], cv = (T)c[i], sv = sign * (T)s[i];
                xh[i0] = x0 * cv - x1 * sv;
                xh[i1] = x0 * sv + x1 * cv;
            }
        }
    }
}

}  // namespace

template <typename T>
void rope_forward(T * x, int64_t n, int n_head, int head_dim, int n_rot, const float * cos, const float * sin,
                  RopeMode mode) {
    rotate(x, n, n_head, head_dim, n_rot, cos, sin, mode, T(1));
}

template <typename T>
void rope_backward(T * dx, int64_t n, int n_head, int head_dim, int n_rot, const float * cos, const float * sin,
                   RopeMode mode) {
    rotate(dx, n, n_head, head_dim, n_rot, cos, sin, mode, T(-1));
}

template void rope_forward<float>(float *, int64_t, int, int, int, const float *, const float *, RopeMode);
template void rope_forward<double>(double *, int64_t, int, int, int, const float *, const float *, RopeMode);
template void rope_backward<float>(float *, int64_t, int, int, int, const float *, const float *, RopeMode);
template void rope_backward<double>(double *, int64_t, int, int, int, const float *, const float *, RopeMode);

}  // namespace sy::train
