// Compute kernels used by the engine and the trainer. Every op has a scalar twin (the fallback and the
// test oracle) and AVX2 / AVX-512 versions, collected in one table per ISA (struct Kernels); callers use
// kernels() for the active ISA or kernels(isa) to pick one.
//
// Shapes: row-major, "[rows][cols]" with cols contiguous. A weight matrix W is [n_out][n_in] (GGUF ne0 =
// n_in), activations X are [n_tok][n_in], outputs Y are [n_tok][n_out]: Y = X · Wᵀ.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gguf/types.h"
#include "tensor/isa.h"
#include "tensor/threadpool.h"

namespace sy {

// A read-only weight matrix in any supported GGUF type (zero-copy view into a mapped file).
struct WeightView {
    DType type = DType::DType_f32;
    int64_t n_in = 0;        // row length (GGUF ne0)
    int64_t n_out = 0;       // number of rows (GGUF ne1)
    const uint8_t * data = nullptr;
    size_t row_stride = 0;   // bytes between rows (= row_bytes(type, n_in))
    // Optional row-interleaved copy made at load (tensor/matmul_pack.h); matmul uses it when set. `data`
    // stays valid (row lookups, LoRA merges).
    const uint8_t * packed = nullptr;
};

enum class RopeMode { RopeMode_normal, RopeMode_neox };  // normal: pairs (2i, 2i+1); neox: (i, i + n_rot/2)

struct AttentionParams {
    int n_head = 0;
    int n_head_kv = 0;             // n_head % n_head_kv == 0; query head h uses kv head h / (n_head / n_head_kv)
    int head_dim = 0;
    int64_t n_kv = 0;              // positions 0..n_kv-1 are attended (caller applies causality)
    float scale = 1.0f;            // usually 1/sqrt(head_dim)
    const uint16_t * k = nullptr;  // f16 [n_kv][n_head_kv][head_dim], rows k_stride elements apart
    const uint16_t * v = nullptr;  // f16 [n_kv][n_head_kv][head_dim], rows v_stride elements apart
    size_t k_stride = 0;
    size_t v_stride = 0;
};

struct Kernels {
    Isa isa;
    // y[n] = x[n] / rms(x) * w[n]   (y may alias x)
    void (*rmsnorm)(const float * x, const float * w, float * y, int64_t n, float eps);
    // In place on x [n_head][head_dim]: rotates the first n_rot dims of each head; cos/sin [n_rot/2] for
    // this token's position (theta_i = pos * base^(-2i/n_rot) * freq_scale).
    void (*rope)(float * x, int n_head, int head_dim, int n_rot, const float * cos, const float * sin, RopeMode mode);
    // In place, numerically stable.
    void (*softmax)(float * x, int64_t n);
    // out[i] = silu(gate[i]) * up[i]   (out may alias gate)
    void (*swiglu)(const float * gate, const float * up, float * out, int64_t n);
    // out[i] = x[i] * sigmoid(x[i])
    void (*silu)(const float * x, float * out, int64_t n);
    // y[i] += x[i]
    void (*add)(const float * x, float * y, int64_t n);
    // One query token, all heads: q [n_head][head_dim] -> out [n_head][head_dim].
    // scratch holds at least n_kv floats.
    void (*attention)(const float * q, const AttentionParams & p, float * out, float * scratch);
    // f32 <-> f16 rows
    void (*f32_to_f16)(const float * x, uint16_t * y, int64_t n);
    void (*f16_to_f32)(const uint16_t * x, float * y, int64_t n);
    // dot(W row, x) for one row of any supported type against f32 x (slow path; matmul is the fast one).
    float (*dot_row)(DType t, const void * w_row, const float * x, int64_t n);
    // Y[n_tok][n_out] = X[n_tok][n_in] · Wᵀ, parallel over the pool. ldy = stride of Y rows in floats.
    void (*matmul)(const WeightView & w, const float * x, int64_t n_tok, float * y, int64_t ldy, ThreadPool & pool);
};

const Kernels & kernels(Isa isa);
const Kernels & kernels();  // kernels(isa_active())

// True when matmul supports weights of type t (every type in quant.h's list except q8_1 / q8_K).
bool matmul_supported(DType t);

}  // namespace sy
