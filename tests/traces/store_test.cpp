// The trace store through one set of cases, run for SQLite and for PostgreSQL (the latter only when
// SY_TEST_PG_URL names a server: scripts/test-postgres.sh starts a throwaway one).
#include <gtest/gtest.h>

#include <sqlite3.h>

#include "common/error.h"
#include "store_test_util.h"
#include "traces/store.h"
#include "traces/writer.h"

namespace sy::traces {
namespace {

class StoreTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (GetParam() == "postgresql") {
            const char * url = test::pg_url();
            if (!url) GTEST_SKIP() << "SY_TEST_PG_URL is not set; run scripts/test-postgres.sh for the PostgreSQL cases";
            test::pg_reset(url);
            url_ = url;
        } else {
            path_ = test::temp_path("store") + ".db";
            url_ = "sqlite:" + path_;
        }
        store_ = open_trace_store(url_);
    }
    void TearDown() override {
        store_.reset();
        if (!path_.empty()) {
            std::filesystem::remove(path_);
            std::filesystem::remove(path_ + "-wal");
            std::filesystem::remove(path_ + "-shm");
        }
    }
    std::string url_, path_;
    std::unique_ptr<TraceStore> store_;
};

TEST_P(StoreTest, MigrationsApplyOnceAndReopenKeepsVersion) {
    EXPECT_EQ(store_->schema_version(), latest_schema_version());
    EXPECT_EQ(latest_schema_version(), 3);
    EXPECT_STREQ(store_->backend(), GetParam().c_str());
    store_->insert({test::sample_trace("a1", 1000)});
    store_.reset();
    store_ = open_trace_store(url_);  // re-open: nothing re-applied, data kept
    EXPECT_EQ(store_->schema_version(), 3);
    EXPECT_EQ(store_->count({}), 1);
}

TEST_P(StoreTest, EveryFieldRoundTrips) {
    const Trace in = test::sample_trace("t-1", 1700000000123);
    store_->insert({in});
    auto out = store_->get("t-1");
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(trace_to_json(*out).dump(), trace_to_json(in).dump());
    EXPECT_FALSE(store_->get("missing").has_value());

    Trace bare;  // optionals unset, JSON nulls
    bare.id = "t-2";
    bare.time_ms = 5;
    bare.messages = ojson::parse(R"([{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}])");
    store_->insert({bare});
    auto b = store_->get("t-2");
    ASSERT_TRUE(b.has_value());
    EXPECT_FALSE(b->confidence.has_value());
    EXPECT_FALSE(b->shadow_agreement.has_value());
    EXPECT_TRUE(b->shadow_result.is_null());
    EXPECT_FALSE(b->feedback_rating.has_value());
    EXPECT_EQ(trace_to_json(*b).dump(), trace_to_json(bare).dump());
}

TEST_P(StoreTest, BatchIsAllOrNothing) {
    store_->insert({test::sample_trace("x", 1)});
    std::vector<Trace> batch = {test::sample_trace("y", 2), test::sample_trace("x", 3)};
    try {
        store_->insert(batch);
        FAIL() << "duplicate id accepted";
    } catch (const Error & e) {
        EXPECT_NE(std::string(e.what()).find("'x' already exists"), std::string::npos) << e.what();
    }
    EXPECT_EQ(store_->count({}), 1);  // "y" rolled back with the batch
    EXPECT_FALSE(store_->get("y").has_value());
}

TEST_P(StoreTest, FiltersAndOrder) {
    std::vector<Trace> batch;
    for (int i = 0; i < 10; ++i) {
        Trace t = test::sample_trace("id" + std::to_string(i), 100 + (9 - i));  // reverse time order
        t.served_by = i % 2 ? ServedBy::ServedBy_local : ServedBy::ServedBy_fallback;
        t.model = i < 5 ? "m-a" : "m-b";
        t.router_decision = i % 3 == 0 ? "none" : "get_weather";
        if (i == 4) t.error = "decode timeout";
        batch.push_back(t);
    }
    store_->insert(batch);
    std::vector<std::string> seen;
    store_->scan({}, [&](Trace && t) {
        seen.push_back(t.id);
        return true;
    });
    ASSERT_EQ(seen.size(), 10u);
    EXPECT_EQ(seen.front(), "id9");  // ordered by time
    EXPECT_EQ(seen.back(), "id0");

    TraceFilter f;
    f.served_by = ServedBy::ServedBy_local;
    EXPECT_EQ(store_->count(f), 5);
    f.model = "m-a";
    EXPECT_EQ(store_->count(f), 2);  // ids 1, 3
    TraceFilter g;
    g.only_succeeded = true;
    EXPECT_EQ(store_->count(g), 9);
    g.router_decision = "none";
    EXPECT_EQ(store_->count(g), 4);  // 0, 3, 6, 9
    TraceFilter h;
    h.since_ms = 103;
    h.until_ms = 106;
    EXPECT_EQ(store_->count(h), 3);  // times 103, 104, 105
    h.limit = 2;
    EXPECT_EQ(store_->count(h), 2);
    int n = 0;
    store_->scan(h, [&](Trace &&) { return ++n < 100; });
    EXPECT_EQ(n, 2);
    n = 0;
    store_->scan({}, [&](Trace &&) { return ++n < 3; });  // early stop
    EXPECT_EQ(n, 3);
}

// The dashboard's trace browser: feedback present/absent, text search (LIKE wildcards literal), newest
// first, offset paging.
TEST_P(StoreTest, BrowserFiltersAndPaging) {
    std::vector<Trace> batch;
    for (int i = 0; i < 6; ++i) {
        Trace t = test::sample_trace("b" + std::to_string(i), 200 + i);
        t.messages = ojson::array({{{"role", "user"}, {"content", i % 2 ? "Feed the ZEBRA" : "100% done_now"}}});
        batch.push_back(t);
    }
    store_->insert(batch);
    store_->add_feedback({"b1", 1, nullptr, 1});
    store_->add_feedback({"b4", -1, nullptr, 2});
    TraceFilter f;
    f.has_feedback = true;
    EXPECT_EQ(store_->count(f), 2);
    f.has_feedback = false;
    EXPECT_EQ(store_->count(f), 4);
    TraceFilter q;
    q.text = "zebra";
    EXPECT_EQ(store_->count(q), 3);  // b1, b3, b5
    q.text = "100%";
    EXPECT_EQ(store_->count(q), 3);
    q.text = "0% d";
    EXPECT_EQ(store_->count(q), 3);
    q.text = "1_0";  // '_' is not a wildcard
    EXPECT_EQ(store_->count(q), 0);
    q.text = "done_now";
    EXPECT_EQ(store_->count(q), 3);
    TraceFilter page;
    page.newest_first = true;
    page.offset = 1;
    page.limit = 2;
    std::vector<std::string> seen;
    store_->scan(page, [&](Trace && t) {
        seen.push_back(t.id);
        return true;
    });
    EXPECT_EQ(seen, (std::vector<std::string>{"b4", "b3"}));
    TraceFilter rest;  // an offset without a limit
    rest.offset = 4;
    seen.clear();
    store_->scan(rest, [&](Trace && t) {
        seen.push_back(t.id);
        return true;
    });
    EXPECT_EQ(seen, (std::vector<std::string>{"b4", "b5"}));
}

TEST_P(StoreTest, InvalidUtf8InGeneratedTextIsReplaced) {
    Trace t = test::sample_trace("u1", 1);
    t.messages = ojson::array({{{"role", "assistant"}, {"content", std::string("ok \xff\xfe end")}}});
    store_->insert({t});
    const auto back = store_->get("u1");
    ASSERT_TRUE(back);
    EXPECT_EQ(back->messages[0]["content"], "ok \xEF\xBF\xBD\xEF\xBF\xBD end");
}

TEST_P(StoreTest, FeedbackLatestWinsAndFilters) {
    store_->insert({test::sample_trace("f1", 1), test::sample_trace("f2", 2), test::sample_trace("f3", 3)});
    store_->add_feedback({"f1", -1, nullptr, 10});
    store_->add_feedback({"f1", 5, ojson::parse(R"({"role":"assistant","content":"fixed"})"), 11});
    store_->add_feedback({"f2", 2, "plain text correction", 12});
    EXPECT_EQ(store_->count_feedback(), 3);
    auto f1 = store_->get("f1");
    ASSERT_TRUE(f1 && f1->feedback_rating);
    EXPECT_EQ(*f1->feedback_rating, 5);
    EXPECT_EQ(f1->feedback_correction["content"], "fixed");
    EXPECT_EQ(store_->get("f2")->feedback_correction, "plain text correction");
    EXPECT_FALSE(store_->get("f3")->feedback_rating.has_value());
    TraceFilter f;
    f.min_rating = 3;
    EXPECT_EQ(store_->count(f), 1);
    f.min_rating = 2;
    EXPECT_EQ(store_->count(f), 2);
    EXPECT_THROW(store_->add_feedback({"nope", 1, nullptr, 0}), Error);
}

TEST_P(StoreTest, WriterBatchesAcksAndFlushes) {
    std::shared_ptr<TraceStore> shared(std::move(store_));
    std::mutex mu;
    std::vector<std::string> acked;
    {
        TraceWriterParams p;
        p.max_batch = 16;
        TraceWriter w(shared, p, [&](const std::vector<std::string> & ids) {
            std::lock_guard lock(mu);
            acked.insert(acked.end(), ids.begin(), ids.end());
        });
        std::vector<std::string> ids;
        for (int i = 0; i < 100; ++i) {
            Trace t = test::sample_trace("", 0);
            ids.push_back(w.submit(t));
            EXPECT_EQ(ids.back().size(), 32u);
        }
        w.flush();
        EXPECT_EQ(w.n_written(), 100u);
        EXPECT_EQ(w.n_dropped(), 0u);
        std::lock_guard lock(mu);
        EXPECT_EQ(acked, ids);  // every id, in submit order
        // A duplicate id fails alone; its batch neighbours are still written.
        w.submit(test::sample_trace(ids[0], 1));
        w.submit(test::sample_trace("fresh", 1));
    }  // destructor drains
    EXPECT_EQ(shared->count({}), 101);
    EXPECT_TRUE(shared->get("fresh").has_value());
    store_.reset();
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto & info) { return info.param; });

// Overflow is counted, never silent: a store that blocks keeps the queue full.
class SlowStore final : public TraceStore {
public:
    std::mutex gate;
    const char * backend() const override { return "slow"; }
    int schema_version() override { return 0; }
    void insert(const std::vector<Trace> & b) override {
        std::lock_guard lock(gate);
        n += (int64_t)b.size();
    }
    void add_feedback(const Feedback &) override {}
    std::optional<Trace> get(const std::string &) override { return std::nullopt; }
    void scan(const TraceFilter &, const std::function<bool(Trace &&)> &) override {}
    int64_t count(const TraceFilter &) override { return n; }
    int64_t count_feedback() override { return 0; }
    std::atomic<int64_t> n{0};
};

TEST(TraceWriter, OverflowIsCountedNotBlocking) {
    auto store = std::make_shared<SlowStore>();
    std::unique_lock gate(store->gate);  // the store cannot finish an insert
    TraceWriterParams p;
    p.queue_capacity = 8;
    p.max_batch = 4;
    p.max_delay = std::chrono::milliseconds(1);
    auto w = std::make_unique<TraceWriter>(store, p);
    int accepted = 0;
    for (int i = 0; i < 100; ++i)
        if (!w->submit(test::sample_trace("", 0)).empty()) ++accepted;
    // At most the queue plus one batch in the writer's hands were accepted; the rest were counted.
    EXPECT_LE(accepted, 12);
    EXPECT_GE(accepted, 8);
    EXPECT_EQ(w->n_dropped(), (uint64_t)(100 - accepted));
    gate.unlock();
    w.reset();
    EXPECT_EQ(store->n.load(), accepted);
}

TEST(TraceStoreUrl, Dispatch) {
    EXPECT_THROW(open_trace_store(""), Error);
    EXPECT_THROW(open_trace_store("mysql://x"), Error);
    const std::string p = test::temp_path("url") + ".db";
    { auto s = open_trace_store(p); EXPECT_STREQ(s->backend(), "sqlite"); }
    { auto s = open_trace_store("sqlite:" + p); EXPECT_EQ(s->schema_version(), latest_schema_version()); }
    std::filesystem::remove(p);
    std::filesystem::remove(p + "-wal");
    std::filesystem::remove(p + "-shm");
    try {
        open_trace_store("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2");
        FAIL();
    } catch (const Error & e) {
        EXPECT_NE(std::string(e.what()).find("cannot connect to trace store"), std::string::npos);
    }
}

TEST(TraceStoreMigrations, UpgradesAnOlderSqliteFile) {
    const std::string p = test::temp_path("old") + ".db";
    {  // a file at version 1 (traces only), as an older build would have left it
        sqlite3 * db = nullptr;
        ASSERT_EQ(sqlite3_open(p.c_str(), &db), SQLITE_OK);
        const std::string v1 = std::string("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL);"
                                           "INSERT INTO schema_version VALUES (1, 'traces table', 0);");
        ASSERT_EQ(sqlite3_exec(db, v1.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(db);
    }
    // Migration 1 is considered applied, so its table is missing: creating it by hand mirrors version 1.
    {
        sqlite3 * db = nullptr;
        sqlite3_open(p.c_str(), &db);
        ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE traces (id TEXT PRIMARY KEY, time_ms BIGINT NOT NULL, api TEXT NOT NULL DEFAULT '', model TEXT NOT NULL DEFAULT '', adapter TEXT NOT NULL DEFAULT '', messages TEXT NOT NULL, tools TEXT NOT NULL, tools_fingerprint TEXT NOT NULL DEFAULT '', router_decision TEXT NOT NULL DEFAULT '', confidence DOUBLE PRECISION, confidence_parts TEXT NOT NULL DEFAULT '{}', served_by TEXT NOT NULL, served_reason TEXT NOT NULL DEFAULT '', shadow_result TEXT, shadow_agreement INTEGER, tool_results TEXT NOT NULL DEFAULT '[]', queue_ms DOUBLE PRECISION NOT NULL DEFAULT 0, prefill_ms DOUBLE PRECISION NOT NULL DEFAULT 0, decode_ms DOUBLE PRECISION NOT NULL DEFAULT 0, total_ms DOUBLE PRECISION NOT NULL DEFAULT 0, prompt_tokens BIGINT NOT NULL DEFAULT 0, completion_tokens BIGINT NOT NULL DEFAULT 0, cost_cloud_usd DOUBLE PRECISION NOT NULL DEFAULT 0, cost_local_usd DOUBLE PRECISION NOT NULL DEFAULT 0, n_retries INTEGER NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '')", nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(db);
    }
    auto s = open_trace_store(p);
    EXPECT_EQ(s->schema_version(), 3);
    s->insert({test::sample_trace("z", 1)});
    s->add_feedback({"z", 1, nullptr, 0});  // the feedback table came with migration 2
    EXPECT_EQ(s->count_feedback(), 1);
    s.reset();
    std::filesystem::remove(p);
    std::filesystem::remove(p + "-wal");
    std::filesystem::remove(p + "-shm");
}

}  // namespace
}  // namespace sy::traces
