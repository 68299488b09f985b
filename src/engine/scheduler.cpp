// The engine scheduler: one engine thread, one Context with n_slots sequence slots, continuous batching.
//
// Each turn of the engine loop: (1) drop cancelled jobs from the queue, (2) admit queued jobs into free
// slots, placing each where the prefix cache saves the most, (3) build one batch — the pending tokens of
// running jobs first (one sampled token, or a jump-forward stretch), then prompt chunks of jobs still in
// prefill, up to n_batch tokens — and run it with Context::decode, (4) hand each job whose last fed token
// produced logits to its SequenceDecoder (generate.h: constraint, sampling, stop strings, streaming),
// which says what to feed next or that the job is done.
//
// Prefix cache: slot_cached_[s] mirrors exactly the tokens in slot s's KV cache (and the adapters they
// were computed with). A job reuses the longest common prefix of its prompt with any slot whose
// adapters match: in place when that slot is free, else copied into a free slot with
// Context::seq_copy_prefix. At least the last prompt token is always recomputed (its logits are needed).
//
// Errors stay with their job: a failing step delivers the exception to that job's handle; the engine
// thread never dies of a request.
#include "engine/scheduler.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <thread>

namespace sy::engine {

using Clock = std::chrono::steady_clock;

namespace {

double ms_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

bool same_loras(const std::vector<ActiveLora> & a, const std::vector<ActiveLora> & b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (a[i].adapter != b[i].adapter || a[i].scale != b[i].scale) return false;
    return true;
}

size_t common_prefix(const std::vector<int32_t> & a, const std::vector<int32_t> & b) {
    const size_t n = std::min(a.size(), b.size());
    size_t i = 0;
    while (i < n && a[i] == b[i]) ++i;
    return i;
}

}  // namespace

struct JobHandle::State {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::optional<JobResult> result;
    std::exception_ptr error;
    std::atomic<bool> cancelled{false};

    void deliver(JobResult r) {
        {
            std::lock_guard<std::mutex> lock(mu);
            if (done) return;
            result = std::move(r);
            done = true;
        }
        cv.notify_all();
    }
    void fail(std::exception_ptr e) {
        {
            std::lock_guard<std::mutex> lock(mu);
            if (done) return;
            error = std::move(e);
            done = true;
        }
        cv.notify_all();
    }
};

JobResult JobHandle::wait() {
    std::unique_lock<std::mutex> lock(state_->mu);
    state_->cv.wait(lock, [&] { return state_->done; });
    if (state_->error) std::rethrow_exception(state_->error);
    return *state_->result;
}

std::optional<JobResult> JobHandle::wait_for(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(state_->mu);
    if (!state_->cv.wait_for(lock, timeout, [&] { return state_->done; })) return std::nullopt;
    if (state_->error) std::rethrow_exception(state_->error);
    return *state_->result;
}

void JobHandle::cancel() { state_->cancelled.store(true); }

struct Scheduler::Impl {
    struct Queued {
        Job job;
        std::shared_ptr<JobHandle::State> state;
        Clock::time_point submitted;
    };
    struct Running {
        Job job;
        std::shared_ptr<JobHandle::State> state;
        std::unique_ptr<SequenceDecoder> dec;
        std::vector<int32_t> input;  // tokens still to feed: prompt remainder, then the decoder's output
        size_t input_pos = 0;
        bool prefilling = true;
        int32_t n_cached = 0;
        Clock::time_point submitted, admitted, first_logits;
        std::vector<float> logits;  // this job's row of the last batch (the sampler modifies it)
    };
    struct Slot {
        std::vector<int32_t> cached;     // tokens in this slot's KV cache, in order (size == ctx.seq_len)
        std::vector<ActiveLora> loras;   // adapters the cached tokens were computed with
        std::unique_ptr<Running> job;    // null when free
    };
    // One slot's share of a batch.
    struct Part {
        int32_t slot;
        size_t n;
        bool want_logits;
    };

    Impl(const Model & m, const SchedulerParams & p) : model(m), params(p), ctx(m, context_params(p)) {
        slots.resize((size_t)p.n_slots);
    }

    static ContextParams context_params(const SchedulerParams & p) {
        if (p.n_slots <= 0 || p.n_ctx <= 1 || p.n_batch <= 0 || p.n_threads <= 0)
            throw Error(ErrorKind::ErrorKind_invalid_argument, "scheduler: n_slots, n_batch, n_threads must be > 0 and n_ctx > 1");
        ContextParams cp;
        cp.n_ctx = p.n_ctx;
        cp.n_seq = p.n_slots;
        cp.n_batch = p.n_batch;
        cp.n_threads = p.n_threads;
        return cp;
    }

    void run();
    void sweep_cancelled_queue();  // under mu
    void place(Queued q);
    void step();
    void complete(int32_t s);
    void fail(int32_t s, std::exception_ptr e);
    void free_slot(int32_t s, bool keep_cache);

    const Model & model;
    SchedulerParams params;
    Context ctx;  // engine thread only
    std::vector<Slot> slots;  // engine thread only
    std::thread thread;

    mutable std::mutex mu;  // guards everything below
    std::condition_variable cv;
    std::deque<Queued> queue;
    bool stopping = false;
    SchedulerStats stats;
};

void Scheduler::Impl::sweep_cancelled_queue() {
    for (auto it = queue.begin(); it != queue.end();) {
        if (!it->state->cancelled.load()) {
            ++it;
            continue;
        }
        JobResult r;
        r.result.n_prompt = (int32_t)it->job.prompt.size();
        r.result.stop_reason = StopReason::StopReason_callback;
        r.queue_ms = ms_between(it->submitted, Clock::now());
        it->state->deliver(std::move(r));
        it = queue.erase(it);
    }
}

void Scheduler::Impl::run() {
    while (true) {
        std::vector<Queued> admitted;
        {
            std::unique_lock<std::mutex> lock(mu);
            cv.wait(lock, [&] { return stopping || !queue.empty() || stats.n_active > 0; });
            if (stopping) break;
            sweep_cancelled_queue();
            int32_t n_free = 0;
            for (const Slot & s : slots) n_free += s.job ? 0 : 1;
            while (n_free > 0 && !queue.empty()) {
                admitted.push_back(std::move(queue.front()));
                queue.pop_front();
                --n_free;
                ++stats.n_active;
            }
        }
        for (Queued & q : admitted) {
            const std::shared_ptr<JobHandle::State> state = q.state;
            try {
                place(std::move(q));
            } catch (...) {
                state->fail(std::current_exception());
                std::lock_guard<std::mutex> lock(mu);
                --stats.n_active;
            }
        }
        step();
    }
    // Shutting down: running jobs end as cancelled with what they have; queued ones never start.
    for (int32_t s = 0; s < (int32_t)slots.size(); ++s) {
        if (!slots[(size_t)s].job) continue;
        slots[(size_t)s].job->dec->cancel();
        complete(s);
    }
    std::lock_guard<std::mutex> lock(mu);
    for (Queued & q : queue) q.state->cancelled.store(true);
    sweep_cancelled_queue();
}

void Scheduler::Impl::place(Queued q) {
    const std::vector<int32_t> & prompt = q.job.prompt;
    // The free slot to use and, possibly, a better prefix to copy from any slot with the same adapters.
    int32_t dst = -1;
    size_t dst_lcp = 0, best_lcp = 0;
    int32_t best_src = -1;
    for (int32_t s = 0; s < (int32_t)slots.size(); ++s) {
        const Slot & sl = slots[(size_t)s];
        const size_t lcp = params.prefix_cache && same_loras(sl.loras, q.job.loras) ? common_prefix(sl.cached, prompt) : 0;
        if (!sl.job) {
            // Among free slots: the longest reusable prefix; on a tie the one holding the least (keeps
            // longer cached prefixes of other slots for later jobs).
            if (dst < 0 || lcp > dst_lcp || (lcp == dst_lcp && sl.cached.size() < slots[(size_t)dst].cached.size())) {
                dst = s;
                dst_lcp = lcp;
            }
        }
        if (lcp > best_lcp) {
            best_lcp = lcp;
            best_src = s;
        }
    }
    SY_ASSERT(dst >= 0);
    const size_t max_reuse = prompt.size() - 1;  // the last prompt token is always run for its logits
    size_t reuse = std::min(dst_lcp, max_reuse);
    Slot & slot = slots[(size_t)dst];
    if (best_src >= 0 && best_src != dst && std::min(best_lcp, max_reuse) > reuse) {
        reuse = std::min(best_lcp, max_reuse);
        ctx.seq_copy_prefix(best_src, dst, (int32_t)reuse);
        slot.cached.assign(slots[(size_t)best_src].cached.begin(), slots[(size_t)best_src].cached.begin() + (std::ptrdiff_t)reuse);
    } else {
        ctx.seq_truncate(dst, (int32_t)reuse);
        slot.cached.resize(reuse);
    }
    slot.loras = q.job.loras;
    ctx.set_seq_loras(dst, q.job.loras);

    auto r = std::make_unique<Running>();
    r->job = std::move(q.job);
    r->state = std::move(q.state);
    r->submitted = q.submitted;
    r->admitted = Clock::now();
    r->n_cached = (int32_t)reuse;
    r->input.assign(r->job.prompt.begin() + (std::ptrdiff_t)reuse, r->job.prompt.end());
    r->dec = std::make_unique<SequenceDecoder>(model, r->job.prompt, r->job.params, r->job.constraint.get(), r->job.on_text);
    slot.job = std::move(r);
    std::lock_guard<std::mutex> lock(mu);
    stats.n_cached_tokens += reuse;
}

void Scheduler::Impl::free_slot(int32_t s, bool keep_cache) {
    Slot & slot = slots[(size_t)s];
    slot.job.reset();
    if (!keep_cache) {
        ctx.seq_clear(s);
        slot.cached.clear();
    }
    std::lock_guard<std::mutex> lock(mu);
    --stats.n_active;
}

void Scheduler::Impl::complete(int32_t s) {
    Running & r = *slots[(size_t)s].job;
    try {
        JobResult jr;
        jr.result = r.dec->finish();  // may stream the held-back tail through on_text
        const Clock::time_point now = Clock::now();
        const bool got_logits = !r.prefilling;
        jr.queue_ms = ms_between(r.submitted, r.admitted);
        jr.result.prompt_ms = got_logits ? ms_between(r.admitted, r.first_logits) : ms_between(r.admitted, now);
        jr.result.gen_ms = got_logits ? ms_between(r.first_logits, now) : 0.0;
        jr.n_cached = r.n_cached;
        {
            std::lock_guard<std::mutex> lock(mu);
            ++stats.n_jobs_done;
            stats.n_gen_tokens += jr.result.tokens.size();
        }
        r.state->deliver(std::move(jr));
        free_slot(s, true);
    } catch (...) {
        fail(s, std::current_exception());
    }
}

void Scheduler::Impl::fail(int32_t s, std::exception_ptr e) {
    slots[(size_t)s].job->state->fail(std::move(e));
    free_slot(s, false);
}

void Scheduler::Impl::step() {
    // Cancellations requested since the last step.
    for (int32_t s = 0; s < (int32_t)slots.size(); ++s) {
        Running * r = slots[(size_t)s].job.get();
        if (r && r->state->cancelled.load()) {
            r->dec->cancel();
            complete(s);
        }
    }

    // The batch: decoding jobs first (one token or a forced stretch each), then prompt chunks.
    std::vector<BatchToken> batch;
    std::vector<Part> parts;
    size_t budget = (size_t)params.n_batch;
    uint64_t n_prompt_tokens = 0;
    for (int pass = 0; pass < 2; ++pass) {
        for (int32_t s = 0; s < (int32_t)slots.size() && budget > 0; ++s) {
            Running * r = slots[(size_t)s].job.get();
            if (!r || r->prefilling != (pass == 1)) continue;
            const size_t left = r->input.size() - r->input_pos;
            const size_t n = std::min(left, budget);
            if (n == 0) continue;
            const int32_t pos0 = ctx.seq_len(s);
            if ((int64_t)pos0 + (int64_t)n > params.n_ctx) {
                fail(s, std::make_exception_ptr(Error(
                            ErrorKind::ErrorKind_limit,
                            "context overflow: the sequence reached n_ctx = " + std::to_string(params.n_ctx) + " tokens (prompt " +
                                std::to_string(r->job.prompt.size()) + " + " + std::to_string(r->dec->n_generated()) +
                                " generated); lower max_tokens or shorten the prompt")));
                continue;
            }
            const bool want = n == left;
            for (size_t i = 0; i < n; ++i)
                batch.push_back({r->input[r->input_pos + i], pos0 + (int32_t)i, s, want && i + 1 == n});
            parts.push_back({s, n, want});
            budget -= n;
            if (r->prefilling) n_prompt_tokens += n;
        }
    }
    if (batch.empty()) return;

    const std::vector<float> * logits = nullptr;
    try {
        logits = &ctx.decode(batch);
    } catch (...) {
        // decode() validates before touching the cache; a failure here means a bad token or position,
        // so every job of this batch gets the error (the cache is cleared to be safe).
        const std::exception_ptr e = std::current_exception();
        for (const Part & p : parts)
            if (slots[(size_t)p.slot].job) fail(p.slot, e);
        return;
    }
    {
        std::lock_guard<std::mutex> lock(mu);
        stats.n_prompt_tokens += n_prompt_tokens;
    }

    const int32_t n_vocab = model.hparams().n_vocab;
    size_t row = 0;
    const Clock::time_point now = Clock::now();
    for (const Part & p : parts) {
        Slot & slot = slots[(size_t)p.slot];
        Running & r = *slot.job;
        slot.cached.insert(slot.cached.end(), r.input.begin() + (std::ptrdiff_t)r.input_pos,
                           r.input.begin() + (std::ptrdiff_t)(r.input_pos + p.n));
        r.input_pos += p.n;
        if (!p.want_logits) continue;
        const float * lr = logits->data() + row * (size_t)n_vocab;
        ++row;
        r.logits.assign(lr, lr + n_vocab);
        if (r.prefilling) {
            r.prefilling = false;
            r.first_logits = now;
        }
        try {
            r.input = r.dec->step(r.logits.data());
            r.input_pos = 0;
        } catch (...) {
            fail(p.slot, std::current_exception());
            continue;
        }
        if (r.dec->done()) complete(p.slot);
    }
}

Scheduler::Scheduler(const Model & model, const SchedulerParams & params)
    : model_(model), params_(params), impl_(std::make_unique<Impl>(model, params)) {
    impl_->stats.n_slots = params.n_slots;
    impl_->thread = std::thread([this] { impl_->run(); });
}

Scheduler::~Scheduler() {
    {
        std::lock_guard<std::mutex> lock(impl_->mu);
        impl_->stopping = true;
    }
    impl_->cv.notify_all();
    impl_->thread.join();
}

JobHandle Scheduler::submit(Job job) {
    if (job.prompt.empty()) throw Error(ErrorKind::ErrorKind_invalid_argument, "empty prompt: nothing to generate from");
    const int32_t n_vocab = model_.hparams().n_vocab;
    for (int32_t t : job.prompt)
        if (t < 0 || t >= n_vocab)
            throw Error(ErrorKind::ErrorKind_invalid_argument,
                        "prompt token id " + std::to_string(t) + " is outside the vocabulary (0.." + std::to_string(n_vocab - 1) + ")");
    if ((int64_t)job.prompt.size() + 1 > params_.n_ctx)
        throw Error(ErrorKind::ErrorKind_limit, "prompt of " + std::to_string(job.prompt.size()) +
                                                    " tokens does not fit the context (n_ctx = " + std::to_string(params_.n_ctx) +
                                                    "); shorten the conversation");
    auto state = std::make_shared<JobHandle::State>();
    {
        std::lock_guard<std::mutex> lock(impl_->mu);
        if (impl_->stopping) throw Error(ErrorKind::ErrorKind_unavailable, "the model is shutting down");
        if (impl_->queue.size() >= params_.max_queue)
            throw Error(ErrorKind::ErrorKind_limit, "too many requests waiting for this model (queue limit " +
                                                        std::to_string(params_.max_queue) + "); retry later");
        impl_->queue.push_back({std::move(job), state, Clock::now()});
    }
    impl_->cv.notify_one();
    return JobHandle(state);
}

SchedulerStats Scheduler::stats() const {
    std::lock_guard<std::mutex> lock(impl_->mu);
    SchedulerStats s = impl_->stats;
    s.n_queued = impl_->queue.size();
    return s;
}

}  // namespace sy::engine
