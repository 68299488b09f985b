// AdamW with decoupled weight decay (not applied to norms and biases: Param::decay), global-norm gradient
// clipping, and a linear-warmup + cosine-decay learning-rate schedule.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "train/model.h"

namespace sy::train {

struct AdamWParams {
    float lr = 1e-3f;
    float beta1 = 0.9f;
    float beta2 = 0.999f;
    float eps = 1e-8f;
    float weight_decay = 0.01f;
    float clip_norm = 1.0f;  // 0 = no clipping
};

// lr at optimizer step `step` (0-based) of `total`: linear warmup over `warmup` steps, then cosine decay
// to min_ratio · lr.
float lr_schedule(float lr, int64_t step, int64_t warmup, int64_t total, float min_ratio = 0.1f);

class AdamW {
public:
    AdamW(const std::vector<std::unique_ptr<Param>> & params, const AdamWParams & p);

    // Clips the gradients to clip_norm (global L2 norm, in double, fixed order) and applies one update with
    // learning rate `lr`. Returns the gradient norm before clipping.
    double step(const std::vector<std::unique_ptr<Param>> & params, float lr);

    int64_t n_steps() const { return t_; }
    // Optimizer state for checkpoints: first and second moments per parameter, in parameter order.
    std::vector<std::vector<float>> & m() { return m_; }
    std::vector<std::vector<float>> & v() { return v_; }
    void set_n_steps(int64_t t) { t_ = t; }
    const AdamWParams & params() const { return p_; }

private:
    AdamWParams p_;
    int64_t t_ = 0;
    std::vector<std::vector<float>> m_, v_;
};

}  // namespace sy::train
