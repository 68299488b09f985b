// From-scratch model presets for the embedded router (llama graph, tied embeddings, ChatML vocabulary
// trained on the data). Sizes chosen by measured training speed on 2 cores (docs/training.md).
#pragma once

#include <string>

#include "engine/model.h"

namespace sy::train {

struct ModelPreset {
    const char * name;
    int32_t n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab, n_ctx;
    const char * what;
};

const ModelPreset * find_model_preset(const std::string & name);
std::string model_preset_names();  // "router-tiny, router-small, router-base"

// Hyper-parameters of a preset (arch llama, rope base 10000, rms eps 1e-5, tied output).
engine::HParams preset_hparams(const ModelPreset & p);

}  // namespace sy::train
