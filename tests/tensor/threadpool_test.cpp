// ThreadPool: every thread index runs exactly once per run(), parallel_for covers [0, n) exactly once,
// jobs see each other's writes after run() returns, exceptions reach the caller, and many quick
// dispatches (spin path) and dispatches after idling (parked path) both complete. Dispatch latency is
// measured by bench/matmul_bench.cpp, not asserted here (the test machine is shared).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tensor/threadpool.h"

namespace sy {
namespace {

TEST(ThreadPool, RunsEveryIndexOnce) {
    for (int n : {1, 2, 3, 5}) {
        ThreadPool pool(n);
        EXPECT_EQ(pool.size(), n);
        std::vector<std::atomic<int>> hits(n);
        for (auto & h : hits) h = 0;
        for (int rep = 0; rep < 50; ++rep)
            pool.run([&](int ith, int nth) {
                EXPECT_EQ(nth, n);
                hits[ith].fetch_add(1);
            });
        for (int i = 0; i < n; ++i) EXPECT_EQ(hits[i].load(), 50) << "thread " << i;
    }
}

TEST(ThreadPool, SingleThreadRunsInline) {
    ThreadPool pool(1);
    const auto caller = std::this_thread::get_id();
    std::thread::id seen;
    pool.run([&](int, int) { seen = std::this_thread::get_id(); });
    EXPECT_EQ(seen, caller);
}

TEST(ThreadPool, CallerIsThreadZero) {
    ThreadPool pool(3);
    const auto caller = std::this_thread::get_id();
    std::thread::id zero;
    pool.run([&](int ith, int) {
        if (ith == 0) zero = std::this_thread::get_id();
    });
    EXPECT_EQ(zero, caller);
}

TEST(ThreadPool, ParallelForCoversRangeOnce) {
    ThreadPool pool(3);
    for (int64_t n : {0, 1, 2, 3, 7, 1000}) {
        std::vector<int> seen(n, 0);
        std::atomic<int> calls{0};
        pool.parallel_for(n, [&](int64_t b, int64_t e, int ith) {
            EXPECT_LT(ith, 3);
            EXPECT_LT(b, e);
            calls.fetch_add(1);
            for (int64_t i = b; i < e; ++i) seen[i] += 1;  // disjoint chunks: no race
        });
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(seen[i], 1) << "n=" << n << " i=" << i;
        EXPECT_LE(calls.load(), std::min<int64_t>(n, 3));
    }
}

TEST(ThreadPool, ManyQuickDispatchesSumCorrectly) {
    ThreadPool pool(2);
    std::vector<int64_t> part(2, 0);
    int64_t total = 0;
    for (int rep = 0; rep < 1000; ++rep) {
        pool.run([&](int ith, int) { part[ith] = rep * 2 + ith; });
        total += part[0] + part[1];  // plain reads: run() must order the workers' writes before return
    }
    int64_t expect = 0;
    for (int rep = 0; rep < 1000; ++rep) expect += rep * 4 + 1;
    EXPECT_EQ(total, expect);
}

TEST(ThreadPool, WakesParkedWorkers) {
    ThreadPool pool(3);
    for (int rep = 0; rep < 3; ++rep) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));  // longer than the spin window
        std::atomic<int> n{0};
        pool.run([&](int, int) { n.fetch_add(1); });
        EXPECT_EQ(n.load(), 3);
    }
}

TEST(ThreadPool, ExceptionReachesCallerAndPoolStaysUsable) {
    ThreadPool pool(2);
    EXPECT_THROW(pool.run([](int ith, int) {
        if (ith == 1) throw std::runtime_error("boom");
    }),
                 std::runtime_error);
    std::atomic<int> n{0};
    pool.run([&](int, int) { n.fetch_add(1); });
    EXPECT_EQ(n.load(), 2);
}

TEST(ThreadPool, RejectsZeroThreads) { EXPECT_ANY_THROW(ThreadPool(0)); }

}  // namespace
}  // namespace sy
