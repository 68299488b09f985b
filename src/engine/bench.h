// llama-bench style throughput measurement: prompt processing (one batch of n_prompt random tokens) and
// text generation (n_gen single-token steps from an empty cache), median and spread over repetitions,
// plus the machine's read bandwidth so generation can be put against its bandwidth bound
// (tokens/s ≤ bandwidth / bytes of weights read per token).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/model.h"

namespace sy::engine {

struct BenchParams {
    int32_t n_prompt = 512;
    int32_t n_gen = 128;
    int32_t n_threads = 2;
    int32_t reps = 3;
    bool measure_bandwidth = true;
};

struct BenchStat {
    double median = 0.0, min = 0.0, max = 0.0, stddev = 0.0;  // tokens/s
    std::vector<double> samples;
};

struct BenchResult {
    BenchStat pp, tg;
    double bandwidth_gbs = 0.0;      // measured read bandwidth with n_threads
    double tg_bound_tokens_per_s = 0.0;
    uint64_t bytes_per_token = 0;    // weight bytes streamed per generated token
};

BenchResult run_bench(const Model & model, const BenchParams & params);

// Best-of-3 read bandwidth (GB/s) over a buffer much larger than the caches, with n_threads threads.
double measure_read_bandwidth(int n_threads);

}  // namespace sy::engine
