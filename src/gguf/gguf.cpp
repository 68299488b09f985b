// GGUF metadata values: type names, constructors and the checked accessors of sy::gguf::Value.
// The file reader lives in reader.cpp, the writer in writer.cpp.
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "gguf/gguf.h"

namespace sy::gguf {
namespace {

// "gguf: key 'general.alignment': expected an unsigned integer, got string"
[[noreturn]] void mismatch(std::string_view what, const char * expected, const Value & v) {
    std::string msg = "gguf: ";
    if (what.empty()) {
        msg += "value";
    } else {
        msg += "key '";
        msg += what;
        msg += "'";
    }
    msg += ": expected ";
    msg += expected;
    msg += ", got ";
    msg += value_type_name(v.type);
    if (v.type == ValueType::ValueType_array) {
        msg += " of ";
        msg += value_type_name(std::get<std::shared_ptr<Array>>(v.v)->elem_type());
    }
    throw Error(ErrorKind::ErrorKind_invalid_file, msg);
}

[[noreturn]] void out_of_range(std::string_view what, const char * expected, const std::string & shown) {
    std::string msg = "gguf: ";
    msg += what.empty() ? std::string("value") : "key '" + std::string(what) + "'";
    msg += ": value " + shown + " does not fit " + expected;
    throw Error(ErrorKind::ErrorKind_invalid_file, msg);
}

bool is_unsigned_type(ValueType t) {
    return t == ValueType::ValueType_u8 || t == ValueType::ValueType_u16 || t == ValueType::ValueType_u32 ||
           t == ValueType::ValueType_u64;
}

bool is_signed_type(ValueType t) {
    return t == ValueType::ValueType_i8 || t == ValueType::ValueType_i16 || t == ValueType::ValueType_i32 ||
           t == ValueType::ValueType_i64;
}

}  // namespace

const char * value_type_name(ValueType t) {
    switch (t) {
        case ValueType::ValueType_u8: return "u8";
        case ValueType::ValueType_i8: return "i8";
        case ValueType::ValueType_u16: return "u16";
        case ValueType::ValueType_i16: return "i16";
        case ValueType::ValueType_u32: return "u32";
        case ValueType::ValueType_i32: return "i32";
        case ValueType::ValueType_f32: return "f32";
        case ValueType::ValueType_bool: return "bool";
        case ValueType::ValueType_string: return "string";
        case ValueType::ValueType_array: return "array";
        case ValueType::ValueType_u64: return "u64";
        case ValueType::ValueType_i64: return "i64";
        case ValueType::ValueType_f64: return "f64";
    }
    return "unknown";
}

uint64_t Value::as_u64(std::string_view what) const {
    if (is_unsigned_type(type)) return std::get<uint64_t>(v);
    if (is_signed_type(type)) {
        const int64_t x = std::get<int64_t>(v);
        if (x < 0) out_of_range(what, "an unsigned integer", std::to_string(x));
        return (uint64_t)x;
    }
    mismatch(what, "an unsigned integer", *this);
}

int64_t Value::as_i64(std::string_view what) const {
    if (is_signed_type(type)) return std::get<int64_t>(v);
    if (is_unsigned_type(type)) {
        const uint64_t x = std::get<uint64_t>(v);
        if (x > (uint64_t)std::numeric_limits<int64_t>::max()) out_of_range(what, "i64", std::to_string(x));
        return (int64_t)x;
    }
    mismatch(what, "an integer", *this);
}

double Value::as_f64(std::string_view what) const {
    if (type == ValueType::ValueType_f32 || type == ValueType::ValueType_f64) return std::get<double>(v);
    if (is_unsigned_type(type)) return (double)std::get<uint64_t>(v);
    if (is_signed_type(type)) return (double)std::get<int64_t>(v);
    mismatch(what, "a number", *this);
}

bool Value::as_bool(std::string_view what) const {
    if (type != ValueType::ValueType_bool) mismatch(what, "bool", *this);
    return std::get<bool>(v);
}

const std::string & Value::as_string(std::string_view what) const {
    if (type != ValueType::ValueType_string) mismatch(what, "string", *this);
    return std::get<std::string>(v);
}

const Array & Value::as_array(std::string_view what) const {
    if (type != ValueType::ValueType_array) mismatch(what, "array", *this);
    return *std::get<std::shared_ptr<Array>>(v);
}

Value Value::u8(uint8_t x) { return Value{ValueType::ValueType_u8, uint64_t{x}}; }
Value Value::i8(int8_t x) { return Value{ValueType::ValueType_i8, int64_t{x}}; }
Value Value::u16(uint16_t x) { return Value{ValueType::ValueType_u16, uint64_t{x}}; }
Value Value::i16(int16_t x) { return Value{ValueType::ValueType_i16, int64_t{x}}; }
Value Value::u32(uint32_t x) { return Value{ValueType::ValueType_u32, uint64_t{x}}; }
Value Value::i32(int32_t x) { return Value{ValueType::ValueType_i32, int64_t{x}}; }
Value Value::u64(uint64_t x) { return Value{ValueType::ValueType_u64, x}; }
Value Value::i64(int64_t x) { return Value{ValueType::ValueType_i64, x}; }
Value Value::f32(float x) { return Value{ValueType::ValueType_f32, double{x}}; }
Value Value::f64(double x) { return Value{ValueType::ValueType_f64, x}; }
Value Value::boolean(bool x) { return Value{ValueType::ValueType_bool, x}; }
Value Value::string(std::string x) { return Value{ValueType::ValueType_string, std::move(x)}; }

Value Value::array(ValueType elem_type, std::vector<Value> items) {
    return Value{ValueType::ValueType_array, std::make_shared<Array>(elem_type, std::move(items))};
}

Value Value::owned() const {
    if (type != ValueType::ValueType_array) return *this;
    const Array & a = as_array();
    std::vector<Value> items;
    items.reserve(a.size());
    for (size_t i = 0; i < a.size(); ++i) items.push_back(a.at(i).owned());
    return array(a.elem_type(), std::move(items));
}

Array::Array(ValueType elem_type, std::vector<Value> items) : elem_type_(elem_type), items_(std::move(items)) {}

std::shared_ptr<Array> Array::scalar_view(ValueType elem_type, const uint8_t * data, size_t n) {
    SY_ASSERT(elem_type != ValueType::ValueType_string && elem_type != ValueType::ValueType_array);
    auto a = std::make_shared<Array>();
    a->elem_type_ = elem_type;
    a->scalars_ = data;
    a->n_scalars_ = n;
    a->file_backed_ = true;
    return a;
}

std::shared_ptr<Array> Array::string_view_array(std::vector<std::string_view> strings) {
    auto a = std::make_shared<Array>();
    a->elem_type_ = ValueType::ValueType_string;
    a->strings_ = std::move(strings);
    a->file_backed_ = true;
    return a;
}

size_t Array::size() const {
    if (!file_backed_) return items_.size();
    return elem_type_ == ValueType::ValueType_string ? strings_.size() : n_scalars_;
}

namespace {
template <typename T>
T load_le(const uint8_t * p) {
    T x;
    std::memcpy(&x, p, sizeof x);  // GGUF is little-endian, as is every target we build for
    return x;
}
}  // namespace

Value Array::at(size_t i) const {
    if (i >= size()) throw std::out_of_range("gguf array index " + std::to_string(i) + " of " + std::to_string(size()));
    if (!file_backed_) return items_[i];
    if (elem_type_ == ValueType::ValueType_string) return Value::string(std::string(strings_[i]));
    switch (elem_type_) {
        case ValueType::ValueType_u8: return Value::u8(scalars_[i]);
        case ValueType::ValueType_i8: return Value::i8((int8_t)scalars_[i]);
        case ValueType::ValueType_u16: return Value::u16(load_le<uint16_t>(scalars_ + 2 * i));
        case ValueType::ValueType_i16: return Value::i16(load_le<int16_t>(scalars_ + 2 * i));
        case ValueType::ValueType_u32: return Value::u32(load_le<uint32_t>(scalars_ + 4 * i));
        case ValueType::ValueType_i32: return Value::i32(load_le<int32_t>(scalars_ + 4 * i));
        case ValueType::ValueType_f32: return Value::f32(load_le<float>(scalars_ + 4 * i));
        case ValueType::ValueType_bool: return Value::boolean(scalars_[i] != 0);
        case ValueType::ValueType_u64: return Value::u64(load_le<uint64_t>(scalars_ + 8 * i));
        case ValueType::ValueType_i64: return Value::i64(load_le<int64_t>(scalars_ + 8 * i));
        case ValueType::ValueType_f64: return Value::f64(load_le<double>(scalars_ + 8 * i));
        case ValueType::ValueType_string:
        case ValueType::ValueType_array: break;
    }
    SY_ASSERT_MSG(false, "file-backed array of an unexpected type");
    return {};
}

std::string_view Array::string_at(size_t i, std::string_view what) const {
    if (elem_type_ != ValueType::ValueType_string) {
        std::string msg = "gguf: ";
        msg += what.empty() ? std::string("value") : "key '" + std::string(what) + "'";
        msg += std::string(": expected an array of string, got an array of ") + value_type_name(elem_type_);
        throw Error(ErrorKind::ErrorKind_invalid_file, msg);
    }
    if (i >= size()) throw std::out_of_range("gguf array index " + std::to_string(i) + " of " + std::to_string(size()));
    if (file_backed_) return strings_[i];
    return items_[i].as_string(what);
}

Value Value::strings(const std::vector<std::string> & xs) {
    std::vector<Value> items;
    items.reserve(xs.size());
    for (const auto & x : xs) items.push_back(Value::string(x));
    return array(ValueType::ValueType_string, std::move(items));
}

Value Value::f32s(const std::vector<float> & xs) {
    std::vector<Value> items;
    items.reserve(xs.size());
    for (float x : xs) items.push_back(Value::f32(x));
    return array(ValueType::ValueType_f32, std::move(items));
}

Value Value::i32s(const std::vector<int32_t> & xs) {
    std::vector<Value> items;
    items.reserve(xs.size());
    for (int32_t x : xs) items.push_back(Value::i32(x));
    return array(ValueType::ValueType_i32, std::move(items));
}

}  // namespace sy::gguf
