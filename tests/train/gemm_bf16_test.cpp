// gemm_bf16 (the frozen-base bf16 products) against the scalar oracle on bf16-rounded inputs, for odd shapes
// and both layouts the linear layer uses; and a LoRA run with bf16 base matmuls tracking the f32 run.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "common/error.h"
#include "common/fp16.h"
#include "engine/model.h"
#include "train/gemm.h"
#include "train/model.h"
#include "train/optimizer.h"
#include "train_test_util.h"

namespace sy::train {
namespace {

using test::randu;

std::vector<float> rounded(std::vector<float> v) {
    for (auto & x : v) x = bf16_to_fp32(fp32_to_bf16(x));
    return v;
}

TEST(GemmBf16, MatchesReferenceOnRoundedInputs) {
    // m, n, k straddle the kernel's 8-row, 48-column and 256-k blocks; k odd exercises the pair padding.
    const int64_t shapes[][3] = {{1, 1, 1},    {3, 5, 7},     {8, 48, 256}, {9, 49, 257},
                                 {17, 100, 3}, {13, 97, 601}, {64, 200, 514}};
    for (int threads : {1, 2}) {
        gemm_set_threads(threads);
        for (const auto & s : shapes) {
            const int64_t m = s[0], n = s[1], k = s[2];
            for (bool tb : {true, false}) {
                for (float beta : {0.0f, 1.0f}) {
                    const int64_t lda = k + 3, ldb = (tb ? k : n) + 5, ldc = n + 2;
                    const auto a = randu((size_t)(m * lda), 1 + m), b = randu((size_t)((tb ? n : k) * ldb), 2 + n);
                    const auto c0 = randu((size_t)(m * ldc), 3 + k);
                    auto c1 = c0, c2 = c0;
                    gemm_bf16(tb, m, n, k, a.data(), lda, b.data(), ldb, beta, c1.data(), ldc);
                    const auto ar = rounded(a), br = rounded(b);
                    gemm_ref<float>(false, tb, m, n, k, 1.0f, ar.data(), lda, br.data(), ldb, beta, c2.data(), ldc);
                    for (int64_t i = 0; i < m; ++i)
                        for (int64_t j = 0; j < ldc; ++j) {
                            const size_t at = (size_t)(i * ldc + j);
                            if (j >= n) {
                                ASSERT_EQ(c1[at], c0[at]) << "wrote past n at " << i << "," << j;
                                continue;
                            }
                            // Exact products of bf16 values, f32 sums: the error is f32 rounding over k terms.
                            ASSERT_NEAR(c1[at], c2[at], 1e-5 * (double)k + 1e-5)
                                << "m=" << m << " n=" << n << " k=" << k << " tb=" << tb << " beta=" << beta;
                        }
                }
            }
        }
    }
    gemm_set_threads(1);
}

TEST(GemmBf16, CloseToF32Product) {
    // Against the exact f32 product the error is bf16's 2^-9 relative rounding of each input.
    const int64_t m = 33, n = 70, k = 300;
    const auto a = randu((size_t)(m * k), 5), b = randu((size_t)(n * k), 6);
    std::vector<float> c1((size_t)(m * n)), c2((size_t)(m * n));
    gemm_bf16(true, m, n, k, a.data(), k, b.data(), k, 0.0f, c1.data(), n);
    gemm_ref<float>(false, true, m, n, k, 1.0f, a.data(), k, b.data(), k, 0.0f, c2.data(), n);
    double err = 0, mag = 0;
    for (size_t i = 0; i < c1.size(); ++i) {
        err += std::abs(c1[i] - c2[i]);
        mag += std::abs(c2[i]);
    }
    EXPECT_LT(err / mag, 1e-2);
    EXPECT_GT(err, 0.0);  // the inputs really were rounded
}

TEST(GemmBf16, ModeNames) {
    EXPECT_EQ(frozen_matmul_from_name("bf16"), FrozenMatmul::FrozenMatmul_bf16);
    EXPECT_EQ(frozen_matmul_from_name("f32"), FrozenMatmul::FrozenMatmul_f32);
    EXPECT_THROW(frozen_matmul_from_name("fp8"), Error);
    EXPECT_STREQ(frozen_matmul_name(FrozenMatmul::FrozenMatmul_bf16), "bf16");
}

// LoRA on a tiny f32 base: the loss curve with bf16 base matmuls follows the f32 one.
std::vector<double> lora_curve(FrozenMatmul mode, const std::string & dtype) {
    set_frozen_matmul(mode);
    auto base = engine::Model::load(test::tiny_model("llama", dtype));
    LoraConfig lc;
    lc.rank = 4;
    lc.alpha = 8.0f;
    auto tm = TrainModel::lora(*base, lc, 1);
    auto ex = test::random_examples({40, 40, 40}, base->hparams().n_vocab, 3);
    const Batch b = pack_batches(ex, test::iota_order(ex.size()), 128).at(0);
    AdamW opt(tm->params(), AdamWParams{});
    std::vector<double> losses;
    for (int s = 0; s < 8; ++s) {
        tm->zero_grad();
        losses.push_back(tm->forward_backward(b, 1.0f / (float)b.n_loss(), 0));
        opt.step(tm->params(), 1e-2f);
    }
    return losses;
}

TEST(GemmBf16, LoraLossTracksF32) {
    const ScopedFrozenMatmul guard(frozen_matmul());
    gemm_set_threads(2);
    for (const char * dtype : {"f32", "q8_0"}) {
        const auto f32 = lora_curve(FrozenMatmul::FrozenMatmul_f32, dtype);
        const auto bf16 = lora_curve(FrozenMatmul::FrozenMatmul_bf16, dtype);
        ASSERT_EQ(f32.size(), bf16.size());
        EXPECT_LT(f32.back(), f32.front() - 0.1) << "the run must actually learn";
        for (size_t i = 0; i < f32.size(); ++i) EXPECT_NEAR(bf16[i], f32[i], 0.02 * f32[i]) << dtype << " step " << i;
    }
    gemm_set_threads(1);
}

}  // namespace
}  // namespace sy::train
