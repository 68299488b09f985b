// What the handler files share (internal to server/): the gateway and server settings, route registration
// with error handling and metrics, and the request-reading helpers that turn JSON fields into typed values
// or a 400 naming the field. JSON stays here at the edge; handlers hand providers::ChatRequest to the
// gateway.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/gateway.h"
#include "server/errors.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace sy::server {

using ojson = nlohmann::ordered_json;

class ChatRun;

// Remembers which tool sets / schemas compiled, so a request reusing a known tool set skips the check.
class SchemaCheckCache {
public:
    bool known(const std::string & key);
    void remember(const std::string & key);

private:
    std::mutex mu_;
    std::set<std::string> ok_;
};

struct ServerContext {
    agent::Gateway & gateway;
    const agent::ServerConfig & cfg;
    SchemaCheckCache schemas;

    // Streaming runs in flight (worker threads); stop() cancels them and waits.
    std::mutex runs_mu;
    std::condition_variable runs_cv;
    std::set<ChatRun *> runs;
    std::atomic<bool> stopping{false};
};

using RouteFn = std::function<void(const httplib::Request &, httplib::Response &)>;
enum class Method { Method_get, Method_post, Method_delete };
// Registers `fn` on `pattern`: tags the request with `label` for the HTTP metrics, turns any exception into
// the error shape of `style`.
void add_route(httplib::Server & http, Method method, const std::string & pattern, const std::string & label,
               ApiStyle style, RouteFn fn);

// The route label set by add_route for the request being handled on this thread ("unmatched" otherwise).
std::string & current_route_label();

// ---- request reading ----
// Offset of the first byte that is not part of a valid UTF-8 sequence, or npos.
size_t invalid_utf8_offset(std::string_view s);
// The body as a JSON object: 400 for invalid UTF-8, malformed JSON, or a non-object.
ojson parse_json_body(const httplib::Request & req);
std::string dump_json(const ojson & j);  // compact; invalid UTF-8 in generated text is replaced, never thrown

std::optional<double> opt_number(const ojson & body, const char * key, double lo, double hi);
std::optional<int64_t> opt_int(const ojson & body, const char * key, int64_t lo, int64_t hi);
std::optional<bool> opt_bool(const ojson & body, const char * key);
std::optional<std::string> opt_string(const ojson & body, const char * key);
// "stop": a string or an array of strings (at most 16); null/absent = none.
std::vector<std::string> read_stop(const ojson & v, const std::string & param);

// ---- checks shared by the APIs ----
// Tools array shape and schemas (compiled once per distinct tool set): 400 naming the bad tool.
void check_tools(ServerContext & ctx, const ojson & tools, const ojson & tool_choice, bool parallel);
// response_format: null | {"type":"text"} | {"type":"json_object"} | {"type":"json_schema","json_schema":{...}}.
void check_response_format(ServerContext & ctx, const ojson & rf);
// Resolves the model a client named: 404 when unknown. Role aliases route; any other name forces that
// model (opts.force_model). Ollama's ":latest" tag is accepted.
std::string resolve_model(ServerContext & ctx, const std::string & name, agent::RequestOptions & opts);
// Applies the server's max-token cap.
std::optional<int32_t> cap_max_tokens(const ServerContext & ctx, std::optional<int64_t> requested);

// ---- responses ----
std::string random_hex(size_t n_digits);
int64_t unix_seconds();
std::string rfc3339_now();  // Ollama timestamps
// X-Switchyard-* headers from a decision and trace id.
void set_decision_headers(httplib::Response & res, const agent::Decision & d, const std::string & trace_id);

}  // namespace sy::server
