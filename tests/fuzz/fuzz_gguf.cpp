// libFuzzer target for the GGUF reader: parses arbitrary bytes with File::from_memory. A parse must either
// throw sy::Error or yield a file whose every value and tensor byte range can be read; such a file is then
// rewritten with the Writer and must parse again to the same metadata and tensor bytes. Anything else
// (crash, sanitizer report, other exception, mismatch) is a finding.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>

#include "gguf/gguf.h"

namespace {

using sy::gguf::Value;
using sy::gguf::ValueType;

[[noreturn]] void finding(const char * what) {
    std::fprintf(stderr, "fuzz_gguf: %s\n", what);
    std::abort();
}

// Reads every byte a value owns (so ASan sees any dangling or out-of-range storage); returns a checksum.
uint64_t touch(const Value & v) {
    switch (v.type) {
        case ValueType::ValueType_string: {
            uint64_t h = 0;
            for (char c : v.as_string()) h = h * 131 + (unsigned char)c;
            return h;
        }
        case ValueType::ValueType_array: {
            uint64_t h = 7;
            const sy::gguf::Array & a = v.as_array();
            for (size_t i = 0; i < a.size(); ++i) {
                const Value item = a.at(i);
                if (item.type != a.elem_type()) finding("array item type differs from element type");
                h = h * 31 + touch(item);
            }
            return h;
        }
        case ValueType::ValueType_bool: return v.as_bool();
        case ValueType::ValueType_f32:
        case ValueType::ValueType_f64: return (uint64_t)(int64_t)(v.as_f64() == v.as_f64());
        default: {  // integers: exercise the converting accessors too
            (void)v.as_f64();
            if (const auto * u = std::get_if<uint64_t>(&v.v)) return v.as_u64() ^ *u;
            return (uint64_t)v.as_i64();
        }
    }
}

bool same(const Value & a, const Value & b) {
    if (a.type != b.type) return false;
    if (a.type == ValueType::ValueType_array) {
        const auto & x = a.as_array();
        const auto & y = b.as_array();
        if (x.elem_type() != y.elem_type() || x.size() != y.size()) return false;
        for (size_t i = 0; i < x.size(); ++i)
            if (!same(x.at(i), y.at(i))) return false;
        return true;
    }
    if (a.type == ValueType::ValueType_f32 || a.type == ValueType::ValueType_f64) {
        const double p = a.as_f64(), q = b.as_f64();
        return p == q || (p != p && q != q);
    }
    return a.v == b.v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    try {
        const sy::gguf::File f = sy::gguf::File::from_memory(data, size);
        volatile uint64_t sink = 0;
        for (const auto & kv : f.metadata()) {
            sink = sink + touch(kv.value);
            if (f.find(kv.key) != &kv.value) finding("find() does not return the key's value");
        }
        if (f.data_offset() % f.alignment() != 0) finding("data section not aligned");
        for (const auto & t : f.tensors()) {
            if (t.data < data || t.data + t.n_bytes > data + size) finding("tensor data outside the input");
            if (t.n_bytes > 0) sink = sink + t.data[0] + t.data[t.n_bytes - 1];
            if (f.find_tensor(t.name) != &t) finding("find_tensor() does not return the tensor");
        }

        sy::gguf::Writer w;
        w.copy_metadata(f);
        try {
            for (const auto & t : f.tensors())
                w.add_tensor_ref(t.name, t.type, std::span<const int64_t>(t.ne, t.n_dims), t.data, t.n_bytes);
            const std::vector<uint8_t> again = w.write_to_memory();
            const sy::gguf::File g = sy::gguf::File::from_memory(again.data(), again.size());
            if (g.metadata().size() != f.metadata().size() || g.tensors().size() != f.tensors().size())
                finding("rewrite changed the number of keys or tensors");
            for (size_t i = 0; i < f.metadata().size(); ++i)
                if (g.metadata()[i].key != f.metadata()[i].key || !same(g.metadata()[i].value, f.metadata()[i].value))
                    finding("rewrite changed a metadata value");
            for (size_t i = 0; i < f.tensors().size(); ++i) {
                const auto & a = f.tensors()[i];
                const auto & b = g.tensors()[i];
                if (a.name != b.name || a.type != b.type || a.n_elements() != b.n_elements() || a.n_bytes != b.n_bytes ||
                    std::memcmp(a.data, b.data, a.n_bytes) != 0)
                    finding("rewrite changed a tensor");
            }
        } catch (const sy::Error & e) {
            // The writer only emits what llama.cpp loads, which is stricter than what the reader accepts
            // (tensor names up to 63 bytes, general.alignment as u32).
            if (e.kind() != sy::ErrorKind::ErrorKind_invalid_argument) finding(e.what());
        }
    } catch (const sy::Error &) {
        // Rejected input: the expected outcome for most fuzz inputs.
    }
    return 0;
}
