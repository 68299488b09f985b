// PackedBf16 (a frozen weight kept in bf16 for the run): its forward and backward products equal gemm_bf16's
// bit for bit on the same W, for shapes off every block size, any thread count and row strides; packing
// reads every row once; a low-rank f32 term is added inside the products; and a LoRA model run from its
// packs gives the losses of converting per call.
// Skipped where the AVX-512 BF16 kernel is not in use (packs need it).
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
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

using test::randu;

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

TEST(PackedBf16, LowRankTermAddedInF32) {
    SKIP_WITHOUT_KERNEL();
    // C = x · Wᵀ + h · e (forward) and dx += dy · W + h · e (backward) against the product without the term
    // plus the term from the f32 oracle; partial row tiles, partial panels and several k blocks.
    const int64_t shapes[][4] = {{13, 97, 601, 4}, {64, 200, 514, 16}, {9, 49, 257, 3}, {40, 20, 300, 16}};
    for (int threads : {1, 2}) {
        gemm_set_threads(threads);
        for (const auto & s : shapes) {
            const int64_t m = s[0], n_out = s[1], n_in = s[2], rank = s[3];
            const auto w = randu((size_t)(n_out * n_in), 21);
            const auto pw = pack_of(w, n_out, n_in);
            for (bool fwd : {true, false}) {
                const int64_t k = fwd ? n_in : n_out, n = fwd ? n_out : n_in, ldh = rank + 2, lde = n + 3;
                const auto a = randu((size_t)(m * k), 22), h = randu((size_t)(m * ldh), 23);
                const auto e = randu((size_t)(rank * lde), 24), c0 = randu((size_t)(m * n), 25);
                auto c1 = c0, c2 = c0;
                const LowRankTerm lr{h.data(), ldh, e.data(), lde, rank};
                if (fwd) {
                    pw->forward(m, a.data(), k, c1.data(), n, &lr);
                    pw->forward(m, a.data(), k, c2.data(), n);
                } else {
                    pw->backward(m, a.data(), k, c1.data(), n, &lr);
                    pw->backward(m, a.data(), k, c2.data(), n);
                }
                gemm_ref<float>(false, false, m, n, rank, 1.0f, h.data(), ldh, e.data(), lde, 1.0f, c2.data(), n);
                for (size_t i = 0; i < c1.size(); ++i)
                    ASSERT_NEAR(c1[i], c2[i], 1e-4 * (1.0 + std::abs(c2[i])))
                        << (fwd ? "forward" : "backward") << " m=" << m << " n=" << n << " at " << i;
            }
        }
    }
    gemm_set_threads(1);
}

TEST(PackedBf16, InputProductInF32) {
    SKIP_WITHOUT_KERNEL();
    // out = scale · in · g computed while the input is converted, read by the same call's low-rank term;
    // ranks below, at and above one 16-lane vector, short row tiles.
    const int64_t shapes[][4] = {{13, 97, 601, 4}, {64, 200, 514, 16}, {9, 49, 257, 20}, {130, 20, 300, 16}};
    for (int threads : {1, 2}) {
        gemm_set_threads(threads);
        for (const auto & s : shapes) {
            const int64_t m = s[0], n_out = s[1], n_in = s[2], rank = s[3];
            const auto pw = pack_of(randu((size_t)(n_out * n_in), 31), n_out, n_in);
            for (bool fwd : {true, false}) {
                const int64_t k = fwd ? n_in : n_out, n = fwd ? n_out : n_in, ldo = rank + 1, ldg = rank + 3;
                const auto a = randu((size_t)(m * k), 32), g = randu((size_t)(k * ldg), 33);
                const auto e = randu((size_t)(rank * n), 34), c0 = randu((size_t)(m * n), 35);
                std::vector<float> out((size_t)(m * ldo), -7.0f), want((size_t)(m * ldo), -7.0f);
                auto c1 = c0, c2 = c0;
                const InputProduct ip{g.data(), ldg, rank, 0.5f, out.data(), ldo};
                const LowRankTerm lr{out.data(), ldo, e.data(), n, rank};
                if (fwd) {
                    pw->forward(m, a.data(), k, c1.data(), n, &lr, &ip);
                    pw->forward(m, a.data(), k, c2.data(), n);
                } else {
                    pw->backward(m, a.data(), k, c1.data(), n, &lr, &ip);
                    pw->backward(m, a.data(), k, c2.data(), n);
                }
                gemm_ref<float>(false, false, m, rank, k, 0.5f, a.data(), k, g.data(), ldg, 0.0f, want.data(), ldo);
                for (int64_t i = 0; i < m; ++i)
                    for (int64_t q = 0; q < ldo; ++q) {
                        const size_t at = (size_t)(i * ldo + q);
                        if (q >= rank) ASSERT_EQ(out[at], -7.0f) << "wrote past rank";
                        else ASSERT_NEAR(out[at], want[at], 1e-5 * (double)k) << "m=" << m << " rank=" << rank;
                    }
                gemm_ref<float>(false, false, m, n, rank, 1.0f, want.data(), ldo, e.data(), n, 1.0f, c2.data(), n);
                for (size_t i = 0; i < c1.size(); ++i) ASSERT_NEAR(c1[i], c2[i], 1e-3 * (1.0 + std::abs(c2[i])));
            }
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

TEST(GemmF32, MatchesReferenceEveryLayout) {
    // gemm<float> (OpenBLAS) and gemm_small (the AVX-512 small-matrix kernel for short k where the CPU has
    // it, OpenBLAS for long k) as the trainer runs them, split over the pool; every transpose, partial
    // 8-row / 32-column tiles, strided operands, beta 0 (C not read: NaN stays out) and beta 1, products
    // big enough to be split.
    const int64_t shapes[][3] = {{1, 1, 1},     {7, 33, 5},     {8, 32, 64},    {13, 70, 129},
                                 {128, 128, 64}, {16, 576, 512}, {600, 16, 512}, {40, 300, 1100}};
    for (int threads : {1, 2}) {
        gemm_set_threads(threads);
        for (const auto & s : shapes) {
            const int64_t m = s[0], n = s[1], k = s[2];
            for (int t = 0; t < 4; ++t) {
                const bool ta = t & 1, tb = t & 2;
                for (float beta : {0.0f, 1.0f}) {
                    const int64_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 1;
                    const auto a = randu((size_t)((ta ? k : m) * lda), 41), b = randu((size_t)((tb ? n : k) * ldb), 42);
                    auto c1 = randu((size_t)(m * ldc), 43);
                    auto c2 = c1;
                    if (beta == 0.0f)
                        for (int64_t i = 0; i < m; ++i)
                            for (int64_t j = 0; j < n; ++j) c1[(size_t)(i * ldc + j)] = std::nanf("");
                    auto c3 = c1;
                    gemm<float>(ta, tb, m, n, k, 0.5f, a.data(), lda, b.data(), ldb, beta, c1.data(), ldc);
                    gemm_small(ta, tb, m, n, k, 0.5f, a.data(), lda, b.data(), ldb, beta, c3.data(), ldc);
                    gemm_ref<float>(ta, tb, m, n, k, 0.5f, a.data(), lda, b.data(), ldb, beta, c2.data(), ldc);
                    for (size_t i = 0; i < c1.size(); ++i) {
                        ASSERT_NEAR(c1[i], c2[i], 1e-6 * (double)k + 1e-6)
                            << "m=" << m << " n=" << n << " k=" << k << " ta=" << ta << " tb=" << tb << " beta=" << beta;
                        ASSERT_NEAR(c3[i], c2[i], 1e-6 * (double)k + 1e-6) << "small: m=" << m << " n=" << n
                                                                            << " k=" << k << " ta=" << ta << " tb=" << tb;
                    }
                }
            }
        }
    }
    gemm_set_threads(1);
}

// LoRA losses over a few steps, the frozen base multiplied in bf16 from packs or per call.
std::vector<double> lora_losses(const std::string & dtype, bool packed, float dropout, size_t * pack_bytes) {
    const ScopedFrozenMatmul guard(FrozenMatmul::FrozenMatmul_bf16);
    auto base = engine::Model::load(test::tiny_model("llama", dtype));
    LoraConfig lc;
    lc.rank = 4;
    lc.alpha = 8.0f;
    lc.dropout = dropout;
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

TEST(PackedBf16, LoraRunMatchesPerCall) {
    // Same bf16 products; the packed run adds LoRA's low-rank terms inside them (f32, another summation
    // order), so the losses agree to f32 rounding carried through a few Adam steps, not bit for bit.
    SKIP_WITHOUT_KERNEL();
    gemm_set_threads(2);
    for (const char * dtype : {"f32", "q8_0"}) {
        for (float dropout : {0.0f, 0.1f}) {
            size_t bytes_packed = 0, bytes_percall = 0;
            const auto percall = lora_losses(dtype, false, dropout, &bytes_percall);
            const auto packed = lora_losses(dtype, true, dropout, &bytes_packed);
            EXPECT_EQ(bytes_percall, 0u);
            EXPECT_GT(bytes_packed, 0u);
            ASSERT_EQ(packed.size(), percall.size());
            EXPECT_LT(packed[3], packed[0] - 0.05) << "the run must actually learn";
            for (size_t i = 0; i < packed.size(); ++i)
                EXPECT_NEAR(packed[i], percall[i], 2e-4 * percall[i]) << dtype << " dropout " << dropout << " step " << i;
        }
    }
    gemm_set_threads(1);
}

TEST(PackedBf16, LoraGradientsMatchPerCall) {
    // One forward and backward: the LoRA gradients of the fused packed path are as close to the exact f32
    // run's as the per-call bf16 path's are. (Packed and per-call differ by more than f32 summation order:
    // an activation one f32 ulp apart can round to the neighbouring bf16 value in the next product.)
    SKIP_WITHOUT_KERNEL();
    const ScopedFrozenMatmul guard(FrozenMatmul::FrozenMatmul_bf16);
    gemm_set_threads(2);
    for (float dropout : {0.0f, 0.2f}) {
        auto base = engine::Model::load(test::tiny_model("llama", "q8_0"));
        LoraConfig lc;
        lc.rank = 8;
        lc.alpha = 16.0f;
        lc.dropout = dropout;
        auto tm = TrainModel::lora(*base, lc, 5);
        // B starts at zero; give it values so that every LoRA term reaches the loss.
        for (const auto & p : tm->params())
            if (p->name.find("lora_b") != std::string::npos)
                for (size_t i = 0; i < p->w.size(); ++i) p->w[i] = 0.01f * (float)((i * 7919) % 13) - 0.06f;
        auto ex = test::random_examples({50, 30, 44}, base->hparams().n_vocab, 9);
        const Batch b = pack_batches(ex, test::iota_order(ex.size()), 128).at(0);
        std::vector<std::vector<float>> grads[3];  // f32, bf16 per call, bf16 packed
        for (int mode = 0; mode < 3; ++mode) {
            set_frozen_matmul(mode == 0 ? FrozenMatmul::FrozenMatmul_f32 : FrozenMatmul::FrozenMatmul_bf16);
            tm->set_pack_frozen(mode == 2);
            tm->zero_grad();
            tm->forward_backward(b, 1.0f / (float)b.n_loss(), 3);
            for (const auto & p : tm->params()) grads[mode].push_back(p->g);
        }
        auto rel = [&](int x, int y, size_t i) {
            double num = 0, den = 0;
            for (size_t j = 0; j < grads[0][i].size(); ++j) {
                num += std::pow((double)grads[x][i][j] - grads[y][i][j], 2);
                den += std::pow((double)grads[0][i][j], 2);
            }
            return std::sqrt(num / std::max(den, 1e-300));
        };
        double worst_percall = 0, worst_packed = 0;
        for (size_t i = 0; i < grads[0].size(); ++i) {
            const double percall = rel(1, 0, i), packed = rel(2, 0, i);
            worst_percall = std::max(worst_percall, percall);
            worst_packed = std::max(worst_packed, packed);
            EXPECT_LT(packed, 2.0 * percall + 1e-3) << tm->params()[i]->name << " dropout " << dropout;
            EXPECT_LT(rel(2, 1, i), 2.0 * percall + 1e-3) << tm->params()[i]->name << " dropout " << dropout;
        }
        EXPECT_GT(worst_percall, 0.0);  // bf16 really was used
        EXPECT_LT(worst_packed, 0.05);
        std::printf("dropout %.1f: worst relative gradient error vs f32: per call %.2e, packed %.2e\n", dropout,
                    worst_percall, worst_packed);
    }
    gemm_set_threads(1);
}

}  // namespace
}  // namespace sy::train
