// What training writes: a full model GGUF (same metadata and tensor names as engine/model_init.cpp, so our
// engine and llama.cpp load it) and LoRA adapters in llama.cpp's GGUF adapter format (engine/lora.h), plus
// merging an adapter into a base model.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "chat/chat_format.h"
#include "chat/intent_classifier.h"
#include "chat/slot_tagger.h"
#include "gguf/gguf.h"
#include "gguf/types.h"
#include "tokenizer/tokenizer.h"
#include "train/model.h"

namespace sy::train {

struct SaveModelParams {
    DType dtype = DType::DType_f32;  // matrices; norms and biases stay f32
    std::string name = "switchyard-trained";
    std::string chat_format;        // written as switchyard.chat_format when set (e.g. "compact")
    std::string tools_fingerprint;  // written as switchyard.tools_fingerprint when set (chat::tools_fingerprint)
    std::vector<std::string> copy_fields;  // written as switchyard.router.copy_fields when non-empty
    std::optional<chat::SlotTagger> tagger;  // written as switchyard.router.tagger.* when set
    std::optional<chat::IntentClassifier> intent;  // written as switchyard.router.intent.* when set
};

// Full model: every weight of `m` (trainable params, or the frozen base for a LoRA model is not allowed).
void save_full_model(const TrainModel & m, const tok::Vocab & vocab, const std::string & path,
                     const SaveModelParams & params = {});

// LoRA adapter: general.type=adapter, adapter.type=lora, adapter.lora.alpha, "<base>.lora_a" [n_in, r] and
// "<base>.lora_b" [r, n_out] in f32.
// tools_fingerprint, when set, is written as switchyard.tools_fingerprint; copy_fields, when non-empty, as
// switchyard.router.copy_fields.
void save_adapter(const TrainModel & m, const std::string & path, const std::string & tools_fingerprint = "",
                  const std::vector<std::string> & copy_fields = {});

// Copy fields (grammar/copy.h): the string arguments a trained router copies from the request's text. A
// field qualifies when at least `min_share` of the training values at that path are copy spans of their
// conversation's copy sources (ChatFormat::copy_sources of the conversation up to that assistant turn) and
// it occurs at least `min_count` times. Paths are "tool.prop", "tool.a.b", "tool.prop[]".
struct CopyFieldStat {
    std::string path;
    int64_t n = 0;         // string values seen at the path
    int64_t n_copied = 0;  // of them, copy spans of the sources
};
// Every candidate path of the tool sets in `chats` (in first-seen order), with its counts.
std::vector<CopyFieldStat> copy_field_stats(const std::vector<chat::Conversation> & chats, const chat::ChatFormat & format);
std::vector<std::string> select_copy_fields(const std::vector<CopyFieldStat> & stats, double min_share = 0.98,
                                            int64_t min_count = 20);
// "auto" (detected from `chats`), "none", or a comma-separated list of paths, each checked to be a candidate
// of the tool sets in `chats` (sy::Error naming the unknown path and listing the candidates).
std::vector<std::string> resolve_copy_fields(const std::string & spec, const std::vector<chat::Conversation> & chats,
                                             const chat::ChatFormat & format);
// Reading them back: grammar::read_copy_fields (grammar/copy.h).

// Writes BASE with ADAPTER merged in at `scale` (W' = W + scale·alpha/r · B·A), every merged tensor
// re-quantized to its original type; other tensors and all metadata are copied unchanged. Returns a
// one-line summary.
std::string merge_lora_file(const std::string & base_path, const std::string & adapter_path, float scale,
                            const std::string & out_path);

}  // namespace sy::train
