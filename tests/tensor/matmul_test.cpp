// Quick matmul correctness: every supported weight type on every ISA this CPU has, GEMV and small GEMM
// shapes (row and token counts that are not multiples of the register tiles), against a float64
// product of the dequantized weights; vector paths against the scalar twin; thread-count independence;
// the activation quantizers. (tests/tensor/ops_test.cpp holds the table-driven op × ISA sweep.)
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "tensor/blocks.h"
#include "tensor/matmul_internal.h"
#include "tensor/matmul_pack.h"
#include "tensor/ops.h"
#include "tensor/quant.h"

namespace sy {
namespace {

const DType kTypes[] = {DType::DType_f32,  DType::DType_f16,  DType::DType_bf16, DType::DType_q4_0,
                        DType::DType_q4_1, DType::DType_q5_0, DType::DType_q5_1, DType::DType_q8_0,
                        DType::DType_q2_k, DType::DType_q3_k, DType::DType_q4_k, DType::DType_q5_k,
                        DType::DType_q6_k};

std::vector<float> random_vec(size_t n, uint32_t seed, float scale = 1.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> v(n);
    for (auto & x : v) x = dist(rng);
    return v;
}

struct Case {
    std::vector<uint8_t> wq;
    std::vector<float> wdeq;
    WeightView view;
};

Case make_weights(DType t, int64_t n_out, int64_t n_in, uint32_t seed) {
    Case c;
    const auto w = random_vec((size_t)(n_out * n_in), seed);
    c.wq = quantize_rows(t, w.data(), n_out, n_in);
    c.wdeq = dequantize_rows(t, c.wq.data(), n_out, n_in);
    c.view.type = t;
    c.view.n_in = n_in;
    c.view.n_out = n_out;
    c.view.data = c.wq.data();
    c.view.row_stride = *row_bytes(t, n_in);
    return c;
}

// Normalised error ||y - ref|| / ||ref|| with ref = X · Wdeqᵀ in float64.
double norm_error(const Case & c, const std::vector<float> & x, int64_t n_tok, const std::vector<float> & y,
                  int64_t ldy) {
    double num = 0, den = 0;
    for (int64_t t = 0; t < n_tok; ++t)
        for (int64_t o = 0; o < c.view.n_out; ++o) {
            double ref = 0;
            for (int64_t i = 0; i < c.view.n_in; ++i)
                ref += (double)x[t * c.view.n_in + i] * c.wdeq[o * c.view.n_in + i];
            const double e = y[t * ldy + o] - ref;
            num += e * e;
            den += ref * ref;
        }
    return std::sqrt(num / den);
}

double tolerance(DType t) {
    // float weights: f32 accumulation only; quantized: the q8 activation rounding (~0.4% per element).
    if (t == DType::DType_f32 || t == DType::DType_f16 || t == DType::DType_bf16) return 1e-5;
    return 1.5e-2;
}

TEST(Matmul, EveryTypeEveryIsaMatchesFloat64Reference) {
    ThreadPool pool(2);
    const int64_t n_in = 512, n_out = 37;
    for (DType t : kTypes) {
        ASSERT_TRUE(matmul_supported(t)) << dtype_info(t).name;
        const Case c = make_weights(t, n_out, n_in, 1234 + (uint32_t)t);
        for (int64_t n_tok : {1, 2, 5, 11}) {
            const auto x = random_vec((size_t)(n_tok * n_in), 99 + (uint32_t)n_tok);
            const int64_t ldy = n_out + 3;
            std::vector<float> y_scalar;
            for (int isa = 0; isa < kIsaCount; ++isa) {
                if (!isa_supported((Isa)isa)) continue;
                std::vector<float> y((size_t)(n_tok * ldy), -777.0f);
                kernels((Isa)isa).matmul(c.view, x.data(), n_tok, y.data(), ldy, pool);
                const double err = norm_error(c, x, n_tok, y, ldy);
                EXPECT_LT(err, tolerance(t)) << dtype_info(t).name << " " << isa_name((Isa)isa) << " n_tok=" << n_tok;
                for (int64_t tk = 0; tk < n_tok; ++tk)
                    for (int64_t o = n_out; o < ldy; ++o)
                        ASSERT_EQ(y[tk * ldy + o], -777.0f) << "wrote past n_out";
                if (isa == 0) {
                    y_scalar = y;
                } else {
                    // Same quantized arithmetic as the scalar twin; only float summation order differs.
                    double num = 0, den = 0;
                    for (size_t i = 0; i < y.size(); ++i) {
                        num += (double)(y[i] - y_scalar[i]) * (y[i] - y_scalar[i]);
                        den += (double)y_scalar[i] * y_scalar[i];
                    }
                    EXPECT_LT(std::sqrt(num / den), 2e-5)
                        << dtype_info(t).name << " " << isa_name((Isa)isa) << " vs scalar, n_tok=" << n_tok;
                }
            }
        }
    }
}

TEST(Matmul, ResultDoesNotDependOnThreadCount) {
    ThreadPool one(1), three(3);
    const int64_t n_in = 256, n_out = 301, n_tok = 7;
    for (DType t : {DType::DType_q4_0, DType::DType_q8_0, DType::DType_q4_k, DType::DType_q6_k, DType::DType_f16}) {
        const Case c = make_weights(t, n_out, n_in, 7);
        const auto x = random_vec((size_t)(n_tok * n_in), 8);
        std::vector<float> a((size_t)(n_tok * n_out)), b(a.size());
        kernels().matmul(c.view, x.data(), n_tok, a.data(), n_out, one);
        kernels().matmul(c.view, x.data(), n_tok, b.data(), n_out, three);
        EXPECT_EQ(a, b) << dtype_info(t).name;
    }
}

double rel_diff(const std::vector<float> & a, const std::vector<float> & b) {
    double num = 0, den = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        num += (double)(a[i] - b[i]) * (a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    return std::sqrt(num / den);
}

const DType kPackedTypes[] = {DType::DType_q4_0, DType::DType_q8_0, DType::DType_q5_0, DType::DType_q4_k,
                               DType::DType_q6_k, DType::DType_f16};

// Row length used for a packed type in these tests: two super-blocks, three 32-blocks, or for f16 51
// element pairs (an odd count, so the vector loops over 2 or 4 pairs at a time run their remainder).
int64_t packed_test_n_in(DType t) {
    if (t == DType::DType_f16) return 102;
    return dtype_info(t).block_size == 256 ? 512 : 96;
}

// The packed (row-interleaved) copy against the plain rows and the float64 reference, on every ISA, for
// every token count 1..37 (all token tiles and remainders) and row counts that leave a partial group.
TEST(MatmulPacked, MatchesPlainAndFloat64OnEveryIsa) {
    ThreadPool pool(2);
    for (DType t : kPackedTypes) {
        const int64_t n_in = packed_test_n_in(t);
        for (int64_t n_out : {8, 13, 37}) {
            Case c = make_weights(t, n_out, n_in, 555 + (uint32_t)n_out);
            const size_t bytes = matmul_packed_bytes(t, n_in, n_out);
            ASSERT_EQ(bytes, (size_t)matmul_pack_groups(n_out) * (n_in / detail::packed_block_elems(t)) * detail::packed_block_bytes(t));
            std::vector<uint8_t> packed(bytes, 0xAB);
            matmul_pack(c.view, packed.data(), 0, matmul_pack_groups(n_out));
            WeightView pv = c.view;
            pv.packed = packed.data();
            for (int64_t n_tok = 1; n_tok <= 37; ++n_tok) {
                const auto x = random_vec((size_t)(n_tok * n_in), 1000 + (uint32_t)n_tok);
                const int64_t ldy = n_out + 2;
                std::vector<float> y_scalar;
                for (int isa = 0; isa < kIsaCount; ++isa) {
                    if (!isa_supported((Isa)isa)) continue;
                    const Kernels & k = kernels((Isa)isa);
                    std::vector<float> yp((size_t)(n_tok * ldy), -777.0f), yu(yp.size(), -777.0f);
                    k.matmul(pv, x.data(), n_tok, yp.data(), ldy, pool);
                    k.matmul(c.view, x.data(), n_tok, yu.data(), ldy, pool);
                    for (int64_t tk = 0; tk < n_tok; ++tk)
                        for (int64_t o = n_out; o < ldy; ++o) ASSERT_EQ(yp[tk * ldy + o], -777.0f) << "wrote past n_out";
                    const std::string what = std::string(dtype_info(t).name) + " " + isa_name((Isa)isa) +
                                             " n_out=" + std::to_string(n_out) + " n_tok=" + std::to_string(n_tok);
                    EXPECT_LT(norm_error(c, x, n_tok, yp, ldy), tolerance(t)) << what;
                    // Same integer sums per block as the plain path; only float rounding order differs.
                    EXPECT_LT(rel_diff(yp, yu), 2e-5) << what;
                    if (isa == 0) y_scalar = yp;
                    else EXPECT_LT(rel_diff(yp, y_scalar), 2e-5) << what << " vs scalar packed";
                }
            }
        }
    }
}

TEST(MatmulPacked, PackingInRangesEqualsPackingWhole) {
    const int64_t n_out = 29;
    for (DType t : kPackedTypes) {
        const int64_t n_in = dtype_info(t).block_size == 256 ? 512 : 64;
        const Case c = make_weights(t, n_out, n_in, 77);
        const size_t bytes = matmul_packed_bytes(t, n_in, n_out);
        std::vector<uint8_t> whole(bytes), parts(bytes);
        matmul_pack(c.view, whole.data(), 0, matmul_pack_groups(n_out));
        matmul_pack(c.view, parts.data(), 2, 4);
        matmul_pack(c.view, parts.data(), 0, 2);
        EXPECT_EQ(whole, parts) << dtype_info(t).name;
        if (t == DType::DType_f16) {
            // Row 3's elements 2 and 3 sit at bytes 12..15 of group 0's second element pair.
            EXPECT_EQ(std::memcmp(whole.data() + detail::packed_block_bytes(t) + 4 * 3, c.wq.data() + 3 * c.view.row_stride + 4, 4), 0);
            continue;
        }
        // Row 3's block 1 scale sits in lane 3 of group 0's second block.
        uint16_t d;
        std::memcpy(&d, whole.data() + detail::packed_block_bytes(t) + 2 * 3, 2);
        const size_t d_off = t == DType::DType_q6_k ? offsetof(block_q6_K, d) : 0;  // q6_K keeps d last
        const uint8_t * src = c.wq.data() + 3 * c.view.row_stride + dtype_info(t).type_size + d_off;
        uint16_t want;
        std::memcpy(&want, src, 2);
        EXPECT_EQ(d, want);
    }
    EXPECT_EQ(matmul_packed_bytes(DType::DType_f32, 64, 8), 0u);
    EXPECT_EQ(matmul_packed_bytes(DType::DType_f16, 63, 8), 0u);  // f16 packs element pairs
    EXPECT_EQ(matmul_packed_bytes(DType::DType_f16, 64, 9), 2u * 64 * 2 * 8);
}

// Every row read back from the packed copy is byte-identical to the plain row (embedding lookups of a
// tied output head use it), including the rows of a partial last group.
TEST(MatmulPacked, UnpackedRowsEqualThePlainRows) {
    const int64_t n_out = 21;
    for (DType t : kPackedTypes) {
        const int64_t n_in = packed_test_n_in(t);
        Case c = make_weights(t, n_out, n_in, 31);
        if (t == DType::DType_q4_k) {  // scales and mins with their high bits set (the 6-bit packing)
            for (int64_t r = 0; r < n_out; ++r)
                for (int64_t b = 0; b < n_in / 256; ++b) {
                    auto * blk = (block_q4_K *)(c.wq.data() + r * c.view.row_stride) + b;
                    for (int j = 0; j < 12; ++j) blk->scales[j] = (uint8_t)(37 * (r + b + j) + 11);
                }
        }
        std::vector<uint8_t> packed(matmul_packed_bytes(t, n_in, n_out));
        matmul_pack(c.view, packed.data(), 0, matmul_pack_groups(n_out));
        WeightView pv = c.view;
        pv.packed = packed.data();
        std::vector<uint8_t> row(c.view.row_stride);
        for (int64_t r = 0; r < n_out; ++r) {
            matmul_unpack_row(pv, r, row.data());
            EXPECT_EQ(std::memcmp(row.data(), c.wq.data() + r * c.view.row_stride, row.size()), 0)
                << dtype_info(t).name << " row " << r;
        }
    }
}

TEST(MatmulPacked, ResultDoesNotDependOnThreadCount) {
    ThreadPool one(1), three(3);
    const int64_t n_in = 256, n_out = 301;
    for (DType t : kPackedTypes) {
        const Case c = make_weights(t, n_out, n_in, 9);
        std::vector<uint8_t> packed(matmul_packed_bytes(t, n_in, n_out));
        matmul_pack(c.view, packed.data(), 0, matmul_pack_groups(n_out));
        WeightView pv = c.view;
        pv.packed = packed.data();
        for (int64_t n_tok : {1, 9}) {
            const auto x = random_vec((size_t)(n_tok * n_in), 10);
            std::vector<float> a((size_t)(n_tok * n_out)), b(a.size());
            kernels().matmul(pv, x.data(), n_tok, a.data(), n_out, one);
            kernels().matmul(pv, x.data(), n_tok, b.data(), n_out, three);
            EXPECT_EQ(a, b) << dtype_info(t).name;
        }
    }
}

TEST(Matmul, ActivationQuantizersRoundTrip) {
    const int64_t n = 512;
    auto x = random_vec(n, 5, 3.0f);
    x[7] = 0.0f;
    for (int i = 64; i < 96; ++i) x[i] = 0.0f;  // an all-zero block must give d = 0, q = 0
    for (auto kind : {detail::ActKind::ActKind_q8_32, detail::ActKind::ActKind_q8_256}) {
        const auto lay = detail::act_layout(kind, n);
        std::vector<uint8_t> row(lay.row_bytes);
        const int block = kind == detail::ActKind::ActKind_q8_32 ? 32 : 256;
        if (kind == detail::ActKind::ActKind_q8_32) detail::quantize_act_q8_32_scalar(x.data(), row.data(), n);
        else detail::quantize_act_q8_256_scalar(x.data(), row.data(), n);
        const int8_t * qs = (const int8_t *)row.data();
        const float * d = (const float *)(row.data() + lay.d_off);
        for (int64_t i = 0; i < n; ++i) {
            ASSERT_LE(std::abs((int)qs[i]), 127);
            EXPECT_NEAR(d[i / block] * qs[i], x[i], d[i / block] * 0.5f + 1e-7f) << i;
        }
        if (kind == detail::ActKind::ActKind_q8_32) {
            const int32_t * s = (const int32_t *)(row.data() + lay.sum_off);
            EXPECT_EQ(d[2], 0.0f);
            for (int b = 0; b < n / 32; ++b) {
                int32_t sum = 0;
                for (int i = 0; i < 32; ++i) sum += qs[b * 32 + i];
                EXPECT_EQ(s[b], sum);
            }
        } else {
            const int16_t * s = (const int16_t *)(row.data() + lay.sum_off);
            for (int b = 0; b < n / 16; ++b) {
                int32_t sum = 0;
                for (int i = 0; i < 16; ++i) sum += qs[b * 16 + i];
                EXPECT_EQ(s[b], sum);
            }
        }
    }
}

TEST(Matmul, UnsupportedTypeIsAnError) {
    ThreadPool pool(1);
    WeightView w;
    w.type = DType::DType_q8_k;
    w.n_in = 256;
    w.n_out = 1;
    std::vector<uint8_t> data(292);
    w.data = data.data();
    w.row_stride = 292;
    float x[256] = {}, y[1];
    EXPECT_FALSE(matmul_supported(DType::DType_q8_k));
    EXPECT_ANY_THROW(kernels(Isa::Isa_scalar).matmul(w, x, 1, y, 1, pool));
}

}  // namespace
}  // namespace sy
