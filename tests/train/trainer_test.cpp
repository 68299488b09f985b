// Optimisation and outputs: schedule, determinism, overfitting a small batch, checkpoint/resume equality,
// early stopping, LoRA adapters that load in the engine with the trainer's logits, and merging.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/context.h"
#include "train/gemm.h"
#include "train/outputs.h"
#include "train/trainer.h"
#include "train_test_util.h"

namespace sy::train {
namespace {

engine::HParams small_hparams() {
    engine::HParams hp;
    hp.arch = "llama";
    hp.n_vocab = 64;
    hp.n_ctx_train = 64;
    hp.n_embd = 32;
    hp.n_layer = 2;
    hp.n_head = 4;
    hp.n_head_kv = 2;
    hp.n_ff = 64;
    hp.rms_eps = 1e-5f;
    hp.tied_output = true;
    return hp;
}

TrainConfig quick_config(int epochs) {
    TrainConfig c;
    c.epochs = epochs;
    c.batch_tokens = 40;
    c.grad_accum = 2;
    c.opt.lr = 1e-2f;
    c.opt.weight_decay = 0.0f;
    c.warmup_steps = 2;
    c.eval_every = 5;
    c.seed = 3;
    c.n_threads = 1;
    return c;
}

TEST(Schedule, WarmupThenCosine) {
    EXPECT_FLOAT_EQ(lr_schedule(1.0f, 0, 10, 100), 0.1f);
    EXPECT_FLOAT_EQ(lr_schedule(1.0f, 9, 10, 100), 1.0f);
    EXPECT_NEAR(lr_schedule(1.0f, 10, 10, 100), 1.0f, 1e-6);
    EXPECT_NEAR(lr_schedule(1.0f, 55, 10, 100, 0.0f), 0.5f, 1e-6);
    EXPECT_NEAR(lr_schedule(1.0f, 100, 10, 100, 0.1f), 0.1f, 1e-6);
}

TEST(AdamW, FirstStepMovesEachWeightByLr) {
    auto m = TrainModel::create(small_hparams(), 1);
    AdamWParams p;
    p.clip_norm = 0.0f;
    p.weight_decay = 0.0f;
    AdamW opt(m->params(), p);
    Param & w = *m->params()[0];
    std::vector<float> before = w.w;
    for (size_t i = 0; i < w.g.size(); ++i) w.g[i] = (i % 2) ? 3.0f : -0.5f;
    opt.step(m->params(), 0.01f);
    for (size_t i = 0; i < 10; ++i) EXPECT_NEAR(w.w[i] - before[i], (i % 2) ? -0.01f : 0.01f, 1e-6);
}

TEST(Trainer, FixedSeedGivesIdenticalLossCurves) {
    auto ex = test::random_examples({12, 9, 15, 7, 11, 13}, 64, 4);
    std::vector<double> curves[2];
    for (int r = 0; r < 2; ++r) {
        auto m = TrainModel::create(small_hparams(), 9);
        curves[r] = train(*m, ex, {}, quick_config(8)).losses;
    }
    ASSERT_GT(curves[0].size(), 3u);
    EXPECT_EQ(curves[0], curves[1]);
}

TEST(Trainer, OverfitsASmallBatch) {
    auto ex = test::random_examples({16, 16, 16, 16}, 64, 5);
    for (auto & e : ex) std::fill(e.loss_mask.begin(), e.loss_mask.end(), 1);
    auto m = TrainModel::create(small_hparams(), 2);
    TrainConfig c = quick_config(200);
    c.batch_tokens = 64;
    c.grad_accum = 1;
    const double before = evaluate(*m, ex, 64);
    TrainResult r = train(*m, ex, {}, c);
    const double after = evaluate(*m, ex, 64);
    EXPECT_NEAR(before, std::log(64.0), 0.1);
    EXPECT_LT(after, 0.05) << "loss " << before << " -> " << after;
}

TEST(Trainer, InterruptAndResumeReproduceTheUninterruptedRun) {
    auto ex = test::random_examples({12, 9, 15, 7, 11, 13, 10, 8}, 64, 6);
    auto full = TrainModel::create(small_hparams(), 4);
    train(*full, ex, {}, quick_config(2));

    auto part = TrainModel::create(small_hparams(), 4);
    std::atomic<bool> stop{false};
    TrainConfig c = quick_config(2);
    c.checkpoint_path = test::tmp_path("resume.ckpt");
    c.stop = &stop;
    c.on_step = [&](const StepInfo & s) { if (s.step == 3) stop = true; };
    TrainResult r1 = train(*part, ex, {}, c);
    EXPECT_TRUE(r1.interrupted);
    EXPECT_EQ(r1.steps, 3);

    auto resumed = TrainModel::create(small_hparams(), 77);  // different init: the checkpoint overwrites it
    c.stop = nullptr;
    c.on_step = nullptr;
    TrainResult r2 = train(*resumed, ex, {}, c, c.checkpoint_path);
    EXPECT_FALSE(r2.interrupted);
    for (size_t k = 0; k < full->params().size(); ++k) EXPECT_EQ(full->params()[k]->w, resumed->params()[k]->w);
}

TEST(Trainer, ValidationAndEarlyStopping) {
    auto tr = test::random_examples({12, 12, 12, 12}, 64, 7);
    auto va = test::random_examples({12, 12}, 64, 8);  // unrelated random tokens: validation loss rises soon
    auto m = TrainModel::create(small_hparams(), 5);
    TrainConfig c = quick_config(100);
    c.eval_every = 2;
    c.patience = 3;
    c.log_path = test::tmp_path("early.log.jsonl");
    TrainResult r = train(*m, tr, va, c);
    EXPECT_TRUE(r.stopped_early);
    ASSERT_TRUE(r.best_valid_loss.has_value());
    EXPECT_NEAR(evaluate(*m, va, 40), *r.best_valid_loss, 1e-9);  // best weights restored
    EXPECT_LT(r.steps, 100 * 2);
}

// Trains a LoRA adapter briefly on a tiny base, saves it, and returns the trained model.
std::unique_ptr<TrainModel> trained_lora(const engine::Model & base, const std::string & adapter_path) {
    LoraConfig lc;
    lc.rank = 4;
    lc.alpha = 8.0f;
    lc.targets = parse_lora_targets("q,v,o,down");
    auto tm = TrainModel::lora(base, lc, 1);
    auto ex = test::random_examples({20, 20}, base.hparams().n_vocab, 9);
    TrainConfig c = quick_config(4);
    c.opt.lr = 5e-3f;
    c.batch_tokens = 64;
    train(*tm, ex, {}, c);
    save_adapter(*tm, adapter_path);
    return tm;
}

const std::vector<int32_t> kToks = {11, 400, 23, 1500, 7, 7, 99, 2000, 5};

std::vector<float> engine_logits(const engine::Model & m, std::vector<engine::ActiveLora> loras) {
    engine::ContextParams cp;
    cp.n_ctx = 32;
    cp.n_threads = 1;
    engine::Context ctx(m, cp);
    ctx.set_loras(std::move(loras));
    std::vector<engine::BatchToken> batch;
    for (size_t i = 0; i < kToks.size(); ++i) batch.push_back({kToks[i], (int32_t)i, 0, true});
    return ctx.decode(batch);
}

TEST(Lora, AdapterLoadsInEngineWithTrainerLogitsAndMergesTheSame) {
    const ScopedFrozenMatmul f32(FrozenMatmul::FrozenMatmul_f32);  // trainer logits = engine (f32) logits
    const std::string base_path = test::tiny_model("llama", "f16");
    auto base = engine::Model::load(base_path);
    const std::string ad_path = test::tmp_path("adapter.gguf");
    auto tm = trained_lora(*base, ad_path);
    const Param * b0 = tm->find_param("blk.0.attn_q.weight.lora_b");
    ASSERT_NE(b0, nullptr);
    double bnorm = 0;
    for (float x : b0->w) bnorm += std::abs(x);
    EXPECT_GT(bnorm, 0.0);  // B moved away from zero

    auto ad = engine::LoraAdapter::load(ad_path, *base);
    EXPECT_FLOAT_EQ(ad->alpha(), 8.0f);
    EXPECT_NE(ad->pair(1, engine::Proj::Proj_down), nullptr);
    EXPECT_EQ(ad->pair(0, engine::Proj::Proj_k), nullptr);

    Batch b;
    b.tokens = kToks;
    for (size_t i = 0; i < kToks.size(); ++i) {
        b.pos.push_back((int32_t)i);
        b.targets.push_back(0);
        b.loss.push_back(0);
    }
    b.segs = {{0, (int64_t)kToks.size()}};
    const auto ours = tm->forward_logits(b);
    const auto applied = engine_logits(*base, {{ad, 1.0f}});
    const auto plain = engine_logits(*base, {});
    double d = 0, d_plain = 0, ref = 0;
    for (size_t i = 0; i < ours.size(); ++i) {
        d = std::max(d, (double)std::abs(ours[i] - applied[i]));
        d_plain = std::max(d_plain, (double)std::abs(plain[i] - applied[i]));
        ref = std::max(ref, (double)std::abs(applied[i]));
    }
    EXPECT_LT(d, 3e-3 * std::max(1.0, ref));
    EXPECT_GT(d_plain, 10 * d);  // the adapter changes the logits measurably

    const std::string merged_path = test::tmp_path("merged.gguf");
    merge_lora_file(base_path, ad_path, 1.0f, merged_path);
    auto merged = engine::Model::load(merged_path);
    EXPECT_EQ(merged->layers()[0].wq.type, DType::DType_f16);  // re-quantized to the original type
    const auto ml = engine_logits(*merged, {});
    double dm = 0;
    for (size_t i = 0; i < ml.size(); ++i) dm = std::max(dm, (double)std::abs(ml[i] - applied[i]));
    EXPECT_LT(dm, 5e-3 * std::max(1.0, ref));
    EXPECT_GT(d_plain, 5 * dm);
}

}  // namespace
}  // namespace sy::train
