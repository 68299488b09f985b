// Helpers shared by the GGUF tests: a tiny little-endian byte builder for hand-made (and deliberately broken)
// files, a deterministic byte generator, and a per-test temporary path.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace sy::gguf::test {

// Appends raw little-endian fields; `at()` is the current offset (handy for patching).
struct Bytes {
    std::vector<uint8_t> b;

    size_t at() const { return b.size(); }
    template <typename T>
    Bytes & le(T x) {
        uint8_t tmp[sizeof(T)];
        std::memcpy(tmp, &x, sizeof(T));
        b.insert(b.end(), tmp, tmp + sizeof(T));
        return *this;
    }
    Bytes & u8(uint8_t x) { return le(x); }
    Bytes & u32(uint32_t x) { return le(x); }
    Bytes & u64(uint64_t x) { return le(x); }
    Bytes & i64(int64_t x) { return le(x); }
    Bytes & str(std::string_view s) {
        u64(s.size());
        b.insert(b.end(), s.begin(), s.end());
        return *this;
    }
    Bytes & raw(std::string_view s) {
        b.insert(b.end(), s.begin(), s.end());
        return *this;
    }
    Bytes & zeros(size_t n) {
        b.insert(b.end(), n, 0);
        return *this;
    }
    Bytes & pad_to(size_t alignment) {
        while (b.size() % alignment) b.push_back(0);
        return *this;
    }
    Bytes & header(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
        raw("GGUF");
        u32(version);
        u64(n_tensors);
        return u64(n_kv);
    }
    // A tensor info: name, n_dims, ne[], ggml type, offset.
    Bytes & tensor(std::string_view name, std::vector<int64_t> ne, uint32_t type, uint64_t offset) {
        str(name);
        u32((uint32_t)ne.size());
        for (int64_t x : ne) i64(x);
        u32(type);
        return u64(offset);
    }
};

// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
inline std::vector<uint8_t> pattern_bytes(size_t n, uint32_t seed) {
    std::vector<uint8_t> out(n);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; ++i) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out[i] = (uint8_t)(x >> 11);
    }
    return out;
}

// A fresh path under the system temp directory, unique per test and process.
inline std::string temp_path(std::string_view suffix) {
    const auto * info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "_" + info->name();
    for (char & c : name)
        if (c == '/') c = '_';
    return (std::filesystem::temp_directory_path() /
            ("sy_" + name + "_" + std::to_string(getpid()) + std::string(suffix)))
        .string();
}

}  // namespace sy::gguf::test
