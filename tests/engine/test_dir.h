// A per-process scratch directory for engine tests, removed when the test binary exits.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

namespace sy::test {

inline const std::filesystem::path & scratch_dir() {
    struct Dir {
        std::filesystem::path path;
        Dir() : path(std::filesystem::temp_directory_path() / ("sy_engine_tests_" + std::to_string(::getpid()))) {
            std::filesystem::create_directories(path);
        }
        ~Dir() {
            std::error_code ec;
            std::filesystem::remove_all(path, ec);
        }
    };
    static Dir d;
    return d.path;
}

}  // namespace sy::test
