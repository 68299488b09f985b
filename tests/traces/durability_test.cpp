// kill -9 durability: a child process writes traces through the async writer and reports every
// acknowledged id on a pipe; the parent SIGKILLs it mid-stream, reopens the SQLite store and must find
// every acknowledged trace (WAL + synchronous=NORMAL: a commit survives process death).
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

#include "store_test_util.h"
#include "traces/writer.h"

namespace sy::traces {
namespace {

[[noreturn]] void child_main(const std::string & path, int fd) {
    try {
        auto store = std::shared_ptr<TraceStore>(open_trace_store(path));
        TraceWriterParams p;
        p.max_batch = 8;
        p.max_delay = std::chrono::milliseconds(2);
        TraceWriter w(store, p, [fd](const std::vector<std::string> & ids) {
            for (const auto & id : ids) {
                const std::string line = id + "\n";
                if (::write(fd, line.data(), line.size()) != (ssize_t)line.size()) ::_exit(3);
            }
        });
        for (int i = 0;; ++i) {  // until killed
            Trace t = test::sample_trace("", 0);
            t.messages[1]["content"] = "request " + std::to_string(i);
            w.submit(std::move(t));
            if (i % 4 == 0) ::usleep(200);
        }
    } catch (...) {
        ::_exit(2);
    }
}

TEST(TraceDurability, AcknowledgedTracesSurviveSigkill) {
    const std::string path = test::temp_path("kill9") + ".db";
    { auto s = open_trace_store(path); }  // create + migrate before forking
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::close(fds[0]);
        child_main(path, fds[1]);
    }
    ::close(fds[1]);

    std::set<std::string> acked;
    std::string buf;
    char chunk[4096];
    bool killed = false;
    for (;;) {
        const ssize_t n = ::read(fds[0], chunk, sizeof chunk);
        if (n <= 0) break;  // EOF once the child is dead and the pipe drained
        buf.append(chunk, (size_t)n);
        size_t pos;
        while ((pos = buf.find('\n')) != std::string::npos) {
            acked.insert(buf.substr(0, pos));
            buf.erase(0, pos + 1);
        }
        if (!killed && acked.size() >= 300) {
            ASSERT_EQ(::kill(pid, SIGKILL), 0);  // mid-stream: more traces are queued and in flight
            killed = true;
        }
    }
    ::close(fds[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited on its own with status " << WEXITSTATUS(status);
    EXPECT_EQ(WTERMSIG(status), SIGKILL);
    ASSERT_GE(acked.size(), 300u);

    auto store = open_trace_store(path);
    std::set<std::string> stored;
    store->scan({}, [&](Trace && t) {
        stored.insert(t.id);
        return true;
    });
    size_t missing = 0;
    for (const auto & id : acked) missing += stored.count(id) ? 0 : 1;
    EXPECT_EQ(missing, 0u) << "of " << acked.size() << " acknowledged traces";
    EXPECT_GE(stored.size(), acked.size());
    store.reset();
    std::filesystem::remove(path);
    std::filesystem::remove(path + "-wal");
    std::filesystem::remove(path + "-shm");
}

}  // namespace
}  // namespace sy::traces
