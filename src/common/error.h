// Error types shared by every layer. User input problems are `sy::Error` (typed, with an actionable
// message); internal invariants use SY_ASSERT, which reports file:line and aborts. Library code never
// calls exit().
#pragma once

#include <stdexcept>
#include <string>

namespace sy {

enum class ErrorKind {
    ErrorKind_invalid_argument,  // bad flag, bad request field, unknown name
    ErrorKind_invalid_file,      // corrupt/truncated/hostile file content
    ErrorKind_io,                // open/read/write/mmap failed
    ErrorKind_unsupported,       // valid input we do not handle (unknown arch, dtype, keyword)
    ErrorKind_limit,             // context overflow, oversized input
    ErrorKind_unavailable,       // a remote model or service is down, timed out or its circuit is open
    ErrorKind_internal,
};

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string & msg) : std::runtime_error(msg), kind_(kind) {}
    ErrorKind kind() const { return kind_; }

private:
    ErrorKind kind_;
};

[[noreturn]] void assert_fail(const char * expr, const char * file, int line, const char * msg);

}  // namespace sy

#define SY_ASSERT(cond)                                                  \
    do {                                                                 \
        if (!(cond)) ::sy::assert_fail(#cond, __FILE__, __LINE__, ""); \
    } while (0)
#define SY_ASSERT_MSG(cond, msg)                                          \
    do {                                                                  \
        if (!(cond)) ::sy::assert_fail(#cond, __FILE__, __LINE__, (msg)); \
    } while (0)
