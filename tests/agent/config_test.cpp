// Config loading: a complete file (every section, relative paths, ${ENV}, tools_file + executor), the
// shipped examples/switchyard.yaml, defaults, and one test per kind of error, each checking that the
// message names the key path (and line) a user has to fix.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "agent/config.h"
#include "common/error.h"
#include "engine/test_dir.h"

namespace fs = std::filesystem;
using namespace sy;
using namespace sy::agent;

namespace {

// A folder with empty stand-ins for the files a config points at (existence is all the loader checks).
const fs::path & cfg_dir() {
    static const fs::path d = [] {
        fs::path p = sy::test::scratch_dir() / "config";
        fs::create_directories(p / "models");
        for (const char * f : {"models/router.gguf", "models/router-tools.gguf", "models/responder.gguf", "prices.json"})
            std::ofstream(p / f) << "x";
        fs::copy_file(fs::path(SY_SOURCE_DIR) / "examples/task-agent/tools.json", p / "tools.json", fs::copy_options::overwrite_existing);
        return p;
    }();
    return d;
}

std::string write_cfg(const std::string & name, const std::string & text) {
    const fs::path p = cfg_dir() / name;
    std::ofstream(p) << text;
    return p.string();
}

// Expects load to fail with a message containing every needle.
void expect_error(const std::string & yaml, std::initializer_list<const char *> needles) {
    const std::string path = write_cfg("bad.yaml", yaml);
    try {
        load_config(path);
        ADD_FAILURE() << "no error for:\n" << yaml;
    } catch (const Error & e) {
        const std::string msg = e.what();
        for (const char * n : needles) EXPECT_NE(msg.find(n), std::string::npos) << "'" << n << "' not in: " << msg;
    }
}

const char * kGood = R"(
models:
  router-small:
    path: models/router.gguf
    adapters:
      tools-v1: models/router-tools.gguf
    n_slots: 8
    n_ctx: 1024
  chat-responder:
    kind: local
    path: models/responder.gguf
    max_tokens: 256
    grounded_replies: true
  cloud:
    base_url: ${SY_TEST_BASE:-https://api.openai.com/v1}
    model: gpt-4o
    api_key_env: SY_TEST_KEY
    timeout_ms: 15000
    retries: 3
    breaker_failures: 4
    breaker_cooldown_ms: 5000
roles:
  router: router-small:tools-v1
  responder: chat-responder
  fallback: cloud
tools_file: tools.json
tools:
  - name: create_task
    executor:
      method: post
      url: http://127.0.0.1:9000/tasks
      timeout_ms: 2000
      max_response_bytes: 4096
      headers: {Authorization: "Bearer ${SY_TEST_KEY}"}
  - name: get_weather
    description: Current weather for a city.
    parameters:
      type: object
      properties:
        city: {type: string}
        days: {type: integer, minimum: 1}
        metric: {type: boolean, default: true}
        code: {type: string, enum: ["01", "02"]}
      required: [city]
    executor:
      method: GET
      url: https://weather.example.com/v1/{city}
router:
  confidence_threshold: 0.9
  shadow_sample_rate: 0.25
  max_agent_steps: 3
  execute_tools: true
  check_tools_fingerprint: false
server:
  host: 0.0.0.0
  port: 9090
  api_key_envs: [SY_TEST_KEY]
  max_body_bytes: 1048576
  max_tokens: 512
  request_timeout_ms: 60000
  n_http_threads: 8
  allowed_tool_hosts: [127.0.0.1, Weather.Example.com:443]
traces:
  url: traces.db
  queue_capacity: 500
prices:
  file: prices.json
  cloud_model: gpt-4o-mini
)";

struct EnvGuard {
    EnvGuard() { ::setenv("SY_TEST_KEY", "sk-secret", 1); }
    ~EnvGuard() { ::unsetenv("SY_TEST_KEY"); }
};

}  // namespace

TEST(Config, LoadsEverySection) {
    EnvGuard env;
    const GatewayConfig g = load_config(write_cfg("good.yaml", kGood));
    ASSERT_EQ(g.models.size(), 3u);
    const ModelConfig * r = g.find_model("router-small");
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->kind, ModelConfig::Kind::Kind_local);
    EXPECT_EQ(r->path, (cfg_dir() / "models/router.gguf").lexically_normal().string());  // relative to the file
    EXPECT_EQ(r->adapters.at("tools-v1"), (cfg_dir() / "models/router-tools.gguf").lexically_normal().string());
    EXPECT_EQ(r->n_slots, 8);
    EXPECT_EQ(r->n_ctx, 1024);
    EXPECT_EQ(r->n_batch, 512);  // default
    EXPECT_EQ(g.find_model("router-small:tools-v1"), r);
    EXPECT_EQ(g.find_model("router-small:nope"), nullptr);
    EXPECT_EQ(g.find_model("chat-responder")->max_tokens, 256);
    EXPECT_TRUE(g.find_model("chat-responder")->grounded_replies);
    EXPECT_FALSE(r->grounded_replies);  // default

    const ModelConfig * c = g.find_model("cloud");
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->kind, ModelConfig::Kind::Kind_remote);
    EXPECT_EQ(c->base_url, "https://api.openai.com/v1");  // ${VAR:-default}
    EXPECT_EQ(c->remote_model, "gpt-4o");
    EXPECT_EQ(c->api_key, "sk-secret");
    EXPECT_EQ(c->timeout.count(), 15000);
    EXPECT_EQ(c->retries, 3);
    EXPECT_EQ(c->breaker_failures, 4);
    EXPECT_EQ(c->breaker_cooldown.count(), 5000);

    EXPECT_EQ(g.roles.router, "router-small:tools-v1");
    EXPECT_EQ(g.roles.responder, "chat-responder");
    EXPECT_EQ(g.roles.fallback, "cloud");
    EXPECT_EQ(g.roles.summarizer, "");

    ASSERT_EQ(g.tools.size(), 7u);  // six from tools.json + get_weather
    EXPECT_EQ(g.tools[0].name, "create_task");
    ASSERT_TRUE(g.tools[0].executor);
    EXPECT_EQ(g.tools[0].executor->method, "POST");
    EXPECT_EQ(g.tools[0].executor->timeout.count(), 2000);
    EXPECT_EQ(g.tools[0].executor->max_response_bytes, 4096u);
    EXPECT_EQ(g.tools[0].executor->headers.at("Authorization"), "Bearer sk-secret");
    EXPECT_FALSE(g.tools[1].executor);
    const ToolConfig & w = g.tools[6];
    EXPECT_EQ(w.name, "get_weather");
    EXPECT_EQ(w.parameters["properties"]["days"]["minimum"], 1);              // YAML int -> JSON number
    EXPECT_EQ(w.parameters["properties"]["metric"]["default"], true);         // YAML bool -> JSON bool
    EXPECT_EQ(w.parameters["properties"]["code"]["enum"][0], "01");           // quoted stays a string
    EXPECT_EQ(w.parameters["required"], (ojson::array({"city"})));
    EXPECT_EQ(w.executor->method, "GET");

    const ojson tj = g.tools_json();
    ASSERT_EQ(tj.size(), 7u);
    EXPECT_EQ(tj[6]["type"], "function");
    EXPECT_EQ(tj[6]["function"]["name"], "get_weather");
    EXPECT_EQ(tj[6]["function"]["description"], "Current weather for a city.");

    EXPECT_DOUBLE_EQ(g.router.confidence_threshold, 0.9);
    EXPECT_DOUBLE_EQ(g.router.shadow_sample_rate, 0.25);
    EXPECT_EQ(g.router.max_agent_steps, 3);
    EXPECT_TRUE(g.router.execute_tools);
    EXPECT_FALSE(g.router.check_tools_fingerprint);

    EXPECT_EQ(g.server.host, "0.0.0.0");
    EXPECT_EQ(g.server.port, 9090);
    EXPECT_EQ(g.server.api_keys, (std::vector<std::string>{"sk-secret"}));
    EXPECT_EQ(g.server.max_body_bytes, 1048576u);
    EXPECT_EQ(g.server.max_tokens, 512);
    EXPECT_EQ(g.server.request_timeout.count(), 60000);
    EXPECT_EQ(g.server.n_http_threads, 8);
    EXPECT_EQ(g.server.allowed_tool_hosts, (std::vector<std::string>{"127.0.0.1", "weather.example.com:443"}));

    EXPECT_EQ(g.traces.url, (cfg_dir() / "traces.db").lexically_normal().string());
    EXPECT_EQ(g.traces.queue_capacity, 500u);
    EXPECT_EQ(g.prices.file, (cfg_dir() / "prices.json").lexically_normal().string());
    EXPECT_EQ(g.prices.cloud_model, "gpt-4o-mini");
}

TEST(Config, ShippedExampleLoads) {
    // examples/switchyard.yaml names files relative to itself and reads OPENAI_API_KEY / TASKS_API_TOKEN.
    ::setenv("OPENAI_API_KEY", "sk-example", 1);
    const std::string text = [] {
        std::ifstream in(fs::path(SY_SOURCE_DIR) / "examples/switchyard.yaml");
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }();
    ASSERT_FALSE(text.empty());
    // Stand-ins for the model files the example names, in a copy of the examples folder.
    const fs::path d = sy::test::scratch_dir() / "example";
    fs::create_directories(d / "task-agent");
    fs::copy_file(fs::path(SY_SOURCE_DIR) / "examples/task-agent/tools.json", d / "task-agent/tools.json", fs::copy_options::overwrite_existing);
    fs::copy_file(fs::path(SY_SOURCE_DIR) / "examples/prices.json", d / "prices.json", fs::copy_options::overwrite_existing);
    GatewayConfig g;
    for (int round = 0; round < 8; ++round) {  // create each model/adapter file the loader asks for
        try {
            g = parse_config(text, d.string());
            break;
        } catch (const Error & e) {
            const std::string msg = e.what();
            const size_t a = msg.find("file '"), b = msg.find("' not found");
            ASSERT_TRUE(a != std::string::npos && b != std::string::npos) << msg;
            const fs::path missing = msg.substr(a + 6, b - a - 6);
            fs::create_directories(missing.parent_path());
            std::ofstream(missing) << "x";
        }
    }
    ::unsetenv("OPENAI_API_KEY");
    EXPECT_FALSE(g.models.empty());
    EXPECT_FALSE(g.roles.router.empty());
    EXPECT_FALSE(g.roles.fallback.empty());
    bool any_executor = false;
    for (const auto & t : g.tools) any_executor |= t.executor.has_value();
    EXPECT_TRUE(any_executor);
}

TEST(Config, OneLocalModelNeedsNoRoles) {
    const GatewayConfig g = parse_config("models:\n  m:\n    path: models/router.gguf\n", cfg_dir().string());
    EXPECT_EQ(g.roles.router, "m");
    EXPECT_EQ(g.roles.responder, "m");
    EXPECT_EQ(g.roles.fallback, "");
    EXPECT_DOUBLE_EQ(g.router.confidence_threshold, 0.8);
    EXPECT_EQ(g.server.port, 8080);
    EXPECT_EQ(g.traces.url, "");
}

TEST(Config, DefaultConfigFromAModelPath) {
    const GatewayConfig g = default_config((cfg_dir() / "models/router-tools.gguf").string());
    ASSERT_EQ(g.models.size(), 1u);
    EXPECT_EQ(g.models[0].name, "router-tools");  // the file stem
    EXPECT_EQ(g.roles.router, "router-tools");
    EXPECT_EQ(g.roles.responder, "router-tools");
    EXPECT_EQ(g.roles.fallback, "");
    // A stem that is a role name would clash with the role alias.
    EXPECT_EQ(default_config((cfg_dir() / "models/router.gguf").string()).models[0].name, "local");
    EXPECT_THROW(default_config((cfg_dir() / "nope.gguf").string()), Error);
}

TEST(ConfigErrors, YamlSyntax) { expect_error("models: [unclosed\n", {"bad.yaml:", "not valid YAML"}); }

TEST(ConfigErrors, UnknownKeys) {
    expect_error("modles: {}\n", {"modles: unknown key", "models"});
    expect_error("models:\n  m:\n    path: models/router.gguf\n    pth: x\n", {"bad.yaml:4:", "models.m.pth: unknown key"});
    expect_error("models:\n  m:\n    path: models/router.gguf\nrouter:\n  threshold: 1\n", {"router.threshold: unknown key", "confidence_threshold"});
}

TEST(ConfigErrors, MissingFile) {
    expect_error("models:\n  m:\n    path: models/missing.gguf\n", {"bad.yaml:3:", "models.m.path", "missing.gguf", "not found"});
    expect_error("models:\n  m:\n    path: models/router.gguf\n    adapters: {a: nope.gguf}\n", {"models.m.adapters.a", "not found"});
}

TEST(ConfigErrors, ModelKind) {
    expect_error("models:\n  m: {n_ctx: 10}\n", {"models.m", "either path"});
    expect_error("models:\n  m: {path: models/router.gguf, base_url: http://x/v1}\n", {"models.m"});
    expect_error("models:\n  m: {path: models/router.gguf, retries: 2}\n", {"models.m.retries", "remote models"});
    expect_error("models:\n  c: {base_url: http://x/v1}\n", {"models.c", "needs model"});
    expect_error("models:\n  c: {base_url: 'x.com/v1', model: g}\n", {"models.c.base_url", "not an http"});
    expect_error("models:\n  router: {path: models/router.gguf}\n", {"models.router", "role name"});
}

TEST(ConfigErrors, Ranges) {
    const std::string m = "models:\n  m: {path: models/router.gguf}\n";
    expect_error(m + "router: {confidence_threshold: 1.5}\n", {"router.confidence_threshold", "out of range"});
    expect_error(m + "router: {max_agent_steps: zero}\n", {"router.max_agent_steps", "not an integer"});
    expect_error(m + "server: {port: 70000}\n", {"server.port", "out of range"});
    expect_error(m + "router: {execute_tools: maybe}\n", {"router.execute_tools", "true or false"});
    expect_error("models:\n  m: {path: models/router.gguf, n_slots: 0}\n", {"models.m.n_slots", "out of range"});
}

TEST(ConfigErrors, Environment) {
    ::unsetenv("SY_TEST_MISSING");
    expect_error("models:\n  c: {base_url: 'http://x/v1', model: g, api_key_env: SY_TEST_MISSING}\nroles: {fallback: c}\n",
                 {"models.c.api_key_env", "SY_TEST_MISSING is not set"});
    expect_error("models:\n  c: {base_url: '${SY_TEST_MISSING}', model: g}\n", {"models.c.base_url", "SY_TEST_MISSING is not set"});
    const std::string m = "models:\n  m: {path: models/router.gguf}\n";
    expect_error(m + "server: {api_key_envs: [SY_TEST_MISSING]}\n", {"server.api_key_envs[0]", "SY_TEST_MISSING"});
}

TEST(ConfigErrors, Roles) {
    const std::string m = "models:\n  m: {path: models/router.gguf}\n";
    expect_error(m + "roles: {router: other}\n", {"roles.router", "'other' is not a model", "known: m"});
    expect_error(m + "roles: {router: 'm:nope'}\n", {"roles.router"});
    expect_error(m + "roles: {summarizer: m}\n", {"roles", "at least one of router, responder or fallback"});
    expect_error(m + "router: {shadow_sample_rate: 0.5}\n", {"router.shadow_sample_rate", "roles.fallback"});
}

TEST(ConfigErrors, Tools) {
    const std::string m = "models:\n  m: {path: models/router.gguf}\n";
    expect_error(m + "tools:\n  - name: 'bad name'\n", {"tools[0].name", "not a valid tool name"});
    expect_error(m + "tools:\n  - name: t\n    parameters: {type: string}\n", {"tools[0].parameters.type", "object"});
    expect_error(m + "tools:\n  - {name: t, executor: {url: 'http://127.0.0.1/x'}}\n",
                 {"tools[0].executor.url", "not in server.allowed_tool_hosts"});
    expect_error(m + "server: {allowed_tool_hosts: [127.0.0.1]}\ntools:\n  - {name: t, executor: {url: 'http://127.0.0.1/{id}'}}\n",
                 {"tools[0].executor.url", "{id}", "not a property"});
    expect_error(m + "server: {allowed_tool_hosts: [127.0.0.1]}\ntools:\n  - {name: t, executor: {method: FETCH, url: 'http://127.0.0.1/'}}\n",
                 {"tools[0].executor.method"});
    expect_error(m + "tools_file: tools.json\ntools:\n  - {name: create_task, description: again}\n",
                 {"tools[0]", "already defined"});
    expect_error(m + "tools_file: nothere.json\n", {"tools_file", "not found"});
}
