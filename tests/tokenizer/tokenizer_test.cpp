// Behaviour of the real-vocabulary tokenizers beyond the reference vectors: exact round trips on tricky
// text (invalid UTF-8 goes through byte tokens), parse_special, add_special, end-of-generation ids,
// decode(skip_special), pre-tokenizer splits, and the error for an unknown pre-tokenizer.
#include <gtest/gtest.h>

#include <chrono>
#include <map>

#include "fixture_util.h"
#include "tokenizer/pretokenize_internal.h"
#include "tokenizer/unicode_internal.h"

namespace sy::tok {
namespace {

using testing::vocab_fixture_dir;

const std::vector<std::string> kTricky = {
    "",
    " ",
    "   ",
    "\n \n\n \t\t x",
    "Hello, world!",
    " leading space",
    "\xF0\x9F\xA6\x99 llama \xF0\x9F\x98\xB6\xE2\x80\x8D\xF0\x9F\x8C\xAB\xEF\xB8\x8F zwj \xE2\x9C\x85",
    "\xE6\x88\x91\xE6\x83\xB3\xE5\x9C\xA8" "apple\xE5\xB7\xA5\xE4\xBD\x9C 1314151\xE5\xA4\xA9\xEF\xBD\x9E",
    "Cu\xCC\x89" "a Vie\xCC\xA3t, e\xCC\x81 \xE1\x84\x80\xE1\x85\xA1",  // combining marks, conjoining jamo
    "\xE1\x9E\x80\xE1\x9E\xB6\xE1\x9E\x93\xE1\x9F\x8B",                  // Khmer
    std::string("nul\0inside", 10),
    "bad \xFF\xFE bytes \xE4\xB8 cut \x80 stray \xC0\xAF overlong \xED\xA0\x80 surrogate \xF4\x90\x80\x80 big",
    "\xE4",
    "ends with lead byte \xF0\x9F\xA6",
    "<|im_start|>user\n<s> </s> <|endoftext|> are plain text by default<|im_end|>",
    "3333333 12.5e-3 0x1F",
};

class RealVocab : public ::testing::Test {
protected:
    // Each vocabulary is loaded once for the whole test program (loading the big ones dominates).
    static const Tokenizer * load(const std::string & name) {
        static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
        auto & slot = cache[name];
        if (!slot) {
            const auto path = vocab_fixture_dir() / ("ggml-vocab-" + name + ".gguf");
            auto file = gguf::File::open(path.string());
            slot = Tokenizer::from_gguf(file);
        }
        return slot.get();
    }
    void SetUp() override {
        if (testing::fixture_names().empty()) GTEST_SKIP() << "no reference vocabularies at " << vocab_fixture_dir();
    }
};

// Byte-level vocabularies may lack tokens for bytes that never occur in UTF-8 (starcoder has none for
// 0xC0, 0xC1, 0xF5..0xFF; deepseek-llm has "ÿ" only as a user-defined token that stands for the text
// "ÿ"): such bytes are dropped, everything else must come back exactly.
std::string without_untokenizable_bytes(const Tokenizer & tok, const std::string & s) {
    if (tok.vocab().kind() == TokenizerKind::TokenizerKind_spm) return s;
    std::string out;
    for (char c : s) {
        const auto id = tok.vocab().find(byte_to_unicode((uint8_t)c));
        if (id && tok.vocab().token_bytes(*id) == std::string(1, c)) out += c;
    }
    return out;
}

TEST_F(RealVocab, DecodeOfEncodeIsExactForTrickyText) {
    for (const char * name : {"llama-spm", "phi-3", "gpt-2", "falcon", "deepseek-llm", "starcoder", "qwen2"}) {
        auto tok = load(name);
        for (const auto & s : kTricky) {
            for (bool add_special : {false, true}) {
                const auto ids = tok->encode(s, {.add_special = add_special});
                EXPECT_EQ(tok->decode(ids, /*skip_special=*/true), without_untokenizable_bytes(*tok, s))
                    << name << " add_special=" << add_special;
            }
        }
    }
    auto starcoder = load("starcoder");
    EXPECT_EQ(starcoder->decode(starcoder->encode("a\xFF" "b\xC0")), "ab");
}

TEST_F(RealVocab, RandomBytesRoundTrip) {
    // Random mixes of ASCII, whitespace, multi-byte characters and stray bytes.
    const std::vector<std::string> atoms = {"a", "Z", " ", "  ", "\n", "\t", "7", "'s", "!", "<|", "\xC3\xA9", "\xE4\xBD\xA0",
                                            "\xF0\x9F\xA6\x99", "\xCC\x81", "\xC2\xA0", "\x80", "\xFF", "\xE4\xBD", "\x00"};
    uint64_t state = 12345;
    auto next = [&] {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        return (uint32_t)(state >> 33);
    };
    for (const char * name : {"llama-spm", "gpt-2", "qwen2", "deepseek-llm", "falcon"}) {
        const Tokenizer * tok = load(name);
        for (int t = 0; t < 60; ++t) {
            std::string s;
            const int n = (int)(next() % 24);
            for (int k = 0; k < n; ++k) s += atoms[next() % atoms.size()];
            const auto ids = tok->encode(s);
            EXPECT_EQ(tok->decode(ids), without_untokenizable_bytes(*tok, s)) << name;
        }
    }
}

TEST_F(RealVocab, LongRunsStayCorrect) {
    // Very long whitespace and letter runs exercise the regex engine's limits and the merge heaps.
    for (const char * name : {"qwen2", "llama-spm", "gpt-2"}) {
        const Tokenizer * tok = load(name);
        for (const std::string & s : {std::string(100000, ' ') + "x", std::string(100000, 'a'),
                                      std::string(20000, '\n') + std::string(20000, '7')}) {
            const auto ids = tok->encode(s);
            EXPECT_LE(ids.size(), s.size() + 1) << name;  // SPM: newlines are byte tokens, plus the "▁" prefix
            EXPECT_EQ(tok->decode(ids), s) << name;
        }
    }
}

TEST_F(RealVocab, InvalidUtf8GoesThroughByteTokens) {
    auto spm = load("llama-spm");
    // "\xFF" is no piece: byte fallback <0xFF> (id 3 + 0xFF); the prefix space is "▁" (29871).
    EXPECT_EQ(spm->encode("\xFF"), (std::vector<TokenId>{29871, 3 + 0xFF}));
    EXPECT_EQ(spm->encode("a\xE4"), (std::vector<TokenId>{263, 3 + 0xE4}));  // "▁a" then <0xE4>

    auto bpe = load("gpt-2");
    const auto ids = bpe->encode("\xFF\xFE");
    ASSERT_EQ(ids.size(), 2u);
    EXPECT_EQ(bpe->token_piece(ids[0]), "\xFF");
    EXPECT_EQ(bpe->token_piece(ids[1]), "\xFE");
}

TEST_F(RealVocab, ParseSpecialTurnsSpecialTextIntoTokens) {
    auto tok = load("qwen2");
    const std::string s = "<|im_start|>user\nHi<|im_end|>";
    const auto plain = tok->encode(s);
    for (auto id : plain) EXPECT_FALSE(tok->vocab().token_type(id) == TokenType::TokenType_control) << id;
    EXPECT_EQ(tok->decode(plain), s);

    const auto parsed = tok->encode(s, {.parse_special = true});
    ASSERT_GE(parsed.size(), 3u);
    EXPECT_EQ(parsed.front(), 151644);
    EXPECT_EQ(parsed.back(), 151645);
    EXPECT_EQ(tok->decode(parsed), s);
    EXPECT_EQ(tok->decode(parsed, /*skip_special=*/true), "user\nHi");
    // The text between the specials is tokenized as on its own.
    std::vector<TokenId> middle(parsed.begin() + 1, parsed.end() - 1);
    EXPECT_EQ(middle, tok->encode("user\nHi"));

    // User-defined tokens are split out even without parse_special.
    const auto tc = tok->encode("a<tool_call>b");
    ASSERT_EQ(tc.size(), 3u);
    EXPECT_EQ(tc[1], 151657);
}

TEST_F(RealVocab, SpmSpacePrefixAfterSpecialTokens) {
    auto tok = load("llama-spm");
    // "<s>" as text is never the BOS token...
    for (auto id : tok->encode("<s>Hello")) EXPECT_NE(id, 1);
    // ...but with parse_special it is, and the text after it gets its own "▁" prefix.
    const auto ids = tok->encode("<s>Hello", {.parse_special = true});
    ASSERT_GE(ids.size(), 2u);
    EXPECT_EQ(ids[0], 1);
    EXPECT_EQ(std::vector<TokenId>(ids.begin() + 1, ids.end()), tok->encode("Hello"));
    EXPECT_EQ(tok->decode(ids), "<s>Hello");
}

TEST_F(RealVocab, AddSpecialFollowsTheVocabulary) {
    auto spm = load("llama-spm");  // add_bos_token = true
    EXPECT_EQ(spm->encode("Hi", {.add_special = true}).front(), 1);
    EXPECT_EQ(spm->encode("", {.add_special = true}), std::vector<TokenId>{1});
    EXPECT_TRUE(spm->encode("").empty());

    auto qwen = load("qwen2");  // add_bos_token = false
    EXPECT_EQ(qwen->encode("Hi", {.add_special = true}), qwen->encode("Hi"));

    auto ds = load("deepseek-llm");  // add_bos_token = true
    const auto ids = ds->encode("Hi", {.add_special = true});
    EXPECT_EQ(ids.front(), 100000);
    EXPECT_EQ(ds->decode(ids, /*skip_special=*/true), "Hi");
}

TEST_F(RealVocab, EndOfGenerationIds) {
    auto qwen = load("qwen2");
    const Vocab & v = qwen->vocab();
    EXPECT_TRUE(v.is_eog(151645));   // <|im_end|>, the eos
    EXPECT_TRUE(v.is_eog(151643));   // <|endoftext|>
    EXPECT_FALSE(v.is_eog(151644));  // <|im_start|>
    EXPECT_FALSE(v.is_eog(9707));
    EXPECT_EQ(v.special().eot, 151645);

    auto phi = load("phi-3");
    EXPECT_TRUE(phi->vocab().is_eog(32007));  // <|end|>
    EXPECT_TRUE(phi->vocab().is_eog(32000));  // <|endoftext|>, the eos
    EXPECT_FALSE(phi->vocab().is_eog(32010)); // <|user|>
    EXPECT_EQ(phi->vocab().find("<|end|>"), 32007);
}

TEST_F(RealVocab, TokenizingA2KbPromptIsFast) {
    std::string prompt;
    while (prompt.size() < 2048) {
        prompt += "User: What's the weather in Paris (75001) today? \xF0\x9F\x8C\xA4 Please answer in JSON: "
                  "{\"city\": \"Paris\", \"unit\": \"celsius\"}\n";
    }
    for (const char * name : {"llama-spm", "qwen2", "deepseek-llm"}) {
        auto tok = load(name);
        tok->encode(prompt);  // warm up
        const int reps = 20;
        const auto t0 = std::chrono::steady_clock::now();
        size_t n = 0;
        for (int i = 0; i < reps; ++i) n += tok->encode(prompt).size();
        const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / reps;
        std::printf("[ timing   ] %s: %zu-byte prompt -> %zu tokens in %.0f us\n", name, prompt.size(), n / reps, us);
        EXPECT_LT(us, 20000.0) << "pathologically slow";
    }
}

TEST(PreTokenizer, FamilySplits) {
    auto split = [](const char * pre, std::string_view s) {
        std::vector<std::string_view> out;
        PreTokenizer(pre).split(s, out);
        return std::vector<std::string>(out.begin(), out.end());
    };
    using V = std::vector<std::string>;
    EXPECT_EQ(split("gpt-2", "Hello  world!"), (V{"Hello", " ", " world", "!"}));
    EXPECT_EQ(split("gpt-2", "it's 2024"), (V{"it", "'s", " 2024"}));
    EXPECT_EQ(split("llama-bpe", "IT'S 1234567"), (V{"IT", "'S", " ", "123", "456", "7"}));
    EXPECT_EQ(split("qwen2", "a 123\n\nb"), (V{"a", " ", "1", "2", "3", "\n\n", "b"}));
    EXPECT_EQ(split("starcoder", "x 42"), (V{"x", " ", "4", "2"}));
    EXPECT_EQ(split("falcon", "1234!!x"), (V{"123", "4", "!!", "x"}));
    EXPECT_EQ(split("deepseek-llm", "Hi\n\xE4\xBD\xA0\xE5\xA5\xBD 42"), (V{"Hi", "\n", "\xE4\xBD\xA0\xE5\xA5\xBD", " ", "42"}));
    // Non-breaking space is whitespace (only ' ' is the optional prefix); U+180E is not whitespace.
    EXPECT_EQ(split("gpt-2", "a\xC2\xA0\xC2\xA0" "b"), (V{"a", "\xC2\xA0", "\xC2\xA0", "b"}));
    EXPECT_EQ(split("gpt-2", "x\xE1\xA0\x8E\xE1\xA0\x8Ey"), (V{"x", "\xE1\xA0\x8E\xE1\xA0\x8E", "y"}));
    // Ill-formed bytes are words of their own and never swallowed by a regex.
    EXPECT_EQ(split("gpt-2", "ab\xFF" "cd"), (V{"ab", "\xFF", "cd"}));
}

TEST(PreTokenizer, UnknownNameIsAClearError) {
    try {
        PreTokenizer p("my-new-model");
        FAIL() << "expected an error";
    } catch (const Error & e) {
        const std::string msg = e.what();
        EXPECT_EQ(e.kind(), ErrorKind::ErrorKind_unsupported);
        EXPECT_NE(msg.find("'my-new-model'"), std::string::npos) << msg;
        for (const char * name : {"llama-bpe", "qwen2", "smollm", "starcoder", "gpt-2", "default", "deepseek-llm", "falcon"}) {
            EXPECT_NE(msg.find(name), std::string::npos) << name << " missing from: " << msg;
        }
    }

    // The same error comes out of loading a file that names it.
    Vocab v = make_synthetic_bpe_vocab(300, 1);
    v.pre_ = "my-new-model";
    gguf::Writer w;
    write_vocab_metadata(v, w);
    const auto bytes = w.write_to_memory();
    auto file = gguf::File::from_memory(bytes.data(), bytes.size());
    EXPECT_THROW(Tokenizer::from_gguf(file), Error);
}

TEST(Vocab, UnsupportedModelAndMissingTablesAreErrors) {
    gguf::Writer w;
    w.set("tokenizer.ggml.model", gguf::Value::string("bert"));
    w.set("tokenizer.ggml.tokens", gguf::Value::strings({"a", "b"}));
    auto bytes = w.write_to_memory();
    auto f1 = gguf::File::from_memory(bytes.data(), bytes.size());
    EXPECT_THROW(Tokenizer::from_gguf(f1), Error);

    w.set("tokenizer.ggml.model", gguf::Value::string("gpt2"));  // no merges
    bytes = w.write_to_memory();
    auto f2 = gguf::File::from_memory(bytes.data(), bytes.size());
    EXPECT_THROW(Tokenizer::from_gguf(f2), Error);

    w.set("tokenizer.ggml.model", gguf::Value::string("llama"));
    w.set("tokenizer.ggml.token_type", gguf::Value::i32s({1}));  // wrong length
    bytes = w.write_to_memory();
    auto f3 = gguf::File::from_memory(bytes.data(), bytes.size());
    EXPECT_THROW(Tokenizer::from_gguf(f3), Error);
}

TEST(Vocab, DecodeRejectsOutOfRangeIds) {
    auto tok = Tokenizer::from_vocab(make_synthetic_bpe_vocab(300, 1));
    const std::vector<TokenId> bad{5, 300};
    EXPECT_THROW(tok->decode(bad), Error);
    const std::vector<TokenId> neg{-1};
    EXPECT_THROW(tok->decode(neg), Error);
}

}  // namespace
}  // namespace sy::tok

namespace sy::tok {
namespace {

// Llama 3 vocabularies take a word that is a token as a whole without merging, and add BOS by default.
TEST(Llama3Family, WholeWordTokensSkipMergesAndBosIsDefault) {
    Vocab v = make_synthetic_bpe_vocab(600, 5);
    const std::string word = "\xC4\xA0xyzzq";  // "Ġxyzzq": no merge chain builds it
    ASSERT_FALSE(v.find(word));
    v.text_.insert(v.text_.end() - 3, word);  // keep the control tokens last
    v.type_.insert(v.type_.end() - 3, TokenType::TokenType_normal);
    v.special_.bos = 598;
    v.special_.pad = 598;
    v.special_.eos = 600;
    v.finalize();
    const TokenId word_id = 597;
    ASSERT_EQ(v.find(word), word_id);

    v.pre_ = "qwen2";
    auto qwen = Tokenizer::from_vocab(v);
    EXPECT_GT(qwen->encode(" xyzzq").size(), 1u);

    v.pre_ = "llama-bpe";
    gguf::Writer w;
    write_vocab_metadata(v, w);
    w.remove("tokenizer.ggml.add_bos_token");
    const auto bytes = w.write_to_memory();
    auto file = gguf::File::from_memory(bytes.data(), bytes.size());
    auto llama3 = Tokenizer::from_gguf(file);
    EXPECT_EQ(llama3->encode(" xyzzq"), std::vector<TokenId>{word_id});
    EXPECT_TRUE(llama3->vocab().special().add_bos);
    EXPECT_EQ(llama3->encode(" xyzzq", {.add_special = true}), (std::vector<TokenId>{598, word_id}));
    EXPECT_EQ(llama3->decode(llama3->encode("Hi xyzzq, 12345 IT'S")), "Hi xyzzq, 12345 IT'S");
}

}  // namespace
}  // namespace sy::tok
