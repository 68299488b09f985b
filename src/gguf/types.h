// The ggml tensor type ids stored in GGUF files, with their block geometry. This is file-format knowledge
// (needed to bounds-check tensor extents); the kernels for these types live in src/tensor/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sy {

// Values are the on-disk ggml type ids; gaps are ids ggml retired or that Switchyard does not read.
enum class DType : uint32_t {
    DType_f32 = 0,
    DType_f16 = 1,
    DType_q4_0 = 2,
    DType_q4_1 = 3,
    DType_q5_0 = 6,
    DType_q5_1 = 7,
    DType_q8_0 = 8,
    DType_q8_1 = 9,
    DType_q2_k = 10,
    DType_q3_k = 11,
    DType_q4_k = 12,
    DType_q5_k = 13,
    DType_q6_k = 14,
    DType_q8_k = 15,
    DType_i8 = 24,
    DType_i16 = 25,
    DType_i32 = 26,
    DType_i64 = 27,
    DType_f64 = 28,
    DType_bf16 = 30,
};

struct DTypeInfo {
    DType type;
    const char * name;     // ggml's name, e.g. "q4_K"
    int64_t block_size;    // elements per block (1 for plain types)
    size_t type_size;      // bytes per block
    bool quantized;
};

// nullopt for ids this build does not know (the reader reports them as unsupported).
std::optional<DTypeInfo> dtype_info(uint32_t id);
const DTypeInfo & dtype_info(DType t);
std::optional<DType> dtype_from_name(std::string_view name);  // case-insensitive: "q4_k", "Q8_0", "f16"

// Bytes of one row of n elements; nullopt if n is not a multiple of the block size or would overflow.
std::optional<size_t> row_bytes(DType t, int64_t n);

}  // namespace sy
