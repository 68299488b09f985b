// Error → HTTP status and body, for every route (see errors.h).
#include "server/errors.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace sy::server {
namespace {

using ojson = nlohmann::ordered_json;

bool contains(const std::string & s, const char * needle) { return s.find(needle) != std::string::npos; }

ErrorInfo from_sy_error(const Error & e) {
    const std::string msg = e.what();
    switch (e.kind()) {
        case ErrorKind::ErrorKind_invalid_argument:
            if (contains(msg, "unknown model") || contains(msg, "unknown adapter"))
                return {404, "invalid_request_error", msg, "model", "model_not_found"};
            return {400, "invalid_request_error", msg, {}, {}};
        case ErrorKind::ErrorKind_invalid_file:
        case ErrorKind::ErrorKind_io:
            return {400, "invalid_request_error", msg, {}, {}};
        case ErrorKind::ErrorKind_unsupported:
            return {400, "invalid_request_error", msg, {}, "unsupported"};
        case ErrorKind::ErrorKind_limit:
            if (contains(msg, "queue")) return {429, "rate_limit_error", msg, {}, "rate_limit_exceeded"};
            if (contains(msg, "context"))
                return {400, "invalid_request_error", msg, "messages", "context_length_exceeded"};
            return {400, "invalid_request_error", msg, {}, {}};
        case ErrorKind::ErrorKind_unavailable:
            if (contains(msg, "timed out") || contains(msg, "timeout")) return {504, "upstream_error", msg, {}, "upstream_timeout"};
            return {503, "upstream_error", msg, {}, "upstream_unavailable"};
        case ErrorKind::ErrorKind_internal:
            break;
    }
    return {500, "server_error", msg, {}, {}};
}

}  // namespace

void bad_request(const std::string & param, const std::string & message) {
    throw HttpError(400, "invalid_request_error", param.empty() ? message : param + ": " + message,
                    param.empty() ? std::nullopt : std::optional<std::string>(param));
}

ErrorInfo classify(std::exception_ptr ep) {
    try {
        std::rethrow_exception(ep);
    } catch (const HttpError & e) {
        return {e.status(), e.type(), e.what(), e.param(), e.code()};
    } catch (const Error & e) {
        return from_sy_error(e);
    } catch (const nlohmann::json::exception & e) {
        // A field of the wrong type reached a typed accessor: still the client's input.
        return {400, "invalid_request_error", std::string("malformed request: ") + e.what(), {}, {}};
    } catch (const std::bad_alloc &) {
        return {503, "server_error", "out of memory while serving the request; retry later or send less", {}, {}};
    } catch (const std::exception & e) {
        return {500, "server_error", std::string("internal error: ") + e.what(), {}, {}};
    } catch (...) {
        return {500, "server_error", "internal error", {}, {}};
    }
}

ErrorInfo error_for_status(int status) {
    switch (status) {
        case 400: return {400, "invalid_request_error", "malformed HTTP request", {}, {}};
        case 401: return {401, "invalid_request_error", "missing or invalid API key: send 'Authorization: Bearer KEY'", {}, "invalid_api_key"};
        case 404: return {404, "invalid_request_error", "unknown route; see GET /v1/models, /api/tags and docs/gateway.md", {}, "not_found"};
        case 405: return {405, "invalid_request_error", "method not allowed on this route", {}, {}};
        case 413: return {413, "invalid_request_error", "request body is larger than the server's limit (server.max_body_bytes)", {}, "request_too_large"};
        case 414: return {414, "invalid_request_error", "request URI is too long", {}, {}};
        case 416: return {416, "invalid_request_error", "range not satisfiable", {}, {}};
        default: break;
    }
    if (status >= 500) return {status, "server_error", "internal error", {}, {}};
    return {status, "invalid_request_error", "request failed with HTTP " + std::to_string(status), {}, {}};
}

std::string error_body(const ErrorInfo & e, ApiStyle style) {
    ojson body;
    if (style == ApiStyle::ApiStyle_ollama) {
        body = {{"error", e.message}};
    } else {
        body = {{"error",
                 {{"message", e.message},
                  {"type", e.type},
                  {"param", e.param ? ojson(*e.param) : ojson(nullptr)},
                  {"code", e.code ? ojson(*e.code) : ojson(nullptr)}}}};
    }
    return body.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

void set_error(httplib::Response & res, const ErrorInfo & e, ApiStyle style) {
    res.status = e.status;
    res.set_content(error_body(e, style), "application/json");
}

ApiStyle style_for_path(const std::string & path) {
    return path.rfind("/api/", 0) == 0 ? ApiStyle::ApiStyle_ollama : ApiStyle::ApiStyle_openai;
}

}  // namespace sy::server
