// switchyard task-api: the example agent's tool backend (examples/task-agent/task_api.h) as a service, for
// the gateway's tool executors to call. Prints "listening on http://HOST:PORT" once bound (port 0 picks a
// free one); stops on SIGINT/SIGTERM.
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <thread>

#include "cli/commands.h"
#include "task_api.h"

namespace sy::cli {

void add_task_api(CLI::App & app) {
    auto params = std::make_shared<examples::TaskApiParams>();
    CLI::App * cmd = app.add_subcommand("task-api", "Serve the example task list (SQLite) that the task-agent's tools call");
    cmd->add_option("--db", params->db_path, "SQLite file of the task list (created when missing)")->capture_default_str();
    cmd->add_option("--host", params->host, "Address to listen on")->capture_default_str();
    cmd->add_option("--port", params->port, "Port (0: any free port)")->capture_default_str();
    cmd->callback([params] {
        // Signals are blocked in every thread and taken by one waiter thread, which stops the server.
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set, nullptr);
        examples::TaskApiServer srv(*params);
        std::printf("listening on http://%s:%d\n", params->host.c_str(), srv.port());
        std::fflush(stdout);
        std::thread waiter([&] {
            int sig = 0;
            sigwait(&set, &sig);
            srv.stop();
        });
        srv.run();
        srv.stop();
        pthread_kill(waiter.native_handle(), SIGTERM);
        waiter.join();
    });
}

}  // namespace sy::cli
