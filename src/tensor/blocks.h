// Quantization block layouts, byte-for-byte those of ggml/GGUF (little-endian; halfs are IEEE binary16
// stored as uint16_t). A block covers QK (32) or QK_K (256) consecutive elements of one row.
//
//   type   bytes  element i of the block
//   q4_0   18     d * (nibble(i) - 8); nibbles: qs[j] low = element j, high = element j+16
//   q4_1   20     d * nibble(i) + m
//   q5_0   22     d * ((nibble(i) | bit(qh, i) << 4) - 16)
//   q5_1   24     d * (nibble(i) | bit(qh, i) << 4) + m
//   q8_0   34     d * qs[i]
//   q8_1   36     d * qs[i]; s = d * sum(qs) (used as an activation type)
//   q2_K.. q6_K   super-blocks of 256 with 6-bit (q4/q5) or 8-bit (q6) sub-block scales, see quant.cpp
//   q8_K   292    d * qs[i] (activation type for the K-quants; bsums[j] = sum of qs[16j..16j+15])
#pragma once

#include <cstddef>
#include <cstdint>

namespace sy {

constexpr int QK4_0 = 32;
constexpr int QK4_1 = 32;
constexpr int QK5_0 = 32;
constexpr int QK5_1 = 32;
constexpr int QK8_0 = 32;
constexpr int QK8_1 = 32;
constexpr int QK_K = 256;
constexpr int K_SCALE_SIZE = 12;

struct block_q4_0 {
    uint16_t d;
    uint8_t qs[QK4_0 / 2];
};
static_assert(sizeof(block_q4_0) == 18);

struct block_q4_1 {
    uint16_t d;
    uint16_t m;
    uint8_t qs[QK4_1 / 2];
};
static_assert(sizeof(block_q4_1) == 20);

struct block_q5_0 {
    uint16_t d;
    uint8_t qh[4];
    uint8_t qs[QK5_0 / 2];
};
static_assert(sizeof(block_q5_0) == 22);

struct block_q5_1 {
    uint16_t d;
    uint16_t m;
    uint8_t qh[4];
    uint8_t qs[QK5_1 / 2];
};
static_assert(sizeof(block_q5_1) == 24);

struct block_q8_0 {
    uint16_t d;
    int8_t qs[QK8_0];
};
static_assert(sizeof(block_q8_0) == 34);

struct block_q8_1 {
    uint16_t d;
    uint16_t s;
    int8_t qs[QK8_1];
};
static_assert(sizeof(block_q8_1) == 36);

// q2_K: 16 sub-blocks of 16; scales[j] low nibble = scale, high nibble = min (x d / dmin).
struct block_q2_K {
    uint8_t scales[QK_K / 16];
    uint8_t qs[QK_K / 4];
    uint16_t d;
    uint16_t dmin;
};
static_assert(sizeof(block_q2_K) == 84);

// q3_K: 16 sub-blocks of 16, 6-bit signed scales packed in 12 bytes, high bit in hmask.
struct block_q3_K {
    uint8_t hmask[QK_K / 8];
    uint8_t qs[QK_K / 4];
    uint8_t scales[12];
    uint16_t d;
};
static_assert(sizeof(block_q3_K) == 110);

// q4_K: 8 sub-blocks of 32, 6-bit scales and mins packed in 12 bytes.
struct block_q4_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[K_SCALE_SIZE];
    uint8_t qs[QK_K / 2];
};
static_assert(sizeof(block_q4_K) == 144);

struct block_q5_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[K_SCALE_SIZE];
    uint8_t qh[QK_K / 8];
    uint8_t qs[QK_K / 2];
};
static_assert(sizeof(block_q5_K) == 176);

// q6_K: 16 sub-blocks of 16, int8 scales.
struct block_q6_K {
    uint8_t ql[QK_K / 2];
    uint8_t qh[QK_K / 4];
    int8_t scales[QK_K / 16];
    uint16_t d;
};
static_assert(sizeof(block_q6_K) == 210);

struct block_q8_K {
    float d;
    int8_t qs[QK_K];
    int16_t bsums[QK_K / 16];
};
static_assert(sizeof(block_q8_K) == 292);

}  // namespace sy
