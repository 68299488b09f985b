#include "engine/generate.h"

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

GenerateResult generate(Context & ctx, const std::vector<int32_t> & prompt, const GenerateParams & params,
                        TokenConstraint * constraint, const std::function<bool(const std::string &)> & on_text) {
    const Model & model = ctx.model();
    const tok::Vocab & vocab = model.tokenizer().vocab();
    const int32_t n_vocab = model.hparams().n_vocab;
    GenerateResult res;
    res.n_prompt = (int32_t)prompt.size();
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
    res.prompt_ms = ms_since(t0);

    Sampler sampler(params.sampling);
    std::vector<int32_t> history = prompt;
    std::vector<uint32_t> mask;
    std::string pending;  // generated text not yet emitted (UTF-8 tail or possible stop-string prefix)
    size_t max_stop = 0;
    for (const auto & s : params.stop) max_stop = std::max(max_stop, s.size());

    auto t1 = std::chrono::steady_clock::now();
    // Appends one token's text, handles stop strings and streaming; returns false when generation ends.
    auto emit_token = [&](int32_t token, const SampleResult & sr, bool forced) -> bool {
        res.tokens.push_back({token, sr, forced});
        history.push_back(token);
        const std::string & piece = model.tokenizer().token_piece(token);
        pending += piece;
        res.text += piece;
        bool stopped = false;
        for (const auto & st : params.stop) {
            const size_t at = res.text.find(st);
            if (at == std::string::npos) continue;
            const size_t cut = res.text.size() - at;  // bytes to drop from the end
            res.text.resize(at);
            pending.resize(pending.size() >= cut ? pending.size() - cut : 0);
            stopped = true;
            break;
        }
        // Emit what can no longer be part of a stop string and ends on a character boundary.
        size_t emit = pending.size() > max_stop ? pending.size() - max_stop : 0;
        emit = stopped ? pending.size() : utf8_complete_prefix(pending.substr(0, emit));
        if (on_text && emit > 0 && !on_text(pending.substr(0, emit))) {
            res.stop_reason = StopReason::StopReason_callback;
            pending.erase(0, emit);
            return false;
        }
        pending.erase(0, emit);
        if (stopped) {
            res.stop_reason = StopReason::StopReason_stop_string;
            return false;
        }
        return true;
    };

    int32_t n_out = 0;
    while (n_out < params.n_predict) {
        if (constraint) {
            std::vector<int32_t> forced = constraint->forced_tokens();
            if (forced.size() > (size_t)(params.n_predict - n_out)) forced.resize((size_t)(params.n_predict - n_out));
            if (!forced.empty()) {
                bool go_on = true;
                std::vector<BatchToken> fb;
                for (int32_t t : forced) {
                    SampleResult sr;
                    sr.token = t;
                    fb.push_back({t, ctx.seq_len(params.seq) + (int32_t)fb.size(), params.seq, false});
                    ++n_out;
                    ++res.n_forced;
                    if (!(go_on = emit_token(t, sr, true))) break;
                }
                if (!go_on || n_out >= params.n_predict) break;
                fb.back().want_logits = true;
                logits = ctx.decode(fb);
            }
            if (constraint->finished()) {
                res.stop_reason = StopReason::StopReason_constraint;
                break;
            }
            mask.assign(((size_t)n_vocab + 31) / 32, 0u);
            constraint->fill_mask(mask.data(), n_vocab);
            if (constraint->finished()) {
                res.stop_reason = StopReason::StopReason_constraint;
                break;
            }
            if (constraint->can_stop())
                for (int32_t id : vocab.eog_ids_) mask[id >> 5] |= 1u << (id & 31);
            constraint->observe_distribution(logits.data(), n_vocab);
        }
        SampleResult s = sampler.sample(std::span<float>(logits.data(), (size_t)n_vocab), constraint ? mask.data() : nullptr,
                                        history);
        if (vocab.is_eog(s.token)) {
            res.stop_reason = StopReason::StopReason_eog;
            break;
        }
        if (constraint) constraint->accept(s.token, s.prob_allowed);
        ++n_out;
        if (!emit_token(s.token, s, false)) break;
        if (n_out >= params.n_predict) break;
        logits = ctx.decode({BatchToken{s.token, ctx.seq_len(params.seq), params.seq, true}});
    }
    if (on_text && !pending.empty() && res.stop_reason != StopReason::StopReason_callback) on_text(pending);
    res.gen_ms = ms_since(t1);
    return res;
}

}  // namespace sy::engine
