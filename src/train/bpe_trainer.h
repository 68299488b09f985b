// Byte-level BPE training for models trained from scratch. The result is an ordinary GGUF vocabulary
// (tokenizer.ggml.model = "gpt2" with a supported pre-tokenizer), so our engine and llama.cpp load it:
//   ids 0..255      the 256 byte tokens in GPT-2 byte-to-unicode form (byte fallback: any text encodes)
//   ids 256..       one token per learned merge, most frequent pair first
//   last ids        special tokens: <|endoftext|>, <|im_start|>, <|im_end|> (control) and the tool-call
//                   markers <tool_call>, </tool_call> (user-defined: always matched as one token)
// Merges are learned from the pre-tokenized text (the same regex split the tokenizer applies), with special
// token strings cut out first so no merge spans them.
#pragma once

#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace sy::train {

struct BpeTrainParams {
    int32_t vocab_size = 4096;          // total, including bytes and special tokens
    std::string pre = "qwen2";          // pre-tokenizer family (tokenizer.ggml.pre)
    int64_t min_pair_count = 2;         // stop merging when the best pair is rarer
    std::vector<std::string> control = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
    std::vector<std::string> user_defined = {"<tool_call>", "</tool_call>"};
};

// Deterministic: ties between equally frequent pairs go to the smaller (left id, right id).
tok::Vocab train_bpe(const std::vector<std::string> & texts, const BpeTrainParams & params);

}  // namespace sy::train
