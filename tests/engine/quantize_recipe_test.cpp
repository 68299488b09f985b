// Tests of the per-tensor type choice of `model quantize` (src/engine/quantize_recipe.h): recipe names,
// which tensors are left alone, llama.cpp's Q4_K_M / Q5_K_M / Q4_K_S layer rules, and the fallback for rows
// that are not a multiple of the block size. Expected types are written out from llama.cpp's rules.
#include <gtest/gtest.h>

#include <string>

#include "common/error.h"
#include "engine/quantize_recipe.h"

namespace sy {
namespace {

QuantRecipe recipe(const char * name) {
    auto r = find_quant_recipe(name);
    EXPECT_TRUE(r.has_value()) << name;
    return r.value_or(QuantRecipe{});
}

DType choose(const char * rec, const std::string & name, int64_t ne0 = 4096, int n_dims = 2, int n_layer = 32,
             bool has_output = true, DType src = DType::DType_f16) {
    QuantTensor t;
    t.name = name;
    t.n_dims = n_dims;
    t.ne0 = ne0;
    t.type = src;
    t.i_layer = quant_layer_index(name);
    t.n_layer = n_layer;
    t.model_has_output = has_output;
    return quant_tensor_type(recipe(rec), t);
}

TEST(QuantRecipe, ParsesNamesCaseInsensitively) {
    EXPECT_EQ(recipe("Q4_K_M").mix, QuantMix::QuantMix_q4_k_m);
    EXPECT_EQ(recipe("q4_k_m").file_type, 15u);
    EXPECT_EQ(recipe("LLAMA_FTYPE_MOSTLY_Q5_K_S").file_type, 16u);
    EXPECT_EQ(recipe("mostly_q5_k_m").file_type, 17u);
    EXPECT_EQ(recipe("Q6_K").file_type, 18u);
    EXPECT_EQ(recipe("q8_0").file_type, 7u);
    EXPECT_EQ(recipe("Q4_K_S").base, DType::DType_q4_k);
    EXPECT_EQ(recipe("F16").file_type, 1u);
    EXPECT_EQ(recipe("bf16").file_type, 32u);
    EXPECT_EQ(recipe("ALL_F32").base, DType::DType_f32);
    // numeric llama.cpp file types; a shared number means the mix
    EXPECT_EQ(recipe("15").mix, QuantMix::QuantMix_q4_k_m);
    EXPECT_EQ(recipe("14").mix, QuantMix::QuantMix_q4_k_s);
    EXPECT_EQ(recipe("7").base, DType::DType_q8_0);
    EXPECT_EQ(recipe("32").base, DType::DType_bf16);
    EXPECT_EQ(recipe("0").base, DType::DType_f32);
    EXPECT_FALSE(find_quant_recipe("19").has_value());  // IQ2_XXS: not supported
    EXPECT_FALSE(find_quant_recipe("15x").has_value());
    // plain K types are pure (not llama-quantize's alias for the _M mix)
    EXPECT_EQ(recipe("q4_K").mix, QuantMix::QuantMix_pure);
    EXPECT_EQ(recipe("q4_K").base, DType::DType_q4_k);
    EXPECT_EQ(recipe("Q2_K").base, DType::DType_q2_k);
    EXPECT_FALSE(find_quant_recipe("q7_0").has_value());
    EXPECT_FALSE(find_quant_recipe("").has_value());
    EXPECT_FALSE(find_quant_recipe("q8_K").has_value());  // activation type, not a weight format
    EXPECT_TRUE(recipe("Q4_K_M").quantized);
    EXPECT_FALSE(recipe("f16").quantized);
    EXPECT_EQ(parse_quant_recipe("q5_k_m").file_type, 17u);
    try {
        parse_quant_recipe("q7_0");
        FAIL() << "expected an error";
    } catch (const Error & e) {
        EXPECT_EQ(e.kind(), ErrorKind::ErrorKind_invalid_argument);
        EXPECT_NE(std::string(e.what()).find("Q4_K_M"), std::string::npos);
    }
    EXPECT_NE(quant_recipe_names().find("Q4_K_M"), std::string::npos);
}

TEST(QuantRecipe, LayerIndexFromName) {
    EXPECT_EQ(quant_layer_index("blk.0.attn_q.weight"), 0);
    EXPECT_EQ(quant_layer_index("blk.31.ffn_down.weight"), 31);
    EXPECT_FALSE(quant_layer_index("output.weight").has_value());
    EXPECT_FALSE(quant_layer_index("blk.x.attn_q.weight").has_value());
    EXPECT_FALSE(quant_layer_index("blk.12").has_value());
}

TEST(QuantRecipe, NormsBiasesAndOneDimensionalTensorsKeepTheirType) {
    EXPECT_EQ(choose("Q4_K_M", "blk.0.attn_norm.weight", 4096, 1, 32, true, DType::DType_f32), DType::DType_f32);
    EXPECT_EQ(choose("Q4_K_M", "output_norm.weight", 4096, 1, 32, true, DType::DType_f32), DType::DType_f32);
    EXPECT_EQ(choose("Q4_K_M", "blk.0.attn_q.bias", 4096, 1, 32, true, DType::DType_f32), DType::DType_f32);
    // a 2-D norm (some architectures) is still left alone
    EXPECT_EQ(choose("q8_0", "blk.0.attn_q_norm.weight", 128, 2, 32, true, DType::DType_f32), DType::DType_f32);
    EXPECT_EQ(choose("Q4_K_M", "blk.0.ffn_gate_inp.weight", 4096, 2, 32, true, DType::DType_f32), DType::DType_f32);
    EXPECT_EQ(choose("Q4_K_M", "position_embd.weight", 4096, 2, 32, true, DType::DType_f16), DType::DType_f16);
    // f16 recipe: 2-D weights become f16, 1-D stays f32
    EXPECT_EQ(choose("f16", "blk.0.attn_q.weight", 4096, 2, 32, true, DType::DType_f32), DType::DType_f16);
    EXPECT_EQ(choose("f16", "blk.0.attn_norm.weight", 4096, 1, 32, true, DType::DType_f32), DType::DType_f32);
}

TEST(QuantRecipe, OutputAndEmbedding) {
    EXPECT_EQ(choose("Q4_K_M", "output.weight"), DType::DType_q6_k);
    EXPECT_EQ(choose("Q4_K_M", "token_embd.weight"), DType::DType_q4_k);
    // tied embeddings: token_embd takes output's treatment
    EXPECT_EQ(choose("Q4_K_M", "token_embd.weight", 4096, 2, 32, false), DType::DType_q6_k);
    EXPECT_EQ(choose("Q5_K_S", "output.weight"), DType::DType_q6_k);
    EXPECT_EQ(choose("Q8_0", "output.weight"), DType::DType_q8_0);
    EXPECT_EQ(choose("Q6_K", "output.weight"), DType::DType_q6_k);
    // output row not a multiple of 256 -> q8_0
    EXPECT_EQ(choose("Q4_K_M", "output.weight", 4000), DType::DType_q8_0);
    // pure types do not special-case output
    EXPECT_EQ(choose("q4_0", "output.weight"), DType::DType_q4_0);
}

TEST(QuantRecipe, Q4_K_M_MoreBitsLayers) {
    // n_layer = 32: use_more_bits is true for layers 0-3, 28-31 and 6, 9, ..., 27 (every third from 4)
    const int more[] = {0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31};
    for (int i = 0; i < 32; ++i) {
        bool is_more = false;
        for (int m : more) is_more |= (m == i);
        const std::string p = "blk." + std::to_string(i) + ".";
        const DType want = is_more ? DType::DType_q6_k : DType::DType_q4_k;
        EXPECT_EQ(choose("Q4_K_M", p + "attn_v.weight"), want) << i;
        EXPECT_EQ(choose("Q4_K_M", p + "ffn_down.weight", 11008), want) << i;  // 11008 = 43 * 256
        EXPECT_EQ(choose("Q4_K_M", p + "attn_q.weight"), DType::DType_q4_k) << i;
        EXPECT_EQ(choose("Q4_K_M", p + "ffn_up.weight"), DType::DType_q4_k) << i;
        EXPECT_EQ(choose("Q5_K_M", p + "attn_v.weight"), is_more ? DType::DType_q6_k : DType::DType_q5_k) << i;
    }
}

TEST(QuantRecipe, Q4_K_S_Rules) {
    // attn_v: q5_K in the first 4 layers; ffn_down: q5_K in the first n_layer/8 layers
    EXPECT_EQ(choose("Q4_K_S", "blk.3.attn_v.weight"), DType::DType_q5_k);
    EXPECT_EQ(choose("Q4_K_S", "blk.4.attn_v.weight"), DType::DType_q4_k);
    EXPECT_EQ(choose("Q4_K_S", "blk.3.ffn_down.weight"), DType::DType_q5_k);
    EXPECT_EQ(choose("Q4_K_S", "blk.4.ffn_down.weight"), DType::DType_q4_k);
    EXPECT_EQ(choose("Q4_K_S", "blk.31.ffn_down.weight"), DType::DType_q4_k);
    EXPECT_EQ(choose("Q5_K_S", "blk.0.ffn_down.weight"), DType::DType_q5_k);
    EXPECT_EQ(choose("Q5_K_S", "blk.0.attn_v.weight"), DType::DType_q5_k);
}

TEST(QuantRecipe, Q3_K_Rules) {
    EXPECT_EQ(choose("Q3_K_M", "blk.1.attn_v.weight"), DType::DType_q5_k);
    EXPECT_EQ(choose("Q3_K_M", "blk.2.attn_v.weight"), DType::DType_q4_k);
    EXPECT_EQ(choose("Q3_K_M", "blk.1.ffn_down.weight"), DType::DType_q5_k);  // 1 < 32/16
    EXPECT_EQ(choose("Q3_K_M", "blk.2.ffn_down.weight"), DType::DType_q4_k);
    EXPECT_EQ(choose("Q3_K_M", "blk.2.attn_output.weight"), DType::DType_q4_k);
    EXPECT_EQ(choose("Q3_K_M", "blk.2.attn_q.weight"), DType::DType_q3_k);
    EXPECT_EQ(choose("Q3_K_L", "blk.9.attn_output.weight"), DType::DType_q5_k);
    EXPECT_EQ(choose("Q3_K_S", "blk.9.attn_v.weight"), DType::DType_q3_k);
}

TEST(QuantRecipe, FreshTensorShorthand) {
    const QuantRecipe r = parse_quant_recipe("Q4_K_M");
    EXPECT_EQ(recipe_tensor_type(r, "blk.3.attn_v.weight", 256, 64, 4), DType::DType_q6_k);  // 3 >= 7*4/8
    EXPECT_EQ(recipe_tensor_type(r, "blk.1.attn_v.weight", 256, 64, 4), DType::DType_q4_k);
    EXPECT_EQ(recipe_tensor_type(r, "blk.1.attn_norm.weight", 256, 0, 4), DType::DType_f32);
    EXPECT_EQ(recipe_tensor_type(r, "output.weight", 96, 64, 4), DType::DType_q8_0);
}

TEST(QuantRecipe, FallbackWhenRowIsNotAMultipleOfTheBlock) {
    // 4000 = 125 * 32, not a multiple of 256
    EXPECT_EQ(choose("Q4_K_M", "blk.4.attn_q.weight", 4000), DType::DType_q5_0);
    EXPECT_EQ(choose("Q4_K_M", "blk.0.attn_v.weight", 4000), DType::DType_q8_0);  // q6_K -> q8_0
    EXPECT_EQ(choose("Q5_K_M", "blk.4.attn_q.weight", 4000), DType::DType_q5_1);
    EXPECT_EQ(choose("q3_K", "blk.4.attn_q.weight", 4000), DType::DType_q4_0);
    EXPECT_EQ(choose("q2_K", "blk.4.attn_q.weight", 4000), DType::DType_q4_0);
    EXPECT_EQ(choose("Q6_K", "blk.4.attn_q.weight", 4000), DType::DType_q8_0);
    // not even a multiple of 32 -> f16
    EXPECT_EQ(choose("Q4_K_M", "blk.4.attn_q.weight", 100), DType::DType_f16);
    EXPECT_EQ(choose("q4_0", "blk.4.attn_q.weight", 100), DType::DType_f16);
    // multiples of 256 are untouched
    EXPECT_EQ(choose("Q4_K_M", "blk.4.attn_q.weight", 4096), DType::DType_q4_k);
}

}  // namespace
}  // namespace sy
