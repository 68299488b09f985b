// The training loop (see trainer.h).
#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "train/gemm.h"

namespace sy::train {
namespace {

uint64_t mix(uint64_t a, uint64_t b) {
    uint64_t z = a + 0x9E3779B97F4A7C15ull * (b + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// Fisher-Yates with a splitmix stream: the same order on every platform.
std::vector<size_t> epoch_order(size_t n, uint64_t seed, int32_t epoch) {
    std::vector<size_t> o(n);
    for (size_t i = 0; i < n; ++i) o[i] = i;
    uint64_t s = mix(seed, (uint64_t)epoch + 1000);
    for (size_t i = n; i > 1; --i) {
        s = mix(s, i);
        std::swap(o[i - 1], o[s % i]);
    }
    return o;
}

std::vector<size_t> iota(size_t n) {
    std::vector<size_t> o(n);
    for (size_t i = 0; i < n; ++i) o[i] = i;
    return o;
}

}  // namespace

double evaluate(TrainModel & m, const std::vector<TrainExample> & examples, int64_t batch_tokens) {
    double sum = 0.0;
    int64_t n = 0;
    for (const Batch & b : pack_batches(examples, iota(examples.size()), batch_tokens)) {
        const int64_t k = b.n_loss();
        if (k == 0) continue;
        sum += m.forward_loss(b);
        n += k;
    }
    return n ? sum / (double)n : 0.0;
}

TrainResult train(TrainModel & m, const std::vector<TrainExample> & train_set,
                  const std::vector<TrainExample> & valid_set, const TrainConfig & cfg, const std::string & resume_from) {
    if (train_set.empty()) throw Error(ErrorKind::ErrorKind_invalid_argument, "no training examples");
    if (cfg.epochs <= 0 || cfg.grad_accum <= 0 || cfg.batch_tokens <= 1)
        throw Error(ErrorKind::ErrorKind_invalid_argument, "epochs, grad_accum must be > 0 and batch_tokens > 1");
    gemm_set_threads(cfg.n_threads);
    AdamW opt(m.params(), cfg.opt);
    CheckpointState st;
    st.best_valid = INFINITY;
    if (!resume_from.empty()) st = load_checkpoint(resume_from, m, opt);

    // Each epoch packs its own order, so the number of batches varies by epoch: count them all, so the
    // schedule ends and the last step (with its validation pass) is the one the progress bar calls last.
    int64_t total = 0;
    for (int32_t e = 0; e < cfg.epochs; ++e) {
        const int64_t nb = (int64_t)pack_batches(train_set, epoch_order(train_set.size(), cfg.seed, e), cfg.batch_tokens).size();
        total += (nb + cfg.grad_accum - 1) / cfg.grad_accum;
    }
    if (cfg.max_steps > 0) total = std::min(total, cfg.max_steps);
    const int64_t warmup = cfg.warmup_steps >= 0 ? cfg.warmup_steps : std::max<int64_t>(1, total / 20);
    const bool early = cfg.patience > 0 && !valid_set.empty();
    std::vector<std::vector<float>> best;

    std::ofstream log;
    if (!cfg.log_path.empty()) {
        log.open(cfg.log_path, resume_from.empty() ? std::ios::trunc : std::ios::app);
        if (!log) throw Error(ErrorKind::ErrorKind_io, "cannot write log '" + cfg.log_path + "'");
    }

    TrainResult res;
    const auto t0 = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    auto checkpoint = [&](int32_t epoch, int64_t bi) {
        if (cfg.checkpoint_path.empty()) return;
        st.epoch = epoch;
        st.batch_in_epoch = bi;
        st.adam_t = opt.n_steps();
        save_checkpoint(cfg.checkpoint_path, m, opt, st);
    };

    bool done = st.step >= total;
    for (int32_t epoch = st.epoch; epoch < cfg.epochs && !done; ++epoch) {
        const std::vector<Batch> batches =
            pack_batches(train_set, epoch_order(train_set.size(), cfg.seed, epoch), cfg.batch_tokens);
        int64_t bi = epoch == st.epoch ? st.batch_in_epoch : 0;
        while (bi < (int64_t)batches.size() && !done) {
            const int64_t be = std::min<int64_t>((int64_t)batches.size(), bi + cfg.grad_accum);
            int64_t n_loss = 0, n_tok = 0;
            for (int64_t j = bi; j < be; ++j) {
                n_loss += batches[j].n_loss();
                n_tok += (int64_t)batches[j].tokens.size();
            }
            StepInfo info;
            if (n_loss > 0) {
                m.zero_grad();
                double loss = 0.0;
                for (int64_t j = bi; j < be; ++j)
                    loss += m.forward_backward(batches[j], 1.0f / (float)n_loss, mix(cfg.seed, (uint64_t)(st.step * 1024 + (j - bi))));
                info.lr = lr_schedule(cfg.opt.lr, st.step, warmup, total, cfg.min_lr_ratio);
                info.grad_norm = opt.step(m.params(), (float)info.lr);
                info.loss = loss;
            }
            bi = be;
            ++st.step;
            res.tokens += n_tok;
            res.losses.push_back(info.loss);
            done = st.step >= total;

            info.step = st.step;
            info.total = total;
            info.epoch = epoch;
            info.tokens = n_tok;
            info.elapsed_s = elapsed();
            info.tokens_per_s = res.tokens / std::max(1e-9, info.elapsed_s);
            if (!valid_set.empty() && (st.step % std::max<int64_t>(1, cfg.eval_every) == 0 || done)) {
                const double vl = evaluate(m, valid_set, cfg.batch_tokens);
                info.valid_loss = vl;
                if (vl < st.best_valid) {
                    st.best_valid = vl;
                    st.best_step = st.step;
                    st.bad_evals = 0;
                    if (early) {
                        best.resize(m.params().size());
                        for (size_t k = 0; k < best.size(); ++k) best[k] = m.params()[k]->w;
                    }
                } else if (early && ++st.bad_evals >= cfg.patience) {
                    res.stopped_early = true;
                    done = true;
                }
            }
            if (log.is_open()) {
                nlohmann::json j = {{"step", info.step}, {"total", info.total}, {"epoch", info.epoch},
                                    {"loss", info.loss}, {"lr", info.lr}, {"grad_norm", info.grad_norm},
                                    {"tokens", info.tokens}, {"tokens_per_s", info.tokens_per_s},
                                    {"elapsed_s", info.elapsed_s}};
                if (info.valid_loss) j["valid_loss"] = *info.valid_loss;
                log << j.dump() << "\n";
                log.flush();
            }
            if (cfg.on_step) cfg.on_step(info);
            if (cfg.checkpoint_every > 0 && st.step % cfg.checkpoint_every == 0) checkpoint(epoch, bi);
            if (cfg.stop && cfg.stop->load()) {
                checkpoint(bi >= (int64_t)batches.size() ? epoch + 1 : epoch, bi >= (int64_t)batches.size() ? 0 : bi);
                res.interrupted = true;
                done = true;
            }
        }
    }
    if (!res.interrupted && !cfg.checkpoint_path.empty()) checkpoint(cfg.epochs, 0);
    if (early && !best.empty())
        for (size_t k = 0; k < best.size(); ++k) m.params()[k]->w = best[k];
    res.steps = st.step;
    if (st.best_valid < INFINITY) {
        res.best_valid_loss = st.best_valid;
        res.best_step = st.best_step;
    }
    res.seconds = elapsed();
    return res;
}

}  // namespace sy::train
