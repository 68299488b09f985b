// `switchyard model info FILE [--json] [--max-items N]`: what a GGUF file holds. Text mode prints the header,
// every metadata key with its type and value (long arrays and strings abbreviated, like gguf-dump), the
// tensor table and totals. --json prints one object; its shape is documented in docs/gguf.md.
// This command only reads the file (gguf layer); it loads no model.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/error.h"
#include "gguf/gguf.h"
#include "gguf/types.h"

namespace sy::cli {
namespace {

using gguf::Array;
using gguf::Value;
using gguf::ValueType;
using Json = nlohmann::ordered_json;  // keeps the file's key order

constexpr size_t kMaxTextString = 160;  // bytes of a string value shown in text mode

struct InfoParams {
    std::string path;
    bool json = false;
    size_t max_items = 16;  // array items shown (text and JSON); the full count is always reported
};

std::string dtype_name(uint32_t id) {
    const auto d = dtype_info(id);
    return d ? d->name : "type" + std::to_string(id);
}

// Shortest text that reads back as the same f32 / f64.
std::string format_float(const Value & v) {
    char buf[64];
    const double x = std::get<double>(v.v);
    const auto r = v.type == ValueType::ValueType_f32 ? std::to_chars(buf, buf + sizeof buf, (float)x)
                                                      : std::to_chars(buf, buf + sizeof buf, x);
    return std::string(buf, r.ptr);
}

// A quoted string with quotes, backslashes and control bytes escaped; bytes >= 0x80 pass through (UTF-8).
std::string quote(const std::string & s, size_t max_bytes) {
    std::string out = "\"";
    const size_t n = std::min(s.size(), max_bytes);
    for (size_t i = 0; i < n; ++i) {
        const unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out += '\\';
            out += (char)c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += (char)c;
        }
    }
    out += '"';
    if (n < s.size()) out += "... (" + std::to_string(s.size()) + " bytes)";
    return out;
}

// "u32", "string", "[string; 32000]", "[[i32]; 3]"
std::string type_text(const Value & v) {
    if (v.type != ValueType::ValueType_array) return gguf::value_type_name(v.type);
    const Array & a = v.as_array();
    std::string elem = gguf::value_type_name(a.elem_type());
    if (a.elem_type() == ValueType::ValueType_array && !a.empty()) {
        elem = type_text(a.at(0));
        elem = elem.substr(0, elem.find(';')) + (elem[0] == '[' ? "]" : "");
    }
    return "[" + elem + "; " + std::to_string(a.size()) + "]";
}

std::string value_text(const Value & v, size_t max_items) {
    switch (v.type) {
        case ValueType::ValueType_u8:
        case ValueType::ValueType_u16:
        case ValueType::ValueType_u32:
        case ValueType::ValueType_u64: return std::to_string(std::get<uint64_t>(v.v));
        case ValueType::ValueType_i8:
        case ValueType::ValueType_i16:
        case ValueType::ValueType_i32:
        case ValueType::ValueType_i64: return std::to_string(std::get<int64_t>(v.v));
        case ValueType::ValueType_f32:
        case ValueType::ValueType_f64: return format_float(v);
        case ValueType::ValueType_bool: return std::get<bool>(v.v) ? "true" : "false";
        case ValueType::ValueType_string: return quote(std::get<std::string>(v.v), kMaxTextString);
        case ValueType::ValueType_array: {
            const Array & a = v.as_array();
            std::string out = "[";
            const size_t shown = std::min(a.size(), max_items);
            for (size_t i = 0; i < shown; ++i) {
                if (i) out += ", ";
                out += value_text(a.at(i), max_items);
            }
            if (shown < a.size()) out += std::string(shown ? ", " : "") + "... " + std::to_string(a.size() - shown) + " more";
            return out + "]";
        }
    }
    return "?";
}

Json value_json(const Value & v, size_t max_items) {
    switch (v.type) {
        case ValueType::ValueType_u8:
        case ValueType::ValueType_u16:
        case ValueType::ValueType_u32:
        case ValueType::ValueType_u64: return std::get<uint64_t>(v.v);
        case ValueType::ValueType_i8:
        case ValueType::ValueType_i16:
        case ValueType::ValueType_i32:
        case ValueType::ValueType_i64: return std::get<int64_t>(v.v);
        case ValueType::ValueType_f32: {
            // Through the shortest f32 text, so 0.1f prints as 0.1, not 0.10000000149011612.
            const float x = (float)std::get<double>(v.v);
            if (!std::isfinite(x)) return nullptr;
            double shortest = x;
            const std::string text = format_float(v);
            std::from_chars(text.data(), text.data() + text.size(), shortest);
            return shortest;
        }
        case ValueType::ValueType_f64: return std::get<double>(v.v);  // NaN and infinities become null
        case ValueType::ValueType_bool: return std::get<bool>(v.v);
        case ValueType::ValueType_string: return std::get<std::string>(v.v);
        case ValueType::ValueType_array: {
            const Array & a = v.as_array();
            Json out = Json::array();
            for (size_t i = 0; i < std::min(a.size(), max_items); ++i) out.push_back(value_json(a.at(i), max_items));
            return out;
        }
    }
    return nullptr;
}

// "array[string]", "array[array[i32]]" (inner type from the first item), or the scalar type name.
std::string type_json(const Value & v) {
    if (v.type != ValueType::ValueType_array) return gguf::value_type_name(v.type);
    const Array & a = v.as_array();
    if (a.elem_type() == ValueType::ValueType_array && !a.empty()) return "array[" + type_json(a.at(0)) + "]";
    return std::string("array[") + gguf::value_type_name(a.elem_type()) + "]";
}

std::string shape_text(const gguf::TensorInfo & t) {
    std::string out = "[";
    for (uint32_t d = 0; d < t.n_dims; ++d) out += (d ? ", " : "") + std::to_string(t.ne[d]);
    return out + "]";
}

void print_json(const gguf::File & f, const InfoParams & p) {
    Json j;
    j["path"] = f.path();
    j["version"] = f.version();
    j["alignment"] = f.alignment();
    j["data_offset"] = f.data_offset();
    j["file_size"] = f.file_size();
    Json meta = Json::object(), types = Json::object(), counts = Json::object();
    for (const gguf::KeyValue & kv : f.metadata()) {
        meta[kv.key] = value_json(kv.value, p.max_items);
        types[kv.key] = type_json(kv.value);
        if (kv.value.type == ValueType::ValueType_array) counts[kv.key] = kv.value.as_array().size();
    }
    j["metadata"] = std::move(meta);
    j["metadata_types"] = std::move(types);
    j["metadata_array_counts"] = std::move(counts);
    Json tensors = Json::array();
    uint64_t n_params = 0, n_bytes = 0;
    for (const gguf::TensorInfo & t : f.tensors()) {
        Json shape = Json::array();
        for (uint32_t d = 0; d < t.n_dims; ++d) shape.push_back(t.ne[d]);
        tensors.push_back({{"name", t.name},
                           {"type", dtype_name(t.type)},
                           {"type_id", t.type},
                           {"shape", std::move(shape)},
                           {"n_elements", t.n_elements()},
                           {"offset", t.offset},
                           {"n_bytes", t.n_bytes}});
        n_params += (uint64_t)t.n_elements();
        n_bytes += t.n_bytes;
    }
    j["tensors"] = std::move(tensors);
    j["n_tensors"] = f.tensors().size();
    j["n_params"] = n_params;
    j["n_bytes"] = n_bytes;
    // GGUF strings are bytes: invalid UTF-8 is shown as U+FFFD rather than failing the dump.
    const std::string out = j.dump(2, ' ', false, Json::error_handler_t::replace);
    std::printf("%s\n", out.c_str());
}

void print_text(const gguf::File & f, const InfoParams & p) {
    std::printf("file: %s\n", f.path().c_str());
    std::printf("GGUF v%u, alignment %zu, data offset %llu, file size %zu bytes\n", f.version(), f.alignment(),
                (unsigned long long)f.data_offset(), f.file_size());

    size_t key_w = 8, type_w = 4;
    for (const gguf::KeyValue & kv : f.metadata()) {
        key_w = std::max(key_w, std::min<size_t>(kv.key.size(), 48));
        type_w = std::max(type_w, type_text(kv.value).size());
    }
    std::printf("\nmetadata: %zu keys\n", f.metadata().size());
    for (size_t i = 0; i < f.metadata().size(); ++i) {
        const gguf::KeyValue & kv = f.metadata()[i];
        std::printf("%5zu  %-*s  %-*s  %s\n", i + 1, (int)key_w, kv.key.c_str(), (int)type_w,
                    type_text(kv.value).c_str(), value_text(kv.value, p.max_items).c_str());
    }

    size_t name_w = 4;
    for (const gguf::TensorInfo & t : f.tensors()) name_w = std::max(name_w, t.name.size());
    std::printf("\ntensors: %zu\n", f.tensors().size());
    std::printf("%5s  %-*s  %-5s  %-24s  %14s  %14s  %14s\n", "index", (int)name_w, "name", "type", "shape",
                "n_elements", "offset", "bytes");
    uint64_t n_params = 0, n_bytes = 0;
    for (size_t i = 0; i < f.tensors().size(); ++i) {
        const gguf::TensorInfo & t = f.tensors()[i];
        std::printf("%5zu  %-*s  %-5s  %-24s  %14lld  %14llu  %14llu\n", i, (int)name_w, t.name.c_str(),
                    dtype_name(t.type).c_str(), shape_text(t).c_str(), (long long)t.n_elements(),
                    (unsigned long long)t.offset, (unsigned long long)t.n_bytes);
        n_params += (uint64_t)t.n_elements();
        n_bytes += t.n_bytes;
    }
    std::printf("\ntotal: %zu tensors, %llu parameters, %llu bytes of tensor data\n", f.tensors().size(),
                (unsigned long long)n_params, (unsigned long long)n_bytes);
}

}  // namespace

void add_model_info(CLI::App & model) {
    auto p = std::make_shared<InfoParams>();
    CLI::App * cmd = model.add_subcommand("info", "Print a GGUF file's header, metadata and tensor table");
    cmd->add_option("file", p->path, "GGUF file")->required();
    cmd->add_flag("--json", p->json, "Print one JSON object instead of text");
    cmd->add_option("--max-items", p->max_items, "Array items shown per array value (the full count is always given)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    cmd->callback([p] {
        const gguf::File f = gguf::File::open(p->path);
        if (p->json) {
            print_json(f, *p);
        } else {
            print_text(f, *p);
        }
    });
}

}  // namespace sy::cli
