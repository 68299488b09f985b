// How the per-ISA kernel tables are assembled (private to src/tensor/). Each ISA's table starts as a copy
// of the scalar one and each registration overwrites the entries that path implements, so a new path can
// land op by op. ops_<isa>.cpp define register_ops_<isa>; matmul_<isa>.cpp define register_matmul_<isa>.
#pragma once

#include "tensor/ops.h"

namespace sy::detail {

void register_ops_scalar(Kernels & k);
void register_ops_avx2(Kernels & k);
void register_ops_avx512(Kernels & k);

void register_matmul_scalar(Kernels & k);
void register_matmul_avx2(Kernels & k);
void register_matmul_avx512(Kernels & k);

}  // namespace sy::detail
