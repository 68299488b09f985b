// safetensors reader and writer (see safetensors.h).
#include "train/safetensors.h"

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/fp16.h"

namespace sy::train {

std::map<std::string, StTensor> parse_safetensors(const std::vector<uint8_t> & b, const std::string & what) {
    auto bad = [&](const std::string & m) { throw Error(ErrorKind::ErrorKind_invalid_file, what + ": " + m); };
    if (b.size() < 8) bad("shorter than the 8-byte header length");
    uint64_t n = 0;
    std::memcpy(&n, b.data(), 8);
    if (n > b.size() - 8 || n > (100u << 20)) bad("header length " + std::to_string(n) + " exceeds the file");
    nlohmann::json h;
    try {
        h = nlohmann::json::parse(b.begin() + 8, b.begin() + 8 + (std::ptrdiff_t)n);
    } catch (const nlohmann::json::exception & e) {
        bad(std::string("header is not valid JSON: ") + e.what());
    }
    if (!h.is_object()) bad("header is not a JSON object");
    const uint64_t data_start = 8 + n, data_size = b.size() - data_start;
    std::map<std::string, StTensor> out;
    for (const auto & [name, t] : h.items()) {
        if (name == "__metadata__") continue;
        if (!t.is_object() || !t.contains("dtype") || !t.contains("shape") || !t.contains("data_offsets"))
            bad("tensor '" + name + "' lacks dtype/shape/data_offsets");
        const std::string dt = t["dtype"].is_string() ? t["dtype"].get<std::string>() : "";
        const size_t esz = dt == "F32" ? 4 : (dt == "F16" || dt == "BF16") ? 2 : 0;
        if (!esz) bad("tensor '" + name + "' has unsupported dtype '" + dt + "' (F32, F16, BF16 are read)");
        StTensor st;
        uint64_t count = 1;
        if (!t["shape"].is_array() || t["shape"].size() > 8) bad("tensor '" + name + "': bad shape");
        for (const auto & d : t["shape"]) {
            if (!d.is_number_unsigned() || d.get<uint64_t>() > (1ull << 40)) bad("tensor '" + name + "': bad shape");
            st.shape.push_back((int64_t)d.get<uint64_t>());
            count *= d.get<uint64_t>();
            if (count > (1ull << 40)) bad("tensor '" + name + "': too large");
        }
        const auto & off = t["data_offsets"];
        if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
            bad("tensor '" + name + "': bad data_offsets");
        const uint64_t o0 = off[0].get<uint64_t>(), o1 = off[1].get<uint64_t>();
        if (o0 > o1 || o1 > data_size) bad("tensor '" + name + "': data_offsets outside the data section");
        if (o1 - o0 != count * esz) bad("tensor '" + name + "': data size does not match dtype and shape");
        st.data.resize(count);
        const uint8_t * p = b.data() + data_start + o0;
        for (uint64_t i = 0; i < count; ++i) {
            if (esz == 4) {
                std::memcpy(&st.data[i], p + 4 * i, 4);
            } else {
                uint16_t h16;
                std::memcpy(&h16, p + 2 * i, 2);
                if (dt == "F16") {
                    st.data[i] = fp16_to_fp32(h16);
                } else {
                    const uint32_t u = (uint32_t)h16 << 16;
                    std::memcpy(&st.data[i], &u, 4);
                }
            }
        }
        out.emplace(name, std::move(st));
    }
    return out;
}

std::map<std::string, StTensor> read_safetensors(const std::string & path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorKind::ErrorKind_io, "cannot open '" + path + "'");
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return parse_safetensors(bytes, path);
}

void write_safetensors(const std::string & path, const std::map<std::string, StTensor> & tensors,
                       const std::map<std::string, std::string> & metadata) {
    nlohmann::json h = nlohmann::json::object();
    if (!metadata.empty()) h["__metadata__"] = metadata;
    uint64_t off = 0;
    for (const auto & [name, t] : tensors) {
        const uint64_t bytes = t.data.size() * 4;
        h[name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {off, off + bytes}}};
        off += bytes;
    }
    std::string hs = h.dump();
    while ((hs.size() + 8) % 8 != 0) hs += ' ';  // align the data section to 8 bytes
    std::ofstream o(path, std::ios::binary | std::ios::trunc);
    if (!o) throw Error(ErrorKind::ErrorKind_io, "cannot write '" + path + "'");
    const uint64_t n = hs.size();
    o.write(reinterpret_cast<const char *>(&n), 8);
    o.write(hs.data(), (std::streamsize)hs.size());
    for (const auto & [name, t] : tensors) o.write(reinterpret_cast<const char *>(t.data.data()), (std::streamsize)(t.data.size() * 4));
    if (!o) throw Error(ErrorKind::ErrorKind_io, "failed writing '" + path + "'");
}

}  // namespace sy::train
