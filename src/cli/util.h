// Small helpers shared by the subcommands (argument parsing only; no logic of its own).
#pragma once

#include <string>
#include <utility>

#include "common/error.h"

namespace sy::cli {

// "FILE[:SCALE]" -> {FILE, SCALE (default 1)}. A trailing ":x" that is not a number is part of the path.
inline std::pair<std::string, float> parse_path_scale(const std::string & spec) {
    const size_t c = spec.rfind(':');
    if (c != std::string::npos && c + 1 < spec.size()) {
        try {
            size_t used = 0;
            const float s = std::stof(spec.substr(c + 1), &used);
            if (used == spec.size() - c - 1) return {spec.substr(0, c), s};
        } catch (const std::exception &) {
        }
    }
    return {spec, 1.0f};
}

}  // namespace sy::cli
