// Per-type row quantizers/dequantizers behind quant.h's dispatch table (private to src/tensor/).
// quant.cpp holds the plain and 32-element block types, quant_kquants.cpp the 256-element K-quants.
// Every function takes n, a multiple of the type's block size (checked by the caller).
#pragma once

#include <cmath>
#include <cstdint>

namespace sy::detail {

// Round half away from zero is not what ggml does: it rounds to nearest, ties to even (the default
// floating-point rounding mode). |x| must stay well inside int range.
inline int nearest_int(float x) { return (int)std::nearbyint(x); }

void quantize_row_q2_K(const float * x, void * y, int64_t n);
void quantize_row_q3_K(const float * x, void * y, int64_t n);
void quantize_row_q4_K(const float * x, void * y, int64_t n);
void quantize_row_q5_K(const float * x, void * y, int64_t n);
void quantize_row_q6_K(const float * x, void * y, int64_t n);
void quantize_row_q8_K(const float * x, void * y, int64_t n);

void dequantize_row_q2_K(const void * x, float * y, int64_t n);
void dequantize_row_q3_K(const void * x, float * y, int64_t n);
void dequantize_row_q4_K(const void * x, float * y, int64_t n);
void dequantize_row_q5_K(const void * x, float * y, int64_t n);
void dequantize_row_q6_K(const void * x, float * y, int64_t n);
void dequantize_row_q8_K(const void * x, float * y, int64_t n);

}  // namespace sy::detail
