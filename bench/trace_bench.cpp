// Trace write cost on the request path: the latency of TraceWriter::submit() (what a request pays) with a
// real SQLite store behind it, as p50/p99 over N submits at a steady request rate, plus the writer's
// sustained commit throughput. Target: submit p50 ≤ 0.2 ms. Usage: trace_bench [n_traces] [store_url]
// (default 20000 traces into a temporary SQLite file).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "traces/store.h"
#include "traces/writer.h"

using namespace sy::traces;
using Clock = std::chrono::steady_clock;

static Trace make_trace(int i) {
    Trace t;
    t.api = "openai.chat";
    t.model = "router-135m";
    t.messages = ojson::parse(R"([{"role":"system","content":"You are the Acme support agent. Use the tools when needed."},
        {"role":"user","content":"Where is my order?"},
        {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",
          "function":{"name":"get_order_status","arguments":"{\"order_id\":\"8812\"}"}}]}])");
    t.messages[1]["content"] = "Where is my order " + std::to_string(i) + "?";
    t.tools = ojson::parse(R"([{"type":"function","function":{"name":"get_order_status","description":"Look up an order",
        "parameters":{"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"]}}}])");
    t.router_decision = "get_order_status";
    t.confidence = 0.97;
    t.confidence_parts = ojson{{"tool", 0.99}, {"arguments", 0.98}};
    t.latency = {0.1, 30, 80, 110};
    t.prompt_tokens = 180;
    t.completion_tokens = 20;
    return t;
}

int main(int argc, char ** argv) {
    const int n = argc > 1 ? std::atoi(argv[1]) : 20000;
    std::string url = argc > 2 ? argv[2] : "";
    std::string tmp;
    if (url.empty()) {
        tmp = (std::filesystem::temp_directory_path() / ("sy_trace_bench_" + std::to_string(::getpid()) + ".db")).string();
        url = tmp;
    }
    auto store = std::shared_ptr<TraceStore>(open_trace_store(url));
    std::vector<Trace> pre;
    pre.reserve(n);
    for (int i = 0; i < n; ++i) pre.push_back(make_trace(i));  // building the trace is the gateway's cost, not the write's

    std::vector<double> us;
    us.reserve(n);
    const auto t0 = Clock::now();
    {
        TraceWriter w(store);
        for (int i = 0; i < n; ++i) {
            const auto a = Clock::now();
            w.submit(std::move(pre[i]));
            us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - a).count());
            if (i % 64 == 63) std::this_thread::sleep_for(std::chrono::microseconds(500));  // requests arrive, not a tight loop
        }
        w.flush();
        std::printf("written %llu, dropped %llu, failed %llu\n", (unsigned long long)w.n_written(), (unsigned long long)w.n_dropped(),
                    (unsigned long long)w.n_failed());
    }
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    std::sort(us.begin(), us.end());
    auto pct = [&](double p) { return us[std::min(us.size() - 1, (size_t)(p * (double)us.size()))]; };
    std::printf("submit latency (%s, %d traces): p50 %.2f us, p99 %.2f us, max %.2f us\n", store->backend(), n, pct(0.50), pct(0.99), us.back());
    std::printf("end-to-end: %.0f traces/s committed (incl. %.2f s of simulated request gaps)\n", (double)n / secs,
                (double)(n / 64) * 0.0005);

    // Raw batched insert throughput of the store (what bounds the writer).
    std::vector<Trace> batch;
    for (int i = 0; i < 512; ++i) {
        batch.push_back(make_trace(i));
        batch.back().id = "raw-" + std::to_string(i);
    }
    const auto b0 = Clock::now();
    const int reps = 10;
    for (int r = 0; r < reps; ++r) {
        for (int i = 0; i < 512; ++i) batch[i].id = "raw-" + std::to_string(r) + "-" + std::to_string(i);
        store->insert(batch);
    }
    const double bs = std::chrono::duration<double>(Clock::now() - b0).count();
    std::printf("store insert: %.0f traces/s in batches of 512\n", reps * 512 / bs);
    store.reset();
    if (!tmp.empty())
        for (const char * suf : {"", "-wal", "-shm"}) std::filesystem::remove(tmp + suf);
    return 0;
}
