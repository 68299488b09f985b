// Black-box test of `switchyard model info`: runs the built binary on GGUF files this test writes and checks
// the text output, the --json object (parsed) and the failure on a corrupt file.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "gguf/gguf.h"

namespace {

using sy::gguf::Value;
using sy::gguf::ValueType;

using RunResult = sy::test::CliResult;

RunResult run(const std::string & args, bool with_stderr = false) { return sy::test::run_cli(args, with_stderr); }

class ModelInfo : public ::testing::Test {
protected:
    void SetUp() override {
        const auto * info = ::testing::UnitTest::GetInstance()->current_test_info();
        path_ = (std::filesystem::temp_directory_path() /
                 ("sy_model_info_" + std::string(info->name()) + "_" + std::to_string(getpid()) + ".gguf"))
                    .string();
        sy::gguf::Writer w;
        w.set("general.architecture", Value::string("llama"));
        w.set("general.name", Value::string("tiny \"quoted\"\nname"));
        w.set("llama.block_count", Value::u32(2));
        w.set("llama.rope.freq_base", Value::f32(0.1f));
        std::vector<std::string> tokens;
        for (int i = 0; i < 100; ++i) tokens.push_back("tok" + std::to_string(i));
        w.set("tokenizer.ggml.tokens", Value::strings(tokens));
        w.set("nested", Value::array(ValueType::ValueType_array, {Value::i32s({1, 2}), Value::i32s({3})}));
        const int64_t ne_emb[] = {64, 3};
        w.add_tensor("token_embd.weight", 8, ne_emb, std::vector<uint8_t>(2 * 34 * 3, 1));  // q8_0
        const int64_t ne_norm[] = {64};
        w.add_tensor("output_norm.weight", 0, ne_norm, std::vector<uint8_t>(256, 2));  // f32
        w.write(path_);
    }
    void TearDown() override { std::filesystem::remove(path_); }
    std::string path_;
};

TEST_F(ModelInfo, TextListsHeaderMetadataTensorsAndTotals) {
    const RunResult r = run("model info " + path_);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const sy::gguf::File f = sy::gguf::File::open(path_);
    const std::string & out = r.output;
    auto has = [&](const std::string & s) { return out.find(s) != std::string::npos; };
    EXPECT_TRUE(has("GGUF v3, alignment 32, data offset " + std::to_string(f.data_offset()))) << out;
    EXPECT_TRUE(has("metadata: 6 keys")) << out;
    EXPECT_TRUE(has("general.architecture")) << out;
    EXPECT_TRUE(has("\"llama\"")) << out;
    EXPECT_TRUE(has("\"tiny \\\"quoted\\\"\\nname\"")) << "strings are escaped on one line\n" << out;
    EXPECT_TRUE(has("0.1\n")) << "f32 printed in its shortest form\n" << out;
    EXPECT_TRUE(has("[string; 100]")) << out;
    EXPECT_TRUE(has("\"tok15\", ... 84 more]")) << "long arrays abbreviated to 16 items\n" << out;
    EXPECT_FALSE(has("\"tok16\"")) << out;
    EXPECT_TRUE(has("[[i32]; 2]")) << out;
    EXPECT_TRUE(has("[[1, 2], [3]]")) << out;
    EXPECT_TRUE(has("tensors: 2")) << out;
    EXPECT_TRUE(has("token_embd.weight")) << out;
    EXPECT_TRUE(has("q8_0")) << out;
    EXPECT_TRUE(has("[64, 3]")) << out;
    EXPECT_TRUE(has("total: 2 tensors, 256 parameters, 460 bytes of tensor data")) << out;
}

TEST_F(ModelInfo, JsonParsesAndMatchesTheFile) {
    const RunResult r = run("model info --json --max-items 3 " + path_);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const nlohmann::json j = nlohmann::json::parse(r.output);
    const sy::gguf::File f = sy::gguf::File::open(path_);
    EXPECT_EQ(j.at("version"), 3);
    EXPECT_EQ(j.at("alignment"), 32);
    EXPECT_EQ(j.at("data_offset"), f.data_offset());
    EXPECT_EQ(j.at("file_size"), f.file_size());
    const auto & meta = j.at("metadata");
    EXPECT_EQ(meta.size(), 6u);
    EXPECT_EQ(meta.at("general.architecture"), "llama");
    EXPECT_EQ(meta.at("general.name"), "tiny \"quoted\"\nname");
    EXPECT_EQ(meta.at("llama.block_count"), 2);
    EXPECT_EQ(meta.at("llama.rope.freq_base").get<double>(), 0.1);
    EXPECT_EQ(meta.at("tokenizer.ggml.tokens"), nlohmann::json::array({"tok0", "tok1", "tok2"}));
    EXPECT_EQ(meta.at("nested"), nlohmann::json::parse("[[1,2],[3]]"));
    EXPECT_EQ(j.at("metadata_types").at("llama.block_count"), "u32");
    EXPECT_EQ(j.at("metadata_types").at("tokenizer.ggml.tokens"), "array[string]");
    EXPECT_EQ(j.at("metadata_types").at("nested"), "array[array[i32]]");
    EXPECT_EQ(j.at("metadata_array_counts").at("tokenizer.ggml.tokens"), 100);
    EXPECT_EQ(j.at("metadata_array_counts").size(), 2u);

    const auto & ts = j.at("tensors");
    ASSERT_EQ(ts.size(), 2u);
    EXPECT_EQ(ts[0].at("name"), "token_embd.weight");
    EXPECT_EQ(ts[0].at("type"), "q8_0");
    EXPECT_EQ(ts[0].at("type_id"), 8);
    EXPECT_EQ(ts[0].at("shape"), nlohmann::json::array({64, 3}));
    EXPECT_EQ(ts[0].at("n_elements"), 192);
    EXPECT_EQ(ts[0].at("offset"), 0);
    EXPECT_EQ(ts[0].at("n_bytes"), 204);
    EXPECT_EQ(ts[1].at("name"), "output_norm.weight");
    EXPECT_EQ(ts[1].at("offset"), 224);
    EXPECT_EQ(ts[1].at("n_bytes"), 256);
    EXPECT_EQ(j.at("n_tensors"), 2);
    EXPECT_EQ(j.at("n_params"), 256);
    EXPECT_EQ(j.at("n_bytes"), 460);
}

TEST_F(ModelInfo, CorruptFileFailsWithTheReaderMessage) {
    std::filesystem::resize_file(path_, std::filesystem::file_size(path_) - 1);
    const RunResult r = run("model info " + path_, true);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("tensor 'output_norm.weight': data ["), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("extends past end of file"), std::string::npos) << r.output;

    const RunResult missing = run("model info " + path_ + ".missing", true);
    EXPECT_EQ(missing.exit_code, 1) << missing.output;
    EXPECT_NE(missing.output.find("cannot open"), std::string::npos) << missing.output;
}

}  // namespace
