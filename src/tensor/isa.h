// The one instruction-set dispatch point. The best supported path is detected once (cpuid + xgetbv) and
// cached; SWITCHYARD_ISA=scalar|avx2|avx512 selects a lower path (asking for one the CPU lacks is an
// error at start-up, never a crash). Tests call kernels(Isa) directly to exercise every path.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace sy {

enum class Isa { Isa_scalar = 0, Isa_avx2 = 1, Isa_avx512 = 2 };
constexpr int kIsaCount = 3;

const char * isa_name(Isa isa);
std::optional<Isa> isa_from_name(std::string_view name);

bool isa_supported(Isa isa);  // by this CPU
Isa isa_best();               // best supported by this CPU
Isa isa_active();             // isa_best() capped by SWITCHYARD_ISA; throws sy::Error on a bad value

}  // namespace sy
