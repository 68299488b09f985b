// An inference context: one model, a KV cache with n_seq sequence slots, a thread pool and scratch
// buffers. decode() runs one forward pass over a batch of tokens that may belong to several sequences
// (prompt chunks and single decode steps mixed), which is what continuous batching needs.
//
// Not thread-safe: one thread owns a Context (the gateway gives each model one engine thread).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/lora.h"
#include "engine/model.h"

namespace sy::engine {

struct ContextParams {
    int32_t n_ctx = 2048;     // positions per sequence slot
    int32_t n_seq = 1;        // sequence slots
    int32_t n_batch = 512;    // max tokens per forward pass (larger batches are split)
    int32_t n_threads = 2;
};

// One token of a batch. Positions of a sequence must be appended in order without gaps
// (pos == current length of that sequence) — the cache is contiguous per slot.
struct BatchToken {
    int32_t token = 0;
    int32_t pos = 0;
    int32_t seq = 0;
    bool want_logits = false;
};

class Context {
public:
    Context(const Model & model, const ContextParams & params);
    ~Context();

    const Model & model() const { return model_; }
    const ContextParams & params() const { return params_; }
    ThreadPool & pool() { return *pool_; }

    // Runs the batch; returns logits [n_want][n_vocab], rows in batch order of tokens with want_logits.
    // Throws sy::Error(ErrorKind_limit) on context overflow, invalid_argument on a bad seq/pos/token.
    const std::vector<float> & decode(const std::vector<BatchToken> & batch);

    int32_t seq_len(int32_t seq) const;     // tokens cached for this slot
    void seq_clear(int32_t seq);            // forget a sequence
    void seq_truncate(int32_t seq, int32_t n);  // keep the first n positions (prefix reuse)
    // Copies the first n positions of src into dst (prefix cache: shared system prompt + tools).
    void seq_copy_prefix(int32_t src, int32_t dst, int32_t n);

    // Adapters for every sequence.
    void set_loras(std::vector<ActiveLora> loras) { loras_ = std::move(loras); }
    const std::vector<ActiveLora> & loras() const { return loras_; }
    // Adapters for one sequence slot only, on top of set_loras(): a batch may mix sequences with different
    // adapters (the base product is shared, each delta is applied to its own sequence's tokens).
    void set_seq_loras(int32_t seq, std::vector<ActiveLora> loras);
    const std::vector<ActiveLora> & seq_loras(int32_t seq) const { return seq_loras_.at(seq); }

    size_t kv_bytes() const;

private:
    void forward_chunk(const BatchToken * toks, int64_t n, std::vector<float> & logits_out);
    void collect_chunk_loras(const BatchToken * toks, int64_t n);

    const Model & model_;
    ContextParams params_;
    std::unique_ptr<ThreadPool> pool_;
    std::vector<ActiveLora> loras_;
    std::vector<std::vector<ActiveLora>> seq_loras_;  // [n_seq]
    std::vector<LoraRows> chunk_loras_;               // loras_ + seq_loras_ by token rows, per chunk

    // KV cache, f16: k_[il] is [n_seq][n_ctx][n_head_kv * head_dim] (same for v_).
    std::vector<std::vector<uint16_t>> k_, v_;
    std::vector<int32_t> seq_len_;

    // Scratch, sized for n_batch tokens; gate_/up_ hold one FFN slice of at most kFfnSlice tokens.
    std::vector<float> x_, h_, q_, k_cur_, v_cur_, gate_, up_, lora_tmp_, attn_scratch_;
    std::vector<float> rope_cos_, rope_sin_;  // [n_batch][n_rot/2]
    std::vector<float> logits_, logits_rows_;
};

}  // namespace sy::engine
