// An OpenAI-compatible endpoint behind the Provider interface: POST {base_url}/chat/completions (streaming
// with SSE when a DeltaFn is given), with a per-request timeout, retries with backoff on connection errors,
// timeouts and 429/5xx, and a circuit breaker (after `breaker_failures` consecutive failures the endpoint
// is skipped for `breaker_cooldown`, then one trial request decides). Base URLs may be http:// or https://.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "providers/provider.h"

namespace sy::providers {

struct RemoteModelParams {
    std::string name;       // id in the gateway's config
    std::string base_url;   // e.g. "https://api.openai.com/v1" or "http://127.0.0.1:8081/v1"
    std::string model;      // the remote's model name sent in requests
    std::string api_key;    // already resolved from the environment; empty: no Authorization header
    std::chrono::milliseconds timeout{30000};
    int32_t retries = 2;    // extra attempts after the first
    int32_t breaker_failures = 5;
    std::chrono::milliseconds breaker_cooldown{30000};
};

class RemoteProvider : public Provider {
public:
    explicit RemoteProvider(const RemoteModelParams & params);  // throws invalid_argument on a bad base_url
    ~RemoteProvider() override;

    const std::string & name() const override;
    bool is_local() const override { return false; }
    ChatResponse chat(const ChatRequest & req, const DeltaFn & on_delta = {}) override;
    std::vector<ModelEntry> models() const override;

    bool circuit_open() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sy::providers
