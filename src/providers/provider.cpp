// Helpers shared by every provider.
#include "providers/provider.h"

#include <atomic>
#include <chrono>
#include <random>

#include "common/rng.h"

namespace sy::providers {

std::string new_tool_call_id() {
    // A per-process random seed (not process-wide mutable state beyond start-up: the counter only
    // advances) through splitmix64, so ids are unique across calls and processes.
    static const uint64_t seed = [] {
        std::random_device rd;
        return ((uint64_t)rd() << 32) ^ rd() ^ (uint64_t)std::chrono::steady_clock::now().time_since_epoch().count();
    }();
    static std::atomic<uint64_t> counter{0};
    SplitMix64 rng{seed ^ (counter.fetch_add(1) * 0xD1B54A32D192ED03ull)};
    static const char * hex = "0123456789abcdef";
    std::string id = "call_";
    for (int part = 0; part < 2; ++part) {
        const uint64_t v = rng.next();
        for (int i = 0; i < 12; ++i) id += hex[(v >> (4 * i)) & 0xF];
    }
    return id;
}

}  // namespace sy::providers
