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
    for (int32_t i = 0; i < params.n_predict; ++i) {
        if (constraint && constraint->finished()) { res.stop_reason = StopReason::StopReason_constraint; break; }
        const uint32_t * mp = nullptr;
        if (constraint) {
            mask.assign(((size_t)n_vocab + 31) / 32, 0u);
            constraint->fill_mask(mask.data(), n_vocab);
            if (constraint->can_stop())
                for (int32_t id : vocab.eog_ids_) mask[id >> 5] |= 1u << (id & 31);
            mp = mask.data();
        }
        SampleResult s = sampler.sample(std::span<float>(logits.data(), (size_t)n_vocab), mp, history);
        if (vocab.is_eog(s.token)) { res.stop_reason = StopReason::StopReason_eog; break; }
        res.tokens.push_back({s.token, s});
        history.push_back(s.token);
        if (constraint) constraint->accept(s.token);

        pending += model.tokenizer().token_piece(s.token);
        res.text += model.tokenizer().token_piece(s.token);
        bool stopped = false;
        for (const auto & st : params.stop) {
            const size_t at = res.text.find(st);
            if (at != std::string::npos) {
                const size_t cut = res.text.size() - at;  // bytes to drop from the end
                res.text.resize(at);
                pending.resize(pending.size() >= cut ? pending.size() - cut : 0);
                stopped = true;
                break;
            }
        }
        // Emit what can no longer be part of a stop string and ends on a character boundary.
        size_t emit = stopped ? pending.size() : (pending.size() > max_stop ? pending.size() - max_stop : 0);
        emit = std::min(emit, utf8_complete_prefix(pending.substr(0, emit)));
        if (stopped) emit = pending.size();
        if (on_text && emit > 0) {
            if (!on_text(pending.substr(0, emit))) { res.stop_reason = StopReason::StopReason_callback; pending.erase(0, emit); break; }
        }
        pending.erase(0, emit);
        if (stopped) { res.stop_reason = StopReason::StopReason_stop_string; break; }
        if (i + 1 == params.n_predict) break;
        BatchToken bt{s.token, ctx.seq_len(params.seq), params.seq, true};
        logits = ctx.decode({bt});
    }
    if (on_text && !pending.empty() && res.stop_reason != StopReason::StopReason_callback) on_text(pending);
    res.gen_ms = ms_since(t1);
    return res;
}

}  // namespace sy::engine
