// GGUF metadata values: type names, constructors and the checked accessors of sy::gguf::Value.
// The file reader lives in reader.cpp, the writer in writer.cpp.
#include <limits>
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
        msg += value_type_name(std::get<std::shared_ptr<Array>>(v.v)->elem_type);
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
    auto a = std::make_shared<Array>();
    a->elem_type = elem_type;
    a->items = std::move(items);
    return Value{ValueType::ValueType_array, std::move(a)};
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
