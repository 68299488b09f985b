// ThreadPool (see threadpool.h): n_threads - 1 workers plus the calling thread.
//
// Protocol: run() publishes the job pointer, resets `claim` to (generation, next index 1) and bumps the
// generation counter. Thread indices 1..n-1 are claimed, not assigned: a worker that sees the new
// generation claims the next free index with a compare-and-swap on `claim` (which also checks the
// generation), runs the job for it and counts it in `finished`. The caller runs index 0, then claims and
// runs every index no worker has taken yet, and waits only for indices a worker actually took. So a worker
// that is descheduled (shared machine) or still waking up never holds up a job: the caller does its share.
// Idle workers spin on the generation for kSpinTime, then park on a condition variable; run() only takes
// the mutex to wake them when `n_parked` > 0. Both sides use sequentially consistent operations for the
// generation / n_parked pair, so a worker either sees the new generation before parking or is counted in
// n_parked and gets the notification (the usual lost-wake-up argument).
#include "tensor/threadpool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "common/error.h"

namespace sy {
namespace {

constexpr auto kSpinTime = std::chrono::microseconds(100);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#else
    std::this_thread::yield();
#endif
}

}  // namespace

struct ThreadPool::Impl {
    int n_threads = 1;
    std::vector<std::thread> workers;

    alignas(64) std::atomic<uint64_t> generation{0};
    alignas(64) std::atomic<uint64_t> claim{0};  // (generation << 32) | next unclaimed thread index
    alignas(64) std::atomic<int> finished{0};    // indices 1..n-1 done in this generation
    alignas(64) std::atomic<int> n_parked{0};
    alignas(64) std::atomic<bool> caller_sleeping{false};
    std::atomic<bool> stop{false};
    std::atomic<bool> busy{false};

    const std::function<void(int, int)> * job = nullptr;  // valid while a generation is in flight

    std::mutex mutex;
    std::condition_variable cv;

    std::mutex error_mutex;
    std::exception_ptr error;

    void run_job(int ith) {
        try {
            (*job)(ith, n_threads);
        } catch (...) {
            std::lock_guard<std::mutex> lock(error_mutex);
            if (!error) error = std::current_exception();
        }
    }

    // Claims the next index of generation gen; -1 when all are taken or gen is no longer current.
    int try_claim(uint64_t gen) {
        uint64_t c = claim.load(std::memory_order_acquire);
        for (;;) {
            if ((c >> 32) != (gen & 0xFFFFFFFFu) || (int)(c & 0xFFFFFFFFu) >= n_threads) return -1;
            if (claim.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel, std::memory_order_acquire))
                return (int)(c & 0xFFFFFFFFu);
        }
    }

    void finish_one() {
        if (finished.fetch_add(1) + 1 == n_threads - 1 && caller_sleeping.load()) finished.notify_one();
    }

    void worker_loop(int) {
        uint64_t seen = 0;
        for (;;) {
            // Spin, then park, until a new generation (or stop) appears.
            uint64_t gen = generation.load(std::memory_order_acquire);
            if (gen == seen) {
                const auto start = std::chrono::steady_clock::now();
                int spins = 0;
                while ((gen = generation.load(std::memory_order_acquire)) == seen) {
                    cpu_relax();
                    if (++spins % 256 == 0 && std::chrono::steady_clock::now() - start > kSpinTime) break;
                }
                if (gen == seen) {
                    std::unique_lock<std::mutex> lock(mutex);
                    n_parked.fetch_add(1);
                    cv.wait(lock, [&] { return (gen = generation.load()) != seen; });
                    n_parked.fetch_sub(1);
                }
            }
            seen = gen;
            if (stop.load(std::memory_order_acquire)) return;
            const int idx = try_claim(gen);
            if (idx < 0) continue;
            run_job(idx);
            finish_one();
        }
    }
};

ThreadPool::ThreadPool(int n_threads) : impl_(std::make_unique<Impl>()) {
    if (n_threads < 1)
        throw Error(ErrorKind::ErrorKind_invalid_argument,
                    "thread count must be at least 1 (got " + std::to_string(n_threads) + ")");
    impl_->n_threads = n_threads;
    impl_->workers.reserve(n_threads - 1);
    for (int i = 1; i < n_threads; ++i) impl_->workers.emplace_back([this, i] { impl_->worker_loop(i); });
}

ThreadPool::~ThreadPool() {
    Impl & p = *impl_;
    {
        std::lock_guard<std::mutex> lock(p.mutex);
        p.stop.store(true);
        p.generation.fetch_add(1);
    }
    p.cv.notify_all();
    for (auto & t : p.workers) t.join();
}

int ThreadPool::size() const { return impl_->n_threads; }

void ThreadPool::run(const std::function<void(int ith, int nth)> & fn) {
    Impl & p = *impl_;
    if (p.n_threads == 1) {
        fn(0, 1);
        return;
    }
    const bool was_busy = p.busy.exchange(true);
    SY_ASSERT_MSG(!was_busy, "ThreadPool::run called re-entrantly or from two threads at once");

    p.job = &fn;
    p.finished.store(0, std::memory_order_relaxed);
    const uint64_t gen = p.generation.load(std::memory_order_relaxed) + 1;
    p.claim.store(((gen & 0xFFFFFFFFu) << 32) | 1u, std::memory_order_relaxed);
    p.generation.fetch_add(1);  // seq_cst: publishes job/claim and orders against n_parked below
    if (p.n_parked.load() > 0) {
        { std::lock_guard<std::mutex> lock(p.mutex); }
        p.cv.notify_all();
    }

    p.run_job(0);
    for (int idx = p.try_claim(gen); idx >= 0; idx = p.try_claim(gen)) {
        p.run_job(idx);
        p.finish_one();
    }

    // Every index is claimed; wait for the workers still running theirs. Spin while they likely are; on
    // an oversubscribed machine one may be descheduled, so then sleep until the last one finishes.
    const int want = p.n_threads - 1;
    const auto start = std::chrono::steady_clock::now();
    int spins = 0;
    for (int v = p.finished.load(std::memory_order_acquire); v != want; v = p.finished.load(std::memory_order_acquire)) {
        cpu_relax();
        if (++spins % 256 == 0 && std::chrono::steady_clock::now() - start > kSpinTime) {
            p.caller_sleeping.store(true);
            while ((v = p.finished.load()) != want) p.finished.wait(v);
            p.caller_sleeping.store(false);
            break;
        }
    }
    p.job = nullptr;
    p.busy.store(false);

    if (p.error) {
        std::exception_ptr e;
        std::swap(e, p.error);
        std::rethrow_exception(e);
    }
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t begin, int64_t end, int ith)> & fn) {
    if (n <= 0) return;
    const int nth = size();
    if (nth == 1 || n == 1) {
        fn(0, n, 0);
        return;
    }
    const int64_t chunks = n < nth ? n : nth;
    run([&](int ith, int) {
        if (ith >= chunks) return;
        const int64_t begin = n * ith / chunks;
        const int64_t end = n * (ith + 1) / chunks;
        fn(begin, end, ith);
    });
}

}  // namespace sy
