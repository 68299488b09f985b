// The engine scheduler: one engine thread owns a model's Context and serves every request for that model
// by continuous batching. HTTP threads tokenize and build a Job (plain structs), submit() it and wait on
// the returned handle; the engine thread admits queued jobs into free sequence slots as soon as a slot is
// free, and each forward pass mixes prompt chunks of newly admitted jobs with one decode token of every
// running job.
//
// Prefix cache: the scheduler remembers the tokens each slot holds. A new job goes to the slot whose cached
// tokens share the longest prefix with its prompt (or copies that prefix from a busy slot with
// Context::seq_copy_prefix), so a system prompt + tool schemas shared by many requests is computed once.
//
// LoRA per job: jobs carry their own adapters; sequences with different adapters run in the same batch
// (the base product is shared; each adapter's delta is applied to its own tokens only).
//
// Not this file: HTTP, chat templates, JSON (providers/ and server/ do that).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/generate.h"
#include "engine/lora.h"

namespace sy::engine {

struct SchedulerParams {
    int32_t n_slots = 4;       // concurrent sequences (KV slots)
    int32_t n_ctx = 2048;      // positions per slot
    int32_t n_batch = 512;     // max tokens per forward pass
    int32_t n_threads = 2;
    size_t max_queue = 256;    // jobs waiting for a slot; submit() beyond it throws ErrorKind_limit
    bool prefix_cache = true;
};

struct Job {
    std::vector<int32_t> prompt;                  // tokens, BOS included when the model wants it
    GenerateParams params;                        // n_predict, sampling, stop strings (params.seq is ignored)
    std::shared_ptr<TokenConstraint> constraint;  // optional; the submitter keeps a reference to read it after
    std::vector<ActiveLora> loras;                // adapters for this job only
    // Called on the engine thread with complete UTF-8 text as it is produced (same contract as generate()'s
    // on_text); returning false cancels the job (StopReason_callback). Keep it short: it blocks the batch.
    std::function<bool(const std::string &)> on_text;
};

struct JobResult {
    GenerateResult result;  // text, tokens with logprobs, stop reason, n_prompt, prompt_ms, gen_ms
    double queue_ms = 0.0;  // submit → admitted into a slot
    int32_t n_cached = 0;   // prompt tokens reused from the prefix cache (not recomputed)
};

// The submitter's end of one job: wait for the result, or cancel it from any thread.
class JobHandle {
public:
    // Blocks until done; rethrows the job's error (sy::Error: context overflow, bad token, ...).
    JobResult wait();
    // Returns std::nullopt on timeout (the job keeps running; cancel() it if it should stop).
    std::optional<JobResult> wait_for(std::chrono::milliseconds timeout);
    void cancel();  // ends the job at its next step (StopReason_callback); a queued job never starts

    struct State;  // shared with the engine thread (scheduler.cpp)
    explicit JobHandle(std::shared_ptr<State> s) : state_(std::move(s)) {}

private:
    std::shared_ptr<State> state_;
};

struct SchedulerStats {
    int32_t n_slots = 0;
    int32_t n_active = 0;          // jobs in slots now
    size_t n_queued = 0;           // jobs waiting
    uint64_t n_jobs_done = 0;
    uint64_t n_prompt_tokens = 0;  // computed (excludes cached)
    uint64_t n_cached_tokens = 0;  // reused from the prefix cache
    uint64_t n_gen_tokens = 0;
};

class Scheduler {
public:
    Scheduler(const Model & model, const SchedulerParams & params);
    ~Scheduler();  // cancels queued and running jobs, joins the engine thread
    Scheduler(const Scheduler &) = delete;
    Scheduler & operator=(const Scheduler &) = delete;

    // Thread-safe. Throws sy::Error(ErrorKind_limit) when the queue is full or the prompt cannot fit n_ctx,
    // invalid_argument for an empty prompt or a token id outside the vocabulary.
    JobHandle submit(Job job);

    SchedulerStats stats() const;
    const Model & model() const { return model_; }
    const SchedulerParams & params() const { return params_; }

private:
    struct Impl;
    const Model & model_;
    SchedulerParams params_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sy::engine
