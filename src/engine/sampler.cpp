#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_set>

#include "common/error.h"

namespace sy::engine {

Sampler::Sampler(const SamplingParams & params) : params_(params), rng_(params.seed) {}

SampleResult Sampler::sample(std::span<float> logits, const uint32_t * mask, std::span<const int32_t> history) {
    const int64_t n = (int64_t)logits.size();
    const float neg_inf = -std::numeric_limits<float>::infinity();
    if (mask)
        for (int64_t i = 0; i < n; ++i)
            if (!((mask[i >> 5] >> (i & 31)) & 1u)) logits[i] = neg_inf;

    // Log-softmax over the allowed tokens (temperature 1) for the reported log-probabilities.
    float mx = neg_inf;
    for (float l : logits) mx = std::max(mx, l);
    if (mx == neg_inf) throw Error(ErrorKind::ErrorKind_internal, "sampler: no token is allowed");
    double z = 0.0;
    for (float l : logits) z += std::exp((double)l - mx);
    const float log_z = (float)(mx + std::log(z));

    SampleResult res;
    if (params_.n_logprobs > 0) {
        std::vector<std::pair<float, int32_t>> best;
        best.reserve(n);
        for (int64_t i = 0; i < n; ++i)
            if (logits[i] != neg_inf) best.emplace_back(logits[i], (int32_t)i);
        const size_t k = std::min(best.size(), (size_t)params_.n_logprobs);
        std::partial_sort(best.begin(), best.begin() + k, best.end(),
                          [](const auto & a, const auto & b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
        for (size_t i = 0; i < k; ++i) res.top.push_back({best[i].second, best[i].first - log_z});
    }

    // The penalty edits logits; remember the originals of edited entries for the reported logprob.
    std::vector<std::pair<int32_t, float>> original;
    if (params_.repeat_penalty != 1.0f && params_.repeat_last_n != 0) {
        const size_t take = params_.repeat_last_n < 0 ? history.size()
                                                      : std::min(history.size(), (size_t)params_.repeat_last_n);
        std::unordered_set<int32_t> seen(history.end() - take, history.end());
        for (int32_t id : seen) {
            if (id < 0 || id >= n || logits[id] == neg_inf) continue;
            original.emplace_back(id, logits[id]);
            logits[id] = logits[id] > 0 ? logits[id] / params_.repeat_penalty : logits[id] * params_.repeat_penalty;
        }
    }

    int32_t chosen = 0;
    if (params_.temperature <= 0.0f) {
        chosen = (int32_t)(std::max_element(logits.begin(), logits.end()) - logits.begin());
    } else {
        cand_.clear();
        for (int64_t i = 0; i < n; ++i)
            if (logits[i] != neg_inf) cand_.emplace_back(logits[i], (int32_t)i);
        auto by_logit = [](const auto & a, const auto & b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
        size_t keep = cand_.size();
        if (params_.top_k > 0 && (size_t)params_.top_k < keep) {
            keep = (size_t)params_.top_k;
            std::partial_sort(cand_.begin(), cand_.begin() + keep, cand_.end(), by_logit);
            cand_.resize(keep);
        } else {
            std::sort(cand_.begin(), cand_.end(), by_logit);
        }
        // Softmax at temperature.
        const float top = cand_[0].first;
        double sum = 0.0;
        for (auto & c : cand_) {
            c.first = (float)std::exp(((double)c.first - top) / params_.temperature);
            sum += c.first;
        }
        for (auto & c : cand_) c.first = (float)(c.first / sum);
        if (params_.top_p < 1.0f) {
            double cum = 0.0;
            size_t k = 0;
            while (k < cand_.size()) {
                cum += cand_[k].first;
                ++k;
                if (cum >= params_.top_p) break;
            }
            cand_.resize(std::max<size_t>(k, 1));
        }
        if (params_.min_p > 0.0f) {
            const float floor = cand_[0].first * params_.min_p;
            size_t k = 1;
            while (k < cand_.size() && cand_[k].first >= floor) ++k;
            cand_.resize(k);
        }
        double total = 0.0;
        for (const auto & c : cand_) total += c.first;
        std::uniform_real_distribution<double> U(0.0, total);
        double r = U(rng_), acc = 0.0;
        chosen = cand_.back().second;
        for (const auto & c : cand_) {
            acc += c.first;
            if (r < acc) { chosen = c.second; break; }
        }
    }

    res.token = chosen;
    float chosen_logit = logits[chosen];
    for (const auto & [id, l] : original)
        if (id == chosen) chosen_logit = l;
    // (top-k/temperature/top-p work on cand_, so logits[] still holds the masked, penalised logits.)
    res.logprob = chosen_logit - log_z;
    res.prob_allowed = std::exp(res.logprob);
    return res;
}

}  // namespace sy::engine
