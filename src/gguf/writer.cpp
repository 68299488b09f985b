// GGUF v3 writer. Output layout is what llama.cpp's own writer produces: header, metadata in insertion
// order, tensor infos with offsets packed in insertion order (each padded to the alignment), zero padding
// to the alignment, then each tensor's data followed by zero padding to the alignment.
// Files are written atomically: a temporary file in the same directory, fsync, then rename.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <unordered_set>
#include <utility>

#include "gguf/gguf.h"
#include "gguf/types.h"

namespace sy::gguf {
namespace {

constexpr uint64_t kDefaultAlignment = 32;
constexpr size_t kMaxTensorName = 63;  // llama.cpp keeps names in char[64]

[[noreturn]] void bad_arg(const std::string & msg) { throw Error(ErrorKind::ErrorKind_invalid_argument, "gguf writer: " + msg); }

// Where the bytes go: a growing buffer or a file descriptor (buffered).
class Sink {
public:
    virtual ~Sink() = default;
    virtual void put(const void * p, size_t n) = 0;
    uint64_t written() const { return written_; }

    template <typename T>
    void put_le(T x) {
        put(&x, sizeof x);  // every host we build for is little-endian, like the format
    }
    void put_string(std::string_view s) {
        put_le<uint64_t>(s.size());
        put(s.data(), s.size());
    }
    void pad_to(uint64_t alignment) {
        static const uint8_t zeros[256] = {};
        while (written_ % alignment != 0) {
            const uint64_t n = std::min<uint64_t>(alignment - written_ % alignment, sizeof zeros);
            put(zeros, (size_t)n);
        }
    }

protected:
    uint64_t written_ = 0;
};

class MemorySink final : public Sink {
public:
    std::vector<uint8_t> bytes;
    void put(const void * p, size_t n) override {
        if (n == 0) return;
        const size_t at = bytes.size();
        bytes.resize(at + n);
        std::memcpy(bytes.data() + at, p, n);
        written_ += n;
    }
};

class FdSink final : public Sink {
public:
    FdSink(int fd, std::string path) : fd_(fd), path_(std::move(path)), buf_(new uint8_t[kBuf]) {}
    void put(const void * p, size_t n) override {
        const auto * b = static_cast<const uint8_t *>(p);
        written_ += n;
        if (used_ + n > kBuf) flush();
        if (n >= kBuf) {
            write_all(b, n);
            return;
        }
        std::memcpy(buf_.get() + used_, b, n);
        used_ += n;
    }
    void flush() {
        write_all(buf_.get(), used_);
        used_ = 0;
    }

private:
    static constexpr size_t kBuf = 1 << 20;
    void write_all(const uint8_t * p, size_t n) {
        while (n > 0) {
            const ssize_t k = ::write(fd_, p, n);
            if (k < 0) {
                if (errno == EINTR) continue;
                throw Error(ErrorKind::ErrorKind_io, "gguf: writing '" + path_ + "': " + std::strerror(errno));
            }
            p += k;
            n -= (size_t)k;
        }
    }
    int fd_;
    std::string path_;
    std::unique_ptr<uint8_t[]> buf_;
    size_t used_ = 0;
};

bool holds_for(const Value & v) {
    switch (v.type) {
        case ValueType::ValueType_u8:
        case ValueType::ValueType_u16:
        case ValueType::ValueType_u32:
        case ValueType::ValueType_u64: return std::holds_alternative<uint64_t>(v.v);
        case ValueType::ValueType_i8:
        case ValueType::ValueType_i16:
        case ValueType::ValueType_i32:
        case ValueType::ValueType_i64: return std::holds_alternative<int64_t>(v.v);
        case ValueType::ValueType_f32:
        case ValueType::ValueType_f64: return std::holds_alternative<double>(v.v);
        case ValueType::ValueType_bool: return std::holds_alternative<bool>(v.v);
        case ValueType::ValueType_string: return std::holds_alternative<std::string>(v.v);
        case ValueType::ValueType_array:
            return std::holds_alternative<std::shared_ptr<Array>>(v.v) && std::get<std::shared_ptr<Array>>(v.v);
    }
    return false;
}

template <typename T>
void put_unsigned(Sink & out, const Value & v, const std::string & key) {
    const uint64_t x = std::get<uint64_t>(v.v);
    if (x > std::numeric_limits<T>::max()) bad_arg("key '" + key + "': " + std::to_string(x) + " does not fit " + value_type_name(v.type));
    out.put_le<T>((T)x);
}

template <typename T>
void put_signed(Sink & out, const Value & v, const std::string & key) {
    const int64_t x = std::get<int64_t>(v.v);
    if (x < std::numeric_limits<T>::min() || x > std::numeric_limits<T>::max())
        bad_arg("key '" + key + "': " + std::to_string(x) + " does not fit " + value_type_name(v.type));
    out.put_le<T>((T)x);
}

// Writes a value without its type tag (the caller wrote it, or it is an array element).
void put_value(Sink & out, const Value & v, const std::string & key) {
    if (!holds_for(v)) bad_arg("key '" + key + "': value does not hold a " + value_type_name(v.type));
    switch (v.type) {
        case ValueType::ValueType_u8: put_unsigned<uint8_t>(out, v, key); break;
        case ValueType::ValueType_u16: put_unsigned<uint16_t>(out, v, key); break;
        case ValueType::ValueType_u32: put_unsigned<uint32_t>(out, v, key); break;
        case ValueType::ValueType_u64: put_unsigned<uint64_t>(out, v, key); break;
        case ValueType::ValueType_i8: put_signed<int8_t>(out, v, key); break;
        case ValueType::ValueType_i16: put_signed<int16_t>(out, v, key); break;
        case ValueType::ValueType_i32: put_signed<int32_t>(out, v, key); break;
        case ValueType::ValueType_i64: put_signed<int64_t>(out, v, key); break;
        case ValueType::ValueType_f32: out.put_le<float>((float)std::get<double>(v.v)); break;
        case ValueType::ValueType_f64: out.put_le<double>(std::get<double>(v.v)); break;
        case ValueType::ValueType_bool: out.put_le<uint8_t>(std::get<bool>(v.v) ? 1 : 0); break;
        case ValueType::ValueType_string: out.put_string(std::get<std::string>(v.v)); break;
        case ValueType::ValueType_array: {
            const Array & a = *std::get<std::shared_ptr<Array>>(v.v);
            out.put_le<uint32_t>((uint32_t)a.elem_type());
            out.put_le<uint64_t>(a.size());
            for (size_t i = 0; i < a.size(); ++i) {
                const Value item = a.at(i);
                if (item.type != a.elem_type())
                    bad_arg("key '" + key + "': array of " + value_type_name(a.elem_type()) + " holds a " +
                            value_type_name(item.type));
                put_value(out, item, key);
            }
            break;
        }
    }
}

struct PendingTensor {
    std::string name;
    uint32_t type = 0;
    uint32_t n_dims = 0;
    int64_t ne[kMaxDims] = {1, 1, 1, 1};
    std::vector<uint8_t> owned;      // add_tensor: a copy
    const uint8_t * ref = nullptr;  // add_tensor_ref: the caller's bytes
    uint64_t n_bytes = 0;

    const uint8_t * bytes() const { return ref ? ref : owned.data(); }
};

}  // namespace

struct Writer::Impl {
    std::vector<KeyValue> metadata;
    std::vector<PendingTensor> tensors;
    std::unordered_set<std::string> tensor_names;

    uint64_t alignment() const;
    PendingTensor & add(std::string name, uint32_t type, std::span<const int64_t> ne, size_t n_bytes);
    void emit(Sink & out) const;
};

uint64_t Writer::Impl::alignment() const {
    for (const KeyValue & kv : metadata) {
        if (kv.key != "general.alignment") continue;
        if (kv.value.type != ValueType::ValueType_u32)
            bad_arg(std::string("general.alignment must be a u32 (llama.cpp reads it as one), got ") +
                    value_type_name(kv.value.type));
        const uint64_t a = kv.value.as_u64("general.alignment");
        if (a == 0 || (a & (a - 1)) != 0 || a > (1u << 30))
            bad_arg("general.alignment " + std::to_string(a) + " is not a power of two in 1..2^30");
        return a;
    }
    return kDefaultAlignment;
}

PendingTensor & Writer::Impl::add(std::string name, uint32_t type, std::span<const int64_t> ne, size_t n_bytes) {
    if (name.size() > kMaxTensorName)
        bad_arg("tensor name '" + name + "' is longer than " + std::to_string(kMaxTensorName) + " bytes");
    if (tensor_names.count(name)) bad_arg("duplicate tensor name '" + name + "'");
    if (ne.empty() || ne.size() > (size_t)kMaxDims)
        bad_arg("tensor '" + name + "': " + std::to_string(ne.size()) + " dims, expected 1.." + std::to_string(kMaxDims));
    const std::optional<DTypeInfo> dt = dtype_info(type);
    if (!dt)
        throw Error(ErrorKind::ErrorKind_unsupported,
                    "gguf writer: tensor '" + name + "': unknown ggml type id " + std::to_string(type));
    PendingTensor t;
    t.type = type;
    t.n_dims = (uint32_t)ne.size();
    int64_t rows = 1;
    for (size_t d = 0; d < ne.size(); ++d) {
        if (ne[d] < 0) bad_arg("tensor '" + name + "': negative ne[" + std::to_string(d) + "]");
        t.ne[d] = ne[d];
        if (d > 0 && __builtin_mul_overflow(rows, ne[d], &rows)) bad_arg("tensor '" + name + "': shape overflows");
    }
    const std::optional<size_t> row = row_bytes(dt->type, ne[0]);
    if (!row)
        bad_arg("tensor '" + name + "': ne[0] = " + std::to_string(ne[0]) + " is not a multiple of the " + dt->name +
                " block size " + std::to_string(dt->block_size));
    uint64_t expect = 0;
    if (__builtin_mul_overflow((uint64_t)*row, (uint64_t)rows, &expect)) bad_arg("tensor '" + name + "': size overflows");
    if (expect != n_bytes)
        bad_arg("tensor '" + name + "': got " + std::to_string(n_bytes) + " bytes of data, shape and type need " +
                std::to_string(expect));
    t.n_bytes = expect;
    t.name = std::move(name);
    tensor_names.insert(t.name);
    tensors.push_back(std::move(t));
    return tensors.back();
}

void Writer::Impl::emit(Sink & out) const {
    const uint64_t align = alignment();
    out.put("GGUF", 4);
    out.put_le<uint32_t>(3);
    out.put_le<uint64_t>(tensors.size());
    out.put_le<uint64_t>(metadata.size());
    for (const KeyValue & kv : metadata) {
        out.put_string(kv.key);
        out.put_le<uint32_t>((uint32_t)kv.value.type);
        put_value(out, kv.value, kv.key);
    }
    uint64_t offset = 0;
    for (const PendingTensor & t : tensors) {
        out.put_string(t.name);
        out.put_le<uint32_t>(t.n_dims);
        for (uint32_t d = 0; d < t.n_dims; ++d) out.put_le<int64_t>(t.ne[d]);
        out.put_le<uint32_t>(t.type);
        out.put_le<uint64_t>(offset);
        offset += (t.n_bytes + align - 1) / align * align;
    }
    out.pad_to(align);
    for (const PendingTensor & t : tensors) {
        out.put(t.bytes(), (size_t)t.n_bytes);
        out.pad_to(align);
    }
}

Writer::Writer() : impl_(std::make_unique<Impl>()) {}
Writer::~Writer() = default;

void Writer::set(std::string key, Value value) {
    value = value.owned();
    for (KeyValue & kv : impl_->metadata) {
        if (kv.key == key) {
            kv.value = std::move(value);
            return;
        }
    }
    impl_->metadata.push_back(KeyValue{std::move(key), std::move(value)});
}

void Writer::remove(std::string_view key) {
    auto & m = impl_->metadata;
    for (auto it = m.begin(); it != m.end(); ++it) {
        if (it->key == key) {
            m.erase(it);
            return;
        }
    }
}

const Value * Writer::find(std::string_view key) const {
    for (const KeyValue & kv : impl_->metadata)
        if (kv.key == key) return &kv.value;
    return nullptr;
}

void Writer::copy_metadata(const File & src, std::string_view prefix) {
    for (const KeyValue & kv : src.metadata())
        if (std::string_view(kv.key).substr(0, prefix.size()) == prefix) set(kv.key, kv.value);
}

void Writer::add_tensor(std::string name, uint32_t type, std::span<const int64_t> ne, std::span<const uint8_t> data) {
    PendingTensor & t = impl_->add(std::move(name), type, ne, data.size());
    t.owned.assign(data.begin(), data.end());
}

void Writer::add_tensor_ref(std::string name, uint32_t type, std::span<const int64_t> ne, const uint8_t * data,
                            size_t n_bytes) {
    if (!data && n_bytes > 0) bad_arg("tensor '" + name + "': null data");
    PendingTensor & t = impl_->add(std::move(name), type, ne, n_bytes);
    t.ref = data;
    if (!t.ref) t.ref = reinterpret_cast<const uint8_t *>("");  // zero bytes: any valid pointer
}

std::vector<uint8_t> Writer::write_to_memory() const {
    MemorySink out;
    impl_->emit(out);
    return std::move(out.bytes);
}

void Writer::write(const std::string & path) const {
    std::string tmp = path + ".XXXXXX";
    const int fd = mkstemp(tmp.data());
    if (fd < 0) throw Error(ErrorKind::ErrorKind_io, "gguf: cannot create a file next to '" + path + "': " + std::strerror(errno));
    bool closed = false;
    try {
        fchmod(fd, 0644);
        FdSink out(fd, tmp);
        impl_->emit(out);
        out.flush();
        if (fsync(fd) != 0)
            throw Error(ErrorKind::ErrorKind_io, "gguf: syncing '" + tmp + "': " + std::strerror(errno));
        closed = true;
        if (::close(fd) != 0)
            throw Error(ErrorKind::ErrorKind_io, "gguf: closing '" + tmp + "': " + std::strerror(errno));
    } catch (...) {
        if (!closed) ::close(fd);
        ::unlink(tmp.c_str());
        throw;
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        throw Error(ErrorKind::ErrorKind_io, "gguf: renaming onto '" + path + "': " + std::strerror(err));
    }
}

}  // namespace sy::gguf
