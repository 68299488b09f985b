// Llama family (Llama 2/3.x, SmolLM2, Mistral-style): RMSNorm, rotary embeddings on pairs (2i, 2i+1)
// (GGUF converters permute q/k so this matches the HF rotate-half layout), SwiGLU MLP, no biases.
#include "engine/model.h"

namespace sy::engine {

extern const ArchTraits kArchLlama = {
    .name = "llama",
    .rope_mode = RopeMode::RopeMode_normal,
    .qkv_bias = false,
    .default_rope_base = 10000.0f,
    .default_rms_eps = 1e-5f,
};

}  // namespace sy::engine
