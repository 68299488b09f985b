// make_synthetic_bpe_vocab: validity (unique tokens, merges over existing tokens, control tokens last),
// determinism, exact round trips, and a GGUF write/reload giving the same tokenizer.
#include <gtest/gtest.h>

#include <set>

#include "tokenizer/tokenizer.h"

namespace sy::tok {
namespace {

const std::vector<std::string> & tricky_texts() {
    static const std::vector<std::string> texts = {
        "",
        " ",
        "Hello, world!",
        "  leading and trailing  \n\n\t",
        "\xF0\x9F\xA6\x99 llama emoji, \xF0\x9F\x98\xB6\xE2\x80\x8D\xF0\x9F\x8C\xAB\xEF\xB8\x8F ZWJ sequence",
        "\xE6\x88\x91\xE6\x83\xB3\xE5\x9C\xA8 apple \xE5\xB7\xA5\xE4\xBD\x9C 1314151 \xE5\xA4\xA9",  // CJK
        "Cu\xCC\x89" "a vie\xCC\xA3t e\xCC\x81",                                                     // combining marks
        "\xD0\xBD\xD0\xB5\xD1\x89\xD0\xBE \xD0\xBD\xD0\xB0",                                          // Cyrillic
        std::string("nul\0byte", 8),
        "bad \xFF\xFE utf8 \xE4\xB8 truncated \x80 stray \xC0\xAF overlong \xED\xA0\x80 surrogate",
        "<|im_start|>user\nnot special by default<|im_end|>",
        "def f(x):\n    return x ** 2  # 3.14159\n",
        "y'all won't they're I'M 12345678901234567890",
    };
    return texts;
}

TEST(SyntheticVocab, IsAValidByteLevelBpeVocabulary) {
    const Vocab v = make_synthetic_bpe_vocab(1000, 7);
    ASSERT_EQ(v.n_tokens(), 1000);
    EXPECT_EQ(v.kind(), TokenizerKind::TokenizerKind_bpe);
    EXPECT_EQ(v.pre(), "qwen2");
    std::set<std::string> unique(v.text_.begin(), v.text_.end());
    EXPECT_EQ(unique.size(), v.text_.size());
    EXPECT_EQ(v.token_text(997), "<|endoftext|>");
    EXPECT_EQ(v.token_text(998), "<|im_start|>");
    EXPECT_EQ(v.token_text(999), "<|im_end|>");
    for (TokenId id = 997; id < 1000; ++id) EXPECT_EQ(v.token_type(id), TokenType::TokenType_control);
    EXPECT_EQ(v.special().bos, 997);
    EXPECT_EQ(v.special().eos, 999);
    EXPECT_TRUE(v.is_eog(999));
    EXPECT_TRUE(v.is_eog(997));
    EXPECT_FALSE(v.is_eog(998));
    for (int b = 0; b < 256; ++b) EXPECT_EQ(v.token_bytes(b), std::string(1, (char)b));
    EXPECT_EQ(v.token_text(' '), "\xC4\xA0");  // 'Ġ'
    // 997 - 256 normal tokens beyond the bytes, one merge each (a learned merge may repeat a string).
    ASSERT_GE(v.merges_.size(), 997u - 256u);
    for (const auto & m : v.merges_) {
        const size_t sp = m.find(' ');
        ASSERT_NE(sp, std::string::npos) << m;
        EXPECT_EQ(m.find(' ', sp + 1), std::string::npos) << m;
        const std::string a = m.substr(0, sp), b = m.substr(sp + 1);
        EXPECT_TRUE(v.find(a)) << m;
        EXPECT_TRUE(v.find(b)) << m;
        EXPECT_TRUE(v.find(a + b)) << m;
    }
    // The first merges come from English text.
    EXPECT_TRUE(v.find("\xC4\xA0the")) << "'Ġthe' should be learned from the sample";
}

TEST(SyntheticVocab, IsDeterministicPerSeed) {
    const Vocab a = make_synthetic_bpe_vocab(2000, 1), b = make_synthetic_bpe_vocab(2000, 1);
    const Vocab c = make_synthetic_bpe_vocab(2000, 2, "smollm");
    EXPECT_EQ(a.text_, b.text_);
    EXPECT_EQ(a.merges_, b.merges_);
    EXPECT_NE(a.text_, c.text_);
    EXPECT_EQ(c.pre(), "smollm");
}

TEST(SyntheticVocab, RejectsTooSmallOrUnknownFamily) {
    EXPECT_THROW(make_synthetic_bpe_vocab(258, 1), Error);
    EXPECT_THROW(make_synthetic_bpe_vocab(1000, 1, "gpt-2"), Error);
    EXPECT_EQ(make_synthetic_bpe_vocab(259, 1).n_tokens(), 259);
}

TEST(SyntheticVocab, RoundTripsAnyTextAndCompresses) {
    for (const char * pre : {"qwen2", "smollm"}) {
        auto tok = Tokenizer::from_vocab(make_synthetic_bpe_vocab(4096, 3, pre));
        for (const auto & s : tricky_texts()) {
            const auto ids = tok->encode(s);
            EXPECT_EQ(tok->decode(ids), s) << pre;
            for (auto id : ids) EXPECT_LT(id, 4093) << "plain text never yields a control token";
        }
        const std::string english = "The model reads the message and decides which tool to call.";
        EXPECT_LT(tok->encode(english).size() * 2, english.size()) << pre;
        const auto ids = tok->encode("<|im_start|>hi<|im_end|>", {.parse_special = true});
        ASSERT_GE(ids.size(), 3u);
        EXPECT_EQ(ids.front(), 4094);
        EXPECT_EQ(ids.back(), 4095);
    }
}

TEST(SyntheticVocab, LargeVocabularyIsQuickToBuild) {
    const Vocab v = make_synthetic_bpe_vocab(151936, 42);  // qwen2's vocabulary size
    EXPECT_EQ(v.n_tokens(), 151936);
    auto tok = Tokenizer::from_vocab(v);
    const std::string s = "Random-weight models still need exact tokenization: \xE2\x9C\x85 1234.";
    EXPECT_EQ(tok->decode(tok->encode(s)), s);
}

TEST(SyntheticVocab, GgufRoundTripGivesTheSameTokenizer) {
    auto tok = Tokenizer::from_vocab(make_synthetic_bpe_vocab(3000, 9, "smollm"));
    gguf::Writer w;
    w.set("general.architecture", gguf::Value::string("llama"));
    write_vocab_metadata(tok->vocab(), w);
    const auto bytes = w.write_to_memory();
    auto file = gguf::File::from_memory(bytes.data(), bytes.size());
    EXPECT_EQ(file.get_string("tokenizer.ggml.model"), "gpt2");
    EXPECT_EQ(file.get_string("tokenizer.ggml.pre"), "smollm");
    EXPECT_EQ(file.get_bool("tokenizer.ggml.add_bos_token"), false);
    EXPECT_EQ(file.get_u64("tokenizer.ggml.eos_token_id"), 2999u);
    EXPECT_EQ(file.find("tokenizer.ggml.scores"), nullptr);
    auto tok2 = Tokenizer::from_gguf(file);
    EXPECT_EQ(tok2->vocab().text_, tok->vocab().text_);
    for (const auto & s : tricky_texts()) {
        for (bool ps : {false, true}) {
            const EncodeOptions o{.add_special = true, .parse_special = ps};
            EXPECT_EQ(tok2->encode(s, o), tok->encode(s, o));
        }
    }
}

}  // namespace
}  // namespace sy::tok
