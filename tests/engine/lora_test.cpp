// LoRA at run time: an adapter in llama.cpp's GGUF format, applied with a scale, gives the same logits as
// the base model with the adapter merged into its weights; two adapters at once add up.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>

#include "engine/context.h"
#include "engine/test_dir.h"
#include "engine/lora.h"
#include "engine/model_init.h"

namespace fs = std::filesystem;
using namespace sy;
using namespace sy::engine;

namespace {

fs::path dir() { return sy::test::scratch_dir(); }

// Writes an adapter touching q and down of every layer, rank 4, alpha 8 (so scale = user · 2).
std::string write_adapter(const Model & m, const std::string & name, unsigned seed) {
    gguf::Writer w;
    w.set("general.architecture", gguf::Value::string(m.hparams().arch));
    w.set("general.type", gguf::Value::string("adapter"));
    w.set("adapter.type", gguf::Value::string("lora"));
    w.set("adapter.lora.alpha", gguf::Value::f32(8.0f));
    std::mt19937 rng(seed);
    std::normal_distribution<float> N(0.0f, 0.05f);
    const int r = 4;
    for (int il = 0; il < m.hparams().n_layer; ++il) {
        for (Proj p : {Proj::Proj_q, Proj::Proj_down}) {
            const WeightView & base = p == Proj::Proj_q ? m.layers()[il].wq : m.layers()[il].w_down;
            std::vector<float> a((size_t)r * base.n_in), b((size_t)base.n_out * r);
            for (auto & x : a) x = N(rng);
            for (auto & x : b) x = N(rng);
            const std::string n = "blk." + std::to_string(il) + "." + proj_tensor_suffix(p);
            const int64_t ne_a[2] = {base.n_in, r}, ne_b[2] = {r, base.n_out};
            w.add_tensor(n + ".lora_a", (uint32_t)DType::DType_f32, ne_a,
                         {reinterpret_cast<const uint8_t *>(a.data()), a.size() * 4});
            w.add_tensor(n + ".lora_b", (uint32_t)DType::DType_f32, ne_b,
                         {reinterpret_cast<const uint8_t *>(b.data()), b.size() * 4});
        }
    }
    const std::string path = (dir() / name).string();
    w.write(path);
    return path;
}

// Copies the base model with every adapted weight replaced by W + Σ scale·B·A (f32).
std::string write_merged(const Model & m, const std::string & base_path,
                         const std::vector<std::pair<std::shared_ptr<LoraAdapter>, float>> & ads) {
    gguf::File src = gguf::File::open(base_path);
    gguf::Writer w;
    w.copy_metadata(src);
    std::vector<std::vector<float>> keep;
    for (const auto & t : src.tensors()) {
        std::vector<int64_t> ne(t.ne, t.ne + t.n_dims);
        bool merged = false;
        for (int il = 0; il < m.hparams().n_layer && !merged; ++il)
            for (Proj p : {Proj::Proj_q, Proj::Proj_down}) {
                if (t.name != "blk." + std::to_string(il) + "." + proj_tensor_suffix(p)) continue;
                const WeightView & base = p == Proj::Proj_q ? m.layers()[il].wq : m.layers()[il].w_down;
                std::vector<float> acc = merge_lora_weight(base, *ads[0].first->pair(il, p),
                                                           ads[0].first->scale_for(*ads[0].first->pair(il, p), ads[0].second));
                for (size_t k = 1; k < ads.size(); ++k) {
                    const LoraPair & pr = *ads[k].first->pair(il, p);
                    std::vector<float> delta = merge_lora_weight(base, pr, ads[k].first->scale_for(pr, ads[k].second));
                    std::vector<float> plain((size_t)(base.n_in * base.n_out));
                    for (int64_t o = 0; o < base.n_out; ++o)
                        std::memcpy(plain.data() + o * base.n_in, base.data + o * base.row_stride, base.n_in * 4);
                    for (size_t i = 0; i < acc.size(); ++i) acc[i] += delta[i] - plain[i];
                }
                keep.push_back(std::move(acc));
                w.add_tensor(t.name, t.type, ne,
                             {reinterpret_cast<const uint8_t *>(keep.back().data()), keep.back().size() * 4});
                merged = true;
                break;
            }
        if (!merged) w.add_tensor(t.name, t.type, ne, {t.data, (size_t)t.n_bytes});
    }
    const std::string path = (dir() / "merged.gguf").string();
    w.write(path);
    return path;
}

double rel_err(const std::vector<float> & a, const std::vector<float> & b) {
    double num = 0, den = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        num += (double)(a[i] - b[i]) * (a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    return std::sqrt(num / den);
}

std::vector<float> logits_of(const Model & m, const std::vector<ActiveLora> & loras) {
    ContextParams cp;
    cp.n_ctx = 16;
    Context ctx(m, cp);
    ctx.set_loras(loras);
    std::vector<BatchToken> b;
    for (int i = 0; i < 8; ++i) b.push_back({(i * 37 + 5) % m.hparams().n_vocab, i, 0, i == 7});
    return ctx.decode(b);
}

TEST(Lora, RuntimeMatchesMergedForTwoAdapters) {
    const std::string base_path = (dir() / "base.gguf").string();
    InitParams ip;
    ip.preset = "tiny";
    ip.dtype = "f32";
    ip.seed = 3;
    init_random_model(ip, base_path);
    auto base = Model::load(base_path);
    auto a1 = LoraAdapter::load(write_adapter(*base, "a1.gguf", 1), *base);
    auto a2 = LoraAdapter::load(write_adapter(*base, "a2.gguf", 2), *base);
    EXPECT_FLOAT_EQ(a1->alpha(), 8.0f);

    const auto plain = logits_of(*base, {});
    const auto with = logits_of(*base, {{a1, 0.5f}, {a2, 1.5f}});
    EXPECT_GT(rel_err(with, plain), 1e-3) << "the adapters must change the logits";

    auto merged = Model::load(write_merged(*base, base_path, {{a1, 0.5f}, {a2, 1.5f}}));
    const auto ref = logits_of(*merged, {});
    EXPECT_LT(rel_err(with, ref), 1e-4);
}

TEST(Lora, RejectsAdapterOfAnotherShape) {
    const std::string p1 = (dir() / "m1.gguf").string();
    InitParams ip;
    ip.preset = "tiny";
    ip.dtype = "f32";
    init_random_model(ip, p1);
    auto m = Model::load(p1);
    gguf::Writer w;
    w.set("general.architecture", gguf::Value::string("llama"));
    w.set("general.type", gguf::Value::string("adapter"));
    w.set("adapter.type", gguf::Value::string("lora"));
    std::vector<float> a(4 * 100), b(4 * 100);
    const int64_t ne_a[2] = {100, 4}, ne_b[2] = {4, 100};
    w.add_tensor("blk.0.attn_q.weight.lora_a", 0, ne_a, {reinterpret_cast<uint8_t *>(a.data()), a.size() * 4});
    w.add_tensor("blk.0.attn_q.weight.lora_b", 0, ne_b, {reinterpret_cast<uint8_t *>(b.data()), b.size() * 4});
    const std::string bad = (dir() / "bad.gguf").string();
    w.write(bad);
    try {
        LoraAdapter::load(bad, *m);
        FAIL() << "expected a shape error";
    } catch (const Error & e) {
        EXPECT_NE(std::string(e.what()).find("shapes do not match"), std::string::npos) << e.what();
    }
}

// Per-sequence adapters in one batch longer than the FFN's token slice (the down projection, which the
// adapter touches, runs slice by slice with the adapter rows renumbered): each sequence's logits equal
// those of that sequence run alone with its adapter as a context-wide one.
TEST(Lora, PerSequenceAdaptersInABatchLongerThanTheFfnSlice) {
    const std::string base_path = (dir() / "base_slices.gguf").string();
    InitParams ip;
    ip.preset = "tiny";
    ip.dtype = "f32";
    ip.seed = 4;
    init_random_model(ip, base_path);
    auto base = Model::load(base_path);
    auto ad = LoraAdapter::load(write_adapter(*base, "slices.gguf", 9), *base);
    const int32_t n_vocab = base->hparams().n_vocab, n_tok = 100;  // 3 × 100 tokens in one batch
    ContextParams cp;
    cp.n_ctx = 128;
    cp.n_seq = 3;
    Context mixed(*base, cp);
    mixed.set_seq_loras(1, {{ad, 1.0f}});
    mixed.set_seq_loras(2, {{ad, 0.5f}});
    std::vector<BatchToken> b;
    for (int s = 0; s < 3; ++s)  // sequence by sequence, so a slice boundary falls inside sequence 1
        for (int i = 0; i < n_tok; ++i) b.push_back({(i * 31 + s * 7 + 3) % n_vocab, i, s, i == n_tok - 1});
    const std::vector<float> got = mixed.decode(b);
    ASSERT_EQ(got.size(), (size_t)3 * n_vocab);
    const float scales[3] = {0.0f, 1.0f, 0.5f};
    for (int s = 0; s < 3; ++s) {
        ContextParams c1 = cp;
        c1.n_seq = 1;
        Context alone(*base, c1);
        if (scales[s] != 0.0f) alone.set_loras({{ad, scales[s]}});
        std::vector<BatchToken> one;
        for (int i = 0; i < n_tok; ++i) one.push_back({(i * 31 + s * 7 + 3) % n_vocab, i, 0, i == n_tok - 1});
        const std::vector<float> want = alone.decode(one);
        const std::vector<float> have(got.begin() + (size_t)s * n_vocab, got.begin() + (size_t)(s + 1) * n_vocab);
        EXPECT_LT(rel_err(have, want), 1e-5) << "seq " << s;
    }
}

}  // namespace
