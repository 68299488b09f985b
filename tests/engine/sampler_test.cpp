// Sampler semantics on hand-made logits.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "engine/sampler.h"

using namespace sy::engine;

namespace {

std::vector<float> logits5() { return {1.0f, 3.0f, 2.0f, -1.0f, 0.5f}; }

TEST(Sampler, GreedyTakesArgmaxAndReportsLogprob) {
    SamplingParams p;
    p.temperature = 0.0f;
    p.n_logprobs = 3;
    Sampler s(p);
    auto l = logits5();
    SampleResult r = s.sample(l, nullptr, {});
    EXPECT_EQ(r.token, 1);
    double z = 0;
    for (float x : logits5()) z += std::exp(x);
    EXPECT_NEAR(r.logprob, 3.0 - std::log(z), 1e-5);
    ASSERT_EQ(r.top.size(), 3u);
    EXPECT_EQ(r.top[0].token, 1);
    EXPECT_EQ(r.top[1].token, 2);
    EXPECT_EQ(r.top[2].token, 0);
    EXPECT_NEAR(r.top[1].logprob, 2.0 - std::log(z), 1e-5);
}

TEST(Sampler, MaskRenormalisesOverAllowedTokens) {
    SamplingParams p;
    p.temperature = 0.0f;
    Sampler s(p);
    auto l = logits5();
    uint32_t mask = (1u << 0) | (1u << 4);  // only tokens 0 and 4
    SampleResult r = s.sample(l, &mask, {});
    EXPECT_EQ(r.token, 0);
    const double z = std::exp(1.0) + std::exp(0.5);
    EXPECT_NEAR(r.prob_allowed, std::exp(1.0) / z, 1e-5);
}

TEST(Sampler, TopKOneIsGreedyAndSeedIsDeterministic) {
    SamplingParams p;
    p.temperature = 1.0f;
    p.top_k = 1;
    Sampler s(p);
    for (int i = 0; i < 10; ++i) {
        auto l = logits5();
        EXPECT_EQ(s.sample(l, nullptr, {}).token, 1);
    }
    SamplingParams q;
    q.temperature = 1.0f;
    q.top_k = 0;
    q.top_p = 1.0f;
    q.min_p = 0.0f;
    q.seed = 9;
    Sampler a(q), b(q);
    std::map<int, int> counts;
    for (int i = 0; i < 2000; ++i) {
        auto la = logits5(), lb = logits5();
        const int ta = a.sample(la, nullptr, {}).token;
        EXPECT_EQ(ta, b.sample(lb, nullptr, {}).token);
        counts[ta]++;
    }
    // Frequencies follow the softmax: p(1) = e^3 / Σ ≈ 0.61.
    double z = 0;
    for (float x : logits5()) z += std::exp(x);
    EXPECT_NEAR(counts[1] / 2000.0, std::exp(3.0) / z, 0.04);
    EXPECT_GT(counts[3], 0);
}

TEST(Sampler, TopPAndMinPTruncate) {
    SamplingParams p;
    p.temperature = 1.0f;
    p.top_k = 0;
    p.top_p = 0.5f;  // token 1 alone holds ~0.61
    p.min_p = 0.0f;
    Sampler s(p);
    for (int i = 0; i < 50; ++i) {
        auto l = logits5();
        EXPECT_EQ(s.sample(l, nullptr, {}).token, 1);
    }
    SamplingParams m;
    m.temperature = 1.0f;
    m.top_k = 0;
    m.top_p = 1.0f;
    m.min_p = 0.3f;  // keeps tokens with p >= 0.3·p_max: 1 (1.0) and 2 (e^-1 ≈ 0.37)
    Sampler t(m);
    for (int i = 0; i < 200; ++i) {
        auto l = logits5();
        const int tok = t.sample(l, nullptr, {}).token;
        EXPECT_TRUE(tok == 1 || tok == 2) << tok;
    }
}

TEST(Sampler, RepetitionPenaltyDemotesSeenTokens) {
    SamplingParams p;
    p.temperature = 0.0f;
    p.repeat_penalty = 2.0f;  // 3.0 -> 1.5 < 2.0
    Sampler s(p);
    auto l = logits5();
    const int32_t hist[] = {1};
    SampleResult r = s.sample(l, nullptr, hist);
    EXPECT_EQ(r.token, 2);
}

}  // namespace
