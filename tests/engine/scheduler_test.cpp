// The engine scheduler: concurrent jobs give exactly what generate() gives one by one (greedy, seeded
// sampling, grammar-constrained); the prefix cache reuses tokens without changing results; cancellation,
// the queue limit and bad input; per-sequence LoRA in one batch equals each sequence run alone.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <random>
#include <thread>

#include "engine/grammar_constraint.h"
#include "engine/model_init.h"
#include "engine/scheduler.h"
#include "engine/test_dir.h"

namespace fs = std::filesystem;
using namespace sy;
using namespace sy::engine;
using ojson = nlohmann::ordered_json;

namespace {

const Model & tiny() {
    static std::unique_ptr<Model> m = [] {
        const fs::path p = sy::test::scratch_dir() / "scheduler_tiny.gguf";
        InitParams ip;
        ip.dtype = "q8_0";
        ip.seed = 21;
        init_random_model(ip, p.string());
        return Model::load(p.string());
    }();
    return *m;
}

std::vector<int32_t> prompt_of(const Model & m, const std::string & text) { return m.tokenizer().encode(text); }

GenerateResult reference(const Model & m, const std::vector<int32_t> & prompt, const GenerateParams & gp,
                         TokenConstraint * c = nullptr, const std::vector<ActiveLora> & loras = {}) {
    ContextParams cp;
    cp.n_ctx = 512;
    Context ctx(m, cp);
    ctx.set_loras(loras);
    return generate(ctx, prompt, gp, c);
}

std::vector<int32_t> tokens_of(const GenerateResult & r) {
    std::vector<int32_t> t;
    for (const auto & g : r.tokens) t.push_back(g.token);
    return t;
}

GenerateParams greedy(int n) {
    GenerateParams gp;
    gp.n_predict = n;
    gp.sampling.temperature = 0.0f;
    return gp;
}

// Allows every token but the end-of-generation ones: a job that runs for exactly n_predict tokens.
class NoEog : public TokenConstraint {
public:
    explicit NoEog(const Model & m) : m_(m) {}
    void fill_mask(uint32_t * words, int32_t n_vocab) override {
        for (int32_t i = 0; i < (n_vocab + 31) / 32; ++i) words[i] = ~0u;
        for (int32_t id : m_.tokenizer().vocab().eog_ids_) words[id >> 5] &= ~(1u << (id & 31));
    }
    void accept(int32_t, float) override {}
    bool finished() const override { return false; }
    bool can_stop() const override { return false; }

private:
    const Model & m_;
};

// A job that keeps its slot busy until cancelled (slow streaming, no end-of-generation).
Job slow_job(const Model & m, const std::string & text) {
    Job j;
    j.prompt = prompt_of(m, text);
    j.params = greedy(400);
    j.constraint = std::make_shared<NoEog>(m);
    j.on_text = [](const std::string &) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return true;
    };
    return j;
}

void wait_until(const std::function<bool()> & cond) {
    for (int i = 0; i < 2000 && !cond(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_TRUE(cond());
}

TEST(Scheduler, ConcurrentJobsEqualGenerateOneByOne) {
    const Model & m = tiny();
    SchedulerParams sp;
    sp.n_slots = 3;  // fewer slots than jobs: some wait in the queue
    sp.n_ctx = 256;
    sp.n_batch = 24;  // long prompts are prefilled in chunks mixed with decode steps
    Scheduler sched(m, sp);
    const std::vector<std::string> texts = {"Hello there", "The quick brown fox jumps over the lazy dog again and again",
                                            "a", "Switchyard routes tool calls", "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15",
                                            "Another prompt, of middling length."};
    std::vector<JobHandle> handles;
    std::vector<GenerateParams> gps;
    for (size_t i = 0; i < texts.size(); ++i) {
        GenerateParams gp = greedy(16 + (int)i * 3);
        if (i % 2 == 1) {  // seeded sampling is per job, so it must match too
            gp.sampling.temperature = 0.9f;
            gp.sampling.seed = 100 + i;
        }
        gps.push_back(gp);
        Job j;
        j.prompt = prompt_of(m, texts[i]);
        j.params = gp;
        handles.push_back(sched.submit(std::move(j)));
    }
    for (size_t i = 0; i < texts.size(); ++i) {
        const JobResult r = handles[i].wait();
        const GenerateResult ref = reference(m, prompt_of(m, texts[i]), gps[i]);
        EXPECT_EQ(tokens_of(r.result), tokens_of(ref)) << "job " << i;
        EXPECT_EQ(r.result.text, ref.text) << "job " << i;
        EXPECT_EQ(r.result.stop_reason, ref.stop_reason) << "job " << i;
        EXPECT_EQ(r.result.n_prompt, (int32_t)prompt_of(m, texts[i]).size());
    }
    const SchedulerStats st = sched.stats();
    EXPECT_EQ(st.n_jobs_done, texts.size());
    EXPECT_EQ(st.n_active, 0);
    EXPECT_EQ(st.n_slots, 3);
}

TEST(Scheduler, StreamedTextEqualsResultText) {
    const Model & m = tiny();
    SchedulerParams sp;
    sp.n_slots = 2;
    sp.n_ctx = 128;
    Scheduler sched(m, sp);
    std::string streamed;
    Job j;
    j.prompt = prompt_of(m, "stream me");
    j.params = greedy(30);
    j.params.stop = {"zz"};
    j.on_text = [&](const std::string & s) {
        streamed += s;
        return true;
    };
    const JobResult r = sched.submit(std::move(j)).wait();
    EXPECT_EQ(streamed, r.result.text);
}

TEST(Scheduler, PrefixCacheReusesTokensWithoutChangingResults) {
    const Model & m = tiny();
    const std::string system = "System: you route requests to tools. Tools: create_task, list_tasks, update_task. ";
    const auto p1 = prompt_of(m, system + "User: add milk");
    const auto p2 = prompt_of(m, system + "User: list my tasks");
    size_t shared = 0;
    while (shared < std::min(p1.size(), p2.size()) && p1[shared] == p2[shared]) ++shared;
    ASSERT_GT(shared, 10u);

    for (bool cache : {true, false}) {
        SchedulerParams sp;
        sp.n_slots = 2;
        sp.n_ctx = 256;
        sp.prefix_cache = cache;
        Scheduler sched(m, sp);
        Job a;
        a.prompt = p1;
        a.params = greedy(12);
        const JobResult ra = sched.submit(std::move(a)).wait();
        EXPECT_EQ(ra.n_cached, 0);
        Job b;
        b.prompt = p2;
        b.params = greedy(12);
        const JobResult rb = sched.submit(std::move(b)).wait();
        EXPECT_EQ(rb.n_cached, cache ? (int32_t)shared : 0);
        EXPECT_EQ(tokens_of(rb.result), tokens_of(reference(m, p2, greedy(12))));
        // The same prompt again: everything but its last token comes from the cache.
        Job c;
        c.prompt = p2;
        c.params = greedy(12);
        const JobResult rc = sched.submit(std::move(c)).wait();
        EXPECT_EQ(rc.n_cached, cache ? (int32_t)p2.size() - 1 : 0);
        EXPECT_EQ(tokens_of(rc.result), tokens_of(rb.result));
        EXPECT_EQ(sched.stats().n_cached_tokens, cache ? shared + p2.size() - 1 : 0u);
    }
}

TEST(Scheduler, PrefixIsCopiedFromABusySlot) {
    const Model & m = tiny();
    SchedulerParams sp;
    sp.n_slots = 2;
    sp.n_ctx = 512;
    Scheduler sched(m, sp);
    const std::string system = "System: a long shared preamble that both requests carry before their own text. ";
    JobHandle busy = sched.submit(slow_job(m, system + "first"));
    wait_until([&] { return sched.stats().n_active == 1 && sched.stats().n_prompt_tokens > 0; });
    const auto p2 = prompt_of(m, system + "second one");
    Job j;
    j.prompt = p2;
    j.params = greedy(10);
    const JobResult r = sched.submit(std::move(j)).wait();
    EXPECT_GT(r.n_cached, 10);
    EXPECT_EQ(tokens_of(r.result), tokens_of(reference(m, p2, greedy(10))));
    busy.cancel();
    EXPECT_EQ(busy.wait().result.stop_reason, StopReason::StopReason_callback);
}

TEST(Scheduler, CancelRunningAndQueuedJobs) {
    const Model & m = tiny();
    SchedulerParams sp;
    sp.n_slots = 1;
    sp.n_ctx = 512;
    Scheduler sched(m, sp);
    JobHandle running = sched.submit(slow_job(m, "running"));
    JobHandle queued = sched.submit(slow_job(m, "queued"));
    wait_until([&] { return sched.stats().n_active == 1; });
    queued.cancel();
    const JobResult q = queued.wait();
    EXPECT_EQ(q.result.stop_reason, StopReason::StopReason_callback);
    EXPECT_TRUE(q.result.tokens.empty()) << "a cancelled queued job never starts";
    EXPECT_FALSE(running.wait_for(std::chrono::milliseconds(20)).has_value()) << "still running";
    running.cancel();
    const JobResult r = running.wait();
    EXPECT_EQ(r.result.stop_reason, StopReason::StopReason_callback);
    EXPECT_LT(r.result.tokens.size(), 400u);

    // on_text returning false cancels too.
    Job j = slow_job(m, "callback");
    int calls = 0;
    j.on_text = [&](const std::string &) { return ++calls < 3; };
    const JobResult c = sched.submit(std::move(j)).wait();
    EXPECT_EQ(c.result.stop_reason, StopReason::StopReason_callback);
    EXPECT_EQ(calls, 3);
}

TEST(Scheduler, QueueLimitAndBadInput) {
    const Model & m = tiny();
    SchedulerParams sp;
    sp.n_slots = 1;
    sp.n_ctx = 64;
    sp.max_queue = 1;
    Scheduler sched(m, sp);
    JobHandle a = sched.submit(slow_job(m, "a"));
    wait_until([&] { return sched.stats().n_active == 1; });
    JobHandle b = sched.submit(slow_job(m, "b"));
    try {
        sched.submit(slow_job(m, "c"));
        FAIL() << "expected the queue limit";
    } catch (const Error & e) {
        EXPECT_EQ(e.kind(), ErrorKind::ErrorKind_limit);
        EXPECT_NE(std::string(e.what()).find("queue"), std::string::npos) << e.what();
    }
    Job empty;
    EXPECT_THROW(sched.submit(std::move(empty)), Error);
    Job bad;
    bad.prompt = {1, m.hparams().n_vocab};
    EXPECT_THROW(sched.submit(std::move(bad)), Error);
    Job too_long;
    too_long.prompt.assign(64, 5);
    try {
        sched.submit(std::move(too_long));
        FAIL() << "expected a context error";
    } catch (const Error & e) {
        EXPECT_EQ(e.kind(), ErrorKind::ErrorKind_limit);
        EXPECT_NE(std::string(e.what()).find("context"), std::string::npos);
    }
    a.cancel();
    b.cancel();
    a.wait();
    b.wait();
    // A job that generates past n_ctx gets a limit error; the engine keeps serving.
    Job over = slow_job(m, "overflow");
    over.on_text = nullptr;
    try {
        sched.submit(std::move(over)).wait();
        FAIL() << "expected a context overflow";
    } catch (const Error & e) {
        EXPECT_EQ(e.kind(), ErrorKind::ErrorKind_limit);
        EXPECT_NE(std::string(e.what()).find("context overflow"), std::string::npos) << e.what();
    }
    Job ok;
    ok.prompt = prompt_of(m, "still alive");
    ok.params = greedy(4);
    EXPECT_EQ(tokens_of(sched.submit(std::move(ok)).wait().result), tokens_of(reference(m, prompt_of(m, "still alive"), greedy(4))));
}

TEST(Scheduler, GrammarConstrainedJobsMatchGenerate) {
    const Model & m = tiny();
    auto g = grammar::compile_json_schema(ojson::parse(
        R"({"type":"object","properties":{"id":{"type":"integer","minimum":1,"maximum":99},"tag":{"enum":["a","bb","ccc"]}},"required":["id","tag"]})"));
    SchedulerParams sp;
    sp.n_slots = 3;
    sp.n_ctx = 256;
    Scheduler sched(m, sp);
    std::vector<JobHandle> handles;
    std::vector<std::shared_ptr<GrammarConstraint>> cs;
    auto params_for = [](uint64_t seed) {
        GenerateParams gp;
        gp.n_predict = 100;
        gp.sampling.temperature = 1.0f;
        gp.sampling.top_k = 0;
        gp.sampling.top_p = 1.0f;
        gp.sampling.min_p = 0.0f;
        gp.sampling.seed = seed;
        return gp;
    };
    for (uint64_t seed = 1; seed <= 4; ++seed) {
        Job j;
        j.prompt = prompt_of(m, "Output: ");
        j.params = params_for(seed);
        cs.push_back(std::make_shared<GrammarConstraint>(bind_grammar(g, m.tokenizer()), m.tokenizer(), seed % 2 == 0));
        j.constraint = cs.back();
        handles.push_back(sched.submit(std::move(j)));
    }
    for (uint64_t seed = 1; seed <= 4; ++seed) {
        const JobResult r = handles[seed - 1].wait();
        GrammarConstraint ref_c(bind_grammar(g, m.tokenizer()), m.tokenizer(), seed % 2 == 0);
        const GenerateResult ref = reference(m, prompt_of(m, "Output: "), params_for(seed), &ref_c);
        EXPECT_EQ(r.result.text, ref.text) << "seed " << seed;
        EXPECT_EQ(r.result.n_forced, ref.n_forced) << "seed " << seed;
        EXPECT_TRUE(cs[seed - 1]->matcher().can_terminate()) << r.result.text;
        const ojson v = ojson::parse(r.result.text, nullptr, false);
        ASSERT_FALSE(v.is_discarded()) << r.result.text;
        EXPECT_TRUE(v.contains("id") && v.contains("tag")) << r.result.text;
    }
}

// ---- per-sequence LoRA ----

std::shared_ptr<LoraAdapter> make_adapter(const Model & m, const std::string & name, unsigned seed) {
    gguf::Writer w;
    w.set("general.architecture", gguf::Value::string(m.hparams().arch));
    w.set("general.type", gguf::Value::string("adapter"));
    w.set("adapter.type", gguf::Value::string("lora"));
    w.set("adapter.lora.alpha", gguf::Value::f32(16.0f));
    std::mt19937 rng(seed);
    std::normal_distribution<float> N(0.0f, 0.1f);
    const int r = 4;
    std::vector<std::vector<float>> keep;
    for (int il = 0; il < m.hparams().n_layer; ++il) {
        for (Proj p : {Proj::Proj_v, Proj::Proj_up}) {
            const WeightView & base = p == Proj::Proj_v ? m.layers()[il].wv : m.layers()[il].w_up;
            std::vector<float> a((size_t)r * base.n_in), b((size_t)base.n_out * r);
            for (auto & x : a) x = N(rng);
            for (auto & x : b) x = N(rng);
            const std::string n = "blk." + std::to_string(il) + "." + proj_tensor_suffix(p);
            const int64_t ne_a[2] = {base.n_in, r}, ne_b[2] = {r, base.n_out};
            keep.push_back(std::move(a));
            w.add_tensor(n + ".lora_a", (uint32_t)DType::DType_f32, ne_a,
                         {reinterpret_cast<const uint8_t *>(keep.back().data()), keep.back().size() * 4});
            keep.push_back(std::move(b));
            w.add_tensor(n + ".lora_b", (uint32_t)DType::DType_f32, ne_b,
                         {reinterpret_cast<const uint8_t *>(keep.back().data()), keep.back().size() * 4});
        }
    }
    const std::string path = (sy::test::scratch_dir() / name).string();
    w.write(path);
    return LoraAdapter::load(path, m);
}

double rel_err(const float * a, const float * b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; ++i) {
        num += (double)(a[i] - b[i]) * (a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    return std::sqrt(num / den);
}

TEST(SchedulerLora, MixedBatchLogitsEqualEachSequenceAlone) {
    const Model & m = tiny();
    auto ad = make_adapter(m, "mixed_a.gguf", 5);
    const int32_t n_vocab = m.hparams().n_vocab;
    ContextParams cp;
    cp.n_ctx = 32;
    cp.n_seq = 3;
    Context mixed(m, cp);
    mixed.set_seq_loras(0, {{ad, 1.0f}});   // seq 0: adapter; seq 1: none; seq 2: adapter at half scale
    mixed.set_seq_loras(2, {{ad, 0.5f}});
    std::vector<BatchToken> b;
    for (int i = 0; i < 6; ++i)
        for (int s = 0; s < 3; ++s) b.push_back({(i * 31 + s * 7 + 3) % n_vocab, i, s, i == 5});
    const std::vector<float> got = mixed.decode(b);
    ASSERT_EQ(got.size(), (size_t)3 * n_vocab);

    const float scales[3] = {1.0f, 0.0f, 0.5f};
    for (int s = 0; s < 3; ++s) {
        ContextParams c1 = cp;
        c1.n_seq = 1;
        Context alone(m, c1);
        if (scales[s] != 0.0f) alone.set_loras({{ad, scales[s]}});
        std::vector<BatchToken> one;
        for (int i = 0; i < 6; ++i) one.push_back({(i * 31 + s * 7 + 3) % n_vocab, i, 0, i == 5});
        const std::vector<float> want = alone.decode(one);
        EXPECT_LT(rel_err(got.data() + (size_t)s * n_vocab, want.data(), (size_t)n_vocab), 1e-5) << "seq " << s;
    }
    // The adapter does change the logits (else the test proves nothing).
    EXPECT_GT(rel_err(got.data(), got.data() + n_vocab, (size_t)n_vocab), 1e-2);
}

TEST(SchedulerLora, JobsWithDifferentAdaptersShareBatches) {
    const Model & m = tiny();
    auto a1 = make_adapter(m, "job_a1.gguf", 7);
    auto a2 = make_adapter(m, "job_a2.gguf", 8);
    SchedulerParams sp;
    sp.n_slots = 3;
    sp.n_ctx = 128;
    Scheduler sched(m, sp);
    const auto prompt = prompt_of(m, "same prompt for everyone");
    const std::vector<std::vector<ActiveLora>> sets = {{}, {{a1, 1.0f}}, {{a2, 1.0f}}, {{a1, 1.0f}, {a2, 0.5f}}};
    std::vector<JobHandle> hs;
    for (const auto & s : sets) {
        Job j;
        j.prompt = prompt;
        j.params = greedy(12);
        j.loras = s;
        hs.push_back(sched.submit(std::move(j)));
    }
    std::vector<std::vector<int32_t>> outs;
    for (size_t i = 0; i < sets.size(); ++i) {
        const JobResult r = hs[i].wait();
        EXPECT_EQ(tokens_of(r.result), tokens_of(reference(m, prompt, greedy(12), nullptr, sets[i]))) << "set " << i;
        outs.push_back(tokens_of(r.result));
    }
    EXPECT_NE(outs[0], outs[1]) << "the adapter should change the greedy continuation";
    // A cached prefix computed under other adapters is never reused.
    Job j;
    j.prompt = prompt;
    j.params = greedy(12);
    j.loras = sets[2];
    const JobResult r = sched.submit(std::move(j)).wait();
    EXPECT_EQ(tokens_of(r.result), outs[2]);
}

}  // namespace
