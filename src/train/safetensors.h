// safetensors files (Hugging Face): u64 little-endian header length N, N bytes of JSON
// {"<name>": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}, then
// the data section (offsets relative to its start). The reader checks every length and offset against the
// file size and the dtype × shape product; F32, F16 and BF16 are read (converted to f32).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sy::train {

struct StTensor {
    std::vector<int64_t> shape;  // row-major, outermost first
    std::vector<float> data;
};

// Throws sy::Error(ErrorKind_invalid_file) naming the field that is wrong.
std::map<std::string, StTensor> read_safetensors(const std::string & path);
std::map<std::string, StTensor> parse_safetensors(const std::vector<uint8_t> & bytes, const std::string & what);

// Writes F32 tensors (names sorted) with optional string metadata.
void write_safetensors(const std::string & path, const std::map<std::string, StTensor> & tensors,
                       const std::map<std::string, std::string> & metadata = {});

}  // namespace sy::train
