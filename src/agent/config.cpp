// Gateway configuration: YAML → GatewayConfig with validation. Every key is documented in
// examples/switchyard.yaml. Errors name the key path and, where known, the line:
//   "switchyard.yaml:12: models.router.path: file 'r.gguf' not found (relative paths are read from the
//    config file's folder)".
// String values may reference the environment as ${NAME} or ${NAME:-default}; "$${" is a literal "${".
#include "agent/config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "agent/executor.h"
#include "common/error.h"
#include "providers/remote_provider.h"

namespace sy::agent {

namespace fs = std::filesystem;

namespace {

struct Ctx {
    std::string base_dir;  // relative paths are resolved against it ("" = current directory)
    std::string file;      // for messages; "" when parsing text
};

[[noreturn]] void fail(const Ctx & c, const YAML::Node & n, const std::string & path, const std::string & msg) {
    std::string where;
    if (!c.file.empty()) where = c.file + ":";
    if (n.IsDefined() && n.Mark().line >= 0) where += std::to_string(n.Mark().line + 1) + ":";
    if (!where.empty()) where += " ";
    throw Error(ErrorKind::ErrorKind_invalid_argument, where + path + ": " + msg);
}

std::string join(const std::string & a, const std::string & b) { return a.empty() ? b : a + "." + b; }

bool valid_env_name(const std::string & s) {
    if (s.empty() || std::isdigit((unsigned char)s[0])) return false;
    for (char ch : s)
        if (!(std::isalnum((unsigned char)ch) || ch == '_')) return false;
    return true;
}

std::string expand_env(const Ctx & c, const YAML::Node & n, const std::string & path, const std::string & s) {
    std::string out;
    for (size_t i = 0; i < s.size();) {
        if (s.compare(i, 3, "$${") == 0) {
            out += "${";
            i += 3;
            continue;
        }
        if (s.compare(i, 2, "${") != 0) {
            out += s[i++];
            continue;
        }
        const size_t close = s.find('}', i + 2);
        if (close == std::string::npos) fail(c, n, path, "unterminated ${...} in '" + s + "'");
        const std::string inner = s.substr(i + 2, close - i - 2);
        const size_t dflt = inner.find(":-");
        const std::string name = inner.substr(0, dflt);
        if (!valid_env_name(name)) fail(c, n, path, "'${" + inner + "}' does not name an environment variable");
        const char * v = std::getenv(name.c_str());
        if (v && *v) out += v;
        else if (dflt != std::string::npos) out += inner.substr(dflt + 2);
        else fail(c, n, path, "environment variable " + name + " is not set (export it, or write ${" + name + ":-default})");
        i = close + 1;
    }
    return out;
}

void check_map(const Ctx & c, const YAML::Node & n, const std::string & path) {
    if (!n.IsMap()) fail(c, n, path, "must be a mapping (key: value lines)");
}

void check_keys(const Ctx & c, const YAML::Node & n, const std::string & path, const std::set<std::string> & allowed) {
    for (const auto & kv : n) {
        const std::string k = kv.first.as<std::string>();
        if (allowed.count(k)) continue;
        std::string list;
        for (const auto & a : allowed) list += (list.empty() ? "" : ", ") + a;
        fail(c, kv.first, join(path, k), "unknown key; expected one of: " + list);
    }
}

std::string get_string(const Ctx & c, const YAML::Node & n, const std::string & path) {
    if (!n.IsScalar()) fail(c, n, path, "must be a string");
    return expand_env(c, n, path, n.Scalar());
}

bool get_bool(const Ctx & c, const YAML::Node & n, const std::string & path) {
    const std::string s = n.IsScalar() ? n.Scalar() : "";
    if (s == "true" || s == "True" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "False" || s == "no" || s == "off") return false;
    fail(c, n, path, "must be true or false");
}

int64_t get_int(const Ctx & c, const YAML::Node & n, const std::string & path, int64_t lo, int64_t hi) {
    if (!n.IsScalar()) fail(c, n, path, "must be an integer");
    const std::string s = expand_env(c, n, path, n.Scalar());
    size_t used = 0;
    int64_t v = 0;
    try {
        v = std::stoll(s, &used);
    } catch (...) {
        used = 0;
    }
    if (used == 0 || used != s.size()) fail(c, n, path, "'" + s + "' is not an integer");
    if (v < lo || v > hi) fail(c, n, path, std::to_string(v) + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return v;
}

double get_double(const Ctx & c, const YAML::Node & n, const std::string & path, double lo, double hi) {
    if (!n.IsScalar()) fail(c, n, path, "must be a number");
    const std::string s = expand_env(c, n, path, n.Scalar());
    size_t used = 0;
    double v = 0;
    try {
        v = std::stod(s, &used);
    } catch (...) {
        used = 0;
    }
    if (used == 0 || used != s.size()) fail(c, n, path, "'" + s + "' is not a number");
    if (!(v >= lo && v <= hi)) fail(c, n, path, s + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return v;
}

std::chrono::milliseconds get_ms(const Ctx & c, const YAML::Node & n, const std::string & path) {
    return std::chrono::milliseconds(get_int(c, n, path, 1, 24ll * 3600 * 1000));
}

std::vector<std::string> get_string_list(const Ctx & c, const YAML::Node & n, const std::string & path) {
    std::vector<std::string> out;
    if (n.IsNull()) return out;
    if (!n.IsSequence()) fail(c, n, path, "must be a list, e.g. [A, B]");
    for (size_t i = 0; i < n.size(); ++i) out.push_back(get_string(c, n[i], path + "[" + std::to_string(i) + "]"));
    return out;
}

std::string resolve_path(const Ctx & c, const std::string & p) {
    if (p.empty() || fs::path(p).is_absolute() || c.base_dir.empty()) return p;
    return (fs::path(c.base_dir) / p).lexically_normal().string();
}

std::string get_file(const Ctx & c, const YAML::Node & n, const std::string & path) {
    const std::string raw = get_string(c, n, path);
    if (raw.empty()) fail(c, n, path, "must not be empty");
    const std::string p = resolve_path(c, raw);
    std::error_code ec;
    if (!fs::is_regular_file(p, ec))
        fail(c, n, path, "file '" + p + "' not found" + (fs::path(raw).is_absolute() ? "" : " (relative paths are read from the config file's folder)"));
    return p;
}

// A YAML value as JSON: plain scalars become null/bool/int/float when they read as one; quoted scalars stay
// strings (tool schemas are often written in YAML). ${ENV} is not expanded inside schemas.
ojson yaml_to_json(const Ctx & c, const YAML::Node & n, const std::string & path) {
    switch (n.Type()) {
        case YAML::NodeType::Null:
        case YAML::NodeType::Undefined: return nullptr;
        case YAML::NodeType::Sequence: {
            ojson a = ojson::array();
            for (size_t i = 0; i < n.size(); ++i) a.push_back(yaml_to_json(c, n[i], path + "[" + std::to_string(i) + "]"));
            return a;
        }
        case YAML::NodeType::Map: {
            ojson o = ojson::object();
            for (const auto & kv : n) o[kv.first.as<std::string>()] = yaml_to_json(c, kv.second, join(path, kv.first.as<std::string>()));
            return o;
        }
        case YAML::NodeType::Scalar: break;
    }
    const std::string & s = n.Scalar();
    if (n.Tag() == "!") return s;  // quoted
    if (s == "null" || s == "~" || s == "Null" || s == "NULL") return nullptr;
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
    auto j = ojson::parse(s, nullptr, false);
    if (!j.is_discarded() && j.is_number()) return j;
    return s;
}

bool valid_tool_name(const std::string & s) {
    if (s.empty() || s.size() > 64) return false;
    for (char ch : s)
        if (!(std::isalnum((unsigned char)ch) || ch == '_' || ch == '-')) return false;
    return true;
}

// ---- sections ----

ModelConfig parse_model(const Ctx & c, const std::string & name, const YAML::Node & n) {
    const std::string path = "models." + name;
    check_map(c, n, path);
    check_keys(c, n, path,
               {"kind", "path", "adapters", "n_slots", "n_ctx", "n_batch", "n_threads", "max_tokens", "grounded_replies", "base_url", "model",
                "api_key_env", "timeout_ms", "retries", "breaker_failures", "breaker_cooldown_ms"});
    ModelConfig m;
    m.name = name;
    const bool has_path = (bool)n["path"], has_url = (bool)n["base_url"];
    if (n["kind"]) {
        const std::string k = get_string(c, n["kind"], path + ".kind");
        if (k == "local") m.kind = ModelConfig::Kind::Kind_local;
        else if (k == "remote") m.kind = ModelConfig::Kind::Kind_remote;
        else fail(c, n["kind"], path + ".kind", "must be local or remote");
    } else if (has_path == has_url) {
        fail(c, n, path, "give either path (a local GGUF model) or base_url (a remote OpenAI-compatible endpoint)");
    } else {
        m.kind = has_path ? ModelConfig::Kind::Kind_local : ModelConfig::Kind::Kind_remote;
    }
    const bool local = m.kind == ModelConfig::Kind::Kind_local;
    static const std::set<std::string> local_keys = {"path",      "adapters", "n_slots",    "n_ctx",
                                                     "n_batch",   "n_threads", "max_tokens", "grounded_replies"};
    static const std::set<std::string> remote_keys = {"base_url", "model", "api_key_env", "timeout_ms", "retries",
                                                      "breaker_failures", "breaker_cooldown_ms"};
    for (const auto & kv : n) {
        const std::string k = kv.first.as<std::string>();
        if (local && remote_keys.count(k)) fail(c, kv.first, join(path, k), "is for remote models; this one is local (it has path)");
        if (!local && local_keys.count(k)) fail(c, kv.first, join(path, k), "is for local models; this one is remote (it has base_url)");
    }
    if (local) {
        if (!n["path"]) fail(c, n, path, "a local model needs path: FILE.gguf");
        m.path = get_file(c, n["path"], path + ".path");
        if (const auto & a = n["adapters"]; a && !a.IsNull()) {
            check_map(c, a, path + ".adapters");
            for (const auto & kv : a) {
                const std::string an = kv.first.as<std::string>();
                if (an.empty() || an.find(':') != std::string::npos)
                    fail(c, kv.first, path + ".adapters." + an, "adapter names must be non-empty and contain no ':'");
                m.adapters[an] = get_file(c, kv.second, path + ".adapters." + an);
            }
        }
        if (n["n_slots"]) m.n_slots = (int32_t)get_int(c, n["n_slots"], path + ".n_slots", 1, 256);
        if (n["n_ctx"]) m.n_ctx = (int32_t)get_int(c, n["n_ctx"], path + ".n_ctx", 16, 1 << 20);
        if (n["n_batch"]) m.n_batch = (int32_t)get_int(c, n["n_batch"], path + ".n_batch", 1, 1 << 16);
        if (n["n_threads"]) m.n_threads = (int32_t)get_int(c, n["n_threads"], path + ".n_threads", 1, 1024);
        if (n["max_tokens"]) m.max_tokens = (int32_t)get_int(c, n["max_tokens"], path + ".max_tokens", 1, 1 << 20);
        if (n["grounded_replies"]) m.grounded_replies = get_bool(c, n["grounded_replies"], path + ".grounded_replies");
    } else {
        if (!n["base_url"]) fail(c, n, path, "a remote model needs base_url: https://HOST/v1");
        m.base_url = get_string(c, n["base_url"], path + ".base_url");
        if (!providers::parse_http_url(m.base_url))
            fail(c, n["base_url"], path + ".base_url", "'" + m.base_url + "' is not an http:// or https:// URL (e.g. https://api.openai.com/v1)");
        if (!n["model"]) fail(c, n, path, "a remote model needs model: the name the endpoint knows it by (e.g. gpt-4o)");
        m.remote_model = get_string(c, n["model"], path + ".model");
        if (m.remote_model.empty()) fail(c, n["model"], path + ".model", "must not be empty");
        if (n["api_key_env"]) {
            m.api_key_env = get_string(c, n["api_key_env"], path + ".api_key_env");
            if (!valid_env_name(m.api_key_env))
                fail(c, n["api_key_env"], path + ".api_key_env", "'" + m.api_key_env + "' is not an environment variable name");
            const char * v = std::getenv(m.api_key_env.c_str());
            if (!v || !*v)
                fail(c, n["api_key_env"], path + ".api_key_env",
                     "environment variable " + m.api_key_env + " is not set; export it or remove api_key_env");
            m.api_key = v;
        }
        if (n["timeout_ms"]) m.timeout = get_ms(c, n["timeout_ms"], path + ".timeout_ms");
        if (n["retries"]) m.retries = (int32_t)get_int(c, n["retries"], path + ".retries", 0, 10);
        if (n["breaker_failures"]) m.breaker_failures = (int32_t)get_int(c, n["breaker_failures"], path + ".breaker_failures", 1, 1000);
        if (n["breaker_cooldown_ms"]) m.breaker_cooldown = get_ms(c, n["breaker_cooldown_ms"], path + ".breaker_cooldown_ms");
    }
    return m;
}

ExecutorConfig parse_executor(const Ctx & c, const YAML::Node & n, const std::string & path, const ojson & parameters,
                              const std::vector<std::string> & allowed_hosts) {
    check_map(c, n, path);
    check_keys(c, n, path, {"method", "url", "timeout_ms", "max_response_bytes", "headers"});
    ExecutorConfig e;
    if (n["method"]) {
        e.method = get_string(c, n["method"], path + ".method");
        for (auto & ch : e.method) ch = (char)std::toupper((unsigned char)ch);
        static const std::set<std::string> methods = {"GET", "POST", "PUT", "PATCH", "DELETE"};
        if (!methods.count(e.method)) fail(c, n["method"], path + ".method", "must be GET, POST, PUT, PATCH or DELETE");
    }
    if (!n["url"]) fail(c, n, path, "an executor needs url: http://HOST/PATH/{argument}");
    e.url = get_string(c, n["url"], path + ".url");
    // Placeholders must name parameters; the host part must be fixed and allow-listed.
    const ojson props = parameters.contains("properties") && parameters["properties"].is_object() ? parameters["properties"] : ojson::object();
    for (size_t i = e.url.find('{'); i != std::string::npos; i = e.url.find('{', i + 1)) {
        const size_t close = e.url.find('}', i);
        if (close == std::string::npos) fail(c, n["url"], path + ".url", "unterminated {placeholder}");
        const std::string arg = e.url.substr(i + 1, close - i - 1);
        if (!props.contains(arg))
            fail(c, n["url"], path + ".url", "placeholder {" + arg + "} is not a property of the tool's parameters");
    }
    const auto u = providers::parse_http_url(e.url);
    if (!u) fail(c, n["url"], path + ".url", "'" + e.url + "' is not an http:// or https:// URL");
    if (u->host.find('{') != std::string::npos) fail(c, n["url"], path + ".url", "the host must be fixed (no {placeholder} in it)");
    if (!host_allowed(*u, allowed_hosts))
        fail(c, n["url"], path + ".url",
             "host '" + u->host + ":" + std::to_string(u->port) + "' is not in server.allowed_tool_hosts; add \"" + u->host +
                 "\" (any port) or \"" + u->host + ":" + std::to_string(u->port) + "\" there");
    if (n["timeout_ms"]) e.timeout = get_ms(c, n["timeout_ms"], path + ".timeout_ms");
    if (n["max_response_bytes"]) e.max_response_bytes = (size_t)get_int(c, n["max_response_bytes"], path + ".max_response_bytes", 1, 64ll << 20);
    if (const auto & h = n["headers"]; h && !h.IsNull()) {
        check_map(c, h, path + ".headers");
        for (const auto & kv : h) {
            const std::string k = kv.first.as<std::string>();
            e.headers[k] = get_string(c, kv.second, path + ".headers." + k);
        }
    }
    return e;
}

ToolConfig tool_from_openai(const Ctx & c, const ojson & t, const std::string & where) {
    auto bad = [&](const std::string & msg) { fail(c, YAML::Node(), where, msg); };
    if (!t.is_object()) bad("each tool must be an object {\"type\": \"function\", \"function\": {...}}");
    const ojson & f = t.contains("function") ? t["function"] : t;
    if (!f.is_object() || !f.contains("name") || !f["name"].is_string()) bad("function.name is missing");
    ToolConfig tc;
    tc.name = f["name"].get<std::string>();
    if (f.contains("description") && f["description"].is_string()) tc.description = f["description"].get<std::string>();
    if (f.contains("parameters")) tc.parameters = f["parameters"];
    return tc;
}

void validate_tool(const Ctx & c, const YAML::Node & n, const std::string & path, ToolConfig & t) {
    if (!valid_tool_name(t.name)) fail(c, n, path + ".name", "'" + t.name + "' is not a valid tool name (1-64 of a-z A-Z 0-9 _ -)");
    if (t.parameters.is_null()) t.parameters = ojson{{"type", "object"}, {"properties", ojson::object()}};
    if (!t.parameters.is_object()) fail(c, n, path + ".parameters", "must be a JSON Schema object");
    if (t.parameters.contains("type") && t.parameters["type"] != "object")
        fail(c, n, path + ".parameters.type", "tool parameters must be of type object");
    if (t.parameters.contains("properties") && !t.parameters["properties"].is_object())
        fail(c, n, path + ".parameters.properties", "must be an object mapping argument names to schemas");
}

}  // namespace

const ModelConfig * GatewayConfig::find_model(const std::string & name) const {
    for (const auto & m : models)
        if (m.name == name) return &m;
    // "model:adapter" names the model.
    const size_t colon = name.rfind(':');
    if (colon != std::string::npos) {
        const std::string base = name.substr(0, colon), adapter = name.substr(colon + 1);
        for (const auto & m : models)
            if (m.name == base && m.adapters.count(adapter)) return &m;
    }
    return nullptr;
}

ojson GatewayConfig::tools_json() const {
    ojson a = ojson::array();
    for (const auto & t : tools) {
        ojson f = ojson::object();
        f["name"] = t.name;
        if (!t.description.empty()) f["description"] = t.description;
        f["parameters"] = t.parameters;
        a.push_back({{"type", "function"}, {"function", std::move(f)}});
    }
    return a;
}

static GatewayConfig parse_config_impl(const std::string & text, const Ctx & c) {
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception & e) {
        std::string where = c.file.empty() ? "" : c.file + ":";
        throw Error(ErrorKind::ErrorKind_invalid_argument,
                    where + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
    }
    if (!root.IsMap()) fail(c, root, "(top level)", "the config must be a mapping with models:, roles:, ...");
    check_keys(c, root, "", {"models", "roles", "tools", "tools_file", "router", "server", "traces", "prices", "dashboard"});
    GatewayConfig g;

    // server first: executors are checked against its allow-list.
    if (const auto & s = root["server"]; s && !s.IsNull()) {
        check_map(c, s, "server");
        check_keys(c, s, "server",
                   {"host", "port", "api_key_envs", "admin_key_envs", "max_body_bytes", "max_tokens", "request_timeout_ms",
                    "n_http_threads", "allowed_tool_hosts"});
        ServerConfig & sc = g.server;
        if (s["host"]) sc.host = get_string(c, s["host"], "server.host");
        if (s["port"]) sc.port = (int)get_int(c, s["port"], "server.port", 0, 65535);
        auto keys = [&](const char * key, std::vector<std::string> & envs, std::vector<std::string> & out) {
            if (!s[key]) return;
            envs = get_string_list(c, s[key], std::string("server.") + key);
            for (size_t i = 0; i < envs.size(); ++i) {
                const std::string p = std::string("server.") + key + "[" + std::to_string(i) + "]";
                if (!valid_env_name(envs[i])) fail(c, s[key][i], p, "'" + envs[i] + "' is not an environment variable name");
                const char * v = std::getenv(envs[i].c_str());
                if (!v || !*v) fail(c, s[key][i], p, "environment variable " + envs[i] + " is not set; export it or remove it from the list");
                out.push_back(v);
            }
        };
        keys("api_key_envs", sc.api_key_envs, sc.api_keys);
        keys("admin_key_envs", sc.admin_key_envs, sc.admin_keys);
        if (s["max_body_bytes"]) sc.max_body_bytes = (size_t)get_int(c, s["max_body_bytes"], "server.max_body_bytes", 1024, 1ll << 30);
        if (s["max_tokens"]) sc.max_tokens = (int32_t)get_int(c, s["max_tokens"], "server.max_tokens", 1, 1 << 20);
        if (s["request_timeout_ms"]) sc.request_timeout = get_ms(c, s["request_timeout_ms"], "server.request_timeout_ms");
        if (s["n_http_threads"]) sc.n_http_threads = (int32_t)get_int(c, s["n_http_threads"], "server.n_http_threads", 1, 4096);
        if (s["allowed_tool_hosts"]) {
            sc.allowed_tool_hosts = get_string_list(c, s["allowed_tool_hosts"], "server.allowed_tool_hosts");
            for (auto & h : sc.allowed_tool_hosts)
                for (auto & ch : h) ch = (char)std::tolower((unsigned char)ch);
        }
    }

    // models
    const auto & models = root["models"];
    if (!models || models.IsNull() || (models.IsMap() && models.size() == 0))
        fail(c, root, "models", "at least one model is needed (a local GGUF under path: or a remote endpoint under base_url:)");
    check_map(c, models, "models");
    for (const auto & kv : models) {
        const std::string name = kv.first.as<std::string>();
        if (name.empty() || name == "router" || name == "responder" || name == "summarizer" || name == "fallback")
            fail(c, kv.first, "models." + name, "model names must be non-empty and not a role name (router, responder, summarizer, fallback)");
        g.models.push_back(parse_model(c, name, kv.second));
    }

    // roles
    if (const auto & r = root["roles"]; r && !r.IsNull()) {
        check_map(c, r, "roles");
        check_keys(c, r, "roles", {"router", "responder", "summarizer", "fallback"});
        auto role = [&](const char * key, std::string & out) {
            if (!r[key] || r[key].IsNull()) return;
            out = get_string(c, r[key], std::string("roles.") + key);
            if (!g.find_model(out)) {
                std::string names;
                for (const auto & m : g.models) names += (names.empty() ? "" : ", ") + m.name;
                fail(c, r[key], std::string("roles.") + key,
                     "'" + out + "' is not a model under models: (or model:adapter); known: " + names);
            }
        };
        role("router", g.roles.router);
        role("responder", g.roles.responder);
        role("summarizer", g.roles.summarizer);
        role("fallback", g.roles.fallback);
    } else if (g.models.size() == 1 && g.models[0].kind == ModelConfig::Kind::Kind_local) {
        g.roles.router = g.roles.responder = g.roles.summarizer = g.models[0].name;
    }
    if (g.roles.router.empty() && g.roles.responder.empty() && g.roles.fallback.empty())
        fail(c, root, "roles", "name at least one of router, responder or fallback");

    // tools: tools_file first, then the list (which may add tools or attach executors to tools of the file)
    if (const auto & tf = root["tools_file"]; tf && !tf.IsNull()) {
        const std::string p = get_file(c, tf, "tools_file");
        std::ifstream in(p);
        std::stringstream ss;
        ss << in.rdbuf();
        auto j = ojson::parse(ss.str(), nullptr, false);
        if (j.is_object() && j.contains("tools")) j = j["tools"];
        if (j.is_discarded() || !j.is_array()) fail(c, tf, "tools_file", "'" + p + "' is not a JSON array of OpenAI tools");
        for (size_t i = 0; i < j.size(); ++i) {
            ToolConfig t = tool_from_openai(c, j[i], "tools_file[" + std::to_string(i) + "]");
            validate_tool(c, tf, "tools_file[" + std::to_string(i) + "]", t);
            g.tools.push_back(std::move(t));
        }
    }
    if (const auto & tl = root["tools"]; tl && !tl.IsNull()) {
        if (!tl.IsSequence()) fail(c, tl, "tools", "must be a list of tools (- name: ...)");
        for (size_t i = 0; i < tl.size(); ++i) {
            const std::string path = "tools[" + std::to_string(i) + "]";
            const YAML::Node & n = tl[i];
            check_map(c, n, path);
            check_keys(c, n, path, {"name", "description", "parameters", "executor"});
            if (!n["name"]) fail(c, n, path, "a tool needs name:");
            const std::string name = get_string(c, n["name"], path + ".name");
            ToolConfig * existing = nullptr;
            for (auto & t : g.tools)
                if (t.name == name) existing = &t;
            if (existing && (n["description"] || n["parameters"]))
                fail(c, n, path, "tool '" + name + "' is already defined (in tools_file or earlier); only executor: may be added to it");
            ToolConfig fresh;
            ToolConfig & t = existing ? *existing : fresh;
            if (!existing) {
                t.name = name;
                if (n["description"]) t.description = get_string(c, n["description"], path + ".description");
                if (n["parameters"]) t.parameters = yaml_to_json(c, n["parameters"], path + ".parameters");
                validate_tool(c, n, path, t);
            }
            if (n["executor"] && !n["executor"].IsNull())
                t.executor = parse_executor(c, n["executor"], path + ".executor", t.parameters, g.server.allowed_tool_hosts);
            if (!existing) g.tools.push_back(std::move(fresh));
        }
    }

    // router
    if (const auto & r = root["router"]; r && !r.IsNull()) {
        check_map(c, r, "router");
        check_keys(c, r, "router", {"confidence_threshold", "shadow_sample_rate", "max_agent_steps", "execute_tools", "check_tools_fingerprint"});
        RouterConfig & rc = g.router;
        if (r["confidence_threshold"]) rc.confidence_threshold = get_double(c, r["confidence_threshold"], "router.confidence_threshold", 0.0, 1.0);
        if (r["shadow_sample_rate"]) rc.shadow_sample_rate = get_double(c, r["shadow_sample_rate"], "router.shadow_sample_rate", 0.0, 1.0);
        if (r["max_agent_steps"]) rc.max_agent_steps = (int32_t)get_int(c, r["max_agent_steps"], "router.max_agent_steps", 1, 100);
        if (r["execute_tools"]) rc.execute_tools = get_bool(c, r["execute_tools"], "router.execute_tools");
        if (r["check_tools_fingerprint"]) rc.check_tools_fingerprint = get_bool(c, r["check_tools_fingerprint"], "router.check_tools_fingerprint");
        if (rc.shadow_sample_rate > 0 && g.roles.fallback.empty())
            fail(c, r["shadow_sample_rate"], "router.shadow_sample_rate", "shadow runs go to the fallback role; set roles.fallback or use 0");
    }

    // traces
    if (const auto & t = root["traces"]; t && !t.IsNull()) {
        check_map(c, t, "traces");
        check_keys(c, t, "traces", {"url", "queue_capacity"});
        if (t["url"]) {
            std::string u = get_string(c, t["url"], "traces.url");
            if (u.rfind("postgresql://", 0) == 0 || u.rfind("postgres://", 0) == 0) {
                // libpq URL as is
            } else if (u.rfind("sqlite:", 0) == 0) {
                u = "sqlite:" + resolve_path(c, u.substr(7));
            } else {
                u = resolve_path(c, u);
            }
            g.traces.url = u;
        }
        if (t["queue_capacity"]) g.traces.queue_capacity = (size_t)get_int(c, t["queue_capacity"], "traces.queue_capacity", 1, 10'000'000);
    }

    // prices
    if (const auto & p = root["prices"]; p && !p.IsNull()) {
        check_map(c, p, "prices");
        check_keys(c, p, "prices", {"file", "cloud_model"});
        if (p["file"]) g.prices.file = get_file(c, p["file"], "prices.file");
        if (p["cloud_model"]) g.prices.cloud_model = get_string(c, p["cloud_model"], "prices.cloud_model");
    }

    // dashboard (the report path may not exist yet: an evaluation run can write it later)
    if (const auto & d = root["dashboard"]; d && !d.IsNull()) {
        check_map(c, d, "dashboard");
        check_keys(c, d, "dashboard", {"enabled", "eval_report"});
        if (d["enabled"]) g.dashboard.enabled = get_bool(c, d["enabled"], "dashboard.enabled");
        if (d["eval_report"]) g.dashboard.eval_report = resolve_path(c, get_string(c, d["eval_report"], "dashboard.eval_report"));
    }
    return g;
}

GatewayConfig parse_config(const std::string & yaml_text, const std::string & base_dir) {
    return parse_config_impl(yaml_text, Ctx{base_dir, ""});
}

GatewayConfig load_config(const std::string & yaml_path) {
    std::ifstream in(yaml_path);
    if (!in) throw Error(ErrorKind::ErrorKind_io, "cannot read config '" + yaml_path + "' (see examples/switchyard.yaml for the format)");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string dir = fs::path(yaml_path).parent_path().string();
    if (dir.empty()) dir = ".";
    return parse_config_impl(ss.str(), Ctx{dir, fs::path(yaml_path).filename().string()});
}

GatewayConfig default_config(const std::string & model_path) {
    std::error_code ec;
    if (!fs::is_regular_file(model_path, ec))
        throw Error(ErrorKind::ErrorKind_io, "model file '" + model_path + "' not found");
    GatewayConfig g;
    ModelConfig m;
    m.name = fs::path(model_path).stem().string();
    if (m.name.empty() || m.name == "router" || m.name == "responder" || m.name == "summarizer" || m.name == "fallback") m.name = "local";
    m.kind = ModelConfig::Kind::Kind_local;
    m.path = model_path;
    g.models.push_back(m);
    g.roles.router = g.roles.responder = g.roles.summarizer = m.name;
    return g;
}

}  // namespace sy::agent
