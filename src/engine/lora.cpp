#include "engine/lora.h"

#include <array>

#include "tensor/quant.h"

namespace sy::engine {
namespace {

struct ProjRow {
    Proj p;
    const char * suffix;
    const char * short_name;
};
constexpr std::array<ProjRow, kProjCount> kProjs = {{
    {Proj::Proj_q, "attn_q.weight", "q"},
    {Proj::Proj_k, "attn_k.weight", "k"},
    {Proj::Proj_v, "attn_v.weight", "v"},
    {Proj::Proj_o, "attn_output.weight", "o"},
    {Proj::Proj_gate, "ffn_gate.weight", "gate"},
    {Proj::Proj_up, "ffn_up.weight", "up"},
    {Proj::Proj_down, "ffn_down.weight", "down"},
}};
static_assert(kProjs.size() == kProjCount);

const WeightView & base_weight(const LayerWeights & l, Proj p) {
    switch (p) {
        case Proj::Proj_q: return l.wq;
        case Proj::Proj_k: return l.wk;
        case Proj::Proj_v: return l.wv;
        case Proj::Proj_o: return l.wo;
        case Proj::Proj_gate: return l.w_gate;
        case Proj::Proj_up: return l.w_up;
        case Proj::Proj_down: return l.w_down;
    }
    return l.wq;
}

std::vector<float> to_f32(const gguf::TensorInfo & t, const std::string & path) {
    const DType type = (DType)t.type;
    if (!dtype_supported(type))
        throw Error(ErrorKind::ErrorKind_unsupported, path + ": tensor '" + t.name + "' has unsupported type");
    std::vector<float> out((size_t)t.n_elements());
    const size_t rb = *row_bytes(type, t.ne[0]);
    for (int64_t r = 0; r < t.ne[1]; ++r) dequantize_row(type, t.data + r * rb, out.data() + r * t.ne[0], t.ne[0]);
    return out;
}

// y[n][n_out] (+)= x[n][n_in] · Mᵀ with M [n_out][n_in] f32 — small products (rank-sized on one side).
void small_matmul(const float * m, int64_t n_out, int64_t n_in, const float * x, int64_t n, float * y, float alpha,
                  bool accumulate) {
    for (int64_t t = 0; t < n; ++t) {
        const float * xr = x + t * n_in;
        float * yr = y + t * n_out;
        for (int64_t o = 0; o < n_out; ++o) {
            const float * mr = m + o * n_in;
            float s = 0.0f;
            for (int64_t i = 0; i < n_in; ++i) s += mr[i] * xr[i];
            yr[o] = accumulate ? yr[o] + alpha * s : alpha * s;
        }
    }
}

}  // namespace

const char * proj_tensor_suffix(Proj p) { return kProjs[(int)p].suffix; }
const char * proj_short_name(Proj p) { return kProjs[(int)p].short_name; }

std::shared_ptr<LoraAdapter> LoraAdapter::load(const std::string & path, const Model & model) {
    gguf::File f = gguf::File::open(path);
    auto bad = [&](const std::string & msg) { throw Error(ErrorKind::ErrorKind_invalid_file, path + ": " + msg); };
    if (f.get_string("general.type").value_or("") != "adapter" || f.get_string("adapter.type").value_or("") != "lora")
        bad("not a LoRA adapter (expected general.type=adapter, adapter.type=lora)");
    if (auto arch = f.get_string("general.architecture"); arch && *arch != model.hparams().arch)
        bad("adapter is for architecture '" + *arch + "', the model is '" + model.hparams().arch + "'");

    auto ad = std::make_shared<LoraAdapter>();
    ad->path_ = path;
    ad->alpha_ = (float)f.get_f64("adapter.lora.alpha").value_or(0.0);
    ad->layers_.resize(model.hparams().n_layer);

    int n_pairs = 0;
    for (const auto & t : f.tensors()) {
        const std::string & n = t.name;
        const bool is_a = n.size() > 7 && n.compare(n.size() - 7, 7, ".lora_a") == 0;
        const bool is_b = n.size() > 7 && n.compare(n.size() - 7, 7, ".lora_b") == 0;
        if (!is_a && !is_b) bad("unexpected tensor '" + n + "' (only *.lora_a / *.lora_b are allowed)");
        if (is_b) continue;
        const std::string base = n.substr(0, n.size() - 7);
        const gguf::TensorInfo * tb = f.find_tensor(base + ".lora_b");
        if (!tb) bad("tensor '" + n + "' has no matching '" + base + ".lora_b'");
        int il = -1;
        Proj proj = Proj::Proj_q;
        bool found = false;
        for (int l = 0; l < model.hparams().n_layer && !found; ++l) {
            const std::string p = "blk." + std::to_string(l) + ".";
            for (const auto & row : kProjs)
                if (base == p + row.suffix) { il = l; proj = row.p; found = true; break; }
        }
        if (!found) bad("tensor '" + base + "' is not an adaptable weight of this model (q,k,v,o,gate,up,down)");
        const WeightView & w = base_weight(model.layers()[il], proj);
        if (t.n_dims != 2 || tb->n_dims != 2 || t.ne[0] != w.n_in || tb->ne[1] != w.n_out || t.ne[1] != tb->ne[0])
            bad("'" + base + "': lora_a/lora_b shapes do not match the base weight (a: [n_in, r], b: [r, n_out])");
        auto pair = std::make_unique<LoraPair>();
        pair->rank = (int32_t)t.ne[1];
        pair->n_in = w.n_in;
        pair->n_out = w.n_out;
        pair->a = to_f32(t, path);
        pair->b = to_f32(*tb, path);
        ad->layers_[il][(int)proj] = std::move(pair);
        ++n_pairs;
    }
    if (n_pairs == 0) bad("adapter has no lora_a/lora_b tensor pairs");
    return ad;
}

void linear_forward(const WeightView & w, const float * bias, const std::vector<ActiveLora> & loras, int il, Proj p,
                    const float * x, int64_t n_tok, float * y, ThreadPool & pool, std::vector<float> & tmp) {
    std::vector<LoraRows> all;
    all.reserve(loras.size());
    for (const ActiveLora & al : loras) all.push_back({al, true, {}});
    linear_forward(w, bias, all, il, p, x, n_tok, y, pool, tmp);
}

void linear_forward(const WeightView & w, const float * bias, const std::vector<LoraRows> & loras, int il, Proj p,
                    const float * x, int64_t n_tok, float * y, ThreadPool & pool, std::vector<float> & tmp) {
    kernels().matmul(w, x, n_tok, y, w.n_out, pool);
    if (bias)
        for (int64_t t = 0; t < n_tok; ++t) kernels().add(bias, y + t * w.n_out, w.n_out);
    for (const LoraRows & lr : loras) {
        const LoraPair * pr = lr.lora.adapter->pair(il, p);
        if (!pr) continue;
        const float scale = lr.lora.adapter->scale_for(*pr, lr.lora.scale);
        if (lr.all_rows) {
            tmp.resize((size_t)(n_tok * pr->rank));
            small_matmul(pr->a.data(), pr->rank, pr->n_in, x, n_tok, tmp.data(), 1.0f, false);
            small_matmul(pr->b.data(), pr->n_out, pr->rank, tmp.data(), n_tok, y, scale, true);
            continue;
        }
        // Row by row: the same per-token arithmetic as the all-rows path, so results do not depend on
        // which other sequences share the batch.
        tmp.resize((size_t)pr->rank);
        for (int32_t t : lr.rows) {
            SY_ASSERT(t >= 0 && t < n_tok);
            small_matmul(pr->a.data(), pr->rank, pr->n_in, x + (int64_t)t * pr->n_in, 1, tmp.data(), 1.0f, false);
            small_matmul(pr->b.data(), pr->n_out, pr->rank, tmp.data(), 1, y + (int64_t)t * pr->n_out, scale, true);
        }
    }
}

std::vector<float> merge_lora_weight(const WeightView & w, const LoraPair & pr, float scale) {
    SY_ASSERT(pr.n_in == w.n_in && pr.n_out == w.n_out);
    std::vector<float> out((size_t)(w.n_in * w.n_out));
    for (int64_t o = 0; o < w.n_out; ++o) {
        float * row = out.data() + o * w.n_in;
        dequantize_row(w.type, w.data + o * w.row_stride, row, w.n_in);
        const float * b = pr.b.data() + o * pr.rank;
        for (int32_t r = 0; r < pr.rank; ++r) {
            const float c = scale * b[r];
            const float * a = pr.a.data() + (size_t)r * w.n_in;
            for (int64_t i = 0; i < w.n_in; ++i) row[i] += c * a[i];
        }
    }
    return out;
}

}  // namespace sy::engine
