// Generation: the per-sequence decoder (constraint, sampling, stop strings, streaming) and generate(),
// which drives one sequence through it. The scheduler drives many decoders through one batch.
#include "engine/generate.h"

#include <algorithm>
#include <chrono>

namespace sy::engine {
namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

const char * stop_reason_name(StopReason r) {
    switch (r) {
        case StopReason::StopReason_length: return "length";
        case StopReason::StopReason_eog: return "stop";
        case StopReason::StopReason_stop_string: return "stop";
        case StopReason::StopReason_constraint: return "stop";
        case StopReason::StopReason_callback: return "cancelled";
    }
    return "stop";
}

size_t utf8_complete_prefix(const std::string & s) {
    // Walk back over at most 3 continuation bytes to the last lead byte and check its sequence fits.
    size_t n = s.size();
    size_t i = n;
    int back = 0;
    while (i > 0 && back < 4) {
        const unsigned char c = (unsigned char)s[i - 1];
        if ((c & 0xC0) != 0x80) {
            size_t need = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
            return (n - (i - 1) >= need) ? n : i - 1;
        }
        --i;
        ++back;
    }
    return n;  // not UTF-8 shaped; pass through
}

SequenceDecoder::SequenceDecoder(const Model & model, const std::vector<int32_t> & prompt, const GenerateParams & params,
                                 TokenConstraint * constraint, TextFn on_text)
    : model_(model), params_(params), constraint_(constraint), on_text_(std::move(on_text)), sampler_(params.sampling),
      history_(prompt) {
    res_.n_prompt = (int32_t)prompt.size();
    for (const auto & s : params_.stop) max_stop_ = std::max(max_stop_, s.size());
}

void SequenceDecoder::stop(StopReason r) {
    res_.stop_reason = r;
    done_ = true;
}

void SequenceDecoder::cancel() {
    if (!done_) stop(StopReason::StopReason_callback);
}

// Appends one token's text, handles stop strings and streaming; returns false when generation ends.
bool SequenceDecoder::emit_token(int32_t token, const SampleResult & sr, bool forced) {
    res_.tokens.push_back({token, sr, forced});
    history_.push_back(token);
    const std::string & piece = model_.tokenizer().token_piece(token);
    pending_ += piece;
    res_.text += piece;
    bool stopped = false;
    for (const auto & st : params_.stop) {
        const size_t at = res_.text.find(st);
        if (at == std::string::npos) continue;
        const size_t cut = res_.text.size() - at;  // bytes to drop from the end
        res_.text.resize(at);
        pending_.resize(pending_.size() >= cut ? pending_.size() - cut : 0);
        stopped = true;
        break;
    }
    // Emit what can no longer be part of a stop string and ends on a character boundary.
    size_t emit = pending_.size() > max_stop_ ? pending_.size() - max_stop_ : 0;
    emit = stopped ? pending_.size() : utf8_complete_prefix(pending_.substr(0, emit));
    if (on_text_ && emit > 0 && !on_text_(pending_.substr(0, emit))) {
        pending_.erase(0, emit);
        stop(StopReason::StopReason_callback);
        return false;
    }
    pending_.erase(0, emit);
    if (stopped) {
        stop(StopReason::StopReason_stop_string);
        return false;
    }
    return true;
}

std::vector<int32_t> SequenceDecoder::step(float * logits) {
    if (done_) return {};
    const int32_t n_vocab = model_.hparams().n_vocab;
    const tok::Vocab & vocab = model_.tokenizer().vocab();
    if (n_out_ >= params_.n_predict) {
        stop(StopReason::StopReason_length);
        return {};
    }
    if (constraint_) {
        // Jump-forward once per sampled position: forced tokens are fed first, and the next step()
        // samples from the logits after them.
        if (!forced_checked_) {
            forced_checked_ = true;
            std::vector<int32_t> forced = constraint_->forced_tokens();
            if (forced.size() > (size_t)(params_.n_predict - n_out_)) forced.resize((size_t)(params_.n_predict - n_out_));
            if (!forced.empty()) {
                for (int32_t t : forced) {
                    SampleResult sr;
                    sr.token = t;
                    ++n_out_;
                    ++res_.n_forced;
                    if (!emit_token(t, sr, true)) return {};
                }
                if (n_out_ >= params_.n_predict) {
                    stop(StopReason::StopReason_length);
                    return {};
                }
                return forced;
            }
        }
        forced_checked_ = false;
        if (constraint_->finished()) {
            stop(StopReason::StopReason_constraint);
            return {};
        }
        mask_.assign(((size_t)n_vocab + 31) / 32, 0u);
        constraint_->fill_mask(mask_.data(), n_vocab);
        if (constraint_->finished()) {
            stop(StopReason::StopReason_constraint);
            return {};
        }
        if (constraint_->can_stop())
            for (int32_t id : vocab.eog_ids_) mask_[id >> 5] |= 1u << (id & 31);
        constraint_->observe_distribution(logits, n_vocab);
    }
    SampleResult s = sampler_.sample(std::span<float>(logits, (size_t)n_vocab), constraint_ ? mask_.data() : nullptr, history_);
    if (vocab.is_eog(s.token)) {
        stop(StopReason::StopReason_eog);
        return {};
    }
    if (constraint_) constraint_->accept(s.token, s.prob_allowed);
    ++n_out_;
    if (!emit_token(s.token, s, false)) return {};
    if (n_out_ >= params_.n_predict) {
        stop(StopReason::StopReason_length);
        return {};
    }
    return {s.token};
}

GenerateResult SequenceDecoder::finish() {
    if (!finished_) {
        finished_ = true;
        if (on_text_ && !pending_.empty() && res_.stop_reason != StopReason::StopReason_callback) on_text_(pending_);
        pending_.clear();
    }
    return res_;
}

GenerateResult generate(Context & ctx, const std::vector<int32_t> & prompt, const GenerateParams & params,
                        TokenConstraint * constraint, const TextFn & on_text) {
    if (prompt.empty()) throw Error(ErrorKind::ErrorKind_invalid_argument, "generate: empty prompt");
    if ((int64_t)prompt.size() + 1 > ctx.params().n_ctx)
        throw Error(ErrorKind::ErrorKind_limit, "prompt of " + std::to_string(prompt.size()) +
                                                    " tokens does not fit the context (n_ctx = " +
                                                    std::to_string(ctx.params().n_ctx) + ")");
    ctx.seq_clear(params.seq);

    auto t0 = std::chrono::steady_clock::now();
    std::vector<BatchToken> batch(prompt.size());
    for (size_t i = 0; i < prompt.size(); ++i) batch[i] = {prompt[i], (int32_t)i, params.seq, i + 1 == prompt.size()};
    std::vector<float> logits = ctx.decode(batch);
    const double prompt_ms = ms_since(t0);

    auto t1 = std::chrono::steady_clock::now();
    SequenceDecoder dec(ctx.model(), prompt, params, constraint, on_text);
    while (true) {
        const std::vector<int32_t> next = dec.step(logits.data());
        if (dec.done()) break;
        batch.clear();
        for (size_t i = 0; i < next.size(); ++i)
            batch.push_back({next[i], ctx.seq_len(params.seq) + (int32_t)i, params.seq, i + 1 == next.size()});
        logits = ctx.decode(batch);
    }
    GenerateResult res = dec.finish();
    res.prompt_ms = prompt_ms;
    res.gen_ms = ms_since(t1);
    return res;
}

}  // namespace sy::engine
