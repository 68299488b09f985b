#include "tensor/isa.h"

#include <cpuid.h>

#include <cstdlib>
#include <string>

#include "common/error.h"

namespace sy {
namespace {

struct IsaRow {
    Isa isa;
    const char * name;
};
constexpr std::array<IsaRow, kIsaCount> kIsas = {{
    {Isa::Isa_scalar, "scalar"},
    {Isa::Isa_avx2, "avx2"},
    {Isa::Isa_avx512, "avx512"},
}};
static_assert(kIsas.size() == kIsaCount);

uint64_t xgetbv0() {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

Isa detect() {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return Isa::Isa_scalar;
    const bool osxsave = c & (1u << 27), fma = c & (1u << 12), f16c = c & (1u << 29), avx = c & (1u << 28);
    if (!osxsave || !avx) return Isa::Isa_scalar;
    const uint64_t xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return Isa::Isa_scalar;  // XMM and YMM state
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return Isa::Isa_scalar;
    const bool avx2 = b & (1u << 5);
    if (!(avx2 && fma && f16c)) return Isa::Isa_scalar;
    const bool avx512f = b & (1u << 16), avx512dq = b & (1u << 17), avx512bw = b & (1u << 30),
               avx512vl = b & (1u << 31), vnni = c & (1u << 11);
    unsigned a1 = 0, b1 = 0, c1 = 0, d1 = 0;
    __get_cpuid_count(7, 1, &a1, &b1, &c1, &d1);
    const bool bf16 = a1 & (1u << 5);
    const bool zmm_state = (xcr0 & 0xe0) == 0xe0;  // opmask, ZMM_Hi256, Hi16_ZMM
    if (avx512f && avx512dq && avx512bw && avx512vl && vnni && bf16 && zmm_state) return Isa::Isa_avx512;
    return Isa::Isa_avx2;
}

Isa active_from_env() {
    const Isa best = isa_best();
    const char * env = std::getenv("SWITCHYARD_ISA");
    if (!env || !*env) return best;
    auto want = isa_from_name(env);
    if (!want)
        throw Error(ErrorKind::ErrorKind_invalid_argument,
                    std::string("SWITCHYARD_ISA='") + env + "' is not one of scalar, avx2, avx512");
    if (!isa_supported(*want))
        throw Error(ErrorKind::ErrorKind_unsupported, std::string("SWITCHYARD_ISA=") + env +
                                                          " is not supported by this CPU (best: " +
                                                          isa_name(best) + ")");
    return *want;
}

}  // namespace

const char * isa_name(Isa isa) { return kIsas[(int)isa].name; }

std::optional<Isa> isa_from_name(std::string_view name) {
    for (const auto & r : kIsas)
        if (name == r.name) return r.isa;
    return std::nullopt;
}

Isa isa_best() {
    static const Isa best = detect();
    return best;
}

bool isa_supported(Isa isa) { return (int)isa <= (int)isa_best(); }

Isa isa_active() {
    static const Isa active = active_from_env();
    return active;
}

}  // namespace sy
