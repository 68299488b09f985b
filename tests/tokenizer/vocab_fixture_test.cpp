// Reference vectors: every ggml-vocab-*.gguf under ../shared/fixtures/vocab must reproduce every expected
// id list of its .out file (no BOS/EOS, special text as plain text), decode back to the input, and survive
// a write_vocab_metadata -> reload round trip.
#include <gtest/gtest.h>

#include <algorithm>

#include "fixture_util.h"

namespace sy::tok {
namespace {

using testing::fixture_names;
using testing::read_inputs;
using testing::read_outputs;
using testing::vocab_fixture_dir;

std::string show(const std::vector<TokenId> & ids) {
    std::string s;
    for (auto id : ids) s += std::to_string(id) + " ";
    return s;
}

class VocabFixture : public ::testing::Test {
protected:
    void SetUp() override {
        if (fixture_names().empty()) GTEST_SKIP() << "no reference vocabularies at " << vocab_fixture_dir() << " (../shared absent)";
    }
};

TEST_F(VocabFixture, EveryFileReproducesEveryExpectedIdList) {
    const auto names = fixture_names();
    ASSERT_GE(names.size(), 7u);
    for (const auto & name : names) {
        SCOPED_TRACE(name);
        const auto dir = vocab_fixture_dir();
        auto file = gguf::File::open((dir / name).string());
        auto tok = Tokenizer::from_gguf(file);
        const auto inputs = read_inputs(dir / (name + ".inp"));
        const auto expected = read_outputs(dir / (name + ".out"));
        ASSERT_EQ(inputs.size(), expected.size());
        ASSERT_GT(inputs.size(), 40u);
        for (size_t i = 0; i < inputs.size(); ++i) {
            const auto ids = tok->encode(inputs[i]);
            EXPECT_EQ(ids, expected[i]) << "text #" << i << " '" << inputs[i] << "'\n got: " << show(ids)
                                        << "\nwant: " << show(expected[i]);
            EXPECT_EQ(tok->decode(ids), inputs[i]) << "text #" << i;
        }
    }
}

TEST_F(VocabFixture, WrittenMetadataReloadsToTheSameTokenizer) {
    for (const auto & name : fixture_names()) {
        SCOPED_TRACE(name);
        const auto dir = vocab_fixture_dir();
        auto file = gguf::File::open((dir / name).string());
        auto tok = Tokenizer::from_gguf(file);

        gguf::Writer w;
        w.set("general.architecture", gguf::Value::string("llama"));
        write_vocab_metadata(tok->vocab(), w);
        const std::vector<uint8_t> bytes = w.write_to_memory();
        auto file2 = gguf::File::from_memory(bytes.data(), bytes.size());
        auto tok2 = Tokenizer::from_gguf(file2);

        const Vocab & a = tok->vocab();
        const Vocab & b = tok2->vocab();
        ASSERT_EQ(a.n_tokens(), b.n_tokens());
        EXPECT_EQ(a.kind(), b.kind());
        EXPECT_EQ(a.pre(), b.pre());
        EXPECT_EQ(a.text_, b.text_);
        EXPECT_EQ(a.type_, b.type_);
        EXPECT_EQ(a.scores_, b.scores_);
        EXPECT_EQ(a.merges_, b.merges_);
        EXPECT_EQ(a.special().bos, b.special().bos);
        EXPECT_EQ(a.special().eos, b.special().eos);
        EXPECT_EQ(a.special().eot, b.special().eot);
        EXPECT_EQ(a.special().unk, b.special().unk);
        EXPECT_EQ(a.special().pad, b.special().pad);
        EXPECT_EQ(a.special().add_bos, b.special().add_bos);
        EXPECT_EQ(a.special().add_eos, b.special().add_eos);
        EXPECT_EQ(a.special().add_space_prefix, b.special().add_space_prefix);
        EXPECT_EQ(a.eog_ids_, b.eog_ids_);

        const auto expected = read_outputs(dir / (name + ".out"));
        const auto inputs = read_inputs(dir / (name + ".inp"));
        for (size_t i = 0; i < inputs.size(); ++i) EXPECT_EQ(tok2->encode(inputs[i]), expected[i]) << "text #" << i;
        const EncodeOptions both{.add_special = true, .parse_special = true};
        EXPECT_EQ(tok2->encode("<|im_start|>Hi there", both), tok->encode("<|im_start|>Hi there", both));
    }
}

}  // namespace
}  // namespace sy::tok
