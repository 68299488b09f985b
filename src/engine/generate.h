// A single-sequence generation loop over a Context: prompt prefill in batches, then one token per step,
// with an optional token constraint (a grammar matcher), stop strings, and UTF-8-safe streaming.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/sampler.h"

namespace sy::engine {

// Restricts which tokens may come next (implemented over the grammar layer). Words: one bit per token id.
class TokenConstraint {
public:
    virtual ~TokenConstraint() = default;
    virtual void fill_mask(uint32_t * words, int32_t n_vocab) = 0;
    // The raw logits [n_vocab] of the step about to be sampled, after fill_mask (optional: confidence
    // measures that need the whole post-constraint distribution, not just the chosen token's probability).
    virtual void observe_distribution(const float * logits, int32_t n_vocab) {
        (void)logits;
        (void)n_vocab;
    }
    // A sampled token and its probability renormalised over the allowed tokens.
    virtual void accept(int32_t token, float prob) = 0;
    virtual bool finished() const = 0;  // nothing more may be generated
    virtual bool can_stop() const = 0;  // an end-of-generation token is allowed now
    // Tokens that must come next (jump-forward), already accepted by the constraint; empty when the next
    // token is a choice. The generator appends them without sampling.
    virtual std::vector<int32_t> forced_tokens() { return {}; }
};

enum class StopReason { StopReason_length, StopReason_eog, StopReason_stop_string, StopReason_constraint, StopReason_callback };
const char * stop_reason_name(StopReason r);  // "length", "stop", ...

struct GenerateParams {
    int32_t n_predict = 128;
    SamplingParams sampling;
    std::vector<std::string> stop;  // stop strings (not included in the output)
    int32_t seq = 0;                // sequence slot of the context to use (cleared first)
};

struct GeneratedToken {
    int32_t token = 0;
    SampleResult sample;
    bool forced = false;  // appended by jump-forward, not sampled
};

struct GenerateResult {
    std::string text;
    std::vector<GeneratedToken> tokens;
    int32_t n_prompt = 0;
    StopReason stop_reason = StopReason::StopReason_length;
    int32_t n_forced = 0;  // tokens appended by jump-forward
    double prompt_ms = 0.0, gen_ms = 0.0;
};

// on_text receives complete UTF-8 text as it is produced; returning false stops generation.
GenerateResult generate(Context & ctx, const std::vector<int32_t> & prompt, const GenerateParams & params,
                        TokenConstraint * constraint = nullptr,
                        const std::function<bool(const std::string &)> & on_text = nullptr);

// Length of the longest prefix of s that ends on a UTF-8 character boundary (incomplete tail held back).
size_t utf8_complete_prefix(const std::string & s);

}  // namespace sy::engine
