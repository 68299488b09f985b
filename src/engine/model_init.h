// Random-weight models of real shapes (tests and benchmarks: no pretrained weights can be downloaded
// here). The file carries complete llama.cpp-compatible metadata and a tokenizer (synthetic BPE, or the
// vocabulary of another GGUF file), so any GGUF reader — ours or llama.cpp's — loads it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/model.h"

namespace sy::engine {

struct ShapePreset {
    const char * name;
    int32_t n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab, n_ctx;
    float rope_base, rms_eps;
    bool tied;
};
const ShapePreset * find_shape_preset(const std::string & name);
std::string shape_preset_names();  // "tiny, smollm2-135m, qwen2.5-0.5b"

struct InitParams {
    std::string arch = "llama";
    std::string preset = "tiny";
    std::string dtype = "f16";              // a plain type (f32, q8_0, ...) or a recipe (q4_k_m, ...)
    std::optional<std::string> vocab_from;  // copy the tokenizer of this GGUF (n_vocab follows it)
    uint64_t seed = 0;
    int32_t n_threads = 2;
};

// Writes the model to `out_path`; returns a one-line summary.
std::string init_random_model(const InitParams & params, const std::string & out_path);

}  // namespace sy::engine
