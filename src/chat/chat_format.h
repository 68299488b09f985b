// The one chat-format module: renders OpenAI-style conversations (system/user/assistant with tool_calls/
// tool results) and tool lists into model text, for training AND for serving, so the two cannot drift.
//
// Formats (ChatFormatKind):
//   chatml  — Qwen2.5 / SmolLM2: <|im_start|>role\n…<|im_end|>\n; tools listed in the system turn inside
//             <tools></tools>; calls as <tool_call>\n{"name": …, "arguments": …}\n</tool_call> (hermes);
//             tool results as a user turn wrapping <tool_response>…</tool_response>.
//   llama3  — Llama 3.x: <|start_header_id|>role<|end_header_id|>\n\n…<|eot_id|>; calls as
//             {"name": …, "parameters": …}; tool results in the ipython role.
//   compact — from-scratch routers: ChatML markers, no system text and no schemas in the prompt (the
//             router learned its tools), calls as compact JSON {"name":…,"arguments":…}. A user turn that
//             mentions dates gets a line naming what they resolve to (dates.h), e.g.
//             "move #4 to next friday\ndates: next friday = 2025-03-14", against the "today" the system
//             prompt states (its first YYYY-MM-DD), else set_today's, else the local date at render time.
// An assistant tool call is always rendered exactly as the grammar (grammar/tool_call.h) makes the model
// emit it: same wrapper, same whitespace, arguments in the schema's property order.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "grammar/tool_call.h"
#include "tokenizer/tokenizer.h"

namespace sy::chat {

using ojson = nlohmann::ordered_json;

enum class ChatFormatKind { ChatFormatKind_chatml, ChatFormatKind_llama3, ChatFormatKind_compact };
const char * chat_format_name(ChatFormatKind k);
std::optional<ChatFormatKind> chat_format_from_name(std::string_view name);

struct ToolCall {
    std::string id;
    std::string name;
    ojson arguments = ojson::object();
};

struct Message {
    std::string role;  // system | user | assistant | tool
    std::string content;
    std::vector<ToolCall> tool_calls;  // assistant only
    std::string tool_call_id;          // tool only
    std::string name;                  // tool: the function whose result this is (optional)
};

struct Conversation {
    std::vector<Message> messages;
    ojson tools = ojson::array();  // OpenAI tools array
};

// The parameters schema of the tool called `name` in an OpenAI tools array, or null.
const ojson * find_tool_schema(const ojson & tools, const std::string & name);
// The function name of one entry of an OpenAI tools array ({"type":"function","function":{...}} or the
// bare function object); "" when it has none.
std::string tool_name(const ojson & tool);

// Parses {"messages": [...], "tools": [...]} (OpenAI chat fine-tuning JSONL line / request body).
// Arguments given as a JSON string are parsed. Throws sy::Error naming the JSON path of a bad field.
Conversation parse_conversation(const ojson & j);
// Messages only (request bodies carry tools separately).
std::vector<Message> parse_messages(const ojson & messages);

// A piece of rendered text and whether a trainer computes loss on it (assistant output).
struct Segment {
    std::string text;
    bool train = false;
};

struct Rendered {
    std::vector<Segment> segments;
    std::string text() const;
};

class ChatFormat {
public:
    explicit ChatFormat(ChatFormatKind kind) : kind_(kind) {}

    // From GGUF metadata: switchyard.chat_format when present, else tokenizer.chat_template markers,
    // else the vocabulary's special tokens; chatml when nothing tells.
    static ChatFormat detect(const gguf::File & file, const tok::Vocab & vocab);

    ChatFormatKind kind() const { return kind_; }
    grammar::ToolCallFormat tool_call_format() const;
    std::vector<std::string> stop_strings() const;  // end-of-turn text, e.g. "<|im_end|>"

    // Whole conversation. add_generation_prompt appends the opening of an assistant turn. Assistant turns
    // (content or calls + end-of-turn marker) are train segments.
    Rendered render(const Conversation & conv, bool add_generation_prompt) const;

    // The day relative dates resolve against when the system prompt states none (default: the local date
    // at render time). Days since 1970-01-01 (dates.h).
    void set_today(std::optional<int64_t> days) { today_ = days; }
    // The day relative dates in `conv` resolve against: the first ISO date of its first system message,
    // else set_today's, else the local date.
    int64_t today_of(const Conversation & conv) const;

    // The text an assistant turn's tool calls render to (without end-of-turn).
    std::string render_tool_calls(const std::vector<ToolCall> & calls, const ojson & tools) const;

    // The texts a copy field's value may be a span of (grammar/copy.h): the contents of the user and tool
    // messages, in order; in the compact format each user message is followed by the ISO dates its date
    // line names (dates.h), so format:date fields can be copy fields. For a trained assistant turn, pass
    // the conversation up to that turn.
    std::vector<std::string> copy_sources(const Conversation & conv) const;

private:
    ChatFormatKind kind_;
    std::optional<int64_t> today_;
};

// The line the compact format appends to a user turn: "\ndates: PHRASE = YYYY-MM-DD, …" for each date
// mentioned in `text` (a mention already written as that ISO date is left out); empty when none.
std::string date_line(std::string_view text, int64_t today);

// Reorders an arguments object (recursively) to the property order of its JSON schema; keys the schema
// does not list keep their order after the listed ones.
ojson order_like_schema(const ojson & value, const ojson & schema);

// Tokens of a rendered conversation with a per-token loss mask (1 = train). Segments are tokenized one
// by one with special-token parsing, so a mask boundary never splits a token.
struct TokenizedChat {
    std::vector<int32_t> tokens;
    std::vector<uint8_t> loss_mask;
};
TokenizedChat tokenize_rendered(const tok::Tokenizer & tokenizer, const Rendered & r, bool add_bos);

// Stable fingerprint of a tool set (16 hex digits): FNV-1a 64 over the tools sorted by name, each as
// "name\n" + its parameters schema as canonical JSON (object keys sorted, no whitespace) + "\n". Tool order
// and description text outside the parameters do not change it. Trained models record it as GGUF metadata
// switchyard.tools_fingerprint so a router is only used for the tool set it learned.
std::string tools_fingerprint(const ojson & tools);

}  // namespace sy::chat
