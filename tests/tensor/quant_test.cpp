// Tests of the scalar quantize/dequantize reference (src/tensor/quant.h):
//  - known answers: blocks built byte by byte, expected floats worked out by hand from the GGUF format
//    definition (never by calling our own code), which pins every bit layout;
//  - round trips of seeded Gaussian rows with a per-type bound on the normalised RMS error;
//  - f16/bf16 exactness and rounding, and errors for bad row lengths.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "common/error.h"
#include "tensor/blocks.h"
#include "tensor/quant.h"

namespace sy {
namespace {

// fp16 bit patterns used below
constexpr uint16_t kH1 = 0x3C00;     // 1.0
constexpr uint16_t kH2 = 0x4000;     // 2.0
constexpr uint16_t kHHalf = 0x3800;  // 0.5
constexpr uint16_t kHQuarter = 0x3400;  // 0.25
constexpr uint16_t kHm2 = 0xC000;    // -2.0

template <typename Block>
std::vector<float> decode(DType t, const Block & b, int n) {
    std::vector<float> y((size_t)n, NAN);
    dequantize_row(t, &b, y.data(), n);
    return y;
}

// ---- known answers --------------------------------------------------------------------------------------

TEST(QuantKnownAnswer, Q4_0) {
    block_q4_0 b{};
    b.d = kH2;
    std::memset(b.qs, 0x88, sizeof b.qs);  // nibble 8 -> 0
    b.qs[0] = 0x1F;                        // element 0: 15, element 16: 1
    b.qs[5] = 0x80;                        // element 5: 0, element 21: 8
    auto y = decode(DType::DType_q4_0, b, 32);
    EXPECT_EQ(y[0], 14.0f);   // (15-8)*2
    EXPECT_EQ(y[16], -14.0f); // (1-8)*2
    EXPECT_EQ(y[5], -16.0f);  // (0-8)*2
    EXPECT_EQ(y[21], 0.0f);
    EXPECT_EQ(y[1], 0.0f);
    EXPECT_EQ(y[31], 0.0f);
}

TEST(QuantKnownAnswer, Q4_1) {
    block_q4_1 b{};
    b.d = kHHalf;
    b.m = kHm2;
    b.qs[3] = 0xA2;
    auto y = decode(DType::DType_q4_1, b, 32);
    EXPECT_EQ(y[3], -1.0f);  // 2*0.5 - 2
    EXPECT_EQ(y[19], 3.0f);  // 10*0.5 - 2
    EXPECT_EQ(y[0], -2.0f);
    EXPECT_EQ(y[31], -2.0f);
}

TEST(QuantKnownAnswer, Q5_0) {
    block_q5_0 b{};
    b.d = kH1;
    const uint8_t qh[4] = {0x01, 0x00, 0x01, 0x80};  // little-endian u32 0x80010001: bits 0, 16, 31
    std::memcpy(b.qh, qh, 4);
    b.qs[0] = 0x3F;
    b.qs[15] = 0xF0;
    auto y = decode(DType::DType_q5_0, b, 32);
    EXPECT_EQ(y[0], 15.0f);   // (15 | 16) - 16
    EXPECT_EQ(y[16], 3.0f);   // (3 | 16) - 16
    EXPECT_EQ(y[15], -16.0f); // 0 - 16
    EXPECT_EQ(y[31], 15.0f);  // (15 | 16) - 16
    EXPECT_EQ(y[7], -16.0f);
}

TEST(QuantKnownAnswer, Q5_1) {
    block_q5_1 b{};
    b.d = kHQuarter;
    b.m = kH1;
    b.qh[1] = 0x02;  // bit 9
    b.qs[9] = 0x21;
    auto y = decode(DType::DType_q5_1, b, 32);
    EXPECT_EQ(y[9], 5.25f);  // 17*0.25 + 1
    EXPECT_EQ(y[25], 1.5f);  // 2*0.25 + 1
    EXPECT_EQ(y[0], 1.0f);
}

TEST(QuantKnownAnswer, Q8_0AndQ8_1) {
    block_q8_0 b{};
    b.d = kHHalf;
    b.qs[0] = 127;
    b.qs[1] = -128;
    b.qs[31] = -3;
    auto y = decode(DType::DType_q8_0, b, 32);
    EXPECT_EQ(y[0], 63.5f);
    EXPECT_EQ(y[1], -64.0f);
    EXPECT_EQ(y[31], -1.5f);
    EXPECT_EQ(y[2], 0.0f);

    block_q8_1 c{};
    c.d = kH2;
    c.qs[2] = -7;
    auto z = decode(DType::DType_q8_1, c, 32);
    EXPECT_EQ(z[2], -14.0f);
    EXPECT_EQ(z[3], 0.0f);
}

TEST(QuantKnownAnswer, Q8_K) {
    block_q8_K b{};
    b.d = 0.125f;
    b.qs[0] = 1;
    b.qs[255] = -100;
    auto y = decode(DType::DType_q8_k, b, 256);
    EXPECT_EQ(y[0], 0.125f);
    EXPECT_EQ(y[255], -12.5f);
    EXPECT_EQ(y[100], 0.0f);
}

TEST(QuantKnownAnswer, Q2_K) {
    block_q2_K b{};
    b.d = kH1;
    b.dmin = kHHalf;
    b.scales[0] = 0x21;   // sub-block 0 (elements 0..15): scale 1, min 2
    b.scales[2] = 0x12;   // elements 32..47: scale 2, min 1
    b.scales[4] = 0x05;   // elements 64..79: scale 5, min 0
    b.scales[5] = 0x03;   // elements 80..95: scale 3, min 0
    b.scales[6] = 0x30;   // elements 96..111: scale 0, min 3
    b.scales[15] = 0xF7;  // elements 240..255: scale 7, min 15
    b.qs[0] = 0xE4;       // byte 0 of the first half: element 0 code 0, 32 -> 1, 64 -> 2, 96 -> 3
    b.qs[63] = 0xC0;      // last byte of the second half, bits 6-7: element 128+96+31 = 255 code 3
    auto y = decode(DType::DType_q2_k, b, 256);
    EXPECT_EQ(y[0], -1.0f);    // 1*0 - 0.5*2
    EXPECT_EQ(y[1], -1.0f);
    EXPECT_EQ(y[32], 1.5f);    // 2*1 - 0.5*1
    EXPECT_EQ(y[64], 10.0f);   // 5*2
    EXPECT_EQ(y[80], 0.0f);    // 3*0
    EXPECT_EQ(y[96], -1.5f);   // 0*3 - 0.5*3
    EXPECT_EQ(y[255], 13.5f);  // 7*3 - 0.5*15
    EXPECT_EQ(y[240], -7.5f);  // 7*0 - 0.5*15
}

TEST(QuantKnownAnswer, Q3_K) {
    block_q3_K b{};
    b.d = kH1;
    // 6-bit scales, stored value s means scale s-32. Sub-block j: low 4 bits in scales[j] (j<8, low nibble)
    // or scales[j-8] (high nibble); top 2 bits in scales[8 + j%4] at bit 2*(j/4). Everything else 0 -> -32.
    b.scales[0] = 0x01;          // sub-block 0 low bits 1
    b.scales[8] = 0x02 | 0x80;   // sub-block 0 top bits 2 (-> 33 -> +1); sub-block 12 top bits 2
    b.scales[4] = 0x50;          // sub-block 12 low bits 5 (-> 37 -> +5)
    b.scales[7] = 0xC0;          // sub-block 15 low bits 12
    b.scales[11] = 0x40;         // sub-block 15 top bits 1 (-> 28 -> -4)
    b.hmask[0] = 0x01;           // element 0 high bit
    b.hmask[31] = 0x80;          // element 255 high bit
    b.hmask[8] = 0x40;           // element 200 (= 6*32 + 8) high bit
    b.qs[0] = 0x03;              // element 0 low bits 3
    b.qs[63] = 0x40;             // element 255 low bits 1 (second half, byte 31, bits 6-7)
    b.qs[40] = 0x20;             // element 200 = 128 + 2*32 + 8: second half byte 8, bits 4-5 = 2
    auto y = decode(DType::DType_q3_k, b, 256);
    EXPECT_EQ(y[0], 3.0f);     // scale 1, code 3 + 4 - 4
    EXPECT_EQ(y[1], -4.0f);    // scale 1, code 0 without high bit: 0 - 4
    EXPECT_EQ(y[16], 128.0f);  // scale -32, code -4
    EXPECT_EQ(y[32], 128.0f);
    EXPECT_EQ(y[200], 10.0f);  // scale 5, code 2
    EXPECT_EQ(y[255], -4.0f);  // scale -4, code 1
}

TEST(QuantKnownAnswer, Q4_KAndQ5_K) {
    // Shared 12-byte scale block: sub-blocks 0..3 keep scale in scales[j] and min in scales[j+4] (low 6
    // bits); sub-blocks 4..7 keep low nibbles in scales[j+4] and top 2 bits in the top of scales[j-4]/[j].
    uint8_t scales[12] = {};
    scales[0] = 10;          // sub 0 scale 10
    scales[4] = 3;           // sub 0 min 3
    scales[1] = 0xC0 | 7;    // sub 1 scale 7; sub 5 scale top bits 3
    scales[5] = 0x40 | 4;    // sub 1 min 4; sub 5 min top bits 1
    scales[2] = 1;           // sub 2 scale 1, min 0
    scales[8] = 0x52;        // sub 4 scale 2, min 5
    scales[9] = 0x21;        // sub 5 scale 1 | 3<<4 = 49, min 2 | 1<<4 = 18
    scales[11] = 0x01;       // sub 7 scale 1, min 0

    block_q4_K b{};
    b.d = kH1;
    b.dmin = kHHalf;
    std::memcpy(b.scales, scales, 12);
    b.qs[0] = 0x5F;   // element 0 (low nibble) 15, element 32 (high nibble) 5
    b.qs[64] = 0xA3;  // element 128 = 3, element 160 = 10
    auto y = decode(DType::DType_q4_k, b, 256);
    EXPECT_EQ(y[0], 148.5f);  // 10*15 - 0.5*3
    EXPECT_EQ(y[1], -1.5f);   // 10*0 - 0.5*3
    EXPECT_EQ(y[32], 33.0f);  // 7*5 - 0.5*4
    EXPECT_EQ(y[128], 3.5f);  // 2*3 - 0.5*5
    EXPECT_EQ(y[160], 481.0f);  // 49*10 - 0.5*18
    EXPECT_EQ(y[255], 0.0f);

    block_q5_K c{};
    c.d = kH1;
    c.dmin = kHHalf;
    std::memcpy(c.scales, scales, 12);
    c.qs[0] = 0x5F;
    c.qs[64] = 0xA3;
    c.qh[0] = 0x05;   // fifth bit for element 0 (bit 0) and element 64 (bit 2)
    c.qh[31] = 0x80;  // element 255 = 3*64 + 32 + 31 (bit 7)
    auto z = decode(DType::DType_q5_k, c, 256);
    EXPECT_EQ(z[0], 308.5f);   // 10*31 - 1.5
    EXPECT_EQ(z[32], 33.0f);   // bit 1 clear
    EXPECT_EQ(z[64], 16.0f);   // 1*(0+16)
    EXPECT_EQ(z[160], 481.0f); // bit 5 clear
    EXPECT_EQ(z[255], 16.0f);  // 1*(0+16)
    EXPECT_EQ(z[1], -1.5f);
}

TEST(QuantKnownAnswer, Q6_K) {
    block_q6_K b{};
    b.d = kH1;
    b.scales[0] = 2;    // elements 0..15
    b.scales[4] = 5;    // elements 64..79
    b.scales[8] = -1;   // elements 128..143
    b.scales[15] = -3;  // elements 240..255
    // element 0: ql[0] low nibble + qh[0] bits 0-1; element 64: ql[0] high nibble + qh[0] bits 4-5
    b.ql[0] = 0x1F;
    b.qh[0] = 0x03 | (0x2 << 4);
    // element 255 = 128 + 96 + 31: ql[64 + 32 + 31] high nibble, qh[32 + 31] bits 6-7
    b.ql[127] = 0x70;
    b.qh[63] = 0x40;
    auto y = decode(DType::DType_q6_k, b, 256);
    EXPECT_EQ(y[0], 62.0f);    // 2 * ((15 | 3<<4) - 32)
    EXPECT_EQ(y[64], 5.0f);    // 5 * ((1 | 2<<4) - 32)
    EXPECT_EQ(y[1], -64.0f);   // 2 * (0 - 32)
    EXPECT_EQ(y[128], 32.0f);  // -1 * (0 - 32)
    EXPECT_EQ(y[255], 27.0f);  // -3 * ((7 | 1<<4) - 32)
}

TEST(QuantKnownAnswer, HalfAndBrainFloat) {
    const uint16_t h[4] = {0x3C00, 0xC000, 0x0001, 0x7BFF};  // 1, -2, smallest subnormal, 65504
    float y[4];
    dequantize_row(DType::DType_f16, h, y, 4);
    EXPECT_EQ(y[0], 1.0f);
    EXPECT_EQ(y[1], -2.0f);
    EXPECT_EQ(y[2], std::ldexp(1.0f, -24));
    EXPECT_EQ(y[3], 65504.0f);

    const uint16_t bf[2] = {0x3F80, 0xC0A0};  // 1, -5
    dequantize_row(DType::DType_bf16, bf, y, 2);
    EXPECT_EQ(y[0], 1.0f);
    EXPECT_EQ(y[1], -5.0f);
}

// ---- round trips ----------------------------------------------------------------------------------------

std::vector<float> gaussian(int64_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> x((size_t)n);
    for (auto & v : x) v = dist(rng);
    return x;
}

double nrmse(const std::vector<float> & a, const std::vector<float> & b) {
    double num = 0, den = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)a[i] * a[i];
    }
    return std::sqrt(num / den);
}

struct RoundTripCase {
    DType type;
    double bound;  // normalised RMS error bound on Gaussian data: measured value plus 5-10%
};

class QuantRoundTrip : public ::testing::TestWithParam<RoundTripCase> {};

TEST_P(QuantRoundTrip, GaussianRows) {
    const RoundTripCase c = GetParam();
    const int64_t n_rows = 8, n_cols = 1024;
    const auto x = gaussian(n_rows * n_cols, 1234);
    const auto q = quantize_rows(c.type, x.data(), n_rows, n_cols);
    ASSERT_EQ(q.size(), (size_t)n_rows * *row_bytes(c.type, n_cols));
    const auto y = dequantize_rows(c.type, q.data(), n_rows, n_cols);
    const double err = nrmse(x, y);
    std::printf("  %-5s normalised rms error %.5f (bound %.3g)\n", dtype_info(c.type).name, err, c.bound);
    EXPECT_LT(err, c.bound) << dtype_info(c.type).name;
    // Quantizing the decoded values again must not drift further (a stable fixed point up to rounding).
    const auto q2 = quantize_rows(c.type, y.data(), n_rows, n_cols);
    const auto y2 = dequantize_rows(c.type, q2.data(), n_rows, n_cols);
    EXPECT_LT(nrmse(y, y2), c.bound) << dtype_info(c.type).name;
}

INSTANTIATE_TEST_SUITE_P(AllTypes, QuantRoundTrip,
                         ::testing::Values(RoundTripCase{DType::DType_f32, 1e-12},
                                           RoundTripCase{DType::DType_f16, 2.5e-4},
                                           RoundTripCase{DType::DType_bf16, 1.9e-3},
                                           RoundTripCase{DType::DType_q8_0, 0.0065},
                                           RoundTripCase{DType::DType_q8_1, 0.0065},
                                           RoundTripCase{DType::DType_q8_k, 0.008},
                                           RoundTripCase{DType::DType_q6_k, 0.019},
                                           RoundTripCase{DType::DType_q5_0, 0.044},
                                           RoundTripCase{DType::DType_q5_1, 0.038},
                                           RoundTripCase{DType::DType_q5_k, 0.039},
                                           RoundTripCase{DType::DType_q4_0, 0.09},
                                           RoundTripCase{DType::DType_q4_1, 0.078},
                                           RoundTripCase{DType::DType_q4_k, 0.076},
                                           RoundTripCase{DType::DType_q3_k, 0.155},
                                           RoundTripCase{DType::DType_q2_k, 0.29}),
                         [](const auto & info) { return std::string(dtype_info(info.param.type).name); });

TEST(QuantRoundTripExact, HalfRepresentableValuesAreExact) {
    // Every finite half (both signs) survives f32 -> f16 -> f32 unchanged.
    std::vector<float> x;
    for (uint32_t h = 0; h < 0x7C00; h += 7) {
        x.push_back(std::ldexp((float)(h & 0x3FF) + ((h >> 10) ? 1024.0f : 0.0f), (int)((h >> 10) ? (h >> 10) : 1) - 25));
        x.push_back(-x.back());
    }
    std::vector<uint16_t> h(x.size());
    std::vector<float> y(x.size());
    quantize_row(DType::DType_f16, x.data(), h.data(), (int64_t)x.size());
    dequantize_row(DType::DType_f16, h.data(), y.data(), (int64_t)x.size());
    for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(x[i], y[i]) << i;
}

TEST(QuantRoundTripExact, RoundingToNearestEven) {
    // 1 + 2^-11 lies halfway between halves 1 and 1+2^-10: ties go to the even mantissa (1).
    // 1 + 3*2^-11 lies halfway between 1+2^-10 and 1+2^-9: ties go to 1+2^-9.
    const float x[2] = {1.0f + std::ldexp(1.0f, -11), 1.0f + 3.0f * std::ldexp(1.0f, -11)};
    uint16_t h[2];
    quantize_row(DType::DType_f16, x, h, 2);
    EXPECT_EQ(h[0], 0x3C00);
    EXPECT_EQ(h[1], 0x3C02);
    // bf16: 1 + 2^-8 is halfway between 1 and 1+2^-7 -> 1; values with zero low 16 bits are exact.
    const float z[2] = {1.0f + std::ldexp(1.0f, -8), -3.25f};
    uint16_t b[2];
    quantize_row(DType::DType_bf16, z, b, 2);
    EXPECT_EQ(b[0], 0x3F80);
    EXPECT_EQ(b[1], 0xC050);
}

TEST(QuantRoundTripExact, ZerosStayZero) {
    for (DType t : {DType::DType_q4_0, DType::DType_q4_1, DType::DType_q5_0, DType::DType_q5_1, DType::DType_q8_0,
                    DType::DType_q2_k, DType::DType_q3_k, DType::DType_q4_k, DType::DType_q5_k, DType::DType_q6_k,
                    DType::DType_q8_k}) {
        std::vector<float> x(256, 0.0f);
        const auto q = quantize_rows(t, x.data(), 1, 256);
        const auto y = dequantize_rows(t, q.data(), 1, 256);
        for (float v : y) ASSERT_EQ(v, 0.0f) << dtype_info(t).name;
    }
}

TEST(QuantRoundTripExact, Q8_KBlockSums) {
    const auto x = gaussian(256, 7);
    block_q8_K b;
    quantize_row(DType::DType_q8_k, x.data(), &b, 256);
    for (int j = 0; j < 16; ++j) {
        int sum = 0;
        for (int i = 0; i < 16; ++i) sum += b.qs[16 * j + i];
        EXPECT_EQ(b.bsums[j], sum);
    }
    // the element of largest magnitude maps to -127 (d carries the opposite sign)
    int extreme = 0;
    for (int i = 0; i < 256; ++i) extreme = std::max(extreme, std::abs((int)b.qs[i]));
    EXPECT_EQ(extreme, 127);
}

// ---- errors ---------------------------------------------------------------------------------------------

TEST(QuantErrors, RowLengthMustBeMultipleOfBlock) {
    std::vector<float> x(300, 1.0f);
    std::vector<uint8_t> y(4096);
    EXPECT_THROW(quantize_row(DType::DType_q4_0, x.data(), y.data(), 33), Error);
    EXPECT_THROW(quantize_row(DType::DType_q4_k, x.data(), y.data(), 288), Error);
    EXPECT_THROW(dequantize_row(DType::DType_q6_k, y.data(), x.data(), 128), Error);
    try {
        quantize_row(DType::DType_q8_0, x.data(), y.data(), 40);
        FAIL() << "expected an error";
    } catch (const Error & e) {
        EXPECT_EQ(e.kind(), ErrorKind::ErrorKind_invalid_argument);
        EXPECT_NE(std::string(e.what()).find("multiple of"), std::string::npos);
    }
    EXPECT_NO_THROW(quantize_row(DType::DType_f16, x.data(), y.data(), 3));
}

TEST(QuantErrors, UnsupportedTypes) {
    EXPECT_FALSE(dtype_supported(DType::DType_i32));
    EXPECT_FALSE(dtype_supported(DType::DType_f64));
    EXPECT_TRUE(dtype_supported(DType::DType_q3_k));
    EXPECT_TRUE(dtype_supported(DType::DType_bf16));
    float x[4] = {};
    uint8_t y[16];
    EXPECT_THROW(quantize_row(DType::DType_i32, x, y, 4), Error);
}

}  // namespace
}  // namespace sy
