// The training loop: epochs of shuffled, packed batches; gradient accumulation; AdamW with warmup + cosine;
// validation loss every N steps with early stopping (best weights restored); checkpoints (weights +
// optimizer state + step + data position) with resume; a stop flag (set by a SIGINT handler) that saves a
// checkpoint and returns. Deterministic for a given seed and thread count.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "train/data.h"
#include "train/model.h"
#include "train/optimizer.h"

namespace sy::train {

struct StepInfo {
    int64_t step = 0;                   // 1-based optimizer step
    int64_t total = 0;                  // planned steps
    int32_t epoch = 0;
    double loss = 0.0;                  // mean over the step's loss tokens
    std::optional<double> valid_loss;   // set on evaluation steps
    double lr = 0.0, grad_norm = 0.0;
    int64_t tokens = 0;                 // positions processed this step
    double tokens_per_s = 0.0;          // running average
    double elapsed_s = 0.0;
};

struct TrainConfig {
    int32_t epochs = 1;
    int64_t batch_tokens = 512;    // positions per micro-batch (packed)
    int32_t grad_accum = 1;        // micro-batches per optimizer step
    AdamWParams opt;
    int64_t warmup_steps = -1;     // -1: 5% of the planned steps
    float min_lr_ratio = 0.1f;
    int64_t max_steps = 0;         // 0: no limit beyond the epochs
    int64_t eval_every = 50;       // steps between validation passes (and one at the end)
    int32_t patience = 0;          // evaluations without improvement before stopping; 0 = never stop early
    uint64_t seed = 0;
    int32_t n_threads = 2;
    std::string checkpoint_path;   // empty: no checkpoints
    int64_t checkpoint_every = 0;  // steps; 0: only on interrupt and at the end
    std::string log_path;          // JSONL, one object per step; empty: none
    const std::atomic<bool> * stop = nullptr;  // polled after every optimizer step
    std::function<void(const StepInfo &)> on_step;
};

struct TrainResult {
    int64_t steps = 0;
    std::vector<double> losses;              // per step
    std::optional<double> best_valid_loss;
    int64_t best_step = 0;
    bool stopped_early = false;
    bool interrupted = false;
    double seconds = 0.0;
    int64_t tokens = 0;
};

// Mean loss per loss token over the examples (batches of batch_tokens).
double evaluate(TrainModel & m, const std::vector<TrainExample> & examples, int64_t batch_tokens);

// Trains `m` in place. With resume_from set, continues from that checkpoint (same data and config).
TrainResult train(TrainModel & m, const std::vector<TrainExample> & train_set,
                  const std::vector<TrainExample> & valid_set, const TrainConfig & cfg,
                  const std::string & resume_from = "");

// Checkpoint file: weights + AdamW moments + counters (checkpoint.cpp).
struct CheckpointState {
    int64_t step = 0;         // optimizer steps done
    int32_t epoch = 0;        // epoch in progress
    int64_t batch_in_epoch = 0;  // micro-batches of that epoch already consumed
    int64_t adam_t = 0;
    double best_valid = 0.0;
    int64_t best_step = 0;
    int32_t bad_evals = 0;
};
void save_checkpoint(const std::string & path, const TrainModel & m, AdamW & opt, const CheckpointState & st);
// Restores weights and moments into m/opt (names and sizes must match). Throws sy::Error otherwise.
CheckpointState load_checkpoint(const std::string & path, TrainModel & m, AdamW & opt);

}  // namespace sy::train
