// Qwen2 / Qwen2.5: the llama block with biases on the q, k and v projections and NeoX-style rotary
// embeddings (pairs (i, i + n_rot/2)).
#include "engine/model.h"

namespace sy::engine {

extern const ArchTraits kArchQwen2 = {
    .name = "qwen2",
    .rope_mode = RopeMode::RopeMode_neox,
    .qkv_bias = true,
    .default_rope_base = 1000000.0f,
    .default_rms_eps = 1e-6f,
};

}  // namespace sy::engine
