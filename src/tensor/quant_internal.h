// Per-type row quantizers/dequantizers behind quant.h's dispatch table (private to src/tensor/).
// quant.cpp holds the plain and 32-element block types, quant_kquants.cpp the 256-element K-quants.
// Every function takes n, a multiple of the type's block size (checked by the caller).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace sy::detail {

// Round to nearest, ties to even (what ggml's quantizers use), without a libm call: adding 1.5 * 2^23
// leaves the rounded integer in the low mantissa bits. Inputs are clamped to +-2^22, far beyond any code.
inline int nearest_int(float x) {
    const float v = std::clamp(x, -4194303.0f, 4194303.0f) + 12582912.0f;
    int32_t i;
    std::memcpy(&i, &v, 4);
    return (i & 0x007fffff) - 0x00400000;
}

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
