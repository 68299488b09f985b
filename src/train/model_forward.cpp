// The training forward and backward passes of TrainModel over one packed batch. The graph is the engine's
// (engine/context.cpp):
//   x_0 = embed(tokens)
//   per layer l: h1 = rmsnorm(x_l)·attn_norm; q,k,v = h1·W{q,k,v}ᵀ (+b) (+LoRA); rope(q,k)
//                att = attention within segments; x_mid = x_l + att·Woᵀ
//                h2 = rmsnorm(x_mid)·ffn_norm; x_{l+1} = x_mid + (silu(h2·Wgᵀ) ⊙ h2·Wuᵀ)·Wdᵀ
//   logits = rmsnorm(x_L[rows])·output_norm · Woutᵀ, rows = the positions whose prediction is trained
// Activations saved by the forward live in Acts (per layer); the backward walks the layers in reverse.
// Buffers: every activation and activation gradient is overwritten per batch (gradient buffers that
// collect several contributions are zeroed and then accumulated); Param::g accumulates (+=) across batches
// until the optimizer's zero_grad.
#include <cstring>

#include "train/model.h"

namespace sy::train {

struct TrainModel::Acts {
    struct Layer {
        std::vector<float> x_in, rstd1, h1, q, k, v, probs, att, x_mid, rstd2, h2, gate, up, act;
        std::array<std::vector<float>, engine::kProjCount> lora_h;
    };
    std::vector<Layer> layers;
    std::vector<float> x_out, xr, rstd_f, hf, logits, row_w, tmp;
    std::vector<int32_t> rows, row_tgt;
    std::vector<float> cos, sin;
    std::vector<float> dx, dh, dq, dk, dv, datt, dgate, dup, dact, dhf, dxr;
    std::vector<float> scratch, scratch2;
};

namespace {

void zeroed(std::vector<float> & v, size_t n) {
    v.resize(n);
    std::memset(v.data(), 0, n * sizeof(float));
}

uint64_t mix(uint64_t a, uint64_t b) {
    uint64_t z = a ^ (b + 0x9E3779B97F4A7C15ull + (a << 6) + (a >> 2));
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    return z ^ (z >> 31);
}

}  // namespace

TrainModel::TrainModel() = default;
TrainModel::~TrainModel() = default;

double TrainModel::forward_backward(const Batch & b, float loss_weight, uint64_t dropout_seed) {
    return run(b, true, false, loss_weight, dropout_seed, nullptr);
}

double TrainModel::forward_loss(const Batch & b) { return run(b, false, false, 1.0f, 0, nullptr); }

std::vector<float> TrainModel::forward_logits(const Batch & b) {
    std::vector<float> out;
    run(b, false, true, 1.0f, 0, &out);
    return out;
}

double TrainModel::run(const Batch & b, bool backward, bool all_logits, float loss_weight, uint64_t dropout_seed,
                       std::vector<float> * logits_out) {
    const engine::HParams & hp = hp_;
    const int64_t n = (int64_t)b.tokens.size();
    SY_ASSERT(b.pos.size() == (size_t)n && b.targets.size() == (size_t)n && b.loss.size() == (size_t)n);
    if (!acts_) acts_ = std::make_unique<Acts>();
    Acts & A = *acts_;
    A.layers.resize(hp.n_layer);
    const int64_t d = hp.n_embd, hd = hp.head_dim, qd = (int64_t)hp.n_head * hd, kvd = (int64_t)hp.n_head_kv * hd;
    const int64_t ff = hp.n_ff, V = hp.n_vocab, half = hp.n_rot / 2;
    const AttnShape shape{hp.n_head, hp.n_head_kv, hp.head_dim};
    const RopeMode rope_mode = traits_->rope_mode;
    const bool use_dropout = backward && lora_cfg_.rank > 0 && lora_cfg_.dropout > 0.0f;
    const bool use_packs = pack_frozen_ && frozen_matmul() == FrozenMatmul::FrozenMatmul_bf16 && gemm_bf16_native();
    if (use_packs) ensure_packed();

    auto lin = [&](const MatRef & m, const VecRef * bias, const TrainLayer * L, int pi, int il) {
        LinearParams<float> p;
        p.n_in = m.view.n_in;
        p.n_out = m.view.n_out;
        if (m.param) p.w = m.param->w.data();
        else p.frozen = &m.view;  // an f32 base is used in place; bf16 products when frozen_matmul() says so
        if (!m.param && use_packs) p.packed = m.packed.get();
        p.bias = bias ? bias->data : nullptr;
        if (L && L->lora_a[pi]) {
            p.rank = lora_cfg_.rank;
            p.a = L->lora_a[pi]->w.data();
            p.b = L->lora_b[pi]->w.data();
            p.scale = lora_scale();
            if (use_dropout) {
                p.dropout = lora_cfg_.dropout;
                p.dropout_seed = mix(dropout_seed, (uint64_t)il * engine::kProjCount + pi);
            }
        }
        return p;
    };
    auto grads = [&](const MatRef & m, const VecRef * bias, const TrainLayer * L, int pi) {
        LinearGrads<float> g;
        if (m.param) g.dw = m.param->g.data();
        if (bias && bias->param) g.dbias = bias->param->g.data();
        if (L && L->lora_a[pi]) {
            g.da = L->lora_a[pi]->g.data();
            g.db = L->lora_b[pi]->g.data();
        }
        return g;
    };
    const VecRef * no_bias = nullptr;

    // Embedding and rotary tables.
    A.layers[0].x_in.resize((size_t)(n * d));
    if (token_embd_.param) embedding_forward(token_embd_.param->w.data(), b.tokens.data(), n, d, A.layers[0].x_in.data());
    else embedding_forward_view(token_embd_.view, b.tokens.data(), n, A.layers[0].x_in.data());
    A.cos.resize((size_t)(n * half));
    A.sin.resize((size_t)(n * half));
    rope_tables(b.pos.data(), n, hp.n_rot, hp.rope_base, hp.rope_freq_scale, rope_freqs_.empty() ? nullptr : rope_freqs_.data(),
                A.cos.data(), A.sin.data());

    for (int il = 0; il < hp.n_layer; ++il) {
        const TrainLayer & L = layers_[il];
        Acts::Layer & S = A.layers[il];
        S.rstd1.resize(n);
        S.h1.resize((size_t)(n * d));
        rmsnorm_forward(S.x_in.data(), L.attn_norm.data, n, d, hp.rms_eps, S.h1.data(), S.rstd1.data());
        S.q.resize((size_t)(n * qd));
        S.k.resize((size_t)(n * kvd));
        S.v.resize((size_t)(n * kvd));
        for (int pi = 0; pi < engine::kProjCount; ++pi) S.lora_h[pi].resize(L.lora_a[pi] ? (size_t)(n * lora_cfg_.rank) : 0);
        const VecRef * biases[3] = {L.bq.data ? &L.bq : nullptr, L.bk.data ? &L.bk : nullptr, L.bv.data ? &L.bv : nullptr};
        float * qkv[3] = {S.q.data(), S.k.data(), S.v.data()};
        for (int pi = 0; pi < 3; ++pi)
            linear_forward(lin(L.mats[pi], biases[pi], &L, pi, il), S.h1.data(), n, qkv[pi], S.lora_h[pi].data(), A.scratch);
        rope_forward(S.q.data(), n, hp.n_head, (int)hd, hp.n_rot, A.cos.data(), A.sin.data(), rope_mode);
        rope_forward(S.k.data(), n, hp.n_head_kv, (int)hd, hp.n_rot, A.cos.data(), A.sin.data(), rope_mode);
        S.att.resize((size_t)(n * qd));
        S.probs.resize((size_t)attention_probs_size(b.segs, hp.n_head));
        attention_forward(S.q.data(), S.k.data(), S.v.data(), b.segs, shape, S.att.data(), S.probs.data());
        S.x_mid.resize((size_t)(n * d));
        linear_forward(lin(L.mats[3], no_bias, &L, 3, il), S.att.data(), n, S.x_mid.data(), S.lora_h[3].data(), A.scratch);
        for (int64_t i = 0; i < n * d; ++i) S.x_mid[i] += S.x_in[i];
        S.rstd2.resize(n);
        S.h2.resize((size_t)(n * d));
        rmsnorm_forward(S.x_mid.data(), L.ffn_norm.data, n, d, hp.rms_eps, S.h2.data(), S.rstd2.data());
        S.gate.resize((size_t)(n * ff));
        S.up.resize((size_t)(n * ff));
        S.act.resize((size_t)(n * ff));
        linear_forward(lin(L.mats[4], no_bias, &L, 4, il), S.h2.data(), n, S.gate.data(), S.lora_h[4].data(), A.scratch);
        linear_forward(lin(L.mats[5], no_bias, &L, 5, il), S.h2.data(), n, S.up.data(), S.lora_h[5].data(), A.scratch);
        swiglu_forward(S.gate.data(), S.up.data(), n * ff, S.act.data());
        std::vector<float> & x_next = il + 1 < hp.n_layer ? A.layers[il + 1].x_in : A.x_out;
        x_next.resize((size_t)(n * d));
        linear_forward(lin(L.mats[6], no_bias, &L, 6, il), S.act.data(), n, x_next.data(), S.lora_h[6].data(), A.scratch);
        for (int64_t i = 0; i < n * d; ++i) x_next[i] += S.x_mid[i];
    }

    // Output head over the trained rows (or every row).
    A.rows.clear();
    A.row_tgt.clear();
    for (int64_t t = 0; t < n; ++t)
        if (all_logits || b.loss[t]) {
            A.rows.push_back((int32_t)t);
            A.row_tgt.push_back(b.loss[t] ? b.targets[t] : 0);
        }
    const int64_t m = (int64_t)A.rows.size();
    A.xr.resize((size_t)(m * d));
    for (int64_t r = 0; r < m; ++r) std::memcpy(&A.xr[r * d], &A.x_out[A.rows[r] * d], sizeof(float) * d);
    A.rstd_f.resize(m);
    A.hf.resize((size_t)(m * d));
    rmsnorm_forward(A.xr.data(), output_norm_.data, m, d, hp.rms_eps, A.hf.data(), A.rstd_f.data());
    A.logits.resize((size_t)(m * V));
    linear_forward(lin(output_, no_bias, nullptr, 0, 0), A.hf.data(), m, A.logits.data(), (float *)nullptr, A.scratch);
    A.row_w.resize(m);
    for (int64_t r = 0; r < m; ++r) A.row_w[r] = b.loss[A.rows[r]] ? loss_weight : 0.0f;
    if (!backward) {
        if (logits_out) *logits_out = A.logits;
        return cross_entropy_forward(A.logits.data(), A.row_tgt.data(), A.row_w.data(), m, V);
    }

    const double loss = cross_entropy_backward(A.logits.data(), A.row_tgt.data(), A.row_w.data(), m, V, A.logits.data());
    zeroed(A.dhf, (size_t)(m * d));
    linear_backward(lin(output_, no_bias, nullptr, 0, 0), A.hf.data(), (const float *)nullptr, A.logits.data(), m, A.dhf.data(),
                    grads(output_, no_bias, nullptr, 0), A.scratch);
    zeroed(A.dxr, (size_t)(m * d));
    rmsnorm_backward(A.xr.data(), output_norm_.data, A.rstd_f.data(), A.dhf.data(), m, d, A.dxr.data(),
                     output_norm_.param ? output_norm_.param->g.data() : nullptr);
    zeroed(A.dx, (size_t)(n * d));
    for (int64_t r = 0; r < m; ++r) std::memcpy(&A.dx[A.rows[r] * d], &A.dxr[r * d], sizeof(float) * d);

    for (int il = hp.n_layer - 1; il >= 0; --il) {
        const TrainLayer & L = layers_[il];
        Acts::Layer & S = A.layers[il];
        zeroed(A.dact, (size_t)(n * ff));
        linear_backward(lin(L.mats[6], no_bias, &L, 6, il), S.act.data(), S.lora_h[6].data(), A.dx.data(), n,
                        A.dact.data(), grads(L.mats[6], no_bias, &L, 6), A.scratch);
        A.dgate.resize((size_t)(n * ff));
        A.dup.resize((size_t)(n * ff));
        swiglu_backward(S.gate.data(), S.up.data(), A.dact.data(), n * ff, A.dgate.data(), A.dup.data());
        zeroed(A.dh, (size_t)(n * d));
        linear_backward(lin(L.mats[4], no_bias, &L, 4, il), S.h2.data(), S.lora_h[4].data(), A.dgate.data(), n,
                        A.dh.data(), grads(L.mats[4], no_bias, &L, 4), A.scratch);
        linear_backward(lin(L.mats[5], no_bias, &L, 5, il), S.h2.data(), S.lora_h[5].data(), A.dup.data(), n,
                        A.dh.data(), grads(L.mats[5], no_bias, &L, 5), A.scratch);
        rmsnorm_backward(S.x_mid.data(), L.ffn_norm.data, S.rstd2.data(), A.dh.data(), n, d, A.dx.data(),
                         L.ffn_norm.param ? L.ffn_norm.param->g.data() : nullptr);
        zeroed(A.datt, (size_t)(n * qd));
        linear_backward(lin(L.mats[3], no_bias, &L, 3, il), S.att.data(), S.lora_h[3].data(), A.dx.data(), n,
                        A.datt.data(), grads(L.mats[3], no_bias, &L, 3), A.scratch);
        A.dq.resize((size_t)(n * qd));
        A.dk.resize((size_t)(n * kvd));
        A.dv.resize((size_t)(n * kvd));
        attention_backward(S.q.data(), S.k.data(), S.v.data(), S.probs.data(), A.datt.data(), b.segs, shape, A.dq.data(),
                           A.dk.data(), A.dv.data(), A.scratch2);
        rope_backward(A.dq.data(), n, hp.n_head, (int)hd, hp.n_rot, A.cos.data(), A.sin.data(), rope_mode);
        rope_backward(A.dk.data(), n, hp.n_head_kv, (int)hd, hp.n_rot, A.cos.data(), A.sin.data(), rope_mode);
        zeroed(A.dh, (size_t)(n * d));
        const VecRef * biases[3] = {L.bq.data ? &L.bq : nullptr, L.bk.data ? &L.bk : nullptr, L.bv.data ? &L.bv : nullptr};
        const float * dqkv[3] = {A.dq.data(), A.dk.data(), A.dv.data()};
        for (int pi = 0; pi < 3; ++pi)
            linear_backward(lin(L.mats[pi], biases[pi], &L, pi, il), S.h1.data(), S.lora_h[pi].data(), dqkv[pi], n,
                            A.dh.data(), grads(L.mats[pi], biases[pi], &L, pi), A.scratch);
        rmsnorm_backward(S.x_in.data(), L.attn_norm.data, S.rstd1.data(), A.dh.data(), n, d, A.dx.data(),
                         L.attn_norm.param ? L.attn_norm.param->g.data() : nullptr);
    }
    if (token_embd_.param) embedding_backward(b.tokens.data(), n, d, A.dx.data(), token_embd_.param->g.data());
    return loss;
}

}  // namespace sy::train
