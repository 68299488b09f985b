// The kernel tables, one per ISA, built once on first use.
#include <array>

#include "common/error.h"
#include "tensor/kernels_internal.h"

namespace sy {
namespace {

std::array<Kernels, kIsaCount> build_tables() {
    std::array<Kernels, kIsaCount> t{};
    Kernels scalar{};
    scalar.isa = Isa::Isa_scalar;
    detail::register_ops_scalar(scalar);
    detail::register_matmul_scalar(scalar);
    t[(int)Isa::Isa_scalar] = scalar;

    Kernels avx2 = scalar;
    avx2.isa = Isa::Isa_avx2;
    detail::register_ops_avx2(avx2);
    detail::register_matmul_avx2(avx2);
    t[(int)Isa::Isa_avx2] = avx2;

    Kernels avx512 = avx2;
    avx512.isa = Isa::Isa_avx512;
    detail::register_ops_avx512(avx512);
    detail::register_matmul_avx512(avx512);
    t[(int)Isa::Isa_avx512] = avx512;
    return t;
}

}  // namespace

const Kernels & kernels(Isa isa) {
    static const std::array<Kernels, kIsaCount> tables = build_tables();
    SY_ASSERT_MSG(isa_supported(isa), "kernels requested for an ISA this CPU lacks");
    return tables[(int)isa];
}

const Kernels & kernels() {
    static const Kernels & active = kernels(isa_active());
    return active;
}

}  // namespace sy
