// Building a TrainModel: from-scratch initialisation, full copies of a model, and LoRA over a frozen base.
#include "train/model.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "common/rng.h"
#include "tensor/quant.h"

namespace sy::train {
namespace {

// splitmix64 stream; normal() by Box-Muller. Identical on every platform.
struct Rng : SplitMix64 {
    double uniform01() { return ((double)(next() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }
    double normal() { return std::sqrt(-2.0 * std::log(uniform01())) * std::cos(6.283185307179586 * uniform01()); }
};

uint64_t hash_name(const std::string & s, uint64_t seed) {
    uint64_t h = 1469598103934665603ull ^ (seed * 0x9E3779B97F4A7C15ull);
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    return h;
}

MatRef mat_of(Param * p) {
    MatRef m;
    m.param = p;
    m.view.type = DType::DType_f32;
    m.view.n_in = p->ne[0];
    m.view.n_out = p->ne.size() > 1 ? p->ne[1] : 1;
    m.view.data = reinterpret_cast<const uint8_t *>(p->w.data());
    m.view.row_stride = sizeof(float) * (size_t)p->ne[0];
    return m;
}

VecRef vec_of(Param * p) { return VecRef{p->w.data(), p}; }

std::string layer_name(int il, const char * suffix) { return "blk." + std::to_string(il) + "." + suffix; }

}  // namespace

int64_t Batch::n_loss() const {
    int64_t n = 0;
    for (uint8_t l : loss) n += l != 0;
    return n;
}

std::array<bool, engine::kProjCount> parse_lora_targets(const std::string & list) {
    std::array<bool, engine::kProjCount> t{};
    std::stringstream ss(list);
    std::string item;
    bool any = false;
    while (std::getline(ss, item, ',')) {
        if (item.empty()) continue;
        bool found = false;
        for (int p = 0; p < engine::kProjCount; ++p)
            if (item == engine::proj_short_name((engine::Proj)p)) t[p] = found = true;
        if (!found)
            throw Error(ErrorKind::ErrorKind_invalid_argument,
                        "unknown LoRA target '" + item + "' (use a comma-separated subset of q,k,v,o,gate,up,down)");
        any = true;
    }
    if (!any) throw Error(ErrorKind::ErrorKind_invalid_argument, "--lora-targets is empty (use e.g. q,k,v,o)");
    return t;
}


Param * TrainModel::add_param(std::string name, std::vector<int64_t> ne, bool decay) {
    auto p = std::make_unique<Param>();
    p->name = std::move(name);
    p->ne = std::move(ne);
    int64_t n = 1;
    for (int64_t e : p->ne) n *= e;
    p->w.assign((size_t)n, 0.0f);
    p->g.assign((size_t)n, 0.0f);
    p->decay = decay;
    params_.push_back(std::move(p));
    return params_.back().get();
}

Param * TrainModel::find_param(const std::string & name) const {
    for (const auto & p : params_)
        if (p->name == name) return p.get();
    return nullptr;
}

int64_t TrainModel::n_trainable() const {
    int64_t n = 0;
    for (const auto & p : params_) n += p->size();
    return n;
}

void TrainModel::zero_grad() {
    for (const auto & p : params_) std::fill(p->g.begin(), p->g.end(), 0.0f);
}

static void proj_shape(const engine::HParams & hp, engine::Proj p, int64_t & n_in, int64_t & n_out) {
    const int64_t q_dim = (int64_t)hp.n_head * hp.head_dim, kv_dim = (int64_t)hp.n_head_kv * hp.head_dim;
    switch (p) {
        case engine::Proj::Proj_q: n_in = hp.n_embd; n_out = q_dim; return;
        case engine::Proj::Proj_k:
        case engine::Proj::Proj_v: n_in = hp.n_embd; n_out = kv_dim; return;
        case engine::Proj::Proj_o: n_in = q_dim; n_out = hp.n_embd; return;
        case engine::Proj::Proj_gate:
        case engine::Proj::Proj_up: n_in = hp.n_embd; n_out = hp.n_ff; return;
        case engine::Proj::Proj_down: n_in = hp.n_ff; n_out = hp.n_embd; return;
    }
}

std::unique_ptr<TrainModel> TrainModel::create(const engine::HParams & hp_in, uint64_t seed) {
    std::unique_ptr<TrainModel> m(new TrainModel());
    m->hp_ = hp_in;
    engine::HParams & hp = m->hp_;
    m->traits_ = engine::find_arch(hp.arch);
    if (!m->traits_) throw Error(ErrorKind::ErrorKind_invalid_argument, "unknown architecture '" + hp.arch + "'");
    if (hp.head_dim == 0) hp.head_dim = hp.n_embd / hp.n_head;
    if (hp.n_rot == 0) hp.n_rot = hp.head_dim;
    const int64_t q_dim = (int64_t)hp.n_head * hp.head_dim, kv_dim = (int64_t)hp.n_head_kv * hp.head_dim;
    // GPT-2 style init: N(0, 0.02), residual output projections scaled by 1/sqrt(2·n_layer); norms 1; biases 0.
    auto init = [&](Param * p, double std) {
        Rng r{hash_name(p->name, seed)};
        for (float & x : p->w) x = (float)(std * r.normal());
    };
    const double std_res = 0.02 / std::sqrt(2.0 * hp.n_layer);
    Param * emb = m->add_param("token_embd.weight", {hp.n_embd, hp.n_vocab}, true);
    init(emb, 0.02);
    m->token_embd_ = mat_of(emb);
    Param * onorm = m->add_param("output_norm.weight", {hp.n_embd}, false);
    std::fill(onorm->w.begin(), onorm->w.end(), 1.0f);
    m->output_norm_ = vec_of(onorm);
    if (hp.tied_output) {
        m->output_ = m->token_embd_;
    } else {
        Param * out = m->add_param("output.weight", {hp.n_embd, hp.n_vocab}, true);
        init(out, 0.02);
        m->output_ = mat_of(out);
    }
    m->layers_.resize(hp.n_layer);
    for (int il = 0; il < hp.n_layer; ++il) {
        TrainLayer & L = m->layers_[il];
        Param * an = m->add_param(layer_name(il, "attn_norm.weight"), {hp.n_embd}, false);
        std::fill(an->w.begin(), an->w.end(), 1.0f);
        L.attn_norm = vec_of(an);
        for (int pi = 0; pi < engine::kProjCount; ++pi) {
            const auto p = (engine::Proj)pi;
            int64_t n_in = 0, n_out = 0;
            proj_shape(hp, p, n_in, n_out);
            Param * w = m->add_param(layer_name(il, engine::proj_tensor_suffix(p)), {n_in, n_out}, true);
            init(w, (p == engine::Proj::Proj_o || p == engine::Proj::Proj_down) ? std_res : 0.02);
            L.mats[pi] = mat_of(w);
            if (pi == 2 && m->traits_->qkv_bias) {
                L.bq = vec_of(m->add_param(layer_name(il, "attn_q.bias"), {q_dim}, false));
                L.bk = vec_of(m->add_param(layer_name(il, "attn_k.bias"), {kv_dim}, false));
                L.bv = vec_of(m->add_param(layer_name(il, "attn_v.bias"), {kv_dim}, false));
            }
            if (pi == 3) {
                Param * fn = m->add_param(layer_name(il, "ffn_norm.weight"), {hp.n_embd}, false);
                std::fill(fn->w.begin(), fn->w.end(), 1.0f);
                L.ffn_norm = vec_of(fn);
            }
        }
    }
    return m;
}

void TrainModel::set_rope_factors(const engine::Model & base) { rope_freqs_ = base.rope_freq_factors(); }

std::unique_ptr<TrainModel> TrainModel::full(const engine::Model & base) {
    std::unique_ptr<TrainModel> m(new TrainModel());
    m->hp_ = base.hparams();
    m->traits_ = &base.traits();
    m->full_ = true;
    m->set_rope_factors(base);
    const engine::HParams & hp = m->hp_;
    auto copy_mat = [&](const std::string & name, const WeightView & v) {
        Param * p = m->add_param(name, {v.n_in, v.n_out}, true);
        for (int64_t r = 0; r < v.n_out; ++r)
            dequantize_row(v.type, v.data + (size_t)r * v.row_stride, p->w.data() + r * v.n_in, v.n_in);
        return mat_of(p);
    };
    auto copy_vec = [&](const std::string & name, const std::vector<float> & v) {
        Param * p = m->add_param(name, {(int64_t)v.size()}, false);
        p->w = v;
        return vec_of(p);
    };
    m->token_embd_ = copy_mat("token_embd.weight", base.token_embd());
    m->output_norm_ = copy_vec("output_norm.weight", base.output_norm());
    m->output_ = hp.tied_output ? m->token_embd_ : copy_mat("output.weight", base.output());
    m->layers_.resize(hp.n_layer);
    for (int il = 0; il < hp.n_layer; ++il) {
        const engine::LayerWeights & B = base.layers()[il];
        TrainLayer & L = m->layers_[il];
        L.attn_norm = copy_vec(layer_name(il, "attn_norm.weight"), B.attn_norm);
        L.ffn_norm = copy_vec(layer_name(il, "ffn_norm.weight"), B.ffn_norm);
        const WeightView * views[engine::kProjCount] = {&B.wq, &B.wk, &B.wv, &B.wo, &B.w_gate, &B.w_up, &B.w_down};
        for (int pi = 0; pi < engine::kProjCount; ++pi)
            L.mats[pi] = copy_mat(layer_name(il, engine::proj_tensor_suffix((engine::Proj)pi)), *views[pi]);
        if (!B.bq.empty()) {
            L.bq = copy_vec(layer_name(il, "attn_q.bias"), B.bq.data);
            L.bk = copy_vec(layer_name(il, "attn_k.bias"), B.bk.data);
            L.bv = copy_vec(layer_name(il, "attn_v.bias"), B.bv.data);
        }
    }
    return m;
}

std::unique_ptr<TrainModel> TrainModel::lora(const engine::Model & base, const LoraConfig & cfg, uint64_t seed) {
    if (cfg.rank <= 0 || cfg.rank > 4096)
        throw Error(ErrorKind::ErrorKind_invalid_argument, "LoRA rank must be in 1..4096, not " + std::to_string(cfg.rank));
    if (cfg.dropout < 0.0f || cfg.dropout >= 1.0f)
        throw Error(ErrorKind::ErrorKind_invalid_argument, "LoRA dropout must be in [0, 1)");
    std::unique_ptr<TrainModel> m(new TrainModel());
    m->hp_ = base.hparams();
    m->traits_ = &base.traits();
    m->base_ = &base;
    m->lora_cfg_ = cfg;
    m->set_rope_factors(base);
    const engine::HParams & hp = m->hp_;
    m->token_embd_.view = base.token_embd();
    m->output_.view = base.output();
    m->output_norm_.data = base.output_norm().data();
    m->layers_.resize(hp.n_layer);
    for (int il = 0; il < hp.n_layer; ++il) {
        const engine::LayerWeights & B = base.layers()[il];
        TrainLayer & L = m->layers_[il];
        L.attn_norm.data = B.attn_norm.data();
        L.ffn_norm.data = B.ffn_norm.data();
        if (!B.bq.empty()) {
            L.bq.data = B.bq.data.data();
            L.bk.data = B.bk.data.data();
            L.bv.data = B.bv.data.data();
        }
        const WeightView * views[engine::kProjCount] = {&B.wq, &B.wk, &B.wv, &B.wo, &B.w_gate, &B.w_up, &B.w_down};
        for (int pi = 0; pi < engine::kProjCount; ++pi) {
            L.mats[pi].view = *views[pi];
            if (!cfg.targets[pi]) continue;
            const std::string base_name = layer_name(il, engine::proj_tensor_suffix((engine::Proj)pi));
            const int64_t n_in = views[pi]->n_in, n_out = views[pi]->n_out;
            // PEFT's default: A ~ Kaiming-uniform(a = √5) = U(−1/√n_in, 1/√n_in), B = 0.
            Param * a = m->add_param(base_name + ".lora_a", {n_in, cfg.rank}, true);
            Param * b = m->add_param(base_name + ".lora_b", {cfg.rank, n_out}, true);
            Rng r{hash_name(a->name, seed)};
            const double bound = 1.0 / std::sqrt((double)n_in);
            for (float & x : a->w) x = (float)(bound * (2.0 * r.uniform01() - 1.0));
            L.lora_a[pi] = a;
            L.lora_b[pi] = b;
        }
    }
    return m;
}

void TrainModel::set_pack_frozen(bool on) {
    pack_frozen_ = on;
    if (on) return;
    for (TrainLayer & L : layers_)
        for (MatRef & m : L.mats) m.packed.reset();
    output_.packed.reset();
    token_embd_.packed.reset();
    packs_built_ = false;
}

size_t TrainModel::packed_bytes() const {
    // Shared packs (a tied head) count once.
    std::vector<const PackedBf16 *> seen;
    size_t n = 0;
    auto add = [&](const MatRef & m) {
        if (!m.packed || std::find(seen.begin(), seen.end(), m.packed.get()) != seen.end()) return;
        seen.push_back(m.packed.get());
        n += m.packed->bytes();
    };
    for (const TrainLayer & L : layers_)
        for (const MatRef & m : L.mats) add(m);
    add(output_);
    return n;
}

void TrainModel::ensure_packed() {
    if (packs_built_ || !pack_frozen_ || !gemm_bf16_native()) return;
    // One pack per distinct frozen tensor (a tied head shares the embedding's data).
    std::vector<std::pair<const uint8_t *, std::shared_ptr<const PackedBf16>>> done;
    auto pack = [&](MatRef & m) {
        if (m.param || m.packed) return;
        for (const auto & d : done)
            if (d.first == m.view.data) {
                m.packed = d.second;
                return;
            }
        const WeightView v = m.view;
        m.packed = PackedBf16::pack(v.n_out, v.n_in, [v](int64_t r0, int64_t r1, float * out) {
            for (int64_t r = r0; r < r1; ++r)
                dequantize_row(v.type, v.data + (size_t)r * v.row_stride, out + (r - r0) * v.n_in, v.n_in);
        });
        done.emplace_back(v.data, m.packed);
    };
    for (TrainLayer & L : layers_)
        for (MatRef & m : L.mats) pack(m);
    pack(output_);
    packs_built_ = true;
}

}  // namespace sy::train
