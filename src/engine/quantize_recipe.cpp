// Per-tensor type choice for `model quantize` (see quantize_recipe.h for the rules and their origin).
#include "engine/quantize_recipe.h"

#include <array>
#include <cctype>
#include <charconv>

#include "common/error.h"

namespace sy {
namespace {

constexpr std::array<QuantRecipe, 20> kRecipes = {{
    // plain types: every quantized weight gets this type
    {"f32", QuantMix::QuantMix_pure, DType::DType_f32, 0, false},
    {"f16", QuantMix::QuantMix_pure, DType::DType_f16, 1, false},
    {"bf16", QuantMix::QuantMix_pure, DType::DType_bf16, 32, false},
    {"q4_0", QuantMix::QuantMix_pure, DType::DType_q4_0, 2, true},
    {"q4_1", QuantMix::QuantMix_pure, DType::DType_q4_1, 3, true},
    {"q5_0", QuantMix::QuantMix_pure, DType::DType_q5_0, 8, true},
    {"q5_1", QuantMix::QuantMix_pure, DType::DType_q5_1, 9, true},
    {"q2_K", QuantMix::QuantMix_pure, DType::DType_q2_k, 10, true},
    {"q3_K", QuantMix::QuantMix_pure, DType::DType_q3_k, 11, true},
    {"q4_K", QuantMix::QuantMix_pure, DType::DType_q4_k, 14, true},
    {"q5_K", QuantMix::QuantMix_pure, DType::DType_q5_k, 16, true},
    // mixed recipes (Q6_K and Q8_0 also cover the plain q6_K / q8_0 spellings: their mix only touches
    // output.weight, which gets the base type anyway)
    {"Q3_K_S", QuantMix::QuantMix_q3_k_s, DType::DType_q3_k, 11, true},
    {"Q3_K_M", QuantMix::QuantMix_q3_k_m, DType::DType_q3_k, 12, true},
    {"Q3_K_L", QuantMix::QuantMix_q3_k_l, DType::DType_q3_k, 13, true},
    {"Q4_K_S", QuantMix::QuantMix_q4_k_s, DType::DType_q4_k, 14, true},
    {"Q4_K_M", QuantMix::QuantMix_q4_k_m, DType::DType_q4_k, 15, true},
    {"Q5_K_S", QuantMix::QuantMix_q5_k_s, DType::DType_q5_k, 16, true},
    {"Q5_K_M", QuantMix::QuantMix_q5_k_m, DType::DType_q5_k, 17, true},
    {"Q6_K", QuantMix::QuantMix_q6_k, DType::DType_q6_k, 18, true},
    {"Q8_0", QuantMix::QuantMix_q8_0, DType::DType_q8_0, 7, true},
}};
static_assert(kRecipes.size() == 20, "11 plain types + 9 recipes");

bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (std::tolower((unsigned char)a[i]) != std::tolower((unsigned char)b[i])) return false;
    return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && iequal(s.substr(0, prefix.size()), prefix);
}

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }
bool ends_with(std::string_view s, std::string_view tail) {
    return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// llama.cpp's choice of layers that get more bits in the _M recipes: the first and last eighth, and every
// third layer in between. For 32 layers: 0-3, 6, 9, ..., 27, 28-31.
bool use_more_bits(int i_layer, int n_layer) {
    return i_layer < n_layer / 8 || i_layer >= 7 * n_layer / 8 || (i_layer - n_layer / 8) % 3 == 2;
}

DType fallback_type(DType t, int64_t ne0) {
    if (ne0 % dtype_info(t).block_size == 0) return t;
    DType f = DType::DType_f16;
    switch (t) {
        case DType::DType_q2_k:
        case DType::DType_q3_k: f = DType::DType_q4_0; break;  // llama.cpp uses iq4_nl, same 4.5 bits
        case DType::DType_q4_k: f = DType::DType_q5_0; break;
        case DType::DType_q5_k: f = DType::DType_q5_1; break;
        case DType::DType_q6_k: f = DType::DType_q8_0; break;
        default: break;
    }
    return ne0 % dtype_info(f).block_size == 0 ? f : DType::DType_f16;
}

}  // namespace

std::optional<QuantRecipe> find_quant_recipe(std::string_view name) {
    if (istarts_with(name, "LLAMA_FTYPE_")) name.remove_prefix(12);
    if (istarts_with(name, "MOSTLY_")) name.remove_prefix(7);
    if (iequal(name, "ALL_F32")) name = "f32";
    for (const auto & r : kRecipes)
        if (iequal(r.name, name)) return r;
    // llama-quantize also takes the numeric file type; where a mix and a plain type share a number
    // (11, 14, 16) the mix wins, as that is what the number means to llama.cpp.
    uint32_t id = 0;
    const auto res = std::from_chars(name.data(), name.data() + name.size(), id);
    if (name.empty() || res.ec != std::errc() || res.ptr != name.data() + name.size()) return std::nullopt;
    for (const auto & r : kRecipes)
        if (r.file_type == id && r.mix != QuantMix::QuantMix_pure) return r;
    for (const auto & r : kRecipes)
        if (r.file_type == id) return r;
    return std::nullopt;
}

QuantRecipe parse_quant_recipe(std::string_view name) {
    if (auto r = find_quant_recipe(name)) return *r;
    throw Error(ErrorKind::ErrorKind_invalid_argument,
                "unknown quantization type '" + std::string(name) + "' (one of: " + quant_recipe_names() + ")");
}

DType recipe_tensor_type(const QuantRecipe & recipe, std::string_view name, int64_t ne0, int64_t ne1, int n_layer) {
    QuantTensor t;
    t.name = name;
    t.n_dims = ne1 > 0 ? 2 : 1;
    t.ne0 = ne0;
    t.type = DType::DType_f32;
    t.i_layer = quant_layer_index(name);
    t.n_layer = n_layer;
    return quant_tensor_type(recipe, t);
}

std::string quant_recipe_names() {
    std::string s;
    for (size_t i = 0; i < kRecipes.size(); ++i) {
        if (!s.empty()) s += ' ';
        s += kRecipes[i].name;
    }
    return s;
}

std::optional<int> quant_layer_index(std::string_view name) {
    if (name.substr(0, 4) != "blk.") return std::nullopt;
    const char * p = name.data() + 4;
    const char * end = name.data() + name.size();
    int v = 0;
    const auto r = std::from_chars(p, end, v);
    if (r.ec != std::errc() || r.ptr == end || *r.ptr != '.' || v < 0) return std::nullopt;
    return v;
}

bool quant_should_quantize(std::string_view name, int n_dims) {
    if (!ends_with(name, "weight") || n_dims < 2) return false;
    for (std::string_view skip : {"_norm.weight", "ffn_gate_inp.weight", "ssm_conv1d.weight", "time_mix_first.weight",
                                  "time_mix_w1.weight", "time_mix_w2.weight", "time_mix_decay_w1.weight",
                                  "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight", "attn_rel_b.weight"})
        if (contains(name, skip)) return false;
    return name != "position_embd.weight" && name != "token_types.weight";
}

DType quant_tensor_type(const QuantRecipe & recipe, const QuantTensor & t) {
    if (!quant_should_quantize(t.name, t.n_dims)) return t.type;
    DType type = recipe.base;
    const bool quantized_base = dtype_info(recipe.base).quantized;
    if (recipe.mix != QuantMix::QuantMix_pure && quantized_base) {
        using M = QuantMix;
        const M mix = recipe.mix;
        const int il = t.i_layer.value_or(0);
        const int nl = t.n_layer;
        const bool is_output = t.name == "output.weight" || (!t.model_has_output && t.name == "token_embd.weight");
        if (is_output) {
            if (t.ne0 % dtype_info(type).block_size != 0) type = DType::DType_q8_0;
            else if (type != DType::DType_q8_0) type = DType::DType_q6_k;
        } else if (t.name == "token_embd.weight") {
            // keeps the base type
        } else if (contains(t.name, "attn_v.weight")) {
            if (mix == M::QuantMix_q3_k_m) type = il < 2 ? DType::DType_q5_k : DType::DType_q4_k;
            else if (mix == M::QuantMix_q3_k_l) type = DType::DType_q5_k;
            else if ((mix == M::QuantMix_q4_k_m || mix == M::QuantMix_q5_k_m) && use_more_bits(il, nl))
                type = DType::DType_q6_k;
            else if (mix == M::QuantMix_q4_k_s && il < 4) type = DType::DType_q5_k;
        } else if (contains(t.name, "ffn_down")) {
            if (mix == M::QuantMix_q3_k_m) type = il < nl / 16 ? DType::DType_q5_k : DType::DType_q4_k;
            else if (mix == M::QuantMix_q3_k_l) type = DType::DType_q5_k;
            else if ((mix == M::QuantMix_q4_k_m || mix == M::QuantMix_q5_k_m) && use_more_bits(il, nl))
                type = DType::DType_q6_k;
            else if (mix == M::QuantMix_q4_k_s && il < nl / 8) type = DType::DType_q5_k;
        } else if (contains(t.name, "attn_output.weight")) {
            if (mix == M::QuantMix_q3_k_m) type = DType::DType_q4_k;
            else if (mix == M::QuantMix_q3_k_l) type = DType::DType_q5_k;
        } else if (contains(t.name, "attn_qkv.weight")) {
            if (mix == M::QuantMix_q3_k_m || mix == M::QuantMix_q3_k_l) type = DType::DType_q4_k;
            else if (mix == M::QuantMix_q4_k_m) type = DType::DType_q5_k;
            else if (mix == M::QuantMix_q5_k_m) type = DType::DType_q6_k;
        }
    }
    return fallback_type(type, t.ne0);
}

}  // namespace sy
