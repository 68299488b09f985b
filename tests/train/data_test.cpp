// Packing and the ChatML reader: rendering, assistant-only loss masks, deterministic splits.
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

TEST(Data, ChatMlRenderingWithToolCall) {
    const std::string line = R"({"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Weather in Oslo?"},
        {"role":"assistant","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"Oslo\"}"}}]}],
        "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]})";
    RenderedChat r = render_chatml(line);
    EXPECT_NE(r.text.find("<|im_start|>system\nBe brief.\n\n# Tools\n<tools>\n{"), std::string::npos);
    EXPECT_NE(r.text.find("<|im_start|>user\nWeather in Oslo?<|im_end|>\n"), std::string::npos);
    const std::string call =
        "<|im_start|>assistant\n<tool_call>\n{\"arguments\":{\"city\":\"Oslo\"},\"name\":\"get_weather\"}\n</tool_call><|im_end|>\n";
    EXPECT_NE(r.text.find(call), std::string::npos) << r.text;
    ASSERT_EQ(r.train_spans.size(), 1u);
    EXPECT_EQ(r.text.substr(r.train_spans[0].first, r.train_spans[0].second - r.train_spans[0].first),
              "<tool_call>\n{\"arguments\":{\"city\":\"Oslo\"},\"name\":\"get_weather\"}\n</tool_call><|im_end|>");
    EXPECT_THROW(render_chatml("{\"messages\": 3}"), Error);
    EXPECT_THROW(render_chatml("not json"), Error);
}

TEST(Data, LossMaskCoversExactlyTheAssistantTokens) {
    auto m = engine::Model::load(test::tiny_model("llama", "f32"));
    const tok::Tokenizer & tk = m->tokenizer();
    RenderedChat r = render_chatml(R"({"messages":[{"role":"user","content":"hi there"},{"role":"assistant","content":"hello you"}]})");
    TrainExample ex = tokenize_chat(r, tk);
    std::string masked, unmasked;
    for (size_t i = 0; i < ex.tokens.size(); ++i) {
        const std::string piece = tk.vocab().is_control(ex.tokens[i]) ? tk.vocab().token_text(ex.tokens[i]) : tk.token_piece(ex.tokens[i]);
        (ex.loss_mask[i] ? masked : unmasked) += piece;
    }
    EXPECT_EQ(masked, "hello you<|im_end|>");
    EXPECT_EQ(unmasked, "<|im_start|>user\nhi there<|im_end|>\n<|im_start|>assistant\n\n");
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
