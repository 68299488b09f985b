// GGUF v2/v3 reader (mmap, zero-copy, every read bounds-checked) and writer (files llama.cpp loads).
//
// Layout (little-endian): magic "GGUF", u32 version, u64 n_tensors, u64 n_kv, then n_kv key/value pairs
// (gguf string key, u32 value type, value), then n_tensors tensor infos (string name, u32 n_dims,
// u64 ne[n_dims], u32 ggml type, u64 offset relative to the data section), padding to `general.alignment`
// (default 32), then the data section. Dimension order is ggml's: ne[0] is the contiguous (row) length.
//
// The reader never trusts a count, length, offset or extent from the file: a hostile file gets a
// sy::Error(ErrorKind_invalid_file) naming the field and its byte offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/error.h"

namespace sy::gguf {

enum class ValueType : uint32_t {
    ValueType_u8 = 0,
    ValueType_i8 = 1,
    ValueType_u16 = 2,
    ValueType_i16 = 3,
    ValueType_u32 = 4,
    ValueType_i32 = 5,
    ValueType_f32 = 6,
    ValueType_bool = 7,
    ValueType_string = 8,
    ValueType_array = 9,
    ValueType_u64 = 10,
    ValueType_i64 = 11,
    ValueType_f64 = 12,
};
const char * value_type_name(ValueType t);

struct Value;
// An array value: element type plus elements (nested arrays allowed). Arrays built in memory hold one Value
// per element; arrays of scalars or strings read from a file are views into the file's bytes instead (a
// 152k-token vocabulary would otherwise cost tens of MiB of Values), so they stay valid while the File
// lives. Read elements through size() / at() / string_at(), whatever the representation.
class Array {
public:
    Array() = default;
    Array(ValueType elem_type, std::vector<Value> items);
    // A file-backed array of `n` scalars stored little-endian at `data` (elem_type not string/array).
    static std::shared_ptr<Array> scalar_view(ValueType elem_type, const uint8_t * data, size_t n);
    // A file-backed array of strings.
    static std::shared_ptr<Array> string_view_array(std::vector<std::string_view> strings);

    ValueType elem_type() const { return elem_type_; }
    size_t size() const;
    bool empty() const { return size() == 0; }
    Value at(size_t i) const;  // throws std::out_of_range past the end
    // Element i of an array of strings; sy::Error(invalid_file) naming `what` when the elements are not strings.
    std::string_view string_at(size_t i, std::string_view what = "") const;

private:
    ValueType elem_type_ = ValueType::ValueType_u8;
    std::vector<Value> items_;               // in-memory representation
    std::vector<std::string_view> strings_;  // file-backed strings
    const uint8_t * scalars_ = nullptr;      // file-backed scalars: n_scalars_ elements, little-endian
    size_t n_scalars_ = 0;
    bool file_backed_ = false;
};

// One metadata value. Integers are kept in their declared type (so a writer round-trips them exactly).
struct Value {
    ValueType type = ValueType::ValueType_u8;
    std::variant<uint64_t, int64_t, double, bool, std::string, std::shared_ptr<Array>> v;

    // Convenience accessors; throw sy::Error(ErrorKind_invalid_file) naming `what` on a type mismatch.
    uint64_t as_u64(std::string_view what = "") const;   // any non-negative integer type
    int64_t as_i64(std::string_view what = "") const;    // any integer type in range
    double as_f64(std::string_view what = "") const;     // any numeric type
    bool as_bool(std::string_view what = "") const;
    const std::string & as_string(std::string_view what = "") const;
    const Array & as_array(std::string_view what = "") const;

    // A deep copy that does not point into any File (file-backed arrays become in-memory ones): what a
    // Writer stores, so it may outlive the file it copied from.
    Value owned() const;

    static Value u8(uint8_t x);
    static Value i8(int8_t x);
    static Value u16(uint16_t x);
    static Value i16(int16_t x);
    static Value u32(uint32_t x);
    static Value i32(int32_t x);
    static Value u64(uint64_t x);
    static Value i64(int64_t x);
    static Value f32(float x);
    static Value f64(double x);
    static Value boolean(bool x);
    static Value string(std::string x);
    static Value array(ValueType elem_type, std::vector<Value> items);
    static Value strings(const std::vector<std::string> & xs);
    static Value f32s(const std::vector<float> & xs);
    static Value i32s(const std::vector<int32_t> & xs);
};

struct KeyValue {
    std::string key;
    Value value;
};

constexpr int kMaxDims = 4;

struct TensorInfo {
    std::string name;
    uint32_t n_dims = 0;
    int64_t ne[kMaxDims] = {1, 1, 1, 1};  // ne[0] = row length (contiguous), unused dims are 1
    uint32_t type = 0;                    // ggml type id (see tensor/dtype.h), validated as known
    uint64_t offset = 0;                  // relative to the data section
    uint64_t n_bytes = 0;                 // computed from type and shape
    const uint8_t * data = nullptr;       // points into the mapping (zero-copy)

    int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
};

// A read-only GGUF file. Movable, not copyable. Tensor data stays valid while the File lives.
class File {
public:
    // Maps `path` read-only. Throws sy::Error (io / invalid_file) with the field and offset on any problem.
    static File open(const std::string & path);
    // Parses a buffer the caller keeps alive (fuzzing, tests). Same checks as open().
    static File from_memory(const uint8_t * data, size_t size);

    File(File &&) noexcept;
    File & operator=(File &&) noexcept;
    ~File();

    uint32_t version() const;
    size_t alignment() const;
    uint64_t data_offset() const;  // absolute offset of the data section
    size_t file_size() const;
    const std::string & path() const;

    const std::vector<KeyValue> & metadata() const;
    const Value * find(std::string_view key) const;  // nullptr if absent

    // Typed getters: nullopt if absent; sy::Error if present with an incompatible type.
    std::optional<std::string> get_string(std::string_view key) const;
    std::optional<uint64_t> get_u64(std::string_view key) const;
    std::optional<int64_t> get_i64(std::string_view key) const;
    std::optional<double> get_f64(std::string_view key) const;
    std::optional<bool> get_bool(std::string_view key) const;
    const Array * get_array(std::string_view key) const;

    const std::vector<TensorInfo> & tensors() const;
    const TensorInfo * find_tensor(std::string_view name) const;  // nullptr if absent

    // Pages the whole data section in (MADV_WILLNEED); best-effort.
    void prefetch() const;
    // Drops the resident pages of the header and metadata (everything before the data section; the last
    // page is kept when tensor data shares it) once a loader has read what it needs: a 152k-token
    // vocabulary is ~9 MiB of strings. Metadata stays readable (pages fault back in from the file).
    // Best-effort; a no-op for in-memory files.
    void drop_metadata_pages() const;

private:
    File();
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Builds a GGUF v3 file. Metadata keys keep insertion order; `general.alignment` is honoured when set
// (default 32). Tensor data is copied at add time unless added with add_tensor_ref (caller keeps it alive).
class Writer {
public:
    Writer();
    ~Writer();

    void set(std::string key, Value value);  // replaces an existing key in place
    void remove(std::string_view key);
    const Value * find(std::string_view key) const;
    // Copies every key/value of `src` (e.g. a tokenizer), optionally only those starting with `prefix`.
    void copy_metadata(const File & src, std::string_view prefix = "");

    // ne[0] is the row length; `type` is a ggml type id; data holds exactly row_bytes(type, ne0)*rows bytes.
    void add_tensor(std::string name, uint32_t type, std::span<const int64_t> ne, std::span<const uint8_t> data);
    void add_tensor_ref(std::string name, uint32_t type, std::span<const int64_t> ne, const uint8_t * data,
                        size_t n_bytes);

    // Writes atomically (temp file + rename). Throws sy::Error(ErrorKind_io) on failure.
    void write(const std::string & path) const;
    std::vector<uint8_t> write_to_memory() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sy::gguf
