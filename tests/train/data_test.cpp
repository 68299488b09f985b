// Packing and the chat JSONL reader: rendering through the chat module, assistant-only loss masks,
// tool-set fingerprints, deterministic splits.
#include <gtest/gtest.h>

#include "engine/model.h"
#include "train/data.h"
#include "train_test_util.h"

namespace sy::train {
namespace {

TEST(Data, PackingKeepsExamplesWholeAndShiftsTargets) {
    std::vector<TrainExample> ex = {{{1, 2, 3, 4}, {0, 0, 1, 1}}, {{5, 6, 7}, {0, 1, 1}}, {{8, 9}, {0, 1}}};
    auto batches = pack_batches(ex, test::iota_order(3), 5);
    ASSERT_EQ(batches.size(), 2u);
    EXPECT_EQ(batches[0].tokens, (std::vector<int32_t>{1, 2, 3, 5, 6}));
    EXPECT_EQ(batches[0].targets, (std::vector<int32_t>{2, 3, 4, 6, 7}));
    EXPECT_EQ(batches[0].loss, (std::vector<uint8_t>{0, 1, 1, 1, 1}));
    EXPECT_EQ(batches[0].pos, (std::vector<int32_t>{0, 1, 2, 0, 1}));
    ASSERT_EQ(batches[0].segs.size(), 2u);
    EXPECT_EQ(batches[0].segs[1].start, 3);
    EXPECT_EQ(batches[1].tokens, (std::vector<int32_t>{8}));
}

const char * kWeatherChat = R"({"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Weather in Oslo?"},
    {"role":"assistant","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":"{\"unit\": \"c\", \"city\": \"Oslo\"}"}}]},
    {"role":"tool","content":"{\"temp\": 3}"},{"role":"assistant","content":"3 degrees."}],
    "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object",
      "properties":{"city":{"type":"string"},"unit":{"enum":["c","f"]}},"required":["city"]}}}]})";

TEST(Data, ChatMlRenderingMatchesTheGrammarsCallText) {
    const chat::Conversation c = parse_chat_line(kWeatherChat);
    const chat::ChatFormat f(chat::ChatFormatKind::ChatFormatKind_chatml);
    const std::string text = render_text(c, f);
    EXPECT_NE(text.find("<|im_start|>system\nBe brief.\n\n# Tools"), std::string::npos) << text;
    EXPECT_NE(text.find("<|im_start|>user\nWeather in Oslo?<|im_end|>\n"), std::string::npos);
    // "name" before "arguments", arguments in schema order (city, unit), hermes whitespace.
    const std::string call =
        "<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"unit\": \"c\"}}\n"
        "</tool_call><|im_end|>\n";
    EXPECT_NE(text.find(call), std::string::npos) << text;
    EXPECT_THROW(parse_chat_line("{\"messages\": 3}"), Error);
    EXPECT_THROW(parse_chat_line("not json"), Error);
}

TEST(Data, CompactRenderingHasNoSystemTextAndCompactCalls) {
    const chat::Conversation c = parse_chat_line(kWeatherChat);
    const std::string text = render_text(c, chat::ChatFormat(chat::ChatFormatKind::ChatFormatKind_compact));
    EXPECT_EQ(text,
              "<|im_start|>user\nWeather in Oslo?<|im_end|>\n<|im_start|>assistant\n"
              "{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Oslo\",\"unit\":\"c\"}}<|im_end|>\n"
              "<|im_start|>tool\n{\"temp\": 3}<|im_end|>\n<|im_start|>assistant\n3 degrees.<|im_end|>\n");
}

TEST(Data, LossMaskCoversExactlyTheAssistantTokens) {
    auto m = engine::Model::load(test::tiny_model("llama", "f32"));
    const tok::Tokenizer & tk = m->tokenizer();
    const chat::Conversation c = parse_chat_line(kWeatherChat);
    const chat::ChatFormat f(chat::ChatFormatKind::ChatFormatKind_compact);
    TrainExample ex = tokenize_conversation(c, f, tk);
    ASSERT_EQ(ex.tokens.size(), ex.loss_mask.size());
    std::string masked, unmasked;
    for (size_t i = 0; i < ex.tokens.size(); ++i) {
        const std::string piece = tk.vocab().is_control(ex.tokens[i]) ? tk.vocab().token_text(ex.tokens[i]) : tk.token_piece(ex.tokens[i]);
        (ex.loss_mask[i] ? masked : unmasked) += piece;
    }
    EXPECT_EQ(masked, "{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Oslo\",\"unit\":\"c\"}}<|im_end|>3 degrees.<|im_end|>");
    EXPECT_EQ(unmasked,
              "<|im_start|>user\nWeather in Oslo?<|im_end|>\n<|im_start|>assistant\n\n<|im_start|>tool\n{\"temp\": 3}<|im_end|>\n"
              "<|im_start|>assistant\n\n");
    // The prompt part equals what serving tokenizes (render with a generation prompt).
    chat::Conversation prompt = c;
    prompt.messages.resize(2);
    const auto served = chat::tokenize_rendered(tk, f.render(prompt, true), tk.vocab().special().add_bos).tokens;
    ASSERT_LE(served.size(), ex.tokens.size());
    EXPECT_TRUE(std::equal(served.begin(), served.end(), ex.tokens.begin()));
    EXPECT_EQ(ex.loss_mask[served.size()], 1);
    EXPECT_EQ(ex.loss_mask[served.size() - 1], 0);
}

TEST(Data, ToolsFingerprintIgnoresOrderButNotSchemas) {
    const chat::ojson a = chat::ojson::parse(R"([{"type":"function","function":{"name":"a","parameters":{"type":"object","properties":{"x":{"type":"string"}}}}},
                                                 {"type":"function","function":{"name":"b","parameters":{"properties":{},"type":"object"}}}])");
    const chat::ojson b = chat::ojson::parse(R"([{"type":"function","function":{"name":"b","description":"B","parameters":{"type":"object","properties":{}}}},
                                                 {"type":"function","function":{"name":"a","parameters":{"properties":{"x":{"type":"string"}},"type":"object"}}}])");
    const chat::ojson c = chat::ojson::parse(R"([{"type":"function","function":{"name":"a","parameters":{"type":"object","properties":{"x":{"type":"integer"}}}}},
                                                 {"type":"function","function":{"name":"b","parameters":{"type":"object","properties":{}}}}])");
    const std::string fa = chat::tools_fingerprint(a);
    EXPECT_EQ(fa.size(), 16u);
    EXPECT_EQ(fa, chat::tools_fingerprint(b));
    EXPECT_NE(fa, chat::tools_fingerprint(c));
    std::vector<chat::Conversation> convs(2);
    convs[0].tools = a;
    convs[1].tools = b;
    EXPECT_EQ(common_tools_fingerprint(convs), fa);
    convs[1].tools = c;
    EXPECT_EQ(common_tools_fingerprint(convs), "");
}

TEST(Data, SplitIsDeterministicAndAboutTenPercent) {
    std::vector<size_t> t1, v1, t2, v2;
    split_train_valid(1000, 0.1, 42, t1, v1);
    split_train_valid(1000, 0.1, 42, t2, v2);
    EXPECT_EQ(v1, v2);
    EXPECT_EQ(t1.size() + v1.size(), 1000u);
    EXPECT_GT(v1.size(), 70u);
    EXPECT_LT(v1.size(), 130u);
}

}  // namespace
}  // namespace sy::train
