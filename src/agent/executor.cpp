// ToolExecutor: HTTP calls for server-side tools. See executor.h.
#include "agent/executor.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>

#include "common/error.h"

namespace sy::agent {

namespace {

using Clock = std::chrono::steady_clock;

std::string arg_text(const ojson & v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

std::string error_content(const std::string & msg) { return ojson{{"error", msg}}.dump(); }

}  // namespace

std::string url_encode(std::string_view s) {
    static const char * hex = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size() * 3);
    for (unsigned char c : s) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
            out += (char)c;
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string expand_url_template(const std::string & tmpl, const ojson & arguments, std::vector<std::string> * used) {
    std::string out;
    for (size_t i = 0; i < tmpl.size();) {
        if (tmpl[i] != '{') {
            out += tmpl[i++];
            continue;
        }
        const size_t close = tmpl.find('}', i);
        if (close == std::string::npos) throw Error(ErrorKind::ErrorKind_invalid_argument, "unterminated {placeholder} in the executor URL");
        const std::string name = tmpl.substr(i + 1, close - i - 1);
        if (!arguments.is_object() || !arguments.contains(name) || arguments[name].is_null())
            throw Error(ErrorKind::ErrorKind_invalid_argument, "argument '" + name + "' is required by the tool's URL but was not given");
        out += url_encode(arg_text(arguments[name]));
        if (used) used->push_back(name);
        i = close + 1;
    }
    return out;
}

bool host_allowed(const providers::HttpUrl & url, const std::vector<std::string> & allowed_hosts) {
    const std::string with_port = url.host + ":" + std::to_string(url.port);
    const std::string with_port_v6 = "[" + url.host + "]:" + std::to_string(url.port);
    for (std::string h : allowed_hosts) {
        for (auto & c : h) c = (char)std::tolower((unsigned char)c);
        if (h == url.host || h == with_port || h == with_port_v6 || h == "[" + url.host + "]") return true;
    }
    return false;
}

ToolRunResult ToolExecutor::run(const ToolConfig & tool, const ojson & arguments) const {
    ToolRunResult r;
    const auto t0 = Clock::now();
    auto fail = [&](const std::string & msg) {
        r.ok = false;
        r.error = msg;
        r.content = error_content(msg);
        r.ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        return r;
    };
    if (!tool.executor) return fail("tool '" + tool.name + "' has no server-side executor");
    const ExecutorConfig & ex = *tool.executor;
    if (!arguments.is_object()) return fail("the arguments of '" + tool.name + "' are not a JSON object");

    std::string url;
    std::vector<std::string> used;
    try {
        url = expand_url_template(ex.url, arguments, &used);
    } catch (const Error & e) {
        return fail(e.what());
    }
    const auto u = providers::parse_http_url(url);
    if (!u) return fail("the tool URL '" + url + "' is not an http:// or https:// URL");
    if (!host_allowed(*u, allowed_hosts_))
        return fail("host '" + u->host + ":" + std::to_string(u->port) + "' is not in server.allowed_tool_hosts");

    const bool has_body = ex.method == "POST" || ex.method == "PUT" || ex.method == "PATCH";
    std::string target = u->target;
    if (!has_body) {
        std::string query;
        for (const auto & [k, v] : arguments.items()) {
            if (std::find(used.begin(), used.end(), k) != used.end() || v.is_null()) continue;
            query += (query.empty() ? "" : "&") + url_encode(k) + "=" + url_encode(arg_text(v));
        }
        if (!query.empty()) target += (target.find('?') == std::string::npos ? "?" : "&") + query;
    }

    httplib::Client client(u->origin());
    client.set_follow_location(false);
    client.set_keep_alive(false);
    client.set_connection_timeout(ex.timeout);
    client.set_read_timeout(ex.timeout);
    client.set_write_timeout(ex.timeout);

    httplib::Request req;
    req.method = ex.method;
    req.path = target;
    for (const auto & [k, v] : ex.headers) req.headers.emplace(k, v);
    req.headers.emplace("Accept", "application/json, text/plain;q=0.9, */*;q=0.5");
    if (has_body) {
        req.body = arguments.dump();
        req.headers.emplace("Content-Type", "application/json");
    }
    const auto deadline = t0 + ex.timeout;
    std::string body;
    bool too_big = false, timed_out = false;
    int status = 0;
    req.response_handler = [&](const httplib::Response & res) {
        status = res.status;
        return true;
    };
    req.content_receiver = [&](const char * p, size_t n, uint64_t, uint64_t) {
        if (Clock::now() > deadline) {
            timed_out = true;
            return false;
        }
        if (body.size() + n > ex.max_response_bytes) {
            too_big = true;
            return false;
        }
        body.append(p, n);
        return true;
    };
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    const bool ok = client.send(req, res, err);
    if (status == 0 && res.status > 0) status = res.status;
    if (body.empty() && !res.body.empty()) body = res.body.substr(0, ex.max_response_bytes);
    r.status = status;
    if (too_big) return fail("the answer of '" + tool.name + "' exceeds max_response_bytes (" + std::to_string(ex.max_response_bytes) + ")");
    if (!ok) {
        if (timed_out || err == httplib::Error::ConnectionTimeout || (err == httplib::Error::Read && Clock::now() >= deadline - std::chrono::milliseconds(5)))
            return fail("'" + tool.name + "' timed out after " + std::to_string(ex.timeout.count()) + " ms");
        return fail("'" + tool.name + "' could not be reached (" + httplib::to_string(err) + ")");
    }
    if (status < 200 || status >= 300) {
        std::string excerpt = body.substr(0, 300);
        return fail("'" + tool.name + "' answered HTTP " + std::to_string(status) + (excerpt.empty() ? "" : ": " + excerpt));
    }
    r.ok = true;
    r.content = std::move(body);
    r.ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    return r;
}

}  // namespace sy::agent
