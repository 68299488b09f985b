// Tool calling: one grammar for "free-text answer | tool call(s)", honouring tool_choice, and the parser
// that turns the generated text back into {content | tool_calls}.
//
// Output layout (ToolCallFormat; the chat-format module picks one per model family):
//   call   := call_open '{' "name_key" ':' "NAME" ',' "args_key" ':' ARGS '}' call_close
//   calls  := call (call_separator call)*        (one call unless parallel calls are allowed)
//   output := calls                               tool_choice required / {"type":"function",...}
//           | text | calls                       tool_choice auto
//           | text                                tool_choice none
// NAME is one of the tools (the forced one for a function choice); ARGS is valid under that tool's
// parameters schema. `text` is any UTF-8 text that does not start with the call marker
// (call_open + '{"' + name_key + '"'), so the decision "text or call" is made at the first bytes and a text
// answer can never be mistaken for a call.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "grammar/schema.h"

namespace sy::grammar {

struct ToolCallFormat {
    std::string name = "hermes";
    std::string call_open = "<tool_call>\n";
    std::string call_close = "\n</tool_call>";
    std::string call_separator = "\n";
    std::string name_key = "name";
    std::string args_key = "arguments";
    Whitespace whitespace = Whitespace::Whitespace_space_after_separators;

    // Hermes / Qwen2.5: <tool_call>\n{"name": "f", "arguments": {...}}\n</tool_call>
    static ToolCallFormat hermes() { return ToolCallFormat{}; }
    // Llama 3.x JSON tool calling: {"name": "f", "parameters": {...}}, calls separated by ";".
    static ToolCallFormat llama3_json();
    // Compact, wrapper-free: {"name":"f","arguments":{...}}, calls separated by "\n".
    static ToolCallFormat compact();

    std::string marker() const;  // the prefix that starts a call
};

enum class ToolChoiceMode { ToolChoiceMode_auto, ToolChoiceMode_none, ToolChoiceMode_required, ToolChoiceMode_function };

struct ToolChoice {
    ToolChoiceMode mode = ToolChoiceMode::ToolChoiceMode_auto;
    std::string function;  // ToolChoiceMode_function

    // "auto" | "none" | "required" | {"type":"function","function":{"name":...}} | null (= auto).
    static ToolChoice parse(const ojson & v);
};

struct ToolSpec {
    std::string name;
    ojson parameters;  // JSON Schema of the arguments object
};

// OpenAI tools array ([{"type":"function","function":{"name","description","parameters"}}]) or bare
// [{"name","parameters"}]. Throws sy::Error on a malformed entry or a duplicate name.
std::vector<ToolSpec> parse_tools(const ojson & tools);

struct ToolGrammarOptions {
    ToolCallFormat format;
    bool parallel = false;  // allow several calls
    // Copy fields (copy.h) as "tool.path": "create_task.title", "create_task.tags[]". Unknown tools or paths
    // are ignored (a router's recorded fields may name tools a request does not send).
    std::set<std::string> copy_fields;
};

// Throws sy::Error: unknown tool named by tool_choice (listing the known ones), "required" with no tools,
// or any schema error of a tool (the pointer starts with tools[i]).
std::shared_ptr<const Grammar> compile_tool_grammar(const ojson & tools, const ojson & tool_choice, bool parallel,
                                                    const ToolCallFormat & format = ToolCallFormat::hermes());
std::shared_ptr<const Grammar> compile_tool_grammar(const std::vector<ToolSpec> & tools, const ToolChoice & choice,
                                                    const ToolGrammarOptions & opt);
std::shared_ptr<const Grammar> compile_tool_grammar(const ojson & tools, const ojson & tool_choice, bool parallel,
                                                    const ToolCallFormat & format, const std::set<std::string> & copy_fields);
// Cache key for compile_tool_grammar's inputs (the "tool-set hash"); compute it once per tool set.
uint64_t tool_grammar_key(const ojson & tools, const ojson & tool_choice, bool parallel, const ToolCallFormat & format,
                          const std::set<std::string> & copy_fields = {});

struct ParsedToolCall {
    std::string name;
    ojson arguments;  // an object
};

struct ParsedOutput {
    std::string content;                    // the text answer (empty for tool calls)
    std::vector<ParsedToolCall> tool_calls;
};

// Text that starts with the format's marker (after optional leading whitespace) is parsed as calls; any
// other text is content. Throws sy::Error(ErrorKind_invalid_argument) on a malformed call.
ParsedOutput parse_tool_output(std::string_view text, const ToolCallFormat & format = ToolCallFormat::hermes());

}  // namespace sy::grammar
