#include "gguf/types.h"

#include <array>
#include <cctype>
#include <limits>

namespace sy {
namespace {

constexpr std::array<DTypeInfo, 20> kDTypes = {{
    {DType::DType_f32, "f32", 1, 4, false},
    {DType::DType_f16, "f16", 1, 2, false},
    {DType::DType_q4_0, "q4_0", 32, 18, true},
    {DType::DType_q4_1, "q4_1", 32, 20, true},
    {DType::DType_q5_0, "q5_0", 32, 22, true},
    {DType::DType_q5_1, "q5_1", 32, 24, true},
    {DType::DType_q8_0, "q8_0", 32, 34, true},
    {DType::DType_q8_1, "q8_1", 32, 36, true},
    {DType::DType_q2_k, "q2_K", 256, 84, true},
    {DType::DType_q3_k, "q3_K", 256, 110, true},
    {DType::DType_q4_k, "q4_K", 256, 144, true},
    {DType::DType_q5_k, "q5_K", 256, 176, true},
    {DType::DType_q6_k, "q6_K", 256, 210, true},
    {DType::DType_q8_k, "q8_K", 256, 292, true},
    {DType::DType_i8, "i8", 1, 1, false},
    {DType::DType_i16, "i16", 1, 2, false},
    {DType::DType_i32, "i32", 1, 4, false},
    {DType::DType_i64, "i64", 1, 8, false},
    {DType::DType_f64, "f64", 1, 8, false},
    {DType::DType_bf16, "bf16", 1, 2, false},
}};
static_assert(kDTypes.size() == 20, "one row per DType enumerator");

bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (std::tolower((unsigned char)a[i]) != std::tolower((unsigned char)b[i])) return false;
    return true;
}

}  // namespace

std::optional<DTypeInfo> dtype_info(uint32_t id) {
    for (const auto & d : kDTypes)
        if ((uint32_t)d.type == id) return d;
    return std::nullopt;
}

const DTypeInfo & dtype_info(DType t) {
    for (const auto & d : kDTypes)
        if (d.type == t) return d;
    return kDTypes[0];  // unreachable for valid enumerators
}

std::optional<DType> dtype_from_name(std::string_view name) {
    for (const auto & d : kDTypes)
        if (iequal(d.name, name)) return d.type;
    return std::nullopt;
}

std::optional<size_t> row_bytes(DType t, int64_t n) {
    const DTypeInfo & d = dtype_info(t);
    if (n < 0 || n % d.block_size != 0) return std::nullopt;
    const uint64_t blocks = (uint64_t)(n / d.block_size);
    if (blocks > std::numeric_limits<uint64_t>::max() / d.type_size) return std::nullopt;
    return (size_t)(blocks * d.type_size);
}

}  // namespace sy
