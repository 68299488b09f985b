// Token sampling: greedy, temperature, top-k, top-p, min-p, repetition penalty, seeded RNG, optional
// token mask (from a grammar), and per-token log-probabilities with top-k alternatives.
//
// Order of operations: mask → repetition penalty → (greedy if temperature <= 0) → top-k → temperature
// → softmax → top-p → min-p → draw. Log-probabilities are those of the model's distribution after the
// mask (renormalised over allowed tokens) at temperature 1, before any truncation: what OpenAI reports.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace sy::engine {

struct SamplingParams {
    float temperature = 0.8f;  // <= 0: greedy
    int32_t top_k = 40;        // <= 0: off
    float top_p = 0.95f;       // >= 1: off
    float min_p = 0.05f;       // <= 0: off
    float repeat_penalty = 1.0f;  // 1: off (llama.cpp semantics: logit>0 ? /p : *p)
    int32_t repeat_last_n = 64;
    uint64_t seed = 0;
    int32_t n_logprobs = 0;    // top alternatives to report (0: chosen token's logprob only)
};

struct TokenLogprob {
    int32_t token = 0;
    float logprob = 0.0f;
};

struct SampleResult {
    int32_t token = 0;
    float logprob = 0.0f;        // log p(token) after mask, temperature 1
    float prob_allowed = 1.0f;   // = exp(logprob): probability renormalised over the allowed tokens
    std::vector<TokenLogprob> top;  // n_logprobs best alternatives, descending
};

class Sampler {
public:
    explicit Sampler(const SamplingParams & params);

    // logits [n_vocab] are modified in place. mask: 32-bit words, bit (id % 32) of word id / 32 set =
    // allowed; nullptr = all allowed. history: previously generated/prompt tokens (repetition penalty).
    SampleResult sample(std::span<float> logits, const uint32_t * mask, std::span<const int32_t> history);

    const SamplingParams & params() const { return params_; }

private:
    SamplingParams params_;
    std::mt19937_64 rng_;
    std::vector<std::pair<float, int32_t>> cand_;
};

}  // namespace sy::engine
