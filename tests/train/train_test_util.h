// Helpers shared by the trainer tests: temporary files, tiny random models and batches, the example
// agent's tools and generated conversations.
#pragma once

#include <filesystem>
#include <random>
#include <string>
#include <unistd.h>

#include <fstream>

#include "chat/chat_format.h"
#include "engine/model_init.h"
#include "train/data.h"
#include "train/datagen.h"

namespace sy::train::test {

inline std::string tmp_path(const std::string & name) {
    const auto dir = std::filesystem::temp_directory_path() / ("sy_train_test_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    return (dir / name).string();
}

// A tiny random model file (engine preset "tiny": n_embd 128, 2 layers, 4/2 heads, vocab 2048).
inline std::string tiny_model(const std::string & arch, const std::string & dtype, uint64_t seed = 1) {
    const std::string path = tmp_path("tiny_" + arch + "_" + dtype + "_" + std::to_string(seed) + ".gguf");
    if (!std::filesystem::exists(path)) {
        engine::InitParams p;
        p.arch = arch;
        p.preset = "tiny";
        p.dtype = dtype;
        p.seed = seed;
        engine::init_random_model(p, path);
    }
    return path;
}

// n floats uniform in [-1, 1) (GEMM operands of the kernel tests).
inline std::vector<float> randu(size_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> d(-1.0f, 1.0f);
    std::vector<float> v(n);
    for (auto & x : v) x = d(rng);
    return v;
}

// Random examples of given lengths with loss on the second half of each.
inline std::vector<TrainExample> random_examples(const std::vector<int> & lens, int32_t n_vocab, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<TrainExample> out;
    for (int L : lens) {
        TrainExample e;
        for (int i = 0; i < L; ++i) {
            e.tokens.push_back((int32_t)(rng() % (uint64_t)n_vocab));
            e.loss_mask.push_back(i >= L / 2 ? 1 : 0);
        }
        out.push_back(std::move(e));
    }
    return out;
}

inline std::vector<size_t> iota_order(size_t n) {
    std::vector<size_t> o(n);
    for (size_t i = 0; i < n; ++i) o[i] = i;
    return o;
}

// The example task agent's tools (examples/task-agent/tools.json).
inline chat::ojson task_tools() {
    std::ifstream in(std::string(SY_SOURCE_DIR) + "/examples/task-agent/tools.json");
    return chat::ojson::parse(in);
}

// n generated task-agent conversations of a split (`switchyard dataset generate --n n --seed seed --split`).
inline std::vector<chat::Conversation> generated_chats(int64_t n, uint64_t seed, DataSplit split) {
    DatagenParams p;
    p.n = n;
    p.seed = seed;
    p.split = split;
    std::vector<chat::Conversation> out;
    for (const auto & row : generate_task_examples(task_tools(), p)) out.push_back(chat::parse_conversation(row));
    return out;
}

}  // namespace sy::train::test
