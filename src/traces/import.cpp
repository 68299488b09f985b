// Import driver: format detection, line/array reading, file:line errors, skip-and-count, id filling.
#include "traces/import.h"

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.h"

namespace sy::traces {

const char * import_format_name(ImportFormat f) {
    switch (f) {
        case ImportFormat::ImportFormat_auto: return "auto";
        case ImportFormat::ImportFormat_openai: return "openai";
        case ImportFormat::ImportFormat_langsmith: return "langsmith";
        case ImportFormat::ImportFormat_pairs: return "pairs";
    }
    return "auto";
}

std::optional<ImportFormat> import_format_from_name(std::string_view n) {
    if (n == "auto") return ImportFormat::ImportFormat_auto;
    if (n == "openai") return ImportFormat::ImportFormat_openai;
    if (n == "langsmith") return ImportFormat::ImportFormat_langsmith;
    if (n == "pairs") return ImportFormat::ImportFormat_pairs;
    return std::nullopt;
}

std::optional<int64_t> parse_iso8601_ms(const std::string & s) {
    int Y, M, D, h, m, sec, used = 0;
    if (std::sscanf(s.c_str(), "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &Y, &M, &D, &h, &m, &sec, &used) != 6) return std::nullopt;
    size_t i = (size_t)used;
    int64_t ms = 0;
    if (i < s.size() && s[i] == '.') {  // fraction: keep milliseconds
        int digits = 0;
        for (++i; i < s.size() && std::isdigit((unsigned char)s[i]); ++i, ++digits)
            if (digits < 3) ms = ms * 10 + (s[i] - '0');
        for (; digits < 3; ++digits) ms *= 10;
    }
    int64_t offset_s = 0;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
        int oh = 0, om = 0;
        if (std::sscanf(s.c_str() + i + 1, "%2d:%2d", &oh, &om) < 1) return std::nullopt;
        offset_s = (s[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    } else if (i < s.size() && s[i] != 'Z') {
        return std::nullopt;
    }
    std::tm tm{};
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    const int64_t t = (int64_t)timegm(&tm);
    return (t - offset_s) * 1000 + ms;
}

namespace {

std::string content_hash_id(const std::string & file, int64_t line, const std::string & text) {
    uint64_t h = 0xcbf29ce484222325ull;
    auto mix = [&](const std::string & s) {
        for (unsigned char c : s) {
            h ^= c;
            h *= 0x100000001b3ull;
        }
        h ^= 0xff;
        h *= 0x100000001b3ull;
    };
    mix(std::filesystem::path(file).filename().string());
    mix(std::to_string(line));
    mix(text);
    char buf[40];
    std::snprintf(buf, sizeof buf, "imp-%016llx", (unsigned long long)h);
    return buf;
}

// Router decision of an imported conversation: the first tool the answer called, or "none".
void finish_trace(Trace & t) {
    if (t.tools_fingerprint.empty()) t.tools_fingerprint = tools_fingerprint(t.tools);
    if (t.router_decision.empty()) {
        const auto called = called_tools(t.messages);
        t.router_decision = called.empty() ? "none" : called.front();
    }
}

std::optional<Trace> convert(ImportFormat f, const ojson & j) {
    switch (f) {
        case ImportFormat::ImportFormat_openai: return trace_from_openai_example(j);
        case ImportFormat::ImportFormat_langsmith: return trace_from_langsmith_run(j);
        case ImportFormat::ImportFormat_pairs: return trace_from_chat_pair(j);
        case ImportFormat::ImportFormat_auto: break;
    }
    SY_ASSERT(false);
    return std::nullopt;
}

ImportFormat detect_from_object(const ojson & j, const std::string & where) {
    if (j.is_object()) {
        if (j.contains("request") && j.contains("response")) return ImportFormat::ImportFormat_pairs;
        if (j.contains("run_type") || (j.contains("inputs") && j.contains("outputs"))) return ImportFormat::ImportFormat_langsmith;
        if (j.contains("messages")) return ImportFormat::ImportFormat_openai;
    }
    throw Error(ErrorKind::ErrorKind_invalid_file,
                where + ": cannot tell the log format (expected {\"messages\"}, a LangSmith run, or {\"request\",\"response\"}); pass --format");
}

}  // namespace

ImportFormat detect_import_format(const std::string & path) {
    std::ifstream in(path);
    if (!in) throw Error(ErrorKind::ErrorKind_io, "cannot open '" + path + "'");
    std::string line;
    int64_t n = 0;
    while (std::getline(in, line)) {
        ++n;
        const size_t p = line.find_first_not_of(" \t\r");
        if (p == std::string::npos) continue;
        if (line[p] == '[') return ImportFormat::ImportFormat_langsmith;
        ojson j;
        try {
            j = ojson::parse(line);
        } catch (const nlohmann::json::exception & e) {
            throw Error(ErrorKind::ErrorKind_invalid_file, path + ":" + std::to_string(n) + ": invalid JSON (" + e.what() + ")");
        }
        return detect_from_object(j, path + ":" + std::to_string(n));
    }
    throw Error(ErrorKind::ErrorKind_invalid_file, path + ": empty file");
}

ImportResult import_file(const std::string & path, const ImportOptions & opt, const std::function<void(Trace &&)> & sink) {
    ImportResult res;
    res.format = opt.format == ImportFormat::ImportFormat_auto ? detect_import_format(path) : opt.format;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorKind::ErrorKind_io, "cannot open '" + path + "'");

    auto handle = [&](const std::string & where, int64_t line_no, const std::string & text, const ojson * parsed) {
        ++res.n_records;
        try {
            ojson j;
            if (parsed) {
                j = *parsed;
            } else {
                try {
                    j = ojson::parse(text);
                } catch (const nlohmann::json::exception & e) {
                    throw Error(ErrorKind::ErrorKind_invalid_file, std::string("invalid JSON (") + e.what() + ")");
                }
            }
            auto t = convert(res.format, j);
            if (!t) {
                ++res.n_ignored;
                return;
            }
            if (t->id.empty()) t->id = content_hash_id(path, line_no, parsed ? parsed->dump() : text);
            finish_trace(*t);
            sink(std::move(*t));
            ++res.n_imported;
        } catch (const Error & e) {
            const std::string msg = where + ": " + e.what();
            if (!opt.skip_bad) throw Error(ErrorKind::ErrorKind_invalid_file, msg);
            ++res.n_bad;
            if (res.errors.size() < opt.max_error_messages) res.errors.push_back(msg);
        }
    };

    // A LangSmith export may be one JSON array; everything else is one record per line.
    std::string first;
    {
        std::streampos start = in.tellg();
        char c;
        while (in.get(c) && std::isspace((unsigned char)c)) {
        }
        first = in ? std::string(1, c) : "";
        in.clear();
        in.seekg(start);
    }
    if (first == "[") {
        std::stringstream ss;
        ss << in.rdbuf();
        ojson arr;
        try {
            arr = ojson::parse(ss.str());
        } catch (const nlohmann::json::exception & e) {
            throw Error(ErrorKind::ErrorKind_invalid_file, path + ": invalid JSON array (" + e.what() + ")");
        }
        for (size_t i = 0; i < arr.size(); ++i)
            handle(path + ": run " + std::to_string(i + 1), (int64_t)i + 1, "", &arr[i]);
        return res;
    }
    std::string line;
    int64_t n = 0;
    while (std::getline(in, line)) {
        ++n;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        handle(path + ":" + std::to_string(n), n, line, nullptr);
    }
    return res;
}

ojson trace_to_openai_example(const Trace & t) {
    ojson j = ojson::object();
    j["messages"] = t.messages;
    if (t.tools.is_array() && !t.tools.empty()) j["tools"] = t.tools;
    return j;
}

}  // namespace sy::traces
