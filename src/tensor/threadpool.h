// A fixed pool of worker threads for data-parallel kernels. The calling thread takes part as thread 0.
// Workers spin briefly on a generation counter between jobs (per-op dispatch must cost ~1 µs: a decode
// step issues hundreds of ops), then sleep on a condition variable when idle.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

namespace sy {

class ThreadPool {
public:
    explicit ThreadPool(int n_threads);  // n_threads >= 1 (1 = run inline, no workers)
    ~ThreadPool();
    ThreadPool(const ThreadPool &) = delete;
    ThreadPool & operator=(const ThreadPool &) = delete;

    int size() const;

    // Calls fn(thread_index, n_threads) once on each thread (thread 0 = caller) and returns when all are done.
    void run(const std::function<void(int ith, int nth)> & fn);

    // Splits [0, n) into contiguous chunks, at most one per thread; fn(begin, end, ith).
    void parallel_for(int64_t n, const std::function<void(int64_t begin, int64_t end, int ith)> & fn);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sy
