// Training data: examples (token ids + a per-token loss mask), their packing into batches, and the reader
// of OpenAI chat fine-tuning JSONL. Rendering is the shared chat-format module's (chat/chat_format.h), so
// training sees exactly the text serving produces and decodes under the tool grammar.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chat/chat_format.h"
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

// One JSONL line {"messages": [...], "tools": [...]} parsed by the shared chat-format module. Throws
// sy::Error on bad JSON or a bad field (naming its JSON path).
chat::Conversation parse_chat_line(const std::string & jsonl_line);

// Reads a JSONL file of chats (blank lines skipped). Errors name the file and line.
std::vector<chat::Conversation> read_chat_jsonl(const std::string & path);

// Renders a conversation with the chat format (exactly the text the server feeds and the grammar makes the
// model emit) and tokenizes it: loss on assistant turns (content or tool calls, and their end-of-turn
// marker) only. BOS is prepended when the vocabulary asks for it, as serving does.
TrainExample tokenize_conversation(const chat::Conversation & conv, const chat::ChatFormat & format,
                                   const tok::Tokenizer & tk);

// The whole rendered text (BPE training input for from-scratch vocabularies).
std::string render_text(const chat::Conversation & conv, const chat::ChatFormat & format);

// The tool-set fingerprint (chat::tools_fingerprint) shared by every conversation that lists tools; empty
// when none lists tools or when they list different tool sets (then no single set was learned).
std::string common_tools_fingerprint(const std::vector<chat::Conversation> & convs);

// Deterministic split: every example whose index hash (seed) falls in the last `fraction` goes to valid.
void split_train_valid(size_t n, double fraction, uint64_t seed, std::vector<size_t> & train, std::vector<size_t> & valid);

}  // namespace sy::train
