// Server-side tool executors (config tools[].executor): one HTTP request per tool call, to allow-listed
// hosts only. The URL template's {name} placeholders take the URL-encoded argument `name` (strings as
// they are, other values as compact JSON); for POST/PUT/PATCH the arguments object is the JSON body, for
// GET/DELETE the arguments not used in the template become query parameters. Redirects are not followed
// (a redirect could leave the allow-list). Every failure — a missing argument, a host not allowed, a
// timeout, a non-2xx status, an answer over max_response_bytes — is a ToolRunResult with ok = false and
// the reason, which the agent loop hands to the model as the tool's result.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/config.h"
#include "providers/remote_provider.h"

namespace sy::agent {

struct ToolRunResult {
    bool ok = false;
    int status = 0;            // HTTP status; 0 when no answer arrived
    std::string content;       // the response body (ok) or {"error": "..."} (failure): the tool message content
    std::string error;         // the failure in words; empty when ok
    double ms = 0.0;
};

// Percent-encodes everything but the unreserved characters (A-Z a-z 0-9 - . _ ~).
std::string url_encode(std::string_view s);

// Fills {name} placeholders; throws sy::Error(invalid_argument) naming a missing argument. Sets `used`
// to the names that were substituted.
std::string expand_url_template(const std::string & tmpl, const ojson & arguments, std::vector<std::string> * used = nullptr);

// "host" allows any port of that host, "host:port" only that port. Hosts compare case-insensitively.
bool host_allowed(const providers::HttpUrl & url, const std::vector<std::string> & allowed_hosts);

class ToolExecutor {
public:
    explicit ToolExecutor(std::vector<std::string> allowed_hosts) : allowed_hosts_(std::move(allowed_hosts)) {}

    // Thread-safe; never throws for a failed call (see ToolRunResult).
    ToolRunResult run(const ToolConfig & tool, const ojson & arguments) const;

private:
    std::vector<std::string> allowed_hosts_;
};

}  // namespace sy::agent
