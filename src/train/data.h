// Training data: examples (token ids + a per-token loss mask), their packing into batches, and a simple
// reader of OpenAI chat fine-tuning JSONL rendered as ChatML with loss on assistant tokens only.
//
// The chat rendering here is deliberately small and isolated (render_chatml): the shared chat-format module
// will replace it, producing the same TrainExample.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "train/model.h"

namespace sy::train {

struct TrainExample {
    std::vector<int32_t> tokens;     // [L]
    std::vector<uint8_t> loss_mask;  // [L] 1 = the model is trained to produce this token
};

// Packs examples (in `order`) end to end into batches of at most batch_tokens positions, without splitting
// an example (one longer than batch_tokens is truncated to batch_tokens + 1 tokens). An example of L tokens
// gives L − 1 positions: tokens[0..L-2] predict tokens[1..L-1] where loss_mask[1..L-1] is set.
std::vector<Batch> pack_batches(const std::vector<TrainExample> & examples, const std::vector<size_t> & order,
                                int64_t batch_tokens);

// A ChatML conversation rendered to text with the byte spans the model is trained on.
struct RenderedChat {
    std::string text;
    std::vector<std::pair<size_t, size_t>> train_spans;  // [begin, end) byte ranges (assistant turns)
};

// One JSONL line {"messages": [...], "tools": [...]} -> ChatML:
//   <|im_start|>system\n...<|im_end|>\n   (tools, when present, listed in the system turn as JSON lines)
//   <|im_start|>user\n...<|im_end|>\n
//   <|im_start|>assistant\n<tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call><|im_end|>\n
//   <|im_start|>tool\n...<|im_end|>\n
// Trained spans: each assistant turn's content and its closing <|im_end|>. Throws sy::Error on bad JSON.
RenderedChat render_chatml(const std::string & jsonl_line);

// Tokenizes a rendered chat (special tokens parsed) and sets loss_mask on tokens whose bytes start inside a
// trained span.
TrainExample tokenize_chat(const RenderedChat & chat, const tok::Tokenizer & tk);

// Reads a JSONL file of chats (blank lines skipped). Errors name the file and line.
std::vector<RenderedChat> read_chat_jsonl(const std::string & path);

// The special tokens the ChatML rendering needs (for vocabularies trained from scratch).
std::vector<std::string> chatml_special_tokens();  // <|endoftext|>, <|im_start|>, <|im_end|>, <tool_call>, </tool_call>

// Deterministic split: every example whose index hash (seed) falls in the last `fraction` goes to valid.
void split_train_valid(size_t n, double fraction, uint64_t seed, std::vector<size_t> & train, std::vector<size_t> & valid);

}  // namespace sy::train
