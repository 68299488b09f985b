// Runs the built `switchyard` binary for black-box CLI tests.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace sy::test {

struct CliResult {
    int exit_code = -1;
    std::string output;  // stdout (then stderr when asked for)
};

inline CliResult run_cli(const std::string & args, bool with_stderr = false) {
    const std::string cmd = std::string(SY_BINARY_DIR) + "/bin/switchyard " + args + (with_stderr ? " 2>&1" : " 2>/dev/null");
    CliResult r;
    std::FILE * p = popen(cmd.c_str(), "r");
    if (!p) return r;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
    const int status = pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

}  // namespace sy::test
