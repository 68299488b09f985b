// The forward pass shared by every architecture (traits in models/*.cpp decide the differences):
//
//   x = embed(tokens)                                             [n][n_embd]
//   per layer: h = rmsnorm(x)·attn_norm; q,k,v = h·W{q,k,v}ᵀ (+b); rope(q,k); cache k,v (f16)
//              att = softmax(q·Kᵀ/√d)·V per (token, kv-head group); x += att·Woᵀ
//              h = rmsnorm(x)·ffn_norm; x += (silu(h·Wgᵀ) ⊙ h·Wuᵀ)·Wdᵀ
//   logits = rmsnorm(x[wanted])·output_norm · Woutᵀ
#include "engine/context.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "tensor/matmul_pack.h"
#include "tensor/quant.h"

namespace sy::engine {
namespace {

// The FFN (gate, up, SwiGLU, down) runs over a chunk's tokens in slices of at most this many, so its
// [tokens][n_ff] scratch is sized for a slice, not for n_batch (for a 0.5B model 2 × 512 × 4864 floats =
// 19 MiB, against 4.75 MiB). A slice of 128 tokens is still ten or more register tiles per weight row
// block, and a layer's FFN weights re-read by the next slice mostly come from the last-level cache.
constexpr int64_t kFfnSlice = 128;

// The adapters of tokens [t0, t1) of a chunk, with rows renumbered from t0.
void slice_loras(const std::vector<LoraRows> & all, int64_t t0, int64_t t1, std::vector<LoraRows> & out) {
    out.clear();
    for (const LoraRows & lr : all) {
        if (lr.all_rows) {
            out.push_back(lr);
            continue;
        }
        LoraRows s{lr.lora, false, {}};
        for (int32_t r : lr.rows)
            if (r >= t0 && r < t1) s.rows.push_back((int32_t)(r - t0));
        if (!s.rows.empty()) out.push_back(std::move(s));
    }
}

}  // namespace

Context::Context(const Model & model, const ContextParams & params) : model_(model), params_(params) {
    const HParams & hp = model.hparams();
    if (params_.n_ctx <= 0 || params_.n_seq <= 0 || params_.n_batch <= 0 || params_.n_threads <= 0)
        throw Error(ErrorKind::ErrorKind_invalid_argument, "context: n_ctx, n_seq, n_batch and n_threads must be > 0");
    pool_ = std::make_unique<ThreadPool>(params_.n_threads);
    const size_t kv_dim = (size_t)hp.n_head_kv * hp.head_dim;
    const size_t per_layer = (size_t)params_.n_seq * params_.n_ctx * kv_dim;
    k_.assign(hp.n_layer, std::vector<uint16_t>(per_layer));
    v_.assign(hp.n_layer, std::vector<uint16_t>(per_layer));
    seq_len_.assign(params_.n_seq, 0);
    seq_loras_.assign(params_.n_seq, {});

    const size_t nb = (size_t)params_.n_batch, q_dim = (size_t)hp.n_head * hp.head_dim;
    x_.resize(nb * hp.n_embd);
    h_.resize(nb * std::max<size_t>(hp.n_embd, q_dim));
    // q_ also takes the attention output projection ([n][n_embd]) once attention has read the queries;
    // attention writes into h_ (free once q, k, v are computed), so no separate attention buffer is needed.
    q_.resize(nb * std::max<size_t>(q_dim, hp.n_embd));
    k_cur_.resize(nb * kv_dim);
    v_cur_.resize(nb * kv_dim);
    const size_t ffn_tokens = std::min<size_t>(nb, kFfnSlice);
    gate_.resize(ffn_tokens * hp.n_ff);
    up_.resize(ffn_tokens * hp.n_ff);
    attn_scratch_.resize((size_t)params_.n_threads * params_.n_ctx);
    rope_cos_.resize(nb * hp.n_rot / 2);
    rope_sin_.resize(nb * hp.n_rot / 2);
}

Context::~Context() = default;

size_t Context::kv_bytes() const {
    size_t b = 0;
    for (const auto & k : k_) b += k.size() * sizeof(uint16_t);
    return 2 * b;
}

int32_t Context::seq_len(int32_t seq) const { return seq_len_.at(seq); }
void Context::seq_clear(int32_t seq) { seq_len_.at(seq) = 0; }

void Context::seq_truncate(int32_t seq, int32_t n) {
    if (n < 0 || n > seq_len_.at(seq)) throw Error(ErrorKind::ErrorKind_invalid_argument, "seq_truncate: bad length");
    seq_len_[seq] = n;
}

void Context::seq_copy_prefix(int32_t src, int32_t dst, int32_t n) {
    if (n < 0 || n > seq_len_.at(src) || dst < 0 || dst >= params_.n_seq)
        throw Error(ErrorKind::ErrorKind_invalid_argument, "seq_copy_prefix: bad arguments");
    if (src == dst) { seq_len_[dst] = n; return; }
    const HParams & hp = model_.hparams();
    const size_t kv_dim = (size_t)hp.n_head_kv * hp.head_dim, slot = (size_t)params_.n_ctx * kv_dim;
    for (int il = 0; il < hp.n_layer; ++il) {
        std::copy_n(k_[il].data() + src * slot, (size_t)n * kv_dim, k_[il].data() + dst * slot);
        std::copy_n(v_[il].data() + src * slot, (size_t)n * kv_dim, v_[il].data() + dst * slot);
    }
    seq_len_[dst] = n;
}

void Context::set_seq_loras(int32_t seq, std::vector<ActiveLora> loras) {
    if (seq < 0 || seq >= params_.n_seq)
        throw Error(ErrorKind::ErrorKind_invalid_argument, "set_seq_loras: sequence " + std::to_string(seq) + " out of range");
    seq_loras_[seq] = std::move(loras);
}

// The adapters of one chunk: every context-wide adapter on all rows, then each distinct (adapter, scale)
// of the chunk's sequences on the rows of the sequences that use it.
void Context::collect_chunk_loras(const BatchToken * toks, int64_t n) {
    chunk_loras_.clear();
    for (const ActiveLora & al : loras_) chunk_loras_.push_back({al, true, {}});
    const size_t n_global = chunk_loras_.size();
    for (int64_t t = 0; t < n; ++t) {
        for (const ActiveLora & al : seq_loras_[toks[t].seq]) {
            LoraRows * slot = nullptr;
            for (size_t i = n_global; i < chunk_loras_.size() && !slot; ++i)
                if (chunk_loras_[i].lora.adapter == al.adapter && chunk_loras_[i].lora.scale == al.scale) slot = &chunk_loras_[i];
            if (!slot) slot = &chunk_loras_.emplace_back(LoraRows{al, false, {}});
            if (slot->rows.empty() || slot->rows.back() != (int32_t)t) slot->rows.push_back((int32_t)t);
        }
    }
}

const std::vector<float> & Context::decode(const std::vector<BatchToken> & batch) {
    const HParams & hp = model_.hparams();
    // Validate the whole batch before touching the cache.
    std::vector<int32_t> next = seq_len_;
    for (const BatchToken & t : batch) {
        if (t.seq < 0 || t.seq >= params_.n_seq)
            throw Error(ErrorKind::ErrorKind_invalid_argument, "decode: sequence " + std::to_string(t.seq) + " out of range");
        if (t.token < 0 || t.token >= hp.n_vocab)
            throw Error(ErrorKind::ErrorKind_invalid_argument, "decode: token id " + std::to_string(t.token) + " out of range");
        if (t.pos != next[t.seq])
            throw Error(ErrorKind::ErrorKind_invalid_argument, "decode: sequence " + std::to_string(t.seq) + " expects position " +
                                                                 std::to_string(next[t.seq]) + ", got " + std::to_string(t.pos));
        if (t.pos >= params_.n_ctx)
            throw Error(ErrorKind::ErrorKind_limit, "context overflow: sequence " + std::to_string(t.seq) + " is full (n_ctx = " +
                                                        std::to_string(params_.n_ctx) + ")");
        next[t.seq]++;
    }
    logits_.clear();
    for (size_t i = 0; i < batch.size(); i += (size_t)params_.n_batch) {
        const int64_t n = (int64_t)std::min(batch.size() - i, (size_t)params_.n_batch);
        forward_chunk(batch.data() + i, n, logits_);
    }
    return logits_;
}

void Context::forward_chunk(const BatchToken * toks, int64_t n, std::vector<float> & logits_out) {
    const HParams & hp = model_.hparams();
    const Kernels & K = kernels();
    ThreadPool & pool = *pool_;
    const int64_t n_embd = hp.n_embd, hd = hp.head_dim, q_dim = (int64_t)hp.n_head * hd;
    const int64_t kv_dim = (int64_t)hp.n_head_kv * hd, n_ff = hp.n_ff, half_rot = hp.n_rot / 2;
    const size_t slot = (size_t)params_.n_ctx * kv_dim;
    const RopeMode rope_mode = model_.traits().rope_mode;
    collect_chunk_loras(toks, n);
    const std::vector<LoraRows> & loras = chunk_loras_;
    std::vector<LoraRows> ffn_loras;  // loras of one FFN token slice (only with per-sequence adapters)

    // Embeddings and this chunk's rotary tables. A tied output head's packed copy holds the same rows:
    // reading them there leaves the mapping's dropped pages alone (each fault on them maps a whole
    // fault-around window of the file back into the resident set).
    const WeightView & emb = hp.tied_output && model_.output().packed ? model_.output() : model_.token_embd();
    pool.parallel_for(n, [&](int64_t b, int64_t e, int) {
        std::vector<uint8_t> row(emb.packed ? emb.row_stride : 0);
        for (int64_t t = b; t < e; ++t) {
            const uint8_t * src = emb.data + (size_t)toks[t].token * emb.row_stride;
            if (emb.packed) {
                matmul_unpack_row(emb, toks[t].token, row.data());
                src = row.data();
            }
            dequantize_row(emb.type, src, x_.data() + t * n_embd, n_embd);
            const auto & ff = model_.rope_freq_factors();
            for (int64_t i = 0; i < half_rot; ++i) {
                double theta = toks[t].pos * std::pow((double)hp.rope_base, -2.0 * i / hp.n_rot) * hp.rope_freq_scale;
                if (!ff.empty()) theta /= ff[i];
                rope_cos_[t * half_rot + i] = (float)std::cos(theta);
                rope_sin_[t * half_rot + i] = (float)std::sin(theta);
            }
        }
    });

    for (int il = 0; il < hp.n_layer; ++il) {
        const LayerWeights & L = model_.layers()[il];
        pool.parallel_for(n, [&](int64_t b, int64_t e, int) {
            for (int64_t t = b; t < e; ++t)
                K.rmsnorm(x_.data() + t * n_embd, L.attn_norm.data(), h_.data() + t * n_embd, n_embd, hp.rms_eps);
        });
        linear_forward(L.wq, L.bq.empty() ? nullptr : L.bq.data.data(), loras, il, Proj::Proj_q, h_.data(), n, q_.data(),
                       pool, lora_tmp_);
        linear_forward(L.wk, L.bk.empty() ? nullptr : L.bk.data.data(), loras, il, Proj::Proj_k, h_.data(), n,
                       k_cur_.data(), pool, lora_tmp_);
        linear_forward(L.wv, L.bv.empty() ? nullptr : L.bv.data.data(), loras, il, Proj::Proj_v, h_.data(), n,
                       v_cur_.data(), pool, lora_tmp_);

        // RoPE, then append k/v to each token's sequence slot.
        pool.parallel_for(n, [&](int64_t b, int64_t e, int) {
            for (int64_t t = b; t < e; ++t) {
                const float * c = rope_cos_.data() + t * half_rot;
                const float * s = rope_sin_.data() + t * half_rot;
                K.rope(q_.data() + t * q_dim, hp.n_head, (int)hd, hp.n_rot, c, s, rope_mode);
                K.rope(k_cur_.data() + t * kv_dim, hp.n_head_kv, (int)hd, hp.n_rot, c, s, rope_mode);
                const size_t off = toks[t].seq * slot + (size_t)toks[t].pos * kv_dim;
                K.f32_to_f16(k_cur_.data() + t * kv_dim, k_[il].data() + off, kv_dim);
                K.f32_to_f16(v_cur_.data() + t * kv_dim, v_[il].data() + off, kv_dim);
            }
        });

        // Attention: one work item per (token, kv head); each covers that kv head's group of query heads.
        const int group = hp.n_head / hp.n_head_kv;
        pool.parallel_for(n * hp.n_head_kv, [&](int64_t b, int64_t e, int ith) {
            float * scratch = attn_scratch_.data() + (size_t)ith * params_.n_ctx;
            for (int64_t it = b; it < e; ++it) {
                const int64_t t = it / hp.n_head_kv, g = it % hp.n_head_kv;
                AttentionParams p;
                p.n_head = group;
                p.n_head_kv = 1;
                p.head_dim = (int)hd;
                p.n_kv = toks[t].pos + 1;
                p.scale = 1.0f / std::sqrt((float)hd);
                p.k = k_[il].data() + toks[t].seq * slot + g * hd;
                p.v = v_[il].data() + toks[t].seq * slot + g * hd;
                p.k_stride = p.v_stride = (size_t)kv_dim;
                K.attention(q_.data() + t * q_dim + g * group * hd, p, h_.data() + t * q_dim + g * group * hd, scratch);
            }
        });

        linear_forward(L.wo, nullptr, loras, il, Proj::Proj_o, h_.data(), n, q_.data(), pool, lora_tmp_);
        pool.parallel_for(n, [&](int64_t b, int64_t e, int) {
            for (int64_t t = b; t < e; ++t) {
                K.add(q_.data() + t * n_embd, x_.data() + t * n_embd, n_embd);
                K.rmsnorm(x_.data() + t * n_embd, L.ffn_norm.data(), h_.data() + t * n_embd, n_embd, hp.rms_eps);
            }
        });
        for (int64_t t0 = 0; t0 < n; t0 += kFfnSlice) {
            const int64_t m = std::min(kFfnSlice, n - t0);
            const std::vector<LoraRows> * sl = &loras;
            if (m < n && !loras.empty()) {
                slice_loras(loras, t0, t0 + m, ffn_loras);
                sl = &ffn_loras;
            }
            float * hs = h_.data() + t0 * n_embd;
            linear_forward(L.w_gate, nullptr, *sl, il, Proj::Proj_gate, hs, m, gate_.data(), pool, lora_tmp_);
            linear_forward(L.w_up, nullptr, *sl, il, Proj::Proj_up, hs, m, up_.data(), pool, lora_tmp_);
            pool.parallel_for(m, [&](int64_t b, int64_t e, int) {
                for (int64_t t = b; t < e; ++t)
                    K.swiglu(gate_.data() + t * n_ff, up_.data() + t * n_ff, gate_.data() + t * n_ff, n_ff);
            });
            // The slice's rows of h_ are consumed: the down projection overwrites them.
            linear_forward(L.w_down, nullptr, *sl, il, Proj::Proj_down, gate_.data(), m, hs, pool, lora_tmp_);
        }
        pool.parallel_for(n, [&](int64_t b, int64_t e, int) {
            for (int64_t t = b; t < e; ++t) K.add(h_.data() + t * n_embd, x_.data() + t * n_embd, n_embd);
        });
    }

    for (int64_t t = 0; t < n; ++t) seq_len_[toks[t].seq] = toks[t].pos + 1;

    // Output head for the rows that want logits.
    int64_t n_out = 0;
    for (int64_t t = 0; t < n; ++t) {
        if (!toks[t].want_logits) continue;
        K.rmsnorm(x_.data() + t * n_embd, model_.output_norm().data(), h_.data() + n_out * n_embd, n_embd, hp.rms_eps);
        ++n_out;
    }
    if (n_out == 0) return;
    const size_t base = logits_out.size();
    logits_out.resize(base + (size_t)n_out * hp.n_vocab);
    K.matmul(model_.output(), h_.data(), n_out, logits_out.data() + base, hp.n_vocab, pool);
}

}  // namespace sy::engine
