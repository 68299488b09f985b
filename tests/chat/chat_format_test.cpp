// Chat rendering: exact text of each format, train segments = assistant output, tool calls rendered as
// the grammar emits them (arguments in schema order), parse errors name the JSON path.
#include <gtest/gtest.h>

#include "chat/chat_format.h"
#include "grammar/tool_call.h"

using namespace sy;
using namespace sy::chat;

namespace {

const char * kExample = R"({
  "messages": [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Add milk to my list"},
    {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
      "function": {"name": "create_task", "arguments": "{\"priority\": \"low\", \"title\": \"milk\"}"}}]},
    {"role": "tool", "tool_call_id": "c1", "content": "{\"id\": 4}"},
    {"role": "assistant", "content": "Added."}
  ],
  "tools": [{"type": "function", "function": {"name": "create_task", "description": "Create a task",
    "parameters": {"type": "object", "properties": {"title": {"type": "string"},
      "priority": {"type": "string", "enum": ["low", "high"]}}, "required": ["title"]}}}]
})";

TEST(ChatFormat, ChatmlRendersToolsCallsAndResults) {
    const Conversation c = parse_conversation(ojson::parse(kExample));
    ASSERT_EQ(c.messages.size(), 5u);
    EXPECT_EQ(c.messages[2].tool_calls[0].arguments["title"], "milk");
    const ChatFormat f(ChatFormatKind::ChatFormatKind_chatml);
    const Rendered r = f.render(c, false);
    const std::string t = r.text();
    EXPECT_EQ(t.rfind("<|im_start|>system\nBe brief.\n\n# Tools", 0), 0u) << t;
    EXPECT_NE(t.find("<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"create_task\""), std::string::npos);
    // The call: hermes wrapper, space-after-separators JSON, arguments in schema order (title first).
    EXPECT_NE(t.find("<|im_start|>assistant\n<tool_call>\n{\"name\": \"create_task\", \"arguments\": "
                     "{\"title\": \"milk\", \"priority\": \"low\"}}\n</tool_call><|im_end|>\n"),
              std::string::npos) << t;
    EXPECT_NE(t.find("<|im_start|>user\n<tool_response>\n{\"id\": 4}\n</tool_response><|im_end|>\n"), std::string::npos);
    // Train segments are exactly the two assistant outputs, each ending with the end-of-turn marker.
    std::vector<std::string> train;
    for (const auto & s : r.segments)
        if (s.train) train.push_back(s.text);
    ASSERT_EQ(train.size(), 2u);
    EXPECT_EQ(train[1], "Added.<|im_end|>");
    // What the model is trained to emit parses back to the same call with the grammar's parser.
    const std::string call_text = train[0].substr(0, train[0].size() - std::string("<|im_end|>").size());
    const auto parsed = grammar::parse_tool_output(call_text, f.tool_call_format());
    ASSERT_EQ(parsed.tool_calls.size(), 1u);
    EXPECT_EQ(parsed.tool_calls[0].name, "create_task");
    EXPECT_EQ(parsed.tool_calls[0].arguments["priority"], "low");
    EXPECT_EQ(f.render(c, true).text(), t + "<|im_start|>assistant\n");
}

TEST(ChatFormat, CompactHasNoSchemasAndCompactCalls) {
    const Conversation c = parse_conversation(ojson::parse(kExample));
    const ChatFormat f(ChatFormatKind::ChatFormatKind_compact);
    const std::string t = f.render(c, false).text();
    EXPECT_EQ(t.find("Tools"), std::string::npos);
    EXPECT_EQ(t.find("Be brief"), std::string::npos);
    EXPECT_EQ(t.rfind("<|im_start|>user\nAdd milk to my list<|im_end|>\n<|im_start|>assistant\n", 0), 0u) << t;
    EXPECT_NE(t.find("{\"name\":\"create_task\",\"arguments\":{\"title\":\"milk\",\"priority\":\"low\"}}<|im_end|>"),
              std::string::npos) << t;
    EXPECT_NE(t.find("<|im_start|>tool\n{\"id\": 4}<|im_end|>"), std::string::npos);
}

TEST(ChatFormat, Llama3UsesHeadersAndParameters) {
    const Conversation c = parse_conversation(ojson::parse(kExample));
    const ChatFormat f(ChatFormatKind::ChatFormatKind_llama3);
    const std::string t = f.render(c, true).text();
    EXPECT_EQ(t.rfind("<|start_header_id|>system<|end_header_id|>\n\nBe brief.\n\n", 0), 0u);
    EXPECT_NE(t.find("<|start_header_id|>assistant<|end_header_id|>\n\n{\"name\": \"create_task\", \"parameters\": "
                     "{\"title\": \"milk\", \"priority\": \"low\"}}<|eot_id|>"),
              std::string::npos) << t;
    EXPECT_NE(t.find("<|start_header_id|>ipython<|end_header_id|>\n\n{\"id\": 4}<|eot_id|>"), std::string::npos);
    const std::string gen = "<|start_header_id|>assistant<|end_header_id|>\n\n";
    EXPECT_EQ(t.substr(t.size() - gen.size()), gen);
}

TEST(ChatFormat, ErrorsNameThePath) {
    auto expect_error = [](const char * json, const std::string & needle) {
        try {
            parse_conversation(ojson::parse(json));
            FAIL() << "expected an error for " << json;
        } catch (const Error & e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        }
    };
    expect_error(R"({"messages": [{"role": "robot", "content": "x"}]})", "messages[0].role");
    expect_error(R"({"messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "{oops"}}]}]})",
                 "messages[0].tool_calls[0].function.arguments");
    expect_error(R"({"messages": [{"role": "user", "content": 5}]})", "messages[0].content");
    expect_error(R"({"nothing": 1})", "missing \"messages\"");
}

TEST(ChatFormat, OrderLikeSchemaIsRecursive) {
    const ojson schema = ojson::parse(R"({"type":"object","properties":{"a":{"type":"object","properties":{"x":{},"y":{}}},"b":{}}})");
    const ojson v = ojson::parse(R"({"extra":1,"b":2,"a":{"y":1,"x":2}})");
    EXPECT_EQ(order_like_schema(v, schema).dump(), R"({"a":{"x":2,"y":1},"b":2,"extra":1})");
}

}  // namespace
