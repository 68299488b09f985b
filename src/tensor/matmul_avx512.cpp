// avx512 matmul kernels (placeholder: uses the scalar table until the vector kernels land).
#include "tensor/kernels_internal.h"
#include "tensor/matmul_internal.h"

namespace sy::detail {

void register_matmul_avx512(Kernels &) {}

}  // namespace sy::detail
