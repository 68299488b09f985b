// AdamW, clipping and the schedule (see optimizer.h). Update per element, with bias correction:
//   m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²;  w −= lr · (m̂ / (√v̂ + ε) + wd·w·[decay])
#include "train/optimizer.h"

#include <cmath>

namespace sy::train {

float lr_schedule(float lr, int64_t step, int64_t warmup, int64_t total, float min_ratio) {
    if (warmup > 0 && step < warmup) return lr * (float)(step + 1) / (float)warmup;
    if (total <= warmup) return lr;
    const double progress = std::min(1.0, (double)(step - warmup) / (double)std::max<int64_t>(1, total - warmup));
    const double cosv = 0.5 * (1.0 + std::cos(3.141592653589793 * progress));
    return (float)(lr * (min_ratio + (1.0 - min_ratio) * cosv));
}

AdamW::AdamW(const std::vector<std::unique_ptr<Param>> & params, const AdamWParams & p) : p_(p) {
    for (const auto & q : params) {
        m_.emplace_back(q->w.size(), 0.0f);
        v_.emplace_back(q->w.size(), 0.0f);
    }
}

double AdamW::step(const std::vector<std::unique_ptr<Param>> & params, float lr) {
    SY_ASSERT(params.size() == m_.size());
    double ss = 0.0;
    for (const auto & q : params)
        for (float g : q->g) ss += (double)g * g;
    const double norm = std::sqrt(ss);
    const float clip = (p_.clip_norm > 0.0f && norm > p_.clip_norm) ? (float)(p_.clip_norm / norm) : 1.0f;
    ++t_;
    const float bc1 = 1.0f - (float)std::pow((double)p_.beta1, (double)t_);
    const float bc2 = 1.0f - (float)std::pow((double)p_.beta2, (double)t_);
    for (size_t k = 0; k < params.size(); ++k) {
        Param & q = *params[k];
        float * m = m_[k].data();
        float * v = v_[k].data();
        const float wd = q.decay ? p_.weight_decay : 0.0f;
        for (size_t i = 0; i < q.w.size(); ++i) {
            const float g = q.g[i] * clip;
            m[i] = p_.beta1 * m[i] + (1.0f - p_.beta1) * g;
            v[i] = p_.beta2 * v[i] + (1.0f - p_.beta2) * g * g;
            const float mh = m[i] / bc1, vh = v[i] / bc2;
            q.w[i] -= lr * (mh / (std::sqrt(vh) + p_.eps) + wd * q.w[i]);
        }
    }
    return norm;
}

}  // namespace sy::train
