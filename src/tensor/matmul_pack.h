// Row-interleaved ("packed") weight layouts for the matmul: a copy of a weight matrix made once at model
// load in which kPackRows consecutive rows are interleaved so that one vector lane holds one output row.
// The dot product then needs no horizontal sums and no per-row scalar scale conversions: for each block
// index, the kPackRows row scales are contiguous (one load + one f16→f32 conversion) and the quants are
// interleaved in 4-byte chunks, so vpdpbusd(acc, 4 bytes × 8 rows, broadcast(4 activation bytes)) (or
// maddubs + madd on AVX2) advances all 8 rows at once.
//
// Layouts (a group = kPackRows rows; groups are stored one after the other, each as its n_in / block blocks;
// the last group is padded with zero rows when n_out is not a multiple of kPackRows):
//   q4_0  per 32-block, 144 bytes:  d f16[8] | qs[128]  with qs[32c + 4r + k] = row r's qs[4c + k]
//         (c = 0..3, k = 0..3): low nibbles are elements 4c+k, high nibbles 16+4c+k, values unsigned 0..15
//         (the -8 offset is applied through the activation block sums).
//   q8_0  per 32-block, 272 bytes (the plain size):  d f16[8] | qs[256]  with qs[32c + 4r + k] = row r's
//         qs[4c + k] (c = 0..7).
//   q5_0  per 32-block, 176 bytes (the plain size):  d f16[8] | qh[4 c][8 rows] | qs[128] with qs as q4_0's;
//         qh byte (c, r) holds row r's high bits of elements 4c..4c+3 (bits 0..3) and 16+4c..16+4c+3
//         (bits 4..7); values (nibble | high bit << 4) are unsigned 0..31, the −16 applied like q4_0's −8.
//   q4_K  per 256-super-block, 1184 bytes:  d f16[8] | dmin f16[8] | sc u8[8 sub][8 rows] |
//         mn u8[8 sub][8 rows] | qs[1024]  with qs[32v + 4r + k] = row r's qs[4v + k] (v = 8c + k', 0..31):
//         low nibbles are elements 64c + 4k' + k (sub-block 2c), high nibbles 64c + 32 + 4k' + k (2c + 1).
//   q6_K  per 256-super-block, 1680 bytes:  d f16[8] | sc int8[16 sub][8 rows] | ql[1024] | qh[512], ql and
//         qh interleaved in 4-byte chunks like q4_0 (ql chunk v = row bytes 4v..4v+3, v = 0..31; qh v = 0..15);
//         the bit layout inside the bytes is q6_K's own.
//   f16   per pair of elements (2k, 2k+1), 32 bytes:  w[8 rows][2] f16, i.e. row r's elements 2k and 2k+1
//         at bytes 4r..4r+3 (n_in must be even). Converted, one 512-bit vector holds lane 2r = row r at 2k
//         and lane 2r+1 = row r at 2k+1, so a broadcast of the activation pair (x[2k], x[2k+1]) and one
//         FMA advance the 8 rows; adjacent lanes are summed once at the end of a tile. (A 256-bit vector
//         holds 4 rows: rows 0..3 are the first 16 bytes, rows 4..7 the next.) Same bytes as the plain rows.
// The layout is the same for every ISA, so one packed buffer serves all the kernel tables.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gguf/types.h"
#include "tensor/ops.h"

namespace sy {

constexpr int kPackRows = 8;

// Bytes of the packed copy of an n_out × n_in matrix of type t; 0 when t has no packed layout.
size_t matmul_packed_bytes(DType t, int64_t n_in, int64_t n_out);

// Writes row groups [g0, g1) of w's packed copy into dst (the whole buffer of matmul_packed_bytes bytes;
// group g starts at g * (packed bytes / number of groups)). Ranges may be packed concurrently.
void matmul_pack(const WeightView & w, uint8_t * dst, int64_t g0, int64_t g1);

// Writes row `row` of w in its plain GGUF encoding (w.row_stride bytes, byte-identical to the original row)
// to dst, read from the packed copy w.packed (which must be set): lets row lookups (token embeddings of a
// tied output head) leave the dropped pages of the mapping alone.
void matmul_unpack_row(const WeightView & w, int64_t row, uint8_t * dst);

inline int64_t matmul_pack_groups(int64_t n_out) { return (n_out + kPackRows - 1) / kPackRows; }

}  // namespace sy
