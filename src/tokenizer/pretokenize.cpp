// Pre-tokenizer families of byte-level BPE vocabularies (tokenizer.ggml.pre), run with PCRE2 (UTF + Unicode
// properties, JIT when available). The regex lists are those the model families' own tokenizers use,
// expressed for PCRE2: `\s` is spelled out as the Unicode White_Space set (so U+180E, which PCRE2's \s
// would also take, is not whitespace), `$` matches only at the very end.
#include "tokenizer/pretokenize_internal.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <array>
#include <string>

#include "common/error.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode_internal.h"

namespace sy::tok {

namespace {

// The regex "words" shared by several families.
constexpr const char * kGpt2Words = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";
constexpr const char * kLlama3Words =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char * kQwen2Words =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char * kDeepseekLetters =
    R"(\s?[A-Za-z\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF}\x{1C4}-\x{293}\x{295}-\x{2AF})"
    R"(\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D}\x{37F}\x{386}\x{388}-\x{38A}\x{38C}\x{38E}-\x{3A1})"
    R"(\x{3A3}-\x{3F5}\x{3F7}-\x{481}\x{48A}-\x{52F}\x{531}-\x{556}\x{10A0}-\x{10C5}\x{13A0}-\x{13F5})"
    R"(\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF}\x{1D00}-\x{1D2B}\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A})"
    R"(\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D}\x{1F20}-\x{1F45}\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57}\x{1F59}\x{1F5B})"
    R"(\x{1F5D}\x{1F5F}-\x{1F7D}\x{1F80}-\x{1FB4}\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4}\x{1FC6}-\x{1FCC})"
    R"(\x{1FD0}-\x{1FD3}\x{1FD6}-\x{1FDB}\x{1FE0}-\x{1FEC}\x{1FF2}-\x{1FF4}\x{1FF6}-\x{1FFC}\x{2102}\x{2107})"
    R"(\x{210A}-\x{2113}\x{2115}\x{2119}-\x{211D}\x{2124}\x{2126}\x{2128}\x{212A}-\x{212D}\x{212F}-\x{2134})"
    R"(\x{2139}\x{213C}-\x{213F}\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184}\x{2C00}-\x{2C7B}\x{2C7E}-\x{2CE4})"
    R"(\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3}\x{A640}-\x{A66D}\x{A680}-\x{A69B}\x{A722}-\x{A76F}\x{A771}-\x{A787})"
    R"(\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF}\x{FB00}-\x{FB06}\x{FB13}-\x{FB17}\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A})"
    R"(\x{10400}-\x{1044F}\x{104B0}-\x{104D3}\x{104D8}-\x{104FB}\x{10C80}-\x{10CB2}\x{10CC0}-\x{10CF2})"
    R"(\x{118A0}-\x{118DF}\x{1E900}-\x{1E943}]+)";
constexpr const char * kCjkRun = R"([\x{4E00}-\x{9FA5}\x{800}-\x{4E00}\x{AC00}-\x{D7FF}]+)";
constexpr const char * kBloomWords = R"( ?[^(\s|.,!?\x{2026}\x{3002}\x{FF0C}\x{3001}\x{964}\x{6D4}\x{60C})]+)";

struct Family {
    const char * names;  // tokenizer.ggml.pre values, space-separated
    std::array<const char *, 6> regexes;  // applied in order; unused slots are nullptr
    bool ignore_merges;
    bool default_add_bos;
};

// One row per family; the first name is the canonical one.
const std::array<Family, 13> kFamilies = {{
    {"default", {R"([\p{P}\$\+<=>\^~\|]+)", kGpt2Words, R"(\p{N}+)", "[0-9][0-9][0-9]"}, false, false},
    {"gpt-2 phi-2 roberta-bpe mpt olmo jais gigachat jina-es jina-de jina-v1-en jina-v2-es jina-v2-de "
     "jina-v2-code",
     {kGpt2Words}, false, false},
    {"llama-bpe llama3 llama-v3 falcon3", {kLlama3Words}, true, true},
    {"dbrx smaug-bpe", {kLlama3Words}, false, false},
    {"chatglm-bpe", {kLlama3Words}, false, false},
    {"qwen2 deepseek-r1-qwen megrez stablelm2", {kQwen2Words}, false, false},
    {"smollm starcoder refact command-r codeshell exaone minerva-7b", {R"(\p{N})", kGpt2Words}, false, false},
    {"falcon", {R"([\p{P}\$\+<=>\^~\|`]+)", kGpt2Words, "[0-9][0-9][0-9]"}, false, false},
    {"deepseek-llm",
     {R"([\r\n])", kDeepseekLetters, R"(\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+)",
      R"(\s+$)", kCjkRun, R"(\p{N}+)"},
     false, false},
    {"deepseek-coder", {R"([\r\n])", R"(\s?\p{L}+)", R"(\s?\p{P}+)", kCjkRun, R"(\p{N})"}, false, false},
    {"deepseek-v3",
     {R"(\p{N}{1,3})", R"([\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+)",
      R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"},
     false, false},
    {"bloom poro-chat gpt3-finnish", {kBloomWords}, false, false},
    {"viking", {kBloomWords, R"(\p{N})"}, false, false},
}};

// The Unicode White_Space code points, as the body of a character class.
constexpr const char * kWhiteSpace = R"(\t\n\x0B\f\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";

// Rewrites \s and \S with the explicit White_Space set, inside and outside character classes.
std::string expand_whitespace(std::string_view pattern) {
    std::string out;
    bool in_class = false;
    for (size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '\\' && i + 1 < pattern.size()) {
            const char e = pattern[i + 1];
            if (e == 's') {
                out += in_class ? std::string(kWhiteSpace) : "[" + std::string(kWhiteSpace) + "]";
            } else if (e == 'S') {
                SY_ASSERT(!in_class);
                out += "[^" + std::string(kWhiteSpace) + "]";
            } else {
                out += c;
                out += e;
            }
            ++i;
            continue;
        }
        if (c == '[' && !in_class) in_class = true;
        else if (c == ']' && in_class) in_class = false;
        out += c;
    }
    return out;
}

bool family_has_name(const Family & f, std::string_view pre) {
    std::string_view names = f.names;
    while (!names.empty()) {
        const size_t sp = names.find(' ');
        if (names.substr(0, sp) == pre) return true;
        if (sp == std::string_view::npos) break;
        names.remove_prefix(sp + 1);
    }
    return false;
}

const Family * find_family(std::string_view pre) {
    for (const auto & f : kFamilies) {
        if (family_has_name(f, pre)) return &f;
    }
    return nullptr;
}

}  // namespace

std::string supported_pre_tokenizers() {
    std::string out;
    for (const auto & f : kFamilies) {
        for (char c : std::string_view(f.names)) {
            if (c == ' ') {
                out += ", ";
            } else {
                out += c;
            }
        }
        if (&f != &kFamilies.back()) out += ", ";
    }
    return out;
}

bool is_supported_pre_tokenizer(std::string_view pre) { return find_family(pre) != nullptr; }

struct PreTokenizer::Regex {
    pcre2_code * code = nullptr;
    ~Regex() { pcre2_code_free(code); }
};

namespace {

struct MatchData {
    pcre2_match_data * md;
    MatchData() : md(pcre2_match_data_create(1, nullptr)) { SY_ASSERT(md != nullptr); }
    ~MatchData() { pcre2_match_data_free(md); }
};

// Finds the next match of `code` in `seg` at or after `pos`; false when there is none.
bool next_match(const pcre2_code * code, std::string_view seg, size_t pos, pcre2_match_data * md, size_t & start,
                size_t & end) {
    const auto * subject = (PCRE2_SPTR)seg.data();
    int rc = pcre2_match(code, subject, seg.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {  // very long runs: retry with the heap-based interpreter
        rc = pcre2_match(code, subject, seg.size(), pos, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md, nullptr);
    }
    if (rc == PCRE2_ERROR_NOMATCH) return false;
    if (rc < 0) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(rc, msg, sizeof(msg));
        throw Error(ErrorKind::ErrorKind_limit,
                    "pre-tokenizer regex failed on a " + std::to_string(seg.size()) + "-byte piece: " + (const char *)msg);
    }
    const PCRE2_SIZE * ov = pcre2_get_ovector_pointer(md);
    start = ov[0];
    end = ov[1];
    return true;
}

}  // namespace

PreTokenizer::PreTokenizer(std::string_view pre) {
    const Family * f = find_family(pre);
    if (f == nullptr) {
        throw Error(ErrorKind::ErrorKind_unsupported, "unknown pre-tokenizer '" + std::string(pre) +
                                                          "' (tokenizer.ggml.pre); supported: " +
                                                          supported_pre_tokenizers());
    }
    ignore_merges_ = f->ignore_merges;
    default_add_bos_ = f->default_add_bos;
    for (const char * re : f->regexes) {
        if (re == nullptr) break;
        const std::string pattern = expand_whitespace(re);
        int err = 0;
        PCRE2_SIZE err_off = 0;
        auto rx = std::make_unique<Regex>();
        rx->code = pcre2_compile((PCRE2_SPTR)pattern.data(), pattern.size(), PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY,
                                 &err, &err_off, nullptr);
        if (rx->code == nullptr) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(err, msg, sizeof(msg));
            throw Error(ErrorKind::ErrorKind_internal, "pre-tokenizer '" + std::string(pre) + "': regex does not compile at " +
                                                           std::to_string(err_off) + ": " + (const char *)msg);
        }
        pcre2_jit_compile(rx->code, PCRE2_JIT_COMPLETE);  // best effort; the interpreter is the fallback
        regexes_.push_back(std::move(rx));
    }
}

PreTokenizer::~PreTokenizer() = default;

void PreTokenizer::split(std::string_view text, std::vector<std::string_view> & out) const {
    MatchData md;
    std::vector<std::string_view> cur, next;
    size_t i = 0;
    while (i < text.size()) {
        size_t j = i;
        while (j < text.size()) {
            const size_t len = utf8_sequence_len(text.substr(j));
            if (len == 0) break;
            j += len;
        }
        if (j > i) {  // a well-formed run: every regex in turn
            cur.assign(1, text.substr(i, j - i));
            for (const auto & rx : regexes_) {
                next.clear();
                for (std::string_view seg : cur) {
                    size_t pos = 0, gap = 0, s = 0, e = 0;
                    while (pos < seg.size() && next_match(rx->code, seg, pos, md.md, s, e)) {
                        if (e == s) {  // empty match: step over one character
                            if (s >= seg.size()) break;
                            pos = s + utf8_sequence_len(seg.substr(s));
                            continue;
                        }
                        if (s > gap) next.push_back(seg.substr(gap, s - gap));
                        next.push_back(seg.substr(s, e - s));
                        gap = pos = e;
                    }
                    if (gap < seg.size()) next.push_back(seg.substr(gap));
                }
                cur.swap(next);
            }
            out.insert(out.end(), cur.begin(), cur.end());
        }
        if (j < text.size()) {  // one ill-formed byte
            out.push_back(text.substr(j, 1));
            ++j;
        }
        i = j;
    }
}

}  // namespace sy::tok
