// Route registration, request reading and the checks shared by the OpenAI and Ollama handlers.
#include "server/context.h"

#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>

#include "common/error.h"
#include "grammar/schema.h"
#include "grammar/tool_call.h"
#include "traces/trace.h"

namespace sy::server {

bool SchemaCheckCache::known(const std::string & key) {
    std::lock_guard<std::mutex> lk(mu_);
    return ok_.count(key) != 0;
}

void SchemaCheckCache::remember(const std::string & key) {
    std::lock_guard<std::mutex> lk(mu_);
    if (ok_.size() >= 1024) ok_.clear();  // bounded: clients sending ever-new tool sets just re-check
    ok_.insert(key);
}

std::string & current_route_label() {
    thread_local std::string label = "unmatched";
    return label;
}

void add_route(httplib::Server & http, Method method, const std::string & pattern, const std::string & label,
               ApiStyle style, RouteFn fn) {
    auto handler = [label, style, fn = std::move(fn)](const httplib::Request & req, httplib::Response & res) {
        current_route_label() = label;
        try {
            fn(req, res);
        } catch (...) {
            const ErrorInfo e = classify(std::current_exception());
            if (e.status >= 500) std::fprintf(stderr, "switchyard serve: %s %s -> %d: %s\n", req.method.c_str(), req.path.c_str(), e.status, e.message.c_str());
            set_error(res, e, style);
        }
    };
    switch (method) {
        case Method::Method_get: http.Get(pattern, handler); break;
        case Method::Method_post: http.Post(pattern, handler); break;
        case Method::Method_delete: http.Delete(pattern, handler); break;
    }
}

size_t invalid_utf8_offset(std::string_view s) {
    const auto * p = reinterpret_cast<const unsigned char *>(s.data());
    const size_t n = s.size();
    size_t i = 0;
    while (i < n) {
        const unsigned char c = p[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t len;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
        else return i;
        if (i + len > n) return i;
        for (size_t k = 1; k < len; ++k) {
            if ((p[i + k] & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        const bool overlong = (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
        if (overlong || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return i;
        i += len;
    }
    return std::string_view::npos;
}

ojson parse_json_body(const httplib::Request & req) {
    if (req.body.empty()) bad_request("", "request body is empty; send a JSON object");
    if (const size_t at = invalid_utf8_offset(req.body); at != std::string_view::npos)
        bad_request("", "request body is not valid UTF-8 (first bad byte at offset " + std::to_string(at) + ")");
    ojson j;
    try {
        j = ojson::parse(req.body);
    } catch (const nlohmann::json::parse_error & e) {
        bad_request("", std::string("malformed JSON body: ") + e.what());
    }
    if (!j.is_object()) bad_request("", "the request body must be a JSON object");
    return j;
}

std::string dump_json(const ojson & j) { return j.dump(-1, ' ', false, ojson::error_handler_t::replace); }

namespace {

const ojson * field(const ojson & body, const char * key) {
    if (!body.is_object()) return nullptr;
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return nullptr;
    return &*it;
}

std::string num_text(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

}  // namespace

std::optional<double> opt_number(const ojson & body, const char * key, double lo, double hi) {
    const ojson * v = field(body, key);
    if (!v) return std::nullopt;
    if (!v->is_number()) bad_request(key, "must be a number");
    const double d = v->get<double>();
    if (!(d >= lo && d <= hi)) bad_request(key, "must be between " + num_text(lo) + " and " + num_text(hi));
    return d;
}

std::optional<int64_t> opt_int(const ojson & body, const char * key, int64_t lo, int64_t hi) {
    const ojson * v = field(body, key);
    if (!v) return std::nullopt;
    if (v->is_number_float()) {
        const double d = v->get<double>();
        if (!(d >= -9.2e18 && d <= 9.2e18)) bad_request(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
        if (d != (double)(int64_t)d) bad_request(key, "must be an integer");
    } else if (!v->is_number()) {
        bad_request(key, "must be an integer");
    }
    if (v->is_number_unsigned() && v->get<uint64_t>() > (uint64_t)INT64_MAX)
        bad_request(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    const int64_t i = v->is_number_float() ? (int64_t)v->get<double>() : v->get<int64_t>();
    if (i < lo || i > hi) bad_request(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    return i;
}

std::optional<bool> opt_bool(const ojson & body, const char * key) {
    const ojson * v = field(body, key);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) bad_request(key, "must be true or false");
    return v->get<bool>();
}

std::optional<std::string> opt_string(const ojson & body, const char * key) {
    const ojson * v = field(body, key);
    if (!v) return std::nullopt;
    if (!v->is_string()) bad_request(key, "must be a string");
    return v->get<std::string>();
}

std::vector<std::string> read_stop(const ojson & v, const std::string & param) {
    std::vector<std::string> out;
    if (v.is_null()) return out;
    if (v.is_string()) {
        if (!v.get<std::string>().empty()) out.push_back(v.get<std::string>());
        return out;
    }
    if (!v.is_array()) bad_request(param, "must be a string or an array of strings");
    if (v.size() > 16) bad_request(param, "at most 16 stop sequences");
    for (const ojson & s : v) {
        if (!s.is_string()) bad_request(param, "must be a string or an array of strings");
        if (!s.get<std::string>().empty()) out.push_back(s.get<std::string>());
    }
    return out;
}

void check_tools(ServerContext & ctx, const ojson & tools, const ojson & tool_choice, bool parallel) {
    if (tools.is_null() || (tools.is_array() && tools.empty())) {
        if (tool_choice.is_object() || tool_choice == "required")
            bad_request("tool_choice", "names a tool but the request has no tools");
        return;
    }
    if (!tools.is_array()) bad_request("tools", "must be an array of {\"type\":\"function\",\"function\":{...}}");
    if (!tool_choice.is_null() && !tool_choice.is_string() && !tool_choice.is_object())
        bad_request("tool_choice", "must be \"auto\", \"none\", \"required\" or {\"type\":\"function\",\"function\":{\"name\":...}}");
    if (tool_choice.is_string() && tool_choice != "auto" && tool_choice != "none" && tool_choice != "required")
        bad_request("tool_choice", "must be \"auto\", \"none\", \"required\" or {\"type\":\"function\",\"function\":{\"name\":...}}");
    for (size_t i = 0; i < tools.size(); ++i) {
        const ojson & t = tools[i];
        const std::string where = "tools[" + std::to_string(i) + "]";
        if (!t.is_object()) bad_request(where, "must be an object");
        const ojson & fn = t.contains("function") ? t["function"] : t;
        if (!fn.is_object()) bad_request(where + ".function", "must be an object");
        if (fn.contains("parameters") && !fn["parameters"].is_object())
            bad_request(where + ".function.parameters", "must be a JSON Schema object");
    }
    const std::string key = dump_json(tools) + '\x1f' + dump_json(tool_choice) + (parallel ? "1" : "0");
    if (ctx.schemas.known(key)) return;
    try {
        (void)grammar::compile_tool_grammar(tools, tool_choice.is_null() ? ojson("auto") : tool_choice, parallel);
    } catch (const Error & e) {
        throw HttpError(400, "invalid_request_error", std::string("invalid tools: ") + e.what(), "tools", "invalid_tool_schema");
    }
    ctx.schemas.remember(key);
}

void check_response_format(ServerContext & ctx, const ojson & rf) {
    if (rf.is_null()) return;
    if (!rf.is_object() || !rf.contains("type") || !rf["type"].is_string())
        bad_request("response_format", "must be {\"type\": \"text\" | \"json_object\" | \"json_schema\", ...}");
    const std::string type = rf["type"].get<std::string>();
    if (type == "text" || type == "json_object") return;
    if (type != "json_schema") bad_request("response_format.type", "unknown type '" + type + "' (text, json_object, json_schema)");
    if (!rf.contains("json_schema") || !rf["json_schema"].is_object())
        bad_request("response_format.json_schema", "must be an object {\"name\", \"schema\", \"strict\"}");
    const ojson & js = rf["json_schema"];
    if (!js.contains("name") || !js["name"].is_string()) bad_request("response_format.json_schema.name", "must be a string");
    if (js.contains("strict") && !js["strict"].is_boolean() && !js["strict"].is_null())
        bad_request("response_format.json_schema.strict", "must be true or false");
    const ojson schema = js.contains("schema") ? js["schema"] : ojson::object();
    if (!schema.is_object()) bad_request("response_format.json_schema.schema", "must be a JSON Schema object");
    const std::string key = "rf\x1f" + dump_json(schema);
    if (ctx.schemas.known(key)) return;
    try {
        (void)grammar::compile_json_schema(schema);
    } catch (const Error & e) {
        throw HttpError(400, "invalid_request_error", std::string("invalid response_format schema: ") + e.what(),
                        "response_format", "invalid_schema");
    }
    ctx.schemas.remember(key);
}

std::string resolve_model(ServerContext & ctx, const std::string & name, agent::RequestOptions & opts) {
    static const char * const kRoles[] = {"router", "responder", "summarizer", "fallback"};
    if (name.empty()) return name;
    for (const char * r : kRoles)
        if (name == r) return name;
    if (name.find(':') == std::string::npos && ctx.gateway.provider(name)) {  // a configured model: no adapter listing
        opts.force_model = name;
        return name;
    }
    const auto entries = ctx.gateway.models();
    auto find = [&](const std::string & n) -> const providers::ModelEntry * {
        for (const auto & e : entries)
            if (e.id == n) return &e;
        return nullptr;
    };
    std::string id = name;
    const providers::ModelEntry * e = find(id);
    if (!e && id.size() > 7 && id.compare(id.size() - 7, 7, ":latest") == 0) {
        id.resize(id.size() - 7);
        e = find(id);
    }
    if (!e) {
        std::string known;
        for (const auto & m : entries) known += (known.empty() ? "" : ", ") + m.id;
        throw HttpError(404, "invalid_request_error", "unknown model '" + name + "'; this server has: " + known, "model",
                        "model_not_found");
    }
    if (e->kind != "alias") opts.force_model = id;
    return id;
}

std::optional<int32_t> cap_max_tokens(const ServerContext & ctx, std::optional<int64_t> requested) {
    if (!requested) return std::nullopt;
    return (int32_t)std::min<int64_t>(*requested, ctx.cfg.max_tokens);
}

std::string random_hex(size_t n_digits) {
    thread_local std::mt19937_64 rng(std::random_device{}() ^ (uint64_t)std::chrono::steady_clock::now().time_since_epoch().count());
    static const char * hex = "0123456789abcdef";
    std::string s(n_digits, '0');
    uint64_t bits = 0;
    for (size_t i = 0; i < n_digits; ++i) {
        if (i % 16 == 0) bits = rng();
        s[i] = hex[bits & 15];
        bits >>= 4;
    }
    return s;
}

int64_t unix_seconds() { return (int64_t)std::time(nullptr); }

std::string rfc3339_now() {
    const auto now = std::chrono::system_clock::now();
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)us);
    return buf;
}

void set_decision_headers(httplib::Response & res, const agent::Decision & d, const std::string & trace_id) {
    if (!d.model.empty()) res.set_header("X-Switchyard-Model", d.model);
    res.set_header("X-Switchyard-Served-By", traces::served_by_name(d.served_by));
    if (!d.reason.empty()) res.set_header("X-Switchyard-Reason", d.reason);
    if (d.confidence) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.4f", *d.confidence);
        res.set_header("X-Switchyard-Confidence", buf);
    }
    if (!trace_id.empty()) res.set_header("X-Switchyard-Trace-Id", trace_id);
}

}  // namespace sy::server
