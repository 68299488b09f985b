// From-scratch model presets for the embedded router (llama graph, tied embeddings, ChatML vocabulary
// trained on the data). Sizes chosen by measured training speed on 2 cores (docs/training.md).
#pragma once

#include <string>
#include <vector>

#include "chat/chat_format.h"
#include "engine/model.h"

namespace sy::train {

// The training recipe a preset runs with unless the command line overrides a field (docs/training.md,
// "Presets"): measured on the task-agent data to meet the router target within the time budget.
struct PresetRecipe {
    int32_t epochs;
    float lr;
    int64_t batch_tokens;
    float weight_decay;
    int64_t eval_every;  // steps between validation passes (each costs about a third of a step per example)
};

struct ModelPreset {
    const char * name;
    int32_t n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab, n_ctx;
    PresetRecipe recipe;
    const char * what;
};

const ModelPreset * find_model_preset(const std::string & name);
std::string model_preset_names();  // "router-default, router-tiny, router-small, router-base"

// Hyper-parameters of a preset (arch llama, rope base 10000, rms eps 1e-5, tied output).
engine::HParams preset_hparams(const ModelPreset & p);

// From-scratch models speak the compact chat format (no system text or schemas in the prompt; the tool
// set is learned), recorded in their GGUF as switchyard.chat_format so serving renders the same way.
inline chat::ChatFormat preset_chat_format() { return chat::ChatFormat(chat::ChatFormatKind::ChatFormatKind_compact); }

// A byte-level BPE vocabulary of at most vocab_size tokens trained on the conversations as `format`
// renders them (bpe_trainer.h).
tok::Vocab train_preset_vocab(const std::vector<chat::Conversation> & convs, const chat::ChatFormat & format,
                              int32_t vocab_size);

}  // namespace sy::train
