// An OpenAI-compatible endpoint behind the Provider interface: POST {base_url}/chat/completions (streaming
// with SSE when a DeltaFn is given), with a per-request timeout, retries with backoff on connection errors,
// timeouts and 429/5xx, and a circuit breaker (after `breaker_failures` consecutive failures the endpoint
// is skipped for `breaker_cooldown`, then one trial request decides). Base URLs may be http:// or https://.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "providers/provider.h"

namespace sy::providers {

struct RemoteModelParams {
    std::string name;       // id in the gateway's config
    std::string base_url;   // e.g. "https://api.openai.com/v1" or "http://127.0.0.1:8081/v1"
    std::string model;      // the remote's model name sent in requests
    std::string api_key;    // already resolved from the environment; empty: no Authorization header
    // Per attempt: a whole JSON answer, or a stream until its first bytes; after that a stream may run
    // longer, but never stays silent longer than this between events.
    std::chrono::milliseconds timeout{30000};
    int32_t retries = 2;    // extra attempts after the first
    std::chrono::milliseconds retry_backoff{200};  // first wait; doubles per retry (jittered, capped at 5 s)
    int32_t breaker_failures = 5;
    std::chrono::milliseconds breaker_cooldown{30000};
};

// An http:// or https:// URL split into its parts. Host is lower-cased; port defaults to 80/443; target is
// the path (with query) and starts with "/" ("/" when the URL has none).
struct HttpUrl {
    std::string scheme;  // "http" | "https"
    std::string host;    // without brackets for IPv6 literals
    int port = 0;
    bool explicit_port = false;
    std::string target;
    std::string origin() const;  // "scheme://host:port" (what an HTTP client connects to)
};
// std::nullopt for anything else: other schemes, user-info, empty host, a bad port.
std::optional<HttpUrl> parse_http_url(std::string_view url);

// A message in OpenAI chat JSON (tool call arguments as a JSON string, as the API sends them).
ojson openai_message_json(const chat::Message & m);

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
