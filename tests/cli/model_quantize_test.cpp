// Black-box test of `switchyard model quantize`: writes a tiny two-layer model, runs the built binary with a
// mixed recipe and a plain type, then reads the output back and checks metadata, per-tensor types (written
// out from llama.cpp's Q4_K_M rules), untouched tensors and the decoded values; plus the failures.
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/cli_util.h"

#include "gguf/gguf.h"
#include "tensor/quant.h"

namespace {

using sy::DType;
using sy::gguf::Value;

using RunResult = sy::test::CliResult;

RunResult run_quantize(const std::string & args) { return sy::test::run_cli("model quantize " + args, true); }

std::vector<float> gaussian(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, 0.02f);
    std::vector<float> x(n);
    for (auto & v : x) v = dist(rng);
    return x;
}

std::vector<uint8_t> bytes_of(const std::vector<float> & x) {
    std::vector<uint8_t> b(x.size() * 4);
    std::memcpy(b.data(), x.data(), b.size());
    return b;
}

struct SourceTensor {
    std::string name;
    std::vector<int64_t> ne;
    std::vector<float> values;
};

class ModelQuantize : public ::testing::Test {
protected:
    void SetUp() override {
        const auto * info = ::testing::UnitTest::GetInstance()->current_test_info();
        const auto dir = std::filesystem::temp_directory_path();
        const std::string stem = "sy_quantize_" + std::string(info->name()) + "_" + std::to_string(getpid());
        in_ = (dir / (stem + "_in.gguf")).string();
        out_ = (dir / (stem + "_out.gguf")).string();

        // ne[0] = 512 for most (a multiple of 256); ffn_down rows are 96 (a multiple of 32 only).
        tensors_ = {
            {"token_embd.weight", {512, 6}, {}},      {"blk.0.attn_norm.weight", {512}, {}},
            {"blk.0.attn_v.weight", {512, 8}, {}},    {"blk.0.ffn_down.weight", {96, 8}, {}},
            {"blk.1.attn_v.weight", {512, 8}, {}},    {"blk.1.ffn_down.weight", {96, 8}, {}},
            {"blk.1.attn_q.weight", {512, 8}, {}},    {"output.weight", {512, 6}, {}},
        };
        sy::gguf::Writer w;
        w.set("general.architecture", Value::string("llama"));
        w.set("general.file_type", Value::u32(0));
        w.set("llama.block_count", Value::u32(2));
        w.set("custom.key", Value::string("kept"));
        uint32_t seed = 1;
        for (auto & t : tensors_) {
            size_t n = 1;
            for (int64_t d : t.ne) n *= (size_t)d;
            t.values = gaussian(n, seed++);
            w.add_tensor(t.name, 0, t.ne, bytes_of(t.values));
        }
        w.write(in_);
    }
    void TearDown() override {
        std::filesystem::remove(in_);
        std::filesystem::remove(out_);
    }

    std::string in_, out_;
    std::vector<SourceTensor> tensors_;
};

TEST_F(ModelQuantize, Q4_K_MixFollowsLlamaRules) {
    const RunResult r = run_quantize(in_ + " " + out_ + " q4_k_m --threads 2");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("model size:"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("blk.0.attn_v.weight"), std::string::npos) << r.output;

    sy::gguf::File f = sy::gguf::File::open(out_);
    EXPECT_EQ(f.get_u64("general.file_type"), 15u);
    EXPECT_EQ(f.get_u64("general.quantization_version"), 2u);
    EXPECT_EQ(f.get_string("custom.key"), "kept");
    ASSERT_EQ(f.tensors().size(), tensors_.size());

    // n_layer = 2: use_more_bits(i, 2) is false for layer 0 and true for layer 1 (1 >= 7*2/8).
    const std::pair<const char *, DType> want[] = {
        {"token_embd.weight", DType::DType_q4_k},      {"blk.0.attn_norm.weight", DType::DType_f32},
        {"blk.0.attn_v.weight", DType::DType_q4_k},    {"blk.0.ffn_down.weight", DType::DType_q5_0},  // fallback
        {"blk.1.attn_v.weight", DType::DType_q6_k},    {"blk.1.ffn_down.weight", DType::DType_q8_0},  // fallback
        {"blk.1.attn_q.weight", DType::DType_q4_k},    {"output.weight", DType::DType_q6_k},
    };
    for (const auto & [name, type] : want) {
        const auto * t = f.find_tensor(name);
        ASSERT_NE(t, nullptr) << name;
        EXPECT_EQ(t->type, (uint32_t)type) << name;
    }

    for (const auto & src : tensors_) {
        const auto * t = f.find_tensor(src.name);
        ASSERT_NE(t, nullptr);
        ASSERT_EQ(t->n_dims, src.ne.size());
        for (size_t d = 0; d < src.ne.size(); ++d) EXPECT_EQ(t->ne[d], src.ne[d]);
        const int64_t n_cols = src.ne[0];
        const int64_t n_rows = (int64_t)src.values.size() / n_cols;
        const auto y = sy::dequantize_rows((DType)t->type, t->data, n_rows, n_cols);
        double num = 0, den = 0;
        for (size_t i = 0; i < y.size(); ++i) {
            num += ((double)y[i] - src.values[i]) * ((double)y[i] - src.values[i]);
            den += (double)src.values[i] * src.values[i];
        }
        const double err = std::sqrt(num / den);
        if (t->type == (uint32_t)DType::DType_f32) EXPECT_EQ(err, 0.0) << src.name;  // copied bit for bit
        else EXPECT_LT(err, 0.09) << src.name;
    }
}

TEST_F(ModelQuantize, PlainTypeAndRequantize) {
    RunResult r = run_quantize(in_ + " " + out_ + " Q8_0");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    {
        sy::gguf::File f = sy::gguf::File::open(out_);
        EXPECT_EQ(f.get_u64("general.file_type"), 7u);
        EXPECT_EQ(f.find_tensor("blk.0.attn_v.weight")->type, (uint32_t)DType::DType_q8_0);
        EXPECT_EQ(f.find_tensor("blk.0.ffn_down.weight")->type, (uint32_t)DType::DType_q8_0);  // 96 = 3 * 32
        EXPECT_EQ(f.find_tensor("blk.0.attn_norm.weight")->type, (uint32_t)DType::DType_f32);
    }
    // q8_0 -> pure q4_K (requantization): 96-wide rows fall back to q5_0, the rest become q4_K.
    const std::string out2 = out_ + ".q4k.gguf";
    r = run_quantize(out_ + " " + out2 + " q4_K");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    {
        sy::gguf::File f = sy::gguf::File::open(out2);
        EXPECT_EQ(f.get_u64("general.file_type"), 14u);
        EXPECT_EQ(f.find_tensor("output.weight")->type, (uint32_t)DType::DType_q4_k);
        EXPECT_EQ(f.find_tensor("blk.1.ffn_down.weight")->type, (uint32_t)DType::DType_q5_0);
    }
    std::filesystem::remove(out2);
}

TEST_F(ModelQuantize, FailuresAreReported) {
    RunResult r = run_quantize(in_ + " " + out_ + " q7_K");
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.output.find("unknown quantization type 'q7_K'"), std::string::npos) << r.output;
    EXPECT_FALSE(std::filesystem::exists(out_));

    r = run_quantize(in_ + ".missing " + out_ + " Q4_K_M");
    EXPECT_NE(r.exit_code, 0);
    EXPECT_FALSE(std::filesystem::exists(out_));

    r = run_quantize(in_ + " " + out_);  // TYPE missing
    EXPECT_NE(r.exit_code, 0);
}

}  // namespace
