// LoRA adapters in llama.cpp's GGUF adapter format, applied at run time without merging:
//   y = x · Wᵀ + scale · (x · Aᵀ) · Bᵀ,   scale = user_scale · alpha / rank  (user_scale when alpha = 0)
// Tensor names: "<base tensor name>.lora_a" with GGUF ne = [n_in, rank] and "<base>.lora_b" with
// ne = [rank, n_out]; metadata general.type = "adapter", adapter.type = "lora", adapter.lora.alpha.
// This is the one wrapper around every weight product: inference (forward.cpp), training and merging
// use linear_forward / merge below.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "engine/model.h"

namespace sy::engine {

// The seven adaptable projections of a block, in a fixed order.
enum class Proj { Proj_q, Proj_k, Proj_v, Proj_o, Proj_gate, Proj_up, Proj_down };
constexpr int kProjCount = 7;
const char * proj_tensor_suffix(Proj p);  // "attn_q.weight", ...
const char * proj_short_name(Proj p);     // "q", "k", "v", "o", "gate", "up", "down"

struct LoraPair {
    int32_t rank = 0;
    int64_t n_in = 0, n_out = 0;
    std::vector<float> a;  // [rank][n_in]
    std::vector<float> b;  // [n_out][rank]
};

class LoraAdapter {
public:
    // Loads and validates against `model` (architecture, tensor names, shapes). Throws sy::Error.
    static std::shared_ptr<LoraAdapter> load(const std::string & path, const Model & model);

    const std::string & path() const { return path_; }
    float alpha() const { return alpha_; }
    // The pair for layer il / projection p, or nullptr when the adapter leaves it alone.
    const LoraPair * pair(int il, Proj p) const { return layers_[il][(int)p].get(); }
    float scale_for(const LoraPair & pair, float user_scale) const {
        return alpha_ != 0.0f ? user_scale * alpha_ / (float)pair.rank : user_scale;
    }

private:
    std::string path_;
    float alpha_ = 0.0f;
    std::vector<std::array<std::unique_ptr<LoraPair>, kProjCount>> layers_;
};

struct ActiveLora {
    std::shared_ptr<const LoraAdapter> adapter;
    float scale = 1.0f;
};

// Y[n_tok][n_out] = X[n_tok][n_in] · Wᵀ + bias + Σ_adapters scale · (X · Aᵀ) · Bᵀ.
// `tmp` is scratch, resized as needed.
void linear_forward(const WeightView & w, const float * bias, const std::vector<ActiveLora> & loras, int il, Proj p,
                    const float * x, int64_t n_tok, float * y, ThreadPool & pool, std::vector<float> & tmp);

// An adapter applied to some tokens of a batch only (per-sequence LoRA in continuous batching): `rows` are
// the token indices it applies to, ascending; all_rows = every token.
struct LoraRows {
    ActiveLora lora;
    bool all_rows = true;
    std::vector<int32_t> rows;
};

// As above with per-token adapters: the base product runs once over all n_tok tokens, then each adapter's
// delta is computed for its own rows only and added to them.
void linear_forward(const WeightView & w, const float * bias, const std::vector<LoraRows> & loras, int il, Proj p,
                    const float * x, int64_t n_tok, float * y, ThreadPool & pool, std::vector<float> & tmp);

// W' = W + scale · B · A as f32 [n_out][n_in] (the base dequantized row by row): what merging writes.
std::vector<float> merge_lora_weight(const WeightView & w, const LoraPair & pair, float scale);

}  // namespace sy::engine
