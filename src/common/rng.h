// splitmix64: a tiny seedable generator whose stream is identical on every platform (model init, data
// generation, training initialisation). Not for anything security-related.
#pragma once

#include <cstdint>

namespace sy {

struct SplitMix64 {
    uint64_t s = 0;
    uint64_t next() {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
};

}  // namespace sy
