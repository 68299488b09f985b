// `switchyard tokenize -m MODEL [--add-special] [--parse-special] [--pieces] (TEXT | -)`: prints the token
// ids of TEXT (or of all of stdin with `-`, byte for byte, trailing newline included) space-separated on
// one line. By default no BOS/EOS is added and special-token text is plain text. --pieces then prints one
// line per token: its id, a tab and its bytes as a quoted string (partial UTF-8 as \\xNN escapes).
// Only the tokenizer metadata of MODEL is read; no weights are loaded.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

#include "cli/commands.h"
#include "common/error.h"
#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"

namespace sy::cli {
namespace {

struct TokenizeParams {
    std::string model;
    std::string text;
    bool add_special = false;
    bool parse_special = false;
    bool pieces = false;
};

// Length of the well-formed UTF-8 sequence at s[i], or 0.
size_t utf8_len_at(const std::string & s, size_t i) {
    const auto b0 = (unsigned char)s[i];
    const size_t len = b0 < 0x80 ? 1 : (b0 & 0xE0) == 0xC0 ? 2 : (b0 & 0xF0) == 0xE0 ? 3 : (b0 & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return 0;
    uint32_t cpt = len == 1 ? b0 : b0 & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) {
        const auto b = (unsigned char)s[i + k];
        if ((b & 0xC0) != 0x80) return 0;
        cpt = (cpt << 6) | (b & 0x3F);
    }
    static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cpt < kMin[len] || cpt > 0x10FFFF || (cpt >= 0xD800 && cpt <= 0xDFFF)) return 0;
    return len;
}

// A quoted string: quotes, backslashes, control bytes and bytes that are not part of well-formed UTF-8
// (a token may hold part of a character) are escaped; other characters pass through.
std::string quote_piece(const std::string & s) {
    std::string out = "\"";
    for (size_t i = 0; i < s.size();) {
        const auto c = (unsigned char)s[i];
        const size_t len = utf8_len_at(s, i);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += (char)c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c < 0x20 || c == 0x7f || len == 0) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out.append(s, i, len);
            i += len;
            continue;
        }
        ++i;
    }
    return out + "\"";
}

void run_tokenize(const TokenizeParams & p) {
    std::string text = p.text;
    if (text == "-") {
        std::cin >> std::noskipws;
        text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
        if (std::cin.bad()) throw Error(ErrorKind::ErrorKind_io, "could not read the text from stdin");
    }
    const auto file = gguf::File::open(p.model);
    const auto tok = tok::Tokenizer::from_gguf(file);
    const auto ids = tok->encode(text, {.add_special = p.add_special, .parse_special = p.parse_special});

    std::string line;
    for (size_t i = 0; i < ids.size(); ++i) {
        if (i > 0) line += ' ';
        line += std::to_string(ids[i]);
    }
    line += '\n';
    if (p.pieces) {
        for (const auto id : ids) line += std::to_string(id) + "\t" + quote_piece(tok->token_piece(id)) + "\n";
    }
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
}

}  // namespace

void add_tokenize(CLI::App & app) {
    auto params = std::make_shared<TokenizeParams>();
    CLI::App * cmd = app.add_subcommand(
        "tokenize", "Print the token ids of a text under a model's tokenizer (no BOS/EOS, special text as plain text)");
    cmd->add_option("-m,--model", params->model, "GGUF file whose tokenizer.ggml.* metadata is used")->required();
    cmd->add_option("text", params->text, "The text, or - to read all of stdin (bytes kept exactly)")->required();
    cmd->add_flag("--add-special", params->add_special, "Add BOS/EOS as the vocabulary asks (add_bos_token/add_eos_token)");
    cmd->add_flag("--parse-special", params->parse_special, "Turn special-token text like <|im_start|> into that token");
    cmd->add_flag("--pieces", params->pieces, "After the ids, print one line per token: id, tab, its bytes quoted");
    cmd->callback([params] { run_tokenize(*params); });
}

}  // namespace sy::cli
