// placeholder until the avx512 path lands
#include "tensor/kernels_internal.h"
namespace sy::detail {
void register_ops_avx512(Kernels & k) {}
}  // namespace sy::detail
