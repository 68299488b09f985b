// The one place where errors become HTTP responses: sy::Error kinds and the server's own HttpError map to a
// status code here, and each API renders them in its own shape —
//   OpenAI: {"error": {"message": "...", "type": "...", "param": null|"...", "code": null|"..."}}
//   Ollama: {"error": "..."}
// Client input never yields a 5xx: 5xx is kept for upstream (fallback) failures (502/503/504) and for
// internal bugs (500).
#pragma once

#include <exception>
#include <optional>
#include <stdexcept>
#include <string>

namespace httplib {
struct Response;
}

namespace sy::server {

enum class ApiStyle { ApiStyle_openai, ApiStyle_ollama };

// An error the server raises itself (bad field, auth, unknown model or route, ...).
class HttpError : public std::runtime_error {
public:
    HttpError(int status, std::string type, const std::string & message, std::optional<std::string> param = {},
              std::optional<std::string> code = {})
        : std::runtime_error(message), status_(status), type_(std::move(type)), param_(std::move(param)),
          code_(std::move(code)) {}
    int status() const { return status_; }
    const std::string & type() const { return type_; }
    const std::optional<std::string> & param() const { return param_; }
    const std::optional<std::string> & code() const { return code_; }

private:
    int status_;
    std::string type_;
    std::optional<std::string> param_, code_;
};

// 400 invalid_request_error naming the field.
[[noreturn]] void bad_request(const std::string & param, const std::string & message);

struct ErrorInfo {
    int status = 500;
    std::string type;                 // OpenAI error type
    std::string message;
    std::optional<std::string> param;
    std::optional<std::string> code;  // OpenAI error code, e.g. "context_length_exceeded"
};

// Classifies any exception (HttpError, sy::Error, nlohmann parse errors, anything else).
ErrorInfo classify(std::exception_ptr ep);
ErrorInfo error_for_status(int status);  // a body for statuses httplib produced itself (404, 413, ...)

std::string error_body(const ErrorInfo & e, ApiStyle style);  // JSON text
void set_error(httplib::Response & res, const ErrorInfo & e, ApiStyle style);

// The API a path belongs to: /api/* speaks Ollama, everything else OpenAI.
ApiStyle style_for_path(const std::string & path);

}  // namespace sy::server
