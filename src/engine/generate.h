// Generation over a Context: SequenceDecoder is the per-sequence step logic (optional token constraint
// such as a grammar matcher, sampling, stop strings, UTF-8-safe streaming); generate() runs one sequence
// with it (prompt prefill in batches, then one token or one jump-forward stretch per step). The scheduler
// (scheduler.h) runs many decoders in one batch.
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

using TextFn = std::function<bool(const std::string &)>;

// The per-sequence step logic shared by generate() and the scheduler (scheduler.h): given the logits of
// the last token fed, it applies the constraint (jump-forward, mask, end-of-generation tokens), samples,
// handles stop strings, UTF-8-safe streaming and n_predict, and says which tokens to feed next. The
// caller owns the Context and runs the forward passes, so many decoders can share one batch.
//
//   SequenceDecoder d(model, prompt, params, constraint, on_text);
//   logits = decode(prompt, last wants logits);
//   while (true) { auto next = d.step(logits); if (d.done()) break; logits = decode(next, last wants logits); }
//   GenerateResult r = d.finish();
class SequenceDecoder {
public:
    // prompt: the whole prompt (history for the repetition penalty). The constraint and on_text must
    // outlive the decoder.
    SequenceDecoder(const Model & model, const std::vector<int32_t> & prompt, const GenerateParams & params,
                    TokenConstraint * constraint, TextFn on_text);

    // logits [n_vocab] of the last token fed (modified in place). Returns the tokens to feed next, in
    // order, the last one wanting logits; empty once done().
    std::vector<int32_t> step(float * logits);
    bool done() const { return done_; }
    // Ends generation now (StopReason_callback), e.g. a cancelled request.
    void cancel();
    // Flushes held-back text to on_text (unless cancelled) and returns the result (timings left at 0).
    GenerateResult finish();
    const GenerateResult & result() const { return res_; }
    int32_t n_generated() const { return n_out_; }

private:
    bool emit_token(int32_t token, const SampleResult & sr, bool forced);
    void stop(StopReason r);

    const Model & model_;
    GenerateParams params_;
    TokenConstraint * constraint_;
    TextFn on_text_;
    Sampler sampler_;
    GenerateResult res_;
    std::vector<int32_t> history_;
    std::vector<uint32_t> mask_;
    std::string pending_;  // generated text not yet emitted (UTF-8 tail or possible stop-string prefix)
    size_t max_stop_ = 0;
    int32_t n_out_ = 0;
    bool forced_checked_ = false;  // jump-forward already tried for the token about to be sampled
    bool done_ = false;
    bool finished_ = false;
};

// on_text receives complete UTF-8 text as it is produced; returning false stops generation.
GenerateResult generate(Context & ctx, const std::vector<int32_t> & prompt, const GenerateParams & params,
                        TokenConstraint * constraint = nullptr, const TextFn & on_text = nullptr);

// Length of the longest prefix of s that ends on a UTF-8 character boundary (incomplete tail held back).
size_t utf8_complete_prefix(const std::string & s);

}  // namespace sy::engine
