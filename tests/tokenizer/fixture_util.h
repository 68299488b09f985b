// Helpers for the tokenizer reference vectors under ../shared/fixtures/vocab (see the README there).
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace sy::tok::testing {

inline std::filesystem::path vocab_fixture_dir() { return std::filesystem::path(SY_SHARED_DIR) / "fixtures" / "vocab"; }

inline std::string read_file(const std::filesystem::path & p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// Texts of NAME.gguf.inp: each text is followed by "\n__ggml_vocab_test__\n".
inline std::vector<std::string> read_inputs(const std::filesystem::path & p) {
    const std::string all = read_file(p);
    const std::string sep = "\n__ggml_vocab_test__\n";
    std::vector<std::string> out;
    size_t pos = 0;
    for (size_t at = all.find(sep); at != std::string::npos; at = all.find(sep, pos)) {
        out.push_back(all.substr(pos, at - pos));
        pos = at + sep.size();
    }
    return out;
}

// Lines of NAME.gguf.out: space-separated ids, one line per text.
inline std::vector<std::vector<TokenId>> read_outputs(const std::filesystem::path & p) {
    std::ifstream f(p);
    std::vector<std::vector<TokenId>> out;
    std::string line;
    while (std::getline(f, line)) {
        std::istringstream ls(line);
        std::vector<TokenId> ids;
        TokenId id = 0;
        while (ls >> id) ids.push_back(id);
        out.push_back(std::move(ids));
    }
    return out;
}

inline std::vector<std::string> fixture_names() {
    std::vector<std::string> names;
    if (!std::filesystem::is_directory(vocab_fixture_dir())) return names;
    for (const auto & e : std::filesystem::directory_iterator(vocab_fixture_dir())) {
        const std::string f = e.path().filename().string();
        if (f.size() > 5 && f.ends_with(".gguf")) names.push_back(f);
    }
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace sy::tok::testing
