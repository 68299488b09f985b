// The training graph against the engine: logits of TrainModel's forward equal Context::decode on the same
// file (llama and qwen2, f32 and quantized bases), packing isolates examples, and the whole model at step 0
// has loss ≈ ln(n_vocab) and gradients matching finite differences.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/context.h"
#include "train/model.h"
#include "train_test_util.h"

namespace sy::train {
namespace {

using test::tiny_model;

Batch one_segment(const std::vector<int32_t> & toks) {
    Batch b;
    b.tokens = toks;
    for (size_t i = 0; i < toks.size(); ++i) {
        b.pos.push_back((int32_t)i);
        b.targets.push_back(0);
        b.loss.push_back(0);
    }
    b.segs.push_back({0, (int64_t)toks.size()});
    return b;
}

std::vector<float> engine_logits(const engine::Model & m, const std::vector<int32_t> & toks,
                                 std::vector<engine::ActiveLora> loras = {}) {
    engine::ContextParams cp;
    cp.n_ctx = 64;
    cp.n_threads = 1;
    engine::Context ctx(m, cp);
    ctx.set_loras(std::move(loras));
    std::vector<engine::BatchToken> batch;
    for (size_t i = 0; i < toks.size(); ++i) batch.push_back({toks[i], (int32_t)i, 0, true});
    return ctx.decode(batch);
}

double max_abs_diff(const std::vector<float> & a, const std::vector<float> & b, double * max_ref = nullptr) {
    EXPECT_EQ(a.size(), b.size());
    double d = 0, r = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        d = std::max(d, (double)std::abs(a[i] - b[i]));
        r = std::max(r, (double)std::abs(b[i]));
    }
    if (max_ref) *max_ref = r;
    return d;
}

const std::vector<int32_t> kToks = {5, 300, 17, 1999, 42, 42, 7, 1024, 88, 600, 3, 1500};

TEST(TrainModel, FullCopyLogitsEqualEngineLlama) {
    auto m = engine::Model::load(tiny_model("llama", "f32"));
    auto tm = TrainModel::full(*m);
    const auto ours = tm->forward_logits(one_segment(kToks));
    double ref = 0;
    const double d = max_abs_diff(ours, engine_logits(*m, kToks), &ref);
    EXPECT_GT(ref, 0.05);
    EXPECT_LT(d, 1e-3 * std::max(1.0, ref)) << "max ref " << ref;
}

TEST(TrainModel, FrozenQuantizedQwen2LogitsEqualEngine) {
    // qwen2 (qkv bias, neox rope) over a q8_0 base used in place (no LoRA pairs active: B = 0).
    auto m = engine::Model::load(tiny_model("qwen2", "q8_0"));
    LoraConfig cfg;
    cfg.rank = 4;
    auto tm = TrainModel::lora(*m, cfg, 1);
    const auto ours = tm->forward_logits(one_segment(kToks));
    double ref = 0;
    const double d = max_abs_diff(ours, engine_logits(*m, kToks), &ref);
    // The engine quantizes activations to 8 bits for q8_0 weights: a looser bound than f32.
    EXPECT_LT(d, 1e-2 * std::max(1.0, ref)) << "max ref " << ref;
}

TEST(TrainModel, PackedSegmentsDoNotInteract) {
    auto m = engine::Model::load(tiny_model("llama", "f32"));
    auto tm = TrainModel::full(*m);
    const std::vector<int32_t> a = {1, 2, 3, 4, 5}, b = {9, 8, 7};
    Batch packed = one_segment({1, 2, 3, 4, 5, 9, 8, 7});
    packed.pos = {0, 1, 2, 3, 4, 0, 1, 2};
    packed.segs = {{0, 5}, {5, 3}};
    const auto lp = tm->forward_logits(packed);
    const auto la = tm->forward_logits(one_segment(a));
    const auto lb = tm->forward_logits(one_segment(b));
    const int64_t V = tm->hparams().n_vocab;
    for (int64_t i = 0; i < 5 * V; ++i) ASSERT_NEAR(lp[i], la[i], 1e-4);
    for (int64_t i = 0; i < 3 * V; ++i) ASSERT_NEAR(lp[5 * V + i], lb[i], 1e-4);
}

engine::HParams micro_hparams(const char * arch, bool tied) {
    engine::HParams hp;
    hp.arch = arch;
    hp.n_vocab = 50;
    hp.n_ctx_train = 64;
    hp.n_embd = 16;
    hp.n_layer = 2;
    hp.n_head = 4;
    hp.n_head_kv = 2;
    hp.n_ff = 24;
    hp.rope_base = 10000.0f;
    hp.rms_eps = 1e-5f;
    hp.tied_output = tied;
    return hp;
}

Batch micro_batch(int32_t n_vocab) {
    auto ex = test::random_examples({7, 5}, n_vocab, 3);
    return pack_batches(ex, test::iota_order(ex.size()), 64).at(0);
}

TEST(TrainModel, StepZeroLossIsLogVocab) {
    engine::HParams hp = micro_hparams("llama", true);
    hp.n_vocab = 500;
    hp.n_embd = 64;
    auto tm = TrainModel::create(hp, 7);
    Batch b = micro_batch(hp.n_vocab);
    const double loss = tm->forward_loss(b) / (double)b.n_loss();
    EXPECT_NEAR(loss, std::log(500.0), 0.1);  // small logits at init: a little above ln V
}

// Whole-model gradient check along random directions per parameter tensor (central differences on the
// float model with the loss accumulated in double).
void whole_model_fd(const char * arch, bool tied) {
    engine::HParams hp = micro_hparams(arch, tied);
    auto tm = TrainModel::create(hp, 11);
    // Scale weights up so the function is far from linear (a stronger check than at 0.02 init).
    for (const auto & p : tm->params())
        if (p->decay)
            for (float & x : p->w) x *= 10.0f;
    for (const auto & p : tm->params())
        if (!p->decay)
            for (size_t i = 0; i < p->w.size(); ++i) p->w[i] += 0.1f * std::sin(1.0f + (float)i);
    Batch b = micro_batch(hp.n_vocab);
    tm->zero_grad();
    const float w = 1.0f / (float)b.n_loss();
    tm->forward_backward(b, w, 0);
    std::mt19937_64 rng(5);
    std::normal_distribution<float> nd;
    for (const auto & p : tm->params()) {
        std::vector<float> dir(p->w.size());
        double gd = 0, nn = 0;
        for (float & x : dir) {
            x = nd(rng);
            nn += (double)x * x;
        }
        for (size_t i = 0; i < dir.size(); ++i) {
            dir[i] = (float)(dir[i] / std::sqrt(nn));  // unit direction
            gd += (double)dir[i] * p->g[i];
        }
        const std::vector<float> keep = p->w;
        const float h = 1e-2f;
        for (size_t i = 0; i < dir.size(); ++i) p->w[i] = keep[i] + h * dir[i];
        const double lp = tm->forward_loss(b) * w;
        for (size_t i = 0; i < dir.size(); ++i) p->w[i] = keep[i] - h * dir[i];
        const double lm = tm->forward_loss(b) * w;
        p->w = keep;
        const double fd = (lp - lm) / (2.0 * h);
        EXPECT_NEAR(fd, gd, 2e-2 * std::max(0.01, std::abs(gd))) << arch << " " << p->name;
    }
}

TEST(TrainModel, WholeModelGradientsMatchFiniteDifferencesLlama) { whole_model_fd("llama", true); }
TEST(TrainModel, WholeModelGradientsMatchFiniteDifferencesQwen2Untied) { whole_model_fd("qwen2", false); }

}  // namespace
}  // namespace sy::train
