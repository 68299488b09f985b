// Examples, packing, and reading chat JSONL through the shared chat-format module (see data.h).
#include "train/data.h"

#include <fstream>

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

chat::Conversation parse_chat_line(const std::string & line) {
    chat::ojson j = chat::ojson::parse(line, nullptr, false);
    if (j.is_discarded()) throw Error(ErrorKind::ErrorKind_invalid_argument, "invalid JSON");
    return chat::parse_conversation(j);
}

std::vector<chat::Conversation> read_chat_jsonl(const std::string & path) {
    std::ifstream in(path);
    if (!in) throw Error(ErrorKind::ErrorKind_io, "cannot open '" + path + "'");
    std::vector<chat::Conversation> out;
    std::string line;
    for (size_t ln = 1; std::getline(in, line); ++ln) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        try {
            out.push_back(parse_chat_line(line));
        } catch (const Error & e) {
            throw Error(ErrorKind::ErrorKind_invalid_argument, path + ":" + std::to_string(ln) + ": " + e.what());
        }
    }
    if (out.empty()) throw Error(ErrorKind::ErrorKind_invalid_argument, "'" + path + "' has no examples");
    return out;
}

TrainExample tokenize_conversation(const chat::Conversation & conv, const chat::ChatFormat & format,
                                   const tok::Tokenizer & tk) {
    chat::TokenizedChat t = chat::tokenize_rendered(tk, format.render(conv, false), tk.vocab().special().add_bos);
    return TrainExample{std::move(t.tokens), std::move(t.loss_mask)};
}

std::string render_text(const chat::Conversation & conv, const chat::ChatFormat & format) {
    return format.render(conv, false).text();
}

std::string common_tools_fingerprint(const std::vector<chat::Conversation> & convs) {
    std::string fp;
    for (size_t i = 0; i < convs.size(); ++i) {
        if (!convs[i].tools.is_array() || convs[i].tools.empty()) continue;
        const std::string f = chat::tools_fingerprint(convs[i].tools);
        if (fp.empty()) fp = f;
        else if (f != fp) return "";
    }
    return fp;
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
