// PackedBf16 (a frozen weight kept in bf16 for the run): its forward and backward products equal gemm_bf16's
// bit for bit on the same W, for shapes off every block size, any thread count and row strides; packing
// reads every row once; and a LoRA model run from its packs gives the same losses as converting per call.
// Skipped where the AVX-512 BF16 kernel is not in use (packs need it).
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
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

std::vector<float> randu(size_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> d(-1.0f, 1.0f);
    std::vector<float> v(n);
    for (auto & x : v) x = d(rng);
    return v;
}

std::unique_ptr<PackedBf16> pack_of(const std::vector<float> & w, int64_t n_out, int64_t n_in) {
    return PackedBf16::pack(n_out, n_in, [&](int64_t r0, int64_t r1, float * out) {
        std::memcpy(out, w.data() + r0 * n_in, sizeof(float) * (size_t)((r1 - r0) * n_in));
    });
}

#define SKIP_WITHOUT_KERNEL() \
    if (!gemm_bf16_native()) GTEST_SKIP() << "no AVX-512 BF16 kernel on this CPU (or SWITCHYARD_ISA)"

TEST(PackedBf16, EqualsPerCallProducts) {
    SKIP_WITHOUT_KERNEL();
    // n_out / n_in straddle the 48-column panels, the 256-k blocks and odd k; m the 8-row tiles. Narrow
    // weights (few panels) take the row-split path.
    const int64_t shapes[][3] = {{1, 1, 1}, {3, 5, 7}, {8, 48, 256}, {9, 49, 257}, {17, 100, 3},
                                 {13, 97, 601}, {64, 200, 514}, {130, 1000, 33}, {40, 20, 300}};
    for (int threads : {1, 2, 3}) {
        gemm_set_threads(threads);
        for (const auto & s : shapes) {
            const int64_t m = s[0], n_out = s[1], n_in = s[2];
            const auto w = randu((size_t)(n_out * n_in), 7 + n_out);
            const auto pw = pack_of(w, n_out, n_in);
            EXPECT_EQ(pw->n_out(), n_out);
            EXPECT_EQ(pw->n_in(), n_in);
            EXPECT_GE(pw->bytes(), (size_t)(2 * n_out * n_in * 2));
            // Forward: y = x · Wᵀ, overwrite; strided x and y, the padding columns untouched.
            const int64_t ldx = n_in + 3, ldy = n_out + 2;
            const auto x = randu((size_t)(m * ldx), 1 + m);
            const auto y0 = randu((size_t)(m * ldy), 2 + m);
            auto y1 = y0, y2 = y0;
            pw->forward(m, x.data(), ldx, y1.data(), ldy);
            gemm_bf16(true, m, n_out, n_in, x.data(), ldx, w.data(), n_in, 0.0f, y2.data(), ldy);
            for (size_t i = 0; i < y1.size(); ++i)
                ASSERT_EQ(y1[i], y2[i]) << "forward m=" << m << " n_out=" << n_out << " n_in=" << n_in << " at " << i;
            // Backward: dx += dy · W.
            const int64_t lddy = n_out + 1, lddx = n_in + 5;
            const auto dy = randu((size_t)(m * lddy), 3 + m);
            const auto dx0 = randu((size_t)(m * lddx), 4 + m);
            auto dx1 = dx0, dx2 = dx0;
            pw->backward(m, dy.data(), lddy, dx1.data(), lddx);
            gemm_bf16(false, m, n_in, n_out, dy.data(), lddy, w.data(), n_in, 1.0f, dx2.data(), lddx);
            for (size_t i = 0; i < dx1.size(); ++i)
                ASSERT_EQ(dx1[i], dx2[i]) << "backward m=" << m << " n_out=" << n_out << " n_in=" << n_in << " at " << i;
        }
    }
    gemm_set_threads(1);
}

TEST(PackedBf16, CloseToF32Product) {
    SKIP_WITHOUT_KERNEL();
    const int64_t m = 21, n_out = 150, n_in = 333;
    const auto w = randu((size_t)(n_out * n_in), 11), x = randu((size_t)(m * n_in), 12);
    std::vector<float> y1((size_t)(m * n_out)), y2((size_t)(m * n_out));
    pack_of(w, n_out, n_in)->forward(m, x.data(), n_in, y1.data(), n_out);
    gemm_ref<float>(false, true, m, n_out, n_in, 1.0f, x.data(), n_in, w.data(), n_in, 0.0f, y2.data(), n_out);
    double err = 0, mag = 0;
    for (size_t i = 0; i < y1.size(); ++i) {
        err += std::abs(y1[i] - y2[i]);
        mag += std::abs(y2[i]);
    }
    EXPECT_LT(err / mag, 1e-2);
    EXPECT_GT(err, 0.0);
}

TEST(PackedBf16, ReadsEveryRowOnceInTiles) {
    SKIP_WITHOUT_KERNEL();
    gemm_set_threads(2);
    const int64_t n_out = 1001, n_in = 700;  // several tiles, an odd last one
    std::vector<std::atomic<int>> seen((size_t)n_out);
    auto pw = PackedBf16::pack(n_out, n_in, [&](int64_t r0, int64_t r1, float * out) {
        ASSERT_TRUE(r0 % 2 == 0 && r0 < r1 && r1 <= n_out);
        for (int64_t r = r0; r < r1; ++r) {
            seen[(size_t)r].fetch_add(1);
            for (int64_t j = 0; j < n_in; ++j) out[(r - r0) * n_in + j] = (float)((r + j) % 7) - 3.0f;
        }
    });
    for (int64_t r = 0; r < n_out; ++r) ASSERT_EQ(seen[(size_t)r].load(), 1) << "row " << r;
    // Small integers are exact in bf16: the product is exact.
    const int64_t m = 3;
    std::vector<float> x((size_t)(m * n_in), 1.0f), y((size_t)(m * n_out));
    pw->forward(m, x.data(), n_in, y.data(), n_out);
    for (int64_t r = 0; r < n_out; ++r) {
        double s = 0;
        for (int64_t j = 0; j < n_in; ++j) s += (double)((r + j) % 7) - 3.0;
        ASSERT_EQ(y[(size_t)r], (float)s) << r;
        ASSERT_EQ(y[(size_t)(2 * n_out + r)], (float)s) << r;
    }
    gemm_set_threads(1);
}

TEST(PackedBf16, RowSourceErrorsPropagate) {
    SKIP_WITHOUT_KERNEL();
    EXPECT_THROW(PackedBf16::pack(100, 10, [](int64_t, int64_t, float *) {
                     throw Error(ErrorKind::ErrorKind_invalid_file, "bad row");
                 }),
                 Error);
}

// LoRA losses over a few steps, the frozen base multiplied in bf16 from packs or per call.
std::vector<double> lora_losses(const std::string & dtype, bool packed, size_t * pack_bytes) {
    const ScopedFrozenMatmul guard(FrozenMatmul::FrozenMatmul_bf16);
    auto base = engine::Model::load(test::tiny_model("llama", dtype));
    LoraConfig lc;
    lc.rank = 4;
    lc.alpha = 8.0f;
    lc.dropout = 0.1f;
    auto tm = TrainModel::lora(*base, lc, 1);
    tm->set_pack_frozen(packed);
    auto ex = test::random_examples({40, 40, 40}, base->hparams().n_vocab, 3);
    const Batch b = pack_batches(ex, test::iota_order(ex.size()), 128).at(0);
    AdamW opt(tm->params(), AdamWParams{});
    std::vector<double> losses;
    for (int s = 0; s < 4; ++s) {
        tm->zero_grad();
        losses.push_back(tm->forward_backward(b, 1.0f / (float)b.n_loss(), (uint64_t)s));
        opt.step(tm->params(), 1e-2f);
    }
    losses.push_back(tm->forward_loss(b));
    *pack_bytes = tm->packed_bytes();
    if (packed) {
        for (const TrainLayer & L : tm->layers())
            for (const MatRef & mref : L.mats) EXPECT_NE(mref.packed, nullptr);
        EXPECT_NE(tm->output().packed, nullptr);
        tm->set_pack_frozen(false);
        EXPECT_EQ(tm->packed_bytes(), 0u);
        EXPECT_EQ(tm->output().packed, nullptr);
    }
    return losses;
}

TEST(PackedBf16, LoraRunEqualsPerCall) {
    SKIP_WITHOUT_KERNEL();
    gemm_set_threads(2);
    for (const char * dtype : {"f32", "q8_0"}) {
        size_t bytes_packed = 0, bytes_percall = 0;
        const auto percall = lora_losses(dtype, false, &bytes_percall);
        const auto packed = lora_losses(dtype, true, &bytes_packed);
        EXPECT_EQ(bytes_percall, 0u);
        EXPECT_GT(bytes_packed, 0u);
        ASSERT_EQ(packed.size(), percall.size());
        for (size_t i = 0; i < packed.size(); ++i) EXPECT_EQ(packed[i], percall[i]) << dtype << " step " << i;
    }
    gemm_set_threads(1);
}

}  // namespace
}  // namespace sy::train
