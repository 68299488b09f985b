// Which type each tensor of a model gets when it is quantized: plain ("pure") types and llama.cpp's mixed
// recipes (Q4_K_M and friends). A pure function of the tensor's name, shape and layer; it reads no file and
// touches no data (the `model quantize` command does that).
//
// Rules, following llama.cpp's quantizer so our files match what its users expect:
//  - Only weights are quantized: names ending in "weight" with 2 or more dimensions, except norms
//    ("_norm.weight"), MoE routers (ffn_gate_inp), position/token-type embeddings and a few small
//    architecture-specific tensors. Everything else (1-D norms, biases) keeps its type.
//  - Mixed recipes: output.weight (or token_embd.weight when the model ties them) goes to q6_K (q8_0 for
//    Q8_0, or when its row is not a multiple of 256); the "_M" recipes give attn_v and ffn_down more bits
//    in the first and last eighth of the layers and every third layer between (use_more_bits).
//  - Fallback when the row length ne[0] is not a multiple of the chosen type's block: q4_K -> q5_0,
//    q5_K -> q5_1, q6_K -> q8_0, q2_K/q3_K -> q4_0; and f16 when even 32 does not divide ne[0].
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gguf/types.h"

namespace sy {

enum class QuantMix {
    QuantMix_pure,  // every quantized weight gets the base type (the plain type names)
    QuantMix_q3_k_s,
    QuantMix_q3_k_m,
    QuantMix_q3_k_l,
    QuantMix_q4_k_s,
    QuantMix_q4_k_m,
    QuantMix_q5_k_s,
    QuantMix_q5_k_m,
    QuantMix_q6_k,
    QuantMix_q8_0,
};

struct QuantRecipe {
    const char * name = "";       // canonical spelling, e.g. "Q4_K_M" or "q4_K"
    QuantMix mix = QuantMix::QuantMix_pure;
    DType base = DType::DType_f16;  // type of ordinary weights
    uint32_t file_type = 1;         // general.file_type, llama.cpp's LLAMA_FTYPE numbering (Q4_K_M = 15)
    bool quantized = false;         // base is a block type (write general.quantization_version = 2)
};

// Case-insensitive. Accepts the plain types (f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q2_K q3_K q4_K q5_K q6_K)
// and the recipes (Q3_K_S Q3_K_M Q3_K_L Q4_K_S Q4_K_M Q5_K_S Q5_K_M Q6_K Q8_0), optionally prefixed as in
// llama.cpp's enum ("LLAMA_FTYPE_MOSTLY_Q4_K_M", "MOSTLY_Q4_K_M") or given as its number ("15"; 10 is
// pure q2_K here, not llama.cpp's Q2_K mix). A plain type name is pure: note that
// llama-quantize reads "Q4_K" as Q4_K_M, while here q4_K means every weight in q4_K.
std::optional<QuantRecipe> find_quant_recipe(std::string_view name);
// Same, but an unknown name is a sy::Error(ErrorKind_invalid_argument) listing the accepted names.
QuantRecipe parse_quant_recipe(std::string_view name);
std::string quant_recipe_names();  // "f32 f16 ... Q5_K_M" for help and error messages

// One tensor as the chooser sees it.
struct QuantTensor {
    std::string_view name;             // GGUF tensor name, e.g. "blk.3.attn_v.weight"
    int n_dims = 2;
    int64_t ne0 = 0;                   // row length (contiguous dimension)
    DType type = DType::DType_f32;     // type it has now (kept when it is not quantized)
    std::optional<int> i_layer;        // from "blk.N."; nullopt for non-layer tensors
    int n_layer = 0;                   // layers in the model ({arch}.block_count)
    bool model_has_output = true;      // false when output.weight is absent (tied to token_embd.weight)
};

// True when a tensor of this name and rank is a weight that recipes quantize.
bool quant_should_quantize(std::string_view name, int n_dims);

// The type `t` gets under `recipe` (t.type itself when it is left alone).
DType quant_tensor_type(const QuantRecipe & recipe, const QuantTensor & t);

// Shorthand for a freshly built f32 tensor [ne1][ne0] of a model that has its own output.weight
// (n_dims = 2 when ne1 > 0, layer from the name).
DType recipe_tensor_type(const QuantRecipe & recipe, std::string_view name, int64_t ne0, int64_t ne1, int n_layer);

// "blk.12.ffn_down.weight" -> 12; nullopt when the name has no "blk.N." prefix.
std::optional<int> quant_layer_index(std::string_view name);

}  // namespace sy
