#include "engine/model_init.h"

#include <array>
#include <cstring>
#include <thread>

#include "common/rng.h"
#include "engine/lora.h"
#include "engine/quantize_recipe.h"
#include "tensor/quant.h"

namespace sy::engine {
namespace {

constexpr std::array<ShapePreset, 3> kPresets = {{
    // name            n_embd layers heads kv  n_ff   vocab  n_ctx  rope_base  eps   tied
    {"tiny", 128, 2, 4, 2, 384, 2048, 1024, 10000.0f, 1e-5f, true},
    {"smollm2-135m", 576, 30, 9, 3, 1536, 49152, 8192, 100000.0f, 1e-5f, true},
    {"qwen2.5-0.5b", 896, 24, 14, 2, 4864, 151936, 32768, 1000000.0f, 1e-6f, true},
}};
static_assert(kPresets.size() == 3);

// splitmix64: fast, seedable, identical on every platform.
struct Rng : SplitMix64 {
    // Uniform in [-a, a].
    float uniform(float a) { return a * (float)((double)(next() >> 11) * (2.0 / 9007199254740992.0) - 1.0); }
};

uint64_t hash_name(const std::string & s, uint64_t seed) {
    uint64_t h = 1469598103934665603ull ^ seed;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    return h;
}

struct TensorPlan {
    std::string name;
    int64_t ne0, ne1;  // ne1 = 0: 1-D
    enum { Init_random, Init_ones } init;
};

}  // namespace

const ShapePreset * find_shape_preset(const std::string & name) {
    for (const auto & p : kPresets)
        if (name == p.name) return &p;
    return nullptr;
}

std::string shape_preset_names() {
    std::string s;
    for (const auto & p : kPresets) s += (s.empty() ? "" : ", ") + std::string(p.name);
    return s;
}

std::string init_random_model(const InitParams & ip, const std::string & out_path) {
    const ShapePreset * ps = find_shape_preset(ip.preset);
    if (!ps) throw Error(ErrorKind::ErrorKind_invalid_argument, "unknown preset '" + ip.preset + "' (one of: " + shape_preset_names() + ")");
    const ArchTraits * arch = find_arch(ip.arch);
    if (!arch) throw Error(ErrorKind::ErrorKind_invalid_argument, "unknown architecture '" + ip.arch + "' (one of: " + supported_archs() + ")");
    const QuantRecipe recipe = parse_quant_recipe(ip.dtype);

    gguf::Writer w;
    w.set("general.architecture", gguf::Value::string(ip.arch));
    w.set("general.name", gguf::Value::string(std::string("switchyard-random-") + ps->name));
    w.set("general.file_type", gguf::Value::u32(recipe.file_type));
    if (recipe.quantized) w.set("general.quantization_version", gguf::Value::u32(2));

    // Tokenizer: the vocabulary of another file, or a synthetic byte-level BPE of the preset's size.
    int32_t n_vocab = ps->n_vocab;
    if (ip.vocab_from) {
        gguf::File vf = gguf::File::open(*ip.vocab_from);
        auto tk = tok::Tokenizer::from_gguf(vf);
        n_vocab = tk->vocab().n_tokens();
        tok::write_vocab_metadata(tk->vocab(), w);
    } else {
        tok::Vocab v = tok::make_synthetic_bpe_vocab(n_vocab, ip.seed, ip.arch == "qwen2" ? "qwen2" : "smollm");
        tok::write_vocab_metadata(v, w);
    }

    const std::string a = ip.arch + ".";
    const int32_t head_dim = ps->n_embd / ps->n_head;
    w.set(a + "context_length", gguf::Value::u32(ps->n_ctx));
    w.set(a + "embedding_length", gguf::Value::u32(ps->n_embd));
    w.set(a + "block_count", gguf::Value::u32(ps->n_layer));
    w.set(a + "feed_forward_length", gguf::Value::u32(ps->n_ff));
    w.set(a + "attention.head_count", gguf::Value::u32(ps->n_head));
    w.set(a + "attention.head_count_kv", gguf::Value::u32(ps->n_head_kv));
    w.set(a + "rope.freq_base", gguf::Value::f32(ps->rope_base));
    w.set(a + "attention.layer_norm_rms_epsilon", gguf::Value::f32(ps->rms_eps));
    w.set(a + "rope.dimension_count", gguf::Value::u32(head_dim));
    w.set(a + "vocab_size", gguf::Value::u32(n_vocab));

    const int64_t q_dim = (int64_t)ps->n_head * head_dim, kv_dim = (int64_t)ps->n_head_kv * head_dim;
    std::vector<TensorPlan> plan;
    plan.push_back({"token_embd.weight", ps->n_embd, n_vocab, TensorPlan::Init_random});
    plan.push_back({"output_norm.weight", ps->n_embd, 0, TensorPlan::Init_ones});
    if (!ps->tied) plan.push_back({"output.weight", ps->n_embd, n_vocab, TensorPlan::Init_random});
    for (int il = 0; il < ps->n_layer; ++il) {
        const std::string p = "blk." + std::to_string(il) + ".";
        plan.push_back({p + "attn_norm.weight", ps->n_embd, 0, TensorPlan::Init_ones});
        plan.push_back({p + "attn_q.weight", ps->n_embd, q_dim, TensorPlan::Init_random});
        plan.push_back({p + "attn_k.weight", ps->n_embd, kv_dim, TensorPlan::Init_random});
        plan.push_back({p + "attn_v.weight", ps->n_embd, kv_dim, TensorPlan::Init_random});
        if (arch->qkv_bias) {
            plan.push_back({p + "attn_q.bias", q_dim, 0, TensorPlan::Init_random});
            plan.push_back({p + "attn_k.bias", kv_dim, 0, TensorPlan::Init_random});
            plan.push_back({p + "attn_v.bias", kv_dim, 0, TensorPlan::Init_random});
        }
        plan.push_back({p + "attn_output.weight", q_dim, ps->n_embd, TensorPlan::Init_random});
        plan.push_back({p + "ffn_norm.weight", ps->n_embd, 0, TensorPlan::Init_ones});
        plan.push_back({p + "ffn_gate.weight", ps->n_embd, ps->n_ff, TensorPlan::Init_random});
        plan.push_back({p + "ffn_up.weight", ps->n_embd, ps->n_ff, TensorPlan::Init_random});
        plan.push_back({p + "ffn_down.weight", ps->n_ff, ps->n_embd, TensorPlan::Init_random});
    }

    uint64_t n_params = 0, n_bytes = 0;
    std::vector<float> f32;
    for (const TensorPlan & t : plan) {
        const int64_t rows = t.ne1 ? t.ne1 : 1;
        f32.resize((size_t)(t.ne0 * rows));
        if (t.init == TensorPlan::Init_ones) {
            std::fill(f32.begin(), f32.end(), 1.0f);
        } else {
            // Uniform with std 0.02 (a = 0.02·√3), rows generated in parallel from per-row seeds.
            const uint64_t h = hash_name(t.name, ip.seed);
            const int nth = std::max(1, ip.n_threads);
            std::vector<std::thread> th;
            for (int k = 0; k < nth; ++k)
                th.emplace_back([&, k] {
                    for (int64_t r = k; r < rows; r += nth) {
                        Rng rng{h + (uint64_t)r * 0x2545F4914F6CDD1Dull};
                        float * row = f32.data() + r * t.ne0;
                        for (int64_t i = 0; i < t.ne0; ++i) row[i] = rng.uniform(0.0346f);
                    }
                });
            for (auto & x : th) x.join();
        }
        QuantTensor qt;
        qt.name = t.name;
        qt.n_dims = t.ne1 ? 2 : 1;
        qt.ne0 = t.ne0;
        qt.type = DType::DType_f32;
        qt.i_layer = quant_layer_index(t.name);
        qt.n_layer = ps->n_layer;
        qt.model_has_output = !ps->tied;
        const DType type = quant_tensor_type(recipe, qt);
        std::vector<uint8_t> data = quantize_rows(type, f32.data(), rows, t.ne0);
        const std::vector<int64_t> ne = t.ne1 ? std::vector<int64_t>{t.ne0, t.ne1} : std::vector<int64_t>{t.ne0};
        n_params += (uint64_t)(t.ne0 * rows);
        n_bytes += data.size();
        w.add_tensor(t.name, (uint32_t)type, ne, data);
    }
    w.write(out_path);
    char buf[256];
    std::snprintf(buf, sizeof buf, "wrote %s: %s %s, %.1fM params, %.1f MiB, vocab %d, dtype %s", out_path.c_str(),
                  ip.arch.c_str(), ps->name, n_params / 1e6, n_bytes / 1048576.0, n_vocab, ip.dtype.c_str());
    return buf;
}

}  // namespace sy::engine
