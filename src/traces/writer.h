// The asynchronous trace writer: requests hand a finished Trace to submit(), which never blocks on the
// database (it takes a mutex for a few pointer moves and returns); a background thread drains the bounded
// queue in batches, each batch one transaction. When the queue is full the trace is DROPPED and counted
// (n_dropped(), for the gateway's /metrics): losing a trace is preferred over slowing a request, but
// never silently.
//
// Acknowledgement: a trace is acknowledged once the transaction that holds it has committed; the ack
// callback then receives its id (on the writer thread, in submit order), and flush() returns only after
// everything submitted before it is acknowledged. With the SQLite settings of store_sqlite.cpp an
// acknowledged trace survives kill -9 of the process.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "traces/store.h"

namespace sy::traces {

struct TraceWriterParams {
    size_t queue_capacity = 10000;             // traces waiting; beyond it submit() drops
    size_t max_batch = 512;                    // traces per transaction
    std::chrono::milliseconds max_delay{100};  // a lone trace waits at most this long before it is written
};

// Called on the writer thread with the ids of a committed batch.
using TraceAckFn = std::function<void(const std::vector<std::string> & ids)>;

class TraceWriter {
public:
    TraceWriter(std::shared_ptr<TraceStore> store, TraceWriterParams params = {}, TraceAckFn on_ack = {});
    ~TraceWriter();  // writes what is queued, then stops
    TraceWriter(const TraceWriter &) = delete;
    TraceWriter & operator=(const TraceWriter &) = delete;

    // Queues t (filling id, time_ms and tools_fingerprint when empty) and returns its id, or "" when the
    // queue was full and the trace was dropped.
    std::string submit(Trace t);
    // Blocks until every trace submitted before the call is committed (or failed).
    void flush();

    uint64_t n_submitted() const { return n_submitted_.load(); }
    uint64_t n_written() const { return n_written_.load(); }
    uint64_t n_dropped() const { return n_dropped_.load(); }  // queue overflow
    uint64_t n_failed() const { return n_failed_.load(); }    // batches the store rejected, in traces
    std::string last_error() const;

private:
    void run();

    std::shared_ptr<TraceStore> store_;
    TraceWriterParams params_;
    TraceAckFn on_ack_;

    mutable std::mutex mu_;
    std::condition_variable cv_work_;
    std::condition_variable cv_done_;
    std::deque<Trace> queue_;
    uint64_t seq_enqueued_ = 0;  // traces accepted so far
    uint64_t seq_done_ = 0;      // traces whose batch finished (committed or failed)
    bool stop_ = false;
    bool flush_requested_ = false;
    std::string last_error_;

    std::atomic<uint64_t> n_submitted_{0}, n_written_{0}, n_dropped_{0}, n_failed_{0};
    std::thread thread_;
};

}  // namespace sy::traces
