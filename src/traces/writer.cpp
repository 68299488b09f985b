// TraceWriter: bounded queue + one background thread that batches inserts. See writer.h.
#include "traces/writer.h"

#include "common/error.h"

namespace sy::traces {

TraceWriter::TraceWriter(std::shared_ptr<TraceStore> store, TraceWriterParams params, TraceAckFn on_ack)
    : store_(std::move(store)), params_(params), on_ack_(std::move(on_ack)) {
    SY_ASSERT(store_ != nullptr);
    SY_ASSERT(params_.queue_capacity > 0 && params_.max_batch > 0);
    thread_ = std::thread([this] { run(); });
}

TraceWriter::~TraceWriter() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    cv_work_.notify_all();
    thread_.join();
}

std::string TraceWriter::submit(Trace t) {
    if (t.id.empty()) t.id = new_trace_id();
    if (t.time_ms == 0) t.time_ms = now_ms();
    if (t.tools_fingerprint.empty()) t.tools_fingerprint = tools_fingerprint(t.tools);
    std::string id = t.id;
    bool wake = false;
    {
        std::lock_guard lock(mu_);
        if (stop_ || queue_.size() >= params_.queue_capacity) {
            n_dropped_.fetch_add(1);
            return "";
        }
        queue_.push_back(std::move(t));
        ++seq_enqueued_;
        wake = queue_.size() >= params_.max_batch;
    }
    n_submitted_.fetch_add(1);
    if (wake) cv_work_.notify_one();
    return id;
}

void TraceWriter::flush() {
    std::unique_lock lock(mu_);
    const uint64_t target = seq_enqueued_;
    flush_requested_ = true;
    cv_work_.notify_one();
    cv_done_.wait(lock, [&] { return seq_done_ >= target; });
}

std::string TraceWriter::last_error() const {
    std::lock_guard lock(mu_);
    return last_error_;
}

void TraceWriter::run() {
    std::vector<Trace> batch;
    std::vector<std::string> ids;
    for (;;) {
        {
            std::unique_lock lock(mu_);
            // Wait for a full batch, a flush, stop, or the oldest trace reaching max_delay.
            cv_work_.wait_for(lock, params_.max_delay, [&] {
                return stop_ || flush_requested_ || queue_.size() >= params_.max_batch;
            });
            if (queue_.empty()) {
                flush_requested_ = false;
                if (stop_) return;
                continue;
            }
            const size_t n = std::min(queue_.size(), params_.max_batch);
            batch.clear();
            for (size_t i = 0; i < n; ++i) {
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
            if (queue_.empty()) flush_requested_ = false;
        }
        ids.clear();
        try {
            store_->insert(batch);
            for (const auto & t : batch) ids.push_back(t.id);
        } catch (const std::exception & e) {
            // One bad trace (say a duplicate id) must not lose its batch: retry them one by one.
            for (const auto & t : batch) {
                try {
                    store_->insert({t});
                    ids.push_back(t.id);
                } catch (const std::exception & e1) {
                    n_failed_.fetch_add(1);
                    std::lock_guard lock(mu_);
                    last_error_ = e1.what();
                }
            }
        }
        n_written_.fetch_add(ids.size());
        if (on_ack_ && !ids.empty()) on_ack_(ids);
        {
            std::lock_guard lock(mu_);
            seq_done_ += batch.size();
        }
        cv_done_.notify_all();
    }
}

}  // namespace sy::traces
