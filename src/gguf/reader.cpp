// GGUF v2/v3 reader: maps a file read-only and parses header, metadata and tensor infos, checking every
// count, length, offset and extent against the bytes that are actually there BEFORE using it. Tensor data
// is not copied: TensorInfo::data points into the mapping. This file does not interpret any key (except
// `general.alignment`) or any tensor's contents.
//
// What is rejected, always as sy::Error naming the field and its byte offset:
//   - truncation anywhere in header, metadata or tensor infos; bad magic; versions other than 2 and 3
//     (v1 and big-endian files are ErrorKind_unsupported, the rest ErrorKind_invalid_file);
//   - counts that cannot fit in the remaining bytes (n_kv, n_tensors, string lengths, array counts), so a
//     hostile header can never make us allocate more than a small multiple of the file size;
//   - unknown value types, bools other than 0/1, arrays nested deeper than kMaxNesting, duplicate keys;
//   - `general.alignment` that is not an integer power of two;
//   - tensors: duplicate names, n_dims outside 1..4, negative dims, element counts or byte sizes that
//     overflow, unknown ggml type ids (ErrorKind_unsupported), ne[0] not a multiple of the block size,
//     offsets not multiple of the alignment, data past the end of the file, overlapping data.
// Like llama.cpp, a dimension of 0 is accepted (an empty tensor), and bytes after the last tensor (e.g. its
// alignment padding) are optional.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <string>
#include <unordered_map>
#include <utility>

#include "gguf/gguf.h"
#include "gguf/types.h"

namespace sy::gguf {
namespace {

constexpr int kMaxNesting = 16;                   // arrays of arrays, outermost array = depth 1
constexpr uint64_t kMaxMetadataItems = 1ull << 24;  // array elements in one file (largest vocabularies ~256k)
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;       // key length, value type, smallest value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // name length, n_dims, ne[0], type, offset

// Smallest encoding of one array element of type t (used to bound counts by the remaining bytes).
uint64_t min_value_bytes(ValueType t) {
    switch (t) {
        case ValueType::ValueType_u8:
        case ValueType::ValueType_i8:
        case ValueType::ValueType_bool: return 1;
        case ValueType::ValueType_u16:
        case ValueType::ValueType_i16: return 2;
        case ValueType::ValueType_u32:
        case ValueType::ValueType_i32:
        case ValueType::ValueType_f32: return 4;
        case ValueType::ValueType_u64:
        case ValueType::ValueType_i64:
        case ValueType::ValueType_f64:
        case ValueType::ValueType_string: return 8;
        case ValueType::ValueType_array: return 4 + 8;
    }
    return 1;
}

// A bounds-checked little-endian cursor over the file bytes. `where_` names what is being parsed
// ("key #3 'general.name'", "tensor 'output.weight'") for error messages.
class Parser {
public:
    Parser(const uint8_t * data, size_t size) : data_(data), size_(size) {}

    [[noreturn]] void fail(const std::string & what, ErrorKind kind = ErrorKind::ErrorKind_invalid_file) const {
        std::string msg = "gguf: ";
        if (!where_.empty()) msg += where_ + ": ";
        throw Error(kind, msg + what);
    }

    void set_where(std::string w) { where_ = std::move(w); }
    size_t pos() const { return pos_; }
    size_t remaining() const { return size_ - pos_; }
    size_t size() const { return size_; }

    void need(uint64_t n, const char * field) const {
        if (n > remaining())
            fail("truncated: " + std::string(field) + " at offset " + std::to_string(pos_) + " needs " +
                 std::to_string(n) + " bytes, file size " + std::to_string(size_));
    }

    template <typename T>
    T read(const char * field) {
        need(sizeof(T), field);
        T x;
        std::memcpy(&x, data_ + pos_, sizeof(T));  // the format is little-endian, as is every host we build for
        pos_ += sizeof(T);
        return x;
    }

    std::string read_string(const char * field) {
        const size_t at = pos_;
        const uint64_t n = read<uint64_t>(field);
        if (n > remaining())
            fail(std::string(field) + " length " + std::to_string(n) + " at offset " + std::to_string(at) +
                 " exceeds the " + std::to_string(remaining()) + " bytes left in the file");
        std::string s(reinterpret_cast<const char *>(data_ + pos_), (size_t)n);
        pos_ += (size_t)n;
        return s;
    }

    // Like read_string, without a copy: the view points into the file bytes.
    std::string_view read_string_view(const char * field) {
        const size_t at = pos_;
        const uint64_t n = read<uint64_t>(field);
        if (n > remaining())
            fail(std::string(field) + " length " + std::to_string(n) + " at offset " + std::to_string(at) +
                 " exceeds the " + std::to_string(remaining()) + " bytes left in the file");
        std::string_view s(reinterpret_cast<const char *>(data_ + pos_), (size_t)n);
        pos_ += (size_t)n;
        return s;
    }

    ValueType read_value_type(const char * field) {
        const size_t at = pos_;
        const uint32_t t = read<uint32_t>(field);
        if (t > (uint32_t)ValueType::ValueType_f64)
            fail(std::string(field) + " " + std::to_string(t) + " at offset " + std::to_string(at) +
                 " is not a GGUF value type (0..12)");
        return (ValueType)t;
    }

    Value read_value(ValueType t, int depth) {
        switch (t) {
            case ValueType::ValueType_u8: return Value{t, uint64_t{read<uint8_t>("u8 value")}};
            case ValueType::ValueType_i8: return Value{t, int64_t{read<int8_t>("i8 value")}};
            case ValueType::ValueType_u16: return Value{t, uint64_t{read<uint16_t>("u16 value")}};
            case ValueType::ValueType_i16: return Value{t, int64_t{read<int16_t>("i16 value")}};
            case ValueType::ValueType_u32: return Value{t, uint64_t{read<uint32_t>("u32 value")}};
            case ValueType::ValueType_i32: return Value{t, int64_t{read<int32_t>("i32 value")}};
            case ValueType::ValueType_u64: return Value{t, read<uint64_t>("u64 value")};
            case ValueType::ValueType_i64: return Value{t, read<int64_t>("i64 value")};
            case ValueType::ValueType_f32: return Value{t, double{read<float>("f32 value")}};
            case ValueType::ValueType_f64: return Value{t, read<double>("f64 value")};
            case ValueType::ValueType_bool: {
                const size_t at = pos_;
                const uint8_t b = read<uint8_t>("bool value");
                if (b > 1) fail("bool value " + std::to_string(b) + " at offset " + std::to_string(at) + " is not 0 or 1");
                return Value{t, b == 1};
            }
            case ValueType::ValueType_string: return Value{t, read_string("string value")};
            case ValueType::ValueType_array: return read_array(depth + 1);
        }
        fail("unreachable value type");
    }

    // An array value without its leading type tag: u32 element type, u64 count, elements.
    Value read_array(int depth) {
        const size_t at = pos_;
        if (depth > kMaxNesting)
            fail("array at offset " + std::to_string(at) + " nested deeper than " + std::to_string(kMaxNesting) +
                 " levels");
        const ValueType elem = read_value_type("array element type");
        const size_t count_at = pos_;
        const uint64_t count = read<uint64_t>("array count");
        const uint64_t max_count = remaining() / min_value_bytes(elem);
        if (count > max_count)
            fail("array count " + std::to_string(count) + " at offset " + std::to_string(count_at) + " cannot fit in the " +
                 std::to_string(remaining()) + " bytes left in the file (" + value_type_name(elem) + " elements)");
        n_items_ += count;
        if (n_items_ > kMaxMetadataItems)
            fail("array count " + std::to_string(count) + " at offset " + std::to_string(count_at) +
                     " brings the metadata over the limit of " + std::to_string(kMaxMetadataItems) + " array items",
                 ErrorKind::ErrorKind_limit);
        // Scalars and strings stay in the file (views); only nested arrays are parsed into Values.
        if (elem == ValueType::ValueType_string) {
            std::vector<std::string_view> strings;
            strings.reserve((size_t)count);
            for (uint64_t i = 0; i < count; ++i) strings.push_back(read_string_view("string value"));
            return Value{ValueType::ValueType_array, Array::string_view_array(std::move(strings))};
        }
        if (elem != ValueType::ValueType_array) {
            const size_t start = pos_;
            if (elem == ValueType::ValueType_bool) {
                for (uint64_t i = 0; i < count; ++i) read_value(elem, depth);  // checks each is 0 or 1
            } else {
                pos_ += (size_t)count * min_value_bytes(elem);  // count <= max_count: fits the file
            }
            return Value{ValueType::ValueType_array, Array::scalar_view(elem, data_ + start, (size_t)count)};
        }
        std::vector<Value> items;
        items.reserve((size_t)count);
        for (uint64_t i = 0; i < count; ++i) items.push_back(read_value(elem, depth));
        return Value::array(elem, std::move(items));
    }

private:
    const uint8_t * data_;
    size_t size_;
    size_t pos_ = 0;
    uint64_t n_items_ = 0;
    std::string where_;
};

std::string tensor_where(const std::string & name) { return "tensor '" + name + "'"; }

}  // namespace

struct File::Impl {
    std::string path;
    const uint8_t * base = nullptr;  // whole file
    size_t size = 0;
    void * map = nullptr;  // non-null when we own an mmap of `size` bytes
    uint32_t version = 0;
    size_t alignment = 32;
    uint64_t data_offset = 0;
    std::vector<KeyValue> metadata;
    std::unordered_map<std::string_view, size_t> key_index;  // views into metadata[i].key
    std::vector<TensorInfo> tensors;
    std::unordered_map<std::string_view, size_t> tensor_index;  // views into tensors[i].name

    ~Impl() {
        if (map) munmap(map, size);
    }

    void parse();
    void parse_metadata(Parser & in, uint64_t n_kv);
    void parse_tensor_infos(Parser & in, uint64_t n_tensors);
    void check_tensor_extents(Parser & in);
};

void File::Impl::parse() {
    Parser in(base, size);
    in.need(4, "magic");
    if (std::memcmp(base, "GGUF", 4) != 0) {
        std::string shown;
        for (int i = 0; i < 4; ++i) shown += (base[i] >= 0x20 && base[i] < 0x7f) ? (char)base[i] : '?';
        in.fail("bad magic '" + shown + "' at offset 0 (expected 'GGUF'; not a GGUF file)");
    }
    in.read<uint32_t>("magic");
    version = in.read<uint32_t>("version");
    if (version == 1)
        in.fail("version 1 at offset 4 is not supported (GGUF v1 is obsolete; re-convert the model)",
                ErrorKind::ErrorKind_unsupported);
    if (version == 0x02000000u || version == 0x03000000u)
        in.fail("version at offset 4 is byte-swapped: big-endian GGUF files are not supported",
                ErrorKind::ErrorKind_unsupported);
    if (version != 2 && version != 3)
        in.fail("version " + std::to_string(version) + " at offset 4 is not supported (expected 2 or 3)");

    const uint64_t n_tensors = in.read<uint64_t>("n_tensors");
    const uint64_t n_kv = in.read<uint64_t>("n_kv");
    const uint64_t rest = in.remaining();
    if (n_tensors > rest / kMinTensorInfoBytes)
        in.fail("n_tensors " + std::to_string(n_tensors) + " at offset 8 cannot fit in the " + std::to_string(rest) +
                " bytes after the header");
    if (n_kv > rest / kMinKvBytes || n_kv * kMinKvBytes + n_tensors * kMinTensorInfoBytes > rest)
        in.fail("n_kv " + std::to_string(n_kv) + " at offset 16 cannot fit in the " + std::to_string(rest) +
                " bytes after the header");

    parse_metadata(in, n_kv);
    parse_tensor_infos(in, n_tensors);
    check_tensor_extents(in);
}

void File::Impl::parse_metadata(Parser & in, uint64_t n_kv) {
    metadata.reserve((size_t)n_kv);
    key_index.reserve((size_t)n_kv);
    for (uint64_t i = 0; i < n_kv; ++i) {
        in.set_where("key #" + std::to_string(i));
        std::string key = in.read_string("key");
        in.set_where("key #" + std::to_string(i) + " '" + key + "'");
        const ValueType t = in.read_value_type("value type");
        Value v = t == ValueType::ValueType_array ? in.read_array(1) : in.read_value(t, 0);
        metadata.push_back(KeyValue{std::move(key), std::move(v)});
    }
    // Indexed only after the vector is complete: the views point into its strings.
    for (size_t i = 0; i < metadata.size(); ++i) {
        auto [it, fresh] = key_index.emplace(metadata[i].key, i);
        if (!fresh) {
            in.set_where("");
            in.fail("duplicate key '" + metadata[i].key + "' (keys #" + std::to_string(it->second) + " and #" +
                    std::to_string(i) + ")");
        }
    }

    in.set_where("");
    if (auto it = key_index.find("general.alignment"); it != key_index.end()) {
        const Value & v = metadata[it->second].value;
        const bool is_int = v.type == ValueType::ValueType_u8 || v.type == ValueType::ValueType_u16 ||
                            v.type == ValueType::ValueType_u32 || v.type == ValueType::ValueType_u64 ||
                            v.type == ValueType::ValueType_i8 || v.type == ValueType::ValueType_i16 ||
                            v.type == ValueType::ValueType_i32 || v.type == ValueType::ValueType_i64;
        if (!is_int)
            in.fail(std::string("general.alignment has type ") + value_type_name(v.type) +
                    "; it must be an integer power of two");
        const uint64_t a = v.as_u64("general.alignment");
        if (a == 0 || (a & (a - 1)) != 0 || a > (1ull << 30))
            in.fail("general.alignment " + std::to_string(a) + " is not a power of two in 1..2^30");
        alignment = (size_t)a;
    }
}

void File::Impl::parse_tensor_infos(Parser & in, uint64_t n_tensors) {
    tensors.reserve((size_t)n_tensors);
    for (uint64_t i = 0; i < n_tensors; ++i) {
        in.set_where("tensor #" + std::to_string(i));
        TensorInfo t;
        t.name = in.read_string("tensor name");
        in.set_where(tensor_where(t.name));

        const size_t dims_at = in.pos();
        t.n_dims = in.read<uint32_t>("n_dims");
        if (t.n_dims < 1 || t.n_dims > (uint32_t)kMaxDims)
            in.fail("n_dims " + std::to_string(t.n_dims) + " at offset " + std::to_string(dims_at) + " is not in 1.." +
                    std::to_string(kMaxDims));
        int64_t n_el = 1;
        bool overflow = false;
        for (uint32_t d = 0; d < t.n_dims; ++d) {
            const size_t at = in.pos();
            const int64_t ne = in.read<int64_t>("ne");
            if (ne < 0)
                in.fail("ne[" + std::to_string(d) + "] = " + std::to_string(ne) + " at offset " + std::to_string(at) +
                        " is negative");
            t.ne[d] = ne;
            // Zero dims are skipped so that no partial product (e.g. ne[1]*ne[2]*ne[3] when ne[0] == 0)
            // can overflow later either.
            if (ne != 0) overflow = overflow || __builtin_mul_overflow(n_el, ne, &n_el);
        }
        if (overflow)
            in.fail("shape [" + std::to_string(t.ne[0]) + ", " + std::to_string(t.ne[1]) + ", " +
                    std::to_string(t.ne[2]) + ", " + std::to_string(t.ne[3]) + "] element count overflows int64");

        const size_t type_at = in.pos();
        t.type = in.read<uint32_t>("ggml type");
        const std::optional<DTypeInfo> dt = dtype_info(t.type);
        if (!dt)
            in.fail("unknown or unsupported ggml type id " + std::to_string(t.type) + " at offset " +
                        std::to_string(type_at),
                    ErrorKind::ErrorKind_unsupported);
        if (t.ne[0] % dt->block_size != 0)
            in.fail("ne[0] = " + std::to_string(t.ne[0]) + " is not a multiple of the " + dt->name + " block size " +
                    std::to_string(dt->block_size));
        const std::optional<size_t> row = row_bytes(dt->type, t.ne[0]);
        uint64_t n_bytes = 0;
        if (!row || __builtin_mul_overflow((uint64_t)*row, (uint64_t)(t.ne[1] * t.ne[2] * t.ne[3]), &n_bytes))
            in.fail("byte size of shape overflows");
        t.n_bytes = n_bytes;

        const size_t off_at = in.pos();
        t.offset = in.read<uint64_t>("tensor data offset");
        if (t.offset % alignment != 0)
            in.fail("data offset " + std::to_string(t.offset) + " at offset " + std::to_string(off_at) +
                    " is not a multiple of the alignment " + std::to_string(alignment));
        tensors.push_back(std::move(t));
    }
    for (size_t i = 0; i < tensors.size(); ++i) {
        auto [it, fresh] = tensor_index.emplace(tensors[i].name, i);
        if (!fresh) {
            in.set_where("");
            in.fail("duplicate tensor name '" + tensors[i].name + "' (tensors #" + std::to_string(it->second) +
                    " and #" + std::to_string(i) + ")");
        }
    }
}

void File::Impl::check_tensor_extents(Parser & in) {
    in.set_where("");
    const uint64_t header_end = in.pos();
    data_offset = (header_end + alignment - 1) / alignment * alignment;  // alignment <= 2^30: no overflow
    for (TensorInfo & t : tensors) {
        in.set_where(tensor_where(t.name));
        uint64_t begin = 0, end = 0;
        if (__builtin_add_overflow(data_offset, t.offset, &begin) || __builtin_add_overflow(begin, t.n_bytes, &end) ||
            end > size)
            in.fail("data [" + std::to_string(data_offset + t.offset) + ", " +
                    std::to_string(data_offset + t.offset + t.n_bytes) + ") extends past end of file (size " +
                    std::to_string(size) + ")");
        t.data = base + begin;
    }
    in.set_where("");
    std::vector<size_t> order(tensors.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return tensors[a].offset != tensors[b].offset ? tensors[a].offset < tensors[b].offset : a < b;
    });
    // Zero-byte tensors cannot overlap anything; every other tensor must start at or after the furthest end
    // seen so far (in offset order), which catches overlaps that are not between neighbours.
    const TensorInfo * furthest = nullptr;
    for (size_t k : order) {
        const TensorInfo & b = tensors[k];
        if (b.n_bytes == 0) continue;
        if (furthest && furthest->offset + furthest->n_bytes > b.offset)
            in.fail("tensor '" + furthest->name + "' data [" + std::to_string(furthest->offset) + ", " +
                    std::to_string(furthest->offset + furthest->n_bytes) + ") overlaps tensor '" + b.name +
                    "' data [" + std::to_string(b.offset) + ", " + std::to_string(b.offset + b.n_bytes) +
                    ") (offsets relative to the data section)");
        if (!furthest || b.offset + b.n_bytes > furthest->offset + furthest->n_bytes) furthest = &b;
    }
}

File::File() : impl_(std::make_unique<Impl>()) {}
File::File(File &&) noexcept = default;
File & File::operator=(File &&) noexcept = default;
File::~File() = default;

File File::open(const std::string & path) {
    File f;
    f.impl_->path = path;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw Error(ErrorKind::ErrorKind_io, "gguf: cannot open '" + path + "': " + std::strerror(errno));
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        const int err = errno;
        ::close(fd);
        throw Error(ErrorKind::ErrorKind_io,
                    "gguf: '" + path + "' is not a regular file" + (err ? std::string(": ") + std::strerror(err) : ""));
    }
    const size_t size = (size_t)st.st_size;
    if (size > 0) {
        void * m = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
        const int err = errno;
        ::close(fd);
        if (m == MAP_FAILED)
            throw Error(ErrorKind::ErrorKind_io, "gguf: cannot map '" + path + "': " + std::strerror(err));
        f.impl_->map = m;
        f.impl_->base = static_cast<const uint8_t *>(m);
    } else {
        ::close(fd);
    }
    f.impl_->size = size;
    try {
        f.impl_->parse();
    } catch (const Error & e) {
        throw Error(e.kind(), path + ": " + e.what());
    }
    return f;
}

File File::from_memory(const uint8_t * data, size_t size) {
    File f;
    f.impl_->base = size ? data : nullptr;
    f.impl_->size = data ? size : 0;
    f.impl_->parse();
    return f;
}

uint32_t File::version() const { return impl_->version; }
size_t File::alignment() const { return impl_->alignment; }
uint64_t File::data_offset() const { return impl_->data_offset; }
size_t File::file_size() const { return impl_->size; }
const std::string & File::path() const { return impl_->path; }
const std::vector<KeyValue> & File::metadata() const { return impl_->metadata; }
const std::vector<TensorInfo> & File::tensors() const { return impl_->tensors; }

const Value * File::find(std::string_view key) const {
    auto it = impl_->key_index.find(key);
    return it == impl_->key_index.end() ? nullptr : &impl_->metadata[it->second].value;
}

const TensorInfo * File::find_tensor(std::string_view name) const {
    auto it = impl_->tensor_index.find(name);
    return it == impl_->tensor_index.end() ? nullptr : &impl_->tensors[it->second];
}

std::optional<std::string> File::get_string(std::string_view key) const {
    const Value * v = find(key);
    if (!v) return std::nullopt;
    return v->as_string(key);
}

std::optional<uint64_t> File::get_u64(std::string_view key) const {
    const Value * v = find(key);
    if (!v) return std::nullopt;
    return v->as_u64(key);
}

std::optional<int64_t> File::get_i64(std::string_view key) const {
    const Value * v = find(key);
    if (!v) return std::nullopt;
    return v->as_i64(key);
}

std::optional<double> File::get_f64(std::string_view key) const {
    const Value * v = find(key);
    if (!v) return std::nullopt;
    return v->as_f64(key);
}

std::optional<bool> File::get_bool(std::string_view key) const {
    const Value * v = find(key);
    if (!v) return std::nullopt;
    return v->as_bool(key);
}

const Array * File::get_array(std::string_view key) const {
    const Value * v = find(key);
    if (!v) return nullptr;
    return &v->as_array(key);
}

void File::prefetch() const {
    if (!impl_->map || impl_->data_offset >= impl_->size) return;
    const uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    const uint64_t start = impl_->data_offset / page * page;
    madvise(static_cast<uint8_t *>(impl_->map) + start, impl_->size - start, MADV_WILLNEED);
}

void File::drop_metadata_pages() const {
    if (!impl_->map || impl_->path.empty()) return;
    const uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    const uint64_t end = std::min<uint64_t>(impl_->data_offset, impl_->size) / page * page;
    if (end > 0) madvise(impl_->map, end, MADV_DONTNEED);
}

}  // namespace sy::gguf
