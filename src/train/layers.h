// Forward and backward of every layer of the llama/qwen2 graph, llm.c style: each layer concept is one
// file (layer_*.cpp) holding its forward and its backward side by side. All functions are templates
// instantiated for float (training) and double (finite-difference checks in tests/train).
//
// Conventions: activations are token-major, [n][d] row-major; a weight W is [n_out][n_in] and applied as
// y = x · Wᵀ. Every function says which output buffers it overwrites and which it accumulates into (+=):
// forward passes overwrite; backward passes overwrite activation gradients that are produced in one place
// (attention, swiglu, rope in place, cross-entropy) and accumulate (+=) into parameter gradients and into
// activation gradients that have several consumers (dx of rmsnorm and linear: the residual stream and a
// normalised input that feeds q, k and v).
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/ops.h"

namespace sy::train {

class PackedBf16;  // gemm.h

// A contiguous run of tokens of one example inside a packed batch. Attention never crosses segments
// (sequence packing without cross-example attention); positions restart at 0 in each segment.
struct Segment {
    int64_t start = 0;
    int64_t len = 0;
};

// ---- embedding (layer_embedding.cpp)
// out[n][d] = table[tok[i]] (overwrite).
template <typename T>
void embedding_forward(const T * table, const int32_t * tok, int64_t n, int64_t d, T * out);
// dtable[tok[i]] += dout[i] (accumulate, in token order).
template <typename T>
void embedding_backward(const int32_t * tok, int64_t n, int64_t d, const T * dout, T * dtable);
// A frozen table of any GGUF type (rows dequantized): out[n][table.n_in] (overwrite).
void embedding_forward_view(const WeightView & table, const int32_t * tok, int64_t n, float * out);

// ---- RMSNorm (layer_rmsnorm.cpp): y = x · rstd · w, rstd = 1/sqrt(mean(x²) + eps)
// y[n][d], rstd[n]: overwrite.
template <typename T>
void rmsnorm_forward(const T * x, const T * w, int64_t n, int64_t d, double eps, T * y, T * rstd);
// dx[n][d] += ..., dw[d] += ... (dw may be null: frozen norm).
template <typename T>
void rmsnorm_backward(const T * x, const T * w, const T * rstd, const T * dy, int64_t n, int64_t d, T * dx, T * dw);

// ---- linear with optional bias and LoRA (layer_linear.cpp)
//   y = x · Wᵀ + b + scale · (drop(x) · Aᵀ) · Bᵀ
// W is either dense T [n_out][n_in] (`w`) or, for T = float only, a frozen weight of any GGUF type
// (`frozen`), dequantized one tile of rows at a time and never held whole in f32.
template <typename T>
struct LinearParams {
    int64_t n_in = 0, n_out = 0;
    const T * w = nullptr;                // [n_out][n_in] or null when `frozen` is set
    const WeightView * frozen = nullptr;  // float only
    const PackedBf16 * packed = nullptr;  // float only: `frozen` kept in bf16 (gemm.h), used when set
    const T * bias = nullptr;             // [n_out] or null
    int32_t rank = 0;                     // 0: no LoRA
    const T * a = nullptr;                // [rank][n_in]
    const T * b = nullptr;                // [n_out][rank]
    T scale = T(0);
    float dropout = 0.0f;                 // LoRA input dropout probability
    uint64_t dropout_seed = 0;            // mask = hash(seed, element index): identical in forward and backward
};

template <typename T>
struct LinearGrads {
    T * dw = nullptr;     // [n_out][n_in] +=, null when W is frozen
    T * dbias = nullptr;  // [n_out] +=, null when frozen or absent
    T * da = nullptr;     // [rank][n_in] +=
    T * db = nullptr;     // [n_out][rank] +=
};

// y[n][n_out] overwrite; lora_h[n][rank] overwrite (saved for backward; unused when rank = 0).
template <typename T>
void linear_forward(const LinearParams<T> & p, const T * x, int64_t n, T * y, T * lora_h, std::vector<T> & scratch);
// dx[n][n_in] += (null: not needed); parameter gradients += as set in g.
template <typename T>
void linear_backward(const LinearParams<T> & p, const T * x, const T * lora_h, const T * dy, int64_t n, T * dx,
                     const LinearGrads<T> & g, std::vector<T> & scratch);

// ---- RoPE (layer_rope.cpp), the engine's conventions (tensor/ops.h): theta_i = pos · base^(-2i/n_rot) ·
// freq_scale (÷ freq_factors[i] when given); normal mode rotates pairs (2i, 2i+1), neox (i, i + n_rot/2).
// cos/sin [n][n_rot/2] (overwrite), computed exactly like engine/context.cpp.
void rope_tables(const int32_t * pos, int64_t n, int n_rot, float base, float freq_scale, const float * freq_factors,
                 float * cos, float * sin);
// In place on x [n][n_head][head_dim].
template <typename T>
void rope_forward(T * x, int64_t n, int n_head, int head_dim, int n_rot, const float * cos, const float * sin,
                  RopeMode mode);
// In place on dx (the inverse rotation): overwrite.
template <typename T>
void rope_backward(T * dx, int64_t n, int n_head, int head_dim, int n_rot, const float * cos, const float * sin,
                   RopeMode mode);

// ---- causal grouped-query attention within segments (layer_attention.cpp)
struct AttnShape {
    int n_head = 0, n_head_kv = 0, head_dim = 0;  // query head h reads kv head h / (n_head / n_head_kv)
};
// Floats of saved probabilities: Σ_segments n_head · len².
int64_t attention_probs_size(const std::vector<Segment> & segs, int n_head);
// q [n][n_head·hd], k/v [n][n_head_kv·hd] -> out [n][n_head·hd] (overwrite); probs (overwrite, saved).
template <typename T>
void attention_forward(const T * q, const T * k, const T * v, const std::vector<Segment> & segs, const AttnShape & s,
                       T * out, T * probs);
// dq, dk, dv overwrite (tokens outside every segment are zeroed).
template <typename T>
void attention_backward(const T * q, const T * k, const T * v, const T * probs, const T * dout,
                        const std::vector<Segment> & segs, const AttnShape & s, T * dq, T * dk, T * dv,
                        std::vector<T> & scratch);

// ---- SwiGLU (layer_swiglu.cpp): out = silu(gate) ⊙ up, all [n] (overwrite; out may alias neither input).
template <typename T>
void swiglu_forward(const T * gate, const T * up, int64_t n, T * out);
// dgate, dup [n] overwrite.
template <typename T>
void swiglu_backward(const T * gate, const T * up, const T * dout, int64_t n, T * dgate, T * dup);

// ---- cross-entropy with per-row weights (layer_cross_entropy.cpp)
// Returns Σ_i weight[i] · −log softmax(logits[i])[target[i]] over m rows of n_vocab.
template <typename T>
double cross_entropy_forward(const T * logits, const int32_t * target, const T * weight, int64_t m, int64_t n_vocab);
// dlogits[m][n_vocab] = weight[i] · (softmax(logits[i]) − onehot(target[i])) (overwrite; may alias logits).
// Returns the same loss as the forward.
template <typename T>
double cross_entropy_backward(const T * logits, const int32_t * target, const T * weight, int64_t m, int64_t n_vocab,
                              T * dlogits);

}  // namespace sy::train
