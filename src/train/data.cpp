// Examples, packing, and the ChatML rendering of OpenAI chat JSONL (see data.h).
#include "train/data.h"

#include <fstream>
#include <nlohmann/json.hpp>

namespace sy::train {

std::vector<Batch> pack_batches(const std::vector<TrainExample> & examples, const std::vector<size_t> & order,
                                int64_t batch_tokens) {
    SY_ASSERT(batch_tokens > 0);
    std::vector<Batch> out;
    Batch cur;
    for (size_t idx : order) {
        const TrainExample & ex = examples.at(idx);
        SY_ASSERT(ex.tokens.size() == ex.loss_mask.size());
        const int64_t n_pos = std::min<int64_t>((int64_t)ex.tokens.size() - 1, batch_tokens);
        if (n_pos <= 0) continue;
        if ((int64_t)cur.tokens.size() + n_pos > batch_tokens && !cur.tokens.empty()) {
            out.push_back(std::move(cur));
            cur = Batch();
        }
        cur.segs.push_back(Segment{(int64_t)cur.tokens.size(), n_pos});
        for (int64_t i = 0; i < n_pos; ++i) {
            cur.tokens.push_back(ex.tokens[i]);
            cur.pos.push_back((int32_t)i);
            cur.targets.push_back(ex.tokens[i + 1]);
            cur.loss.push_back(ex.loss_mask[i + 1]);
        }
    }
    if (!cur.tokens.empty()) out.push_back(std::move(cur));
    return out;
}

std::vector<std::string> chatml_special_tokens() {
    return {"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<tool_call>", "</tool_call>"};
}

namespace {

using nlohmann::json;

std::string content_text(const json & msg) {
    if (!msg.contains("content") || msg["content"].is_null()) return "";
    const json & c = msg["content"];
    if (c.is_string()) return c.get<std::string>();
    if (c.is_array()) {  // [{"type": "text", "text": ...}, ...]
        std::string s;
        for (const json & part : c)
            if (part.is_object() && part.value("type", "") == "text") s += part.value("text", "");
        return s;
    }
    throw Error(ErrorKind::ErrorKind_invalid_argument, "message content must be a string or an array of text parts");
}

}  // namespace

RenderedChat render_chatml(const std::string & line) {
    json j;
    try {
        j = json::parse(line);
    } catch (const json::exception & e) {
        throw Error(ErrorKind::ErrorKind_invalid_argument, std::string("invalid JSON: ") + e.what());
    }
    if (!j.is_object() || !j.contains("messages") || !j["messages"].is_array())
        throw Error(ErrorKind::ErrorKind_invalid_argument, "expected an object with a \"messages\" array");
    RenderedChat out;
    std::string & s = out.text;
    const json & msgs = j["messages"];
    std::string tools_text;
    if (j.contains("tools") && j["tools"].is_array() && !j["tools"].empty()) {
        tools_text = "# Tools\n<tools>\n";
        for (const json & t : j["tools"]) tools_text += (t.contains("function") ? t["function"] : t).dump() + "\n";
        tools_text += "</tools>";
    }
    size_t first = 0;
    if (!msgs.empty() && msgs[0].value("role", "") == "system") {
        std::string sys = content_text(msgs[0]);
        if (!tools_text.empty()) sys += (sys.empty() ? "" : "\n\n") + tools_text;
        s += "<|im_start|>system\n" + sys + "<|im_end|>\n";
        first = 1;
    } else if (!tools_text.empty()) {
        s += "<|im_start|>system\n" + tools_text + "<|im_end|>\n";
    }
    for (size_t i = first; i < msgs.size(); ++i) {
        const json & m = msgs[i];
        const std::string role = m.value("role", "");
        if (role != "system" && role != "user" && role != "assistant" && role != "tool")
            throw Error(ErrorKind::ErrorKind_invalid_argument, "message " + std::to_string(i) + ": unknown role '" + role + "'");
        s += "<|im_start|>" + role + "\n";
        const size_t begin = s.size();
        s += content_text(m);
        if (role == "assistant" && m.contains("tool_calls") && m["tool_calls"].is_array()) {
            for (const json & tc : m["tool_calls"]) {
                const json & fn = tc.contains("function") ? tc["function"] : tc;
                json args = fn.contains("arguments") ? fn["arguments"] : json::object();
                if (args.is_string()) {
                    try {
                        args = json::parse(args.get<std::string>());
                    } catch (const json::exception &) {
                        throw Error(ErrorKind::ErrorKind_invalid_argument,
                                    "message " + std::to_string(i) + ": tool call arguments are not valid JSON");
                    }
                }
                if (s.size() > begin) s += "\n";
                json call = json::object();
                call["name"] = fn.value("name", "");
                call["arguments"] = args;
                s += "<tool_call>\n" + call.dump() + "\n</tool_call>";
            }
        }
        s += "<|im_end|>";
        if (role == "assistant") out.train_spans.push_back({begin, s.size()});
        s += "\n";
    }
    return out;
}

TrainExample tokenize_chat(const RenderedChat & chat, const tok::Tokenizer & tk) {
    tok::EncodeOptions opt;
    opt.parse_special = true;
    TrainExample ex;
    ex.tokens = tk.encode(chat.text, opt);
    ex.loss_mask.assign(ex.tokens.size(), 0);
    size_t off = 0, span = 0;
    for (size_t i = 0; i < ex.tokens.size(); ++i) {
        const tok::TokenId id = ex.tokens[i];
        const bool ctrl = tk.vocab().is_control(id);
        const size_t len = ctrl ? tk.vocab().token_text(id).size() : tk.token_piece(id).size();
        while (span < chat.train_spans.size() && chat.train_spans[span].second <= off) ++span;
        if (span < chat.train_spans.size() && off >= chat.train_spans[span].first) ex.loss_mask[i] = 1;
        off += len;
    }
    return ex;
}

std::vector<RenderedChat> read_chat_jsonl(const std::string & path) {
    std::ifstream in(path);
    if (!in) throw Error(ErrorKind::ErrorKind_io, "cannot open '" + path + "'");
    std::vector<RenderedChat> out;
    std::string line;
    for (size_t ln = 1; std::getline(in, line); ++ln) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        try {
            out.push_back(render_chatml(line));
        } catch (const Error & e) {
            throw Error(ErrorKind::ErrorKind_invalid_argument, path + ":" + std::to_string(ln) + ": " + e.what());
        }
    }
    if (out.empty()) throw Error(ErrorKind::ErrorKind_invalid_argument, "'" + path + "' has no examples");
    return out;
}

void split_train_valid(size_t n, double fraction, uint64_t seed, std::vector<size_t> & train,
                       std::vector<size_t> & valid) {
    train.clear();
    valid.clear();
    for (size_t i = 0; i < n; ++i) {
        uint64_t z = seed + (uint64_t)i * 0x9E3779B97F4A7C15ull;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        const double u = (double)(z >> 11) / 9007199254740992.0;
        (u < fraction ? valid : train).push_back(i);
    }
    if (valid.empty() && n >= 2) {  // tiny sets: always hold out one
        valid.push_back(train.back());
        train.pop_back();
    }
}

}  // namespace sy::train
