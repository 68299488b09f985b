// Token embedding: forward (gather rows, overwrite) and backward (scatter-add rows, accumulate +=).
#include <cstring>

#include "tensor/quant.h"
#include "train/layers.h"

namespace sy::train {

template <typename T>
void embedding_forward(const T * table, const int32_t * tok, int64_t n, int64_t d, T * out) {
    for (int64_t i = 0; i < n; ++i) std::memcpy(out + i * d, table + (int64_t)tok[i] * d, sizeof(T) * (size_t)d);
}

template <typename T>
void embedding_backward(const int32_t * tok, int64_t n, int64_t d, const T * dout, T * dtable) {
    for (int64_t i = 0; i < n; ++i) {
        T * row = dtable + (int64_t)tok[i] * d;
        const T * g = dout + i * d;
        for (int64_t j = 0; j < d; ++j) row[j] += g[j];
    }
}

void embedding_forward_view(const WeightView & table, const int32_t * tok, int64_t n, float * out) {
    for (int64_t i = 0; i < n; ++i)
        dequantize_row(table.type, table.data + (size_t)tok[i] * table.row_stride, out + i * table.n_in, table.n_in);
}

template void embedding_forward<float>(const float *, const int32_t *, int64_t, int64_t, float *);
template void embedding_forward<double>(const double *, const int32_t *, int64_t, int64_t, double *);
template void embedding_backward<float>(const int32_t *, int64_t, int64_t, const float *, float *);
template void embedding_backward<double>(const int32_t *, int64_t, int64_t, const double *, double *);

}  // namespace sy::train
