// Private to the ops_<isa>.cpp files: the scalar twins the vector paths fall back to for shapes they do
// not specialise (e.g. an attention head_dim that is not a multiple of the vector width), and the chunked
// dequantize-then-dot helper shared by every dot_row.
#pragma once

#include <cstdint>

#include "tensor/ops.h"

namespace sy::detail {

void attention_scalar(const float * q, const AttentionParams & p, float * out, float * scratch);

// Dots x [n] with a row of any quantized type t by dequantizing kDotChunk elements at a time into a stack
// buffer and handing each chunk to dot_f32 (the caller's ISA's plain f32 dot). n % block_size(t) == 0.
constexpr int64_t kDotChunk = 1024;  // a multiple of every block size (32 and 256)
float dot_row_dequant(DType t, const void * w_row, const float * x, int64_t n,
                      float (*dot_f32)(const float * a, const float * b, int64_t n));

}  // namespace sy::detail
