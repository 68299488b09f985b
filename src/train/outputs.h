// What training writes: a full model GGUF (same metadata and tensor names as engine/model_init.cpp, so our
// engine and llama.cpp load it) and LoRA adapters in llama.cpp's GGUF adapter format (engine/lora.h), plus
// merging an adapter into a base model.
#pragma once

#include <optional>
#include <string>

#include "gguf/types.h"
#include "tokenizer/tokenizer.h"
#include "train/model.h"

namespace sy::train {

struct SaveModelParams {
    DType dtype = DType::DType_f32;  // matrices; norms and biases stay f32
    std::string name = "switchyard-trained";
    std::string chat_format;        // written as switchyard.chat_format when set (e.g. "compact")
    std::string tools_fingerprint;  // written as switchyard.tools_fingerprint when set (chat::tools_fingerprint)
};

// Full model: every weight of `m` (trainable params, or the frozen base for a LoRA model is not allowed).
void save_full_model(const TrainModel & m, const tok::Vocab & vocab, const std::string & path,
                     const SaveModelParams & params = {});

// LoRA adapter: general.type=adapter, adapter.type=lora, adapter.lora.alpha, "<base>.lora_a" [n_in, r] and
// "<base>.lora_b" [r, n_out] in f32.
// tools_fingerprint, when set, is written as switchyard.tools_fingerprint.
void save_adapter(const TrainModel & m, const std::string & path, const std::string & tools_fingerprint = "");

// Writes BASE with ADAPTER merged in at `scale` (W' = W + scale·alpha/r · B·A), every merged tensor
// re-quantized to its original type; other tensors and all metadata are copied unchanged. Returns a
// one-line summary.
std::string merge_lora_file(const std::string & base_path, const std::string & adapter_path, float scale,
                            const std::string & out_path);

}  // namespace sy::train
