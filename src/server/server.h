// The gateway's HTTP server (cpp-httplib): OpenAI-compatible /v1/*, Ollama-compatible /api/*, /admin/*,
// GET /health and GET /metrics, over one agent::Gateway. Settings come from the gateway's config
// (server: host, port, API keys, body cap, max tokens, request timeout, HTTP threads). Each API lives in its
// own handler file (openai_api.cpp, ollama_api.cpp, admin_api.cpp); errors map to HTTP in errors.cpp.
//
// Bearer keys (when configured) guard /v1/*, /api/* and /admin/*; /health and /metrics are open.
#pragma once

#include <memory>
#include <string>

#include "agent/gateway.h"

namespace sy::server {

class Server {
public:
    explicit Server(agent::Gateway & gateway);
    ~Server();  // stops serving and waits for streaming runs to end
    Server(const Server &) = delete;
    Server & operator=(const Server &) = delete;

    // Binds server.host:server.port (port 0 = a free port chosen by the system) and returns the port.
    // Throws sy::Error(ErrorKind_io) when the address cannot be bound.
    int bind();
    // Serves on the bound socket until stop(); blocks the calling thread.
    void run();
    // Thread-safe: ends run(), cancels streaming generations in flight and waits for them.
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sy::server
