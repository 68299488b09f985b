// PEFT adapters (adapter_config.json + adapter_model.safetensors) to and from llama.cpp GGUF adapters, so
// adapters move between Switchyard and Python trainers (PEFT, Unsloth, Axolotl).
//
// Names: GGUF "blk.N.attn_q.weight.lora_a" <-> PEFT "base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight"
// (k, v, o -> self_attn.{k,v,o}_proj; gate, up, down -> mlp.{gate,up,down}_proj). Shapes: lora_A [r, in],
// lora_B [out, r], the same row-major data as GGUF lora_a ne [in, r] and lora_b ne [r, out].
// For the llama architecture the GGUF q/k weights have their rows permuted relative to Hugging Face (the
// converters interleave each head's two rotary halves); lora_B rows of q and k are permuted the same way on
// import and back on export. qwen2 (NeoX rotary) needs no permutation.
#pragma once

#include <string>

namespace sy::train {

// Writes DIR/adapter_config.json and DIR/adapter_model.safetensors (DIR is created). Returns a summary.
std::string export_peft(const std::string & adapter_gguf, const std::string & base_gguf, const std::string & dir);

// Reads a PEFT directory and writes a GGUF adapter for `base_gguf`. Returns a summary.
std::string import_peft(const std::string & dir, const std::string & base_gguf, const std::string & out_gguf);

}  // namespace sy::train
