// placeholder until the avx2 path lands
#include "tensor/kernels_internal.h"
namespace sy::detail {
void register_ops_avx2(Kernels & k) {}
}  // namespace sy::detail
