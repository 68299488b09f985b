// Quantize and dequantize rows of every GGUF type Switchyard supports (scalar reference code; the
// bit layouts are those of src/tensor/blocks.h). Vectorised dot products live in the kernels (ops.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "gguf/types.h"

namespace sy {

// True for the types quantize_row/dequantize_row handle: f32 f16 bf16 q4_0 q4_1 q5_0 q5_1 q8_0 q8_1
// q2_K q3_K q4_K q5_K q6_K q8_K.
bool dtype_supported(DType t);

// n must be a multiple of the type's block size (checked: sy::Error(ErrorKind_invalid_argument)).
void quantize_row(DType t, const float * x, void * y, int64_t n);
void dequantize_row(DType t, const void * x, float * y, int64_t n);

// Whole matrix of n_rows rows of n_cols; returns bytes written (n_rows * row_bytes(t, n_cols)).
size_t quantize_rows(DType t, const float * x, void * y, int64_t n_rows, int64_t n_cols);
std::vector<uint8_t> quantize_rows(DType t, const float * x, int64_t n_rows, int64_t n_cols);
std::vector<float> dequantize_rows(DType t, const void * x, int64_t n_rows, int64_t n_cols);

}  // namespace sy
