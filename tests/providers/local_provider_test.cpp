// LocalProvider on a tiny random-weight model: tool calls under the tool grammar (auto, required, a named
// function), json_schema responses, streaming, logprobs, adapter selection by model name and atomic
// adapter swaps under load, the context-overflow error, and the model listing.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "engine/generate.h"
#include "engine/lora.h"
#include "engine/model_init.h"
#include "chat/grounding.h"
#include "providers/grounded_constraint.h"
#include "providers/local_provider.h"

namespace fs = std::filesystem;
using namespace sy;
using namespace sy::providers;

namespace {

const fs::path & dir() {
    static const fs::path d = [] {
        fs::path p = fs::temp_directory_path() / ("sy_provider_tests_" + std::to_string(::getpid()));
        fs::create_directories(p);
        return p;
    }();
    return d;
}

struct Cleanup {
    ~Cleanup() {
        std::error_code ec;
        fs::remove_all(dir(), ec);
    }
} cleanup;

const std::string & model_path() {
    static const std::string p = [] {
        const std::string out = (dir() / "tiny.gguf").string();
        engine::InitParams ip;
        ip.dtype = "q8_0";
        ip.seed = 5;
        engine::init_random_model(ip, out);
        return out;
    }();
    return p;
}

std::string write_adapter(const std::string & name, unsigned seed) {
    auto m = engine::Model::load(model_path());
    gguf::Writer w;
    w.set("general.architecture", gguf::Value::string(m->hparams().arch));
    w.set("general.type", gguf::Value::string("adapter"));
    w.set("adapter.type", gguf::Value::string("lora"));
    w.set("adapter.lora.alpha", gguf::Value::f32(16.0f));
    w.set("switchyard.tools_fingerprint", gguf::Value::string("fp-" + name));
    std::mt19937 rng(seed);
    std::normal_distribution<float> N(0.0f, 0.1f);
    std::vector<std::vector<float>> keep;
    for (int il = 0; il < m->hparams().n_layer; ++il) {
        const WeightView & base = m->layers()[il].w_up;
        std::vector<float> a((size_t)4 * base.n_in), b((size_t)base.n_out * 4);
        for (auto & x : a) x = N(rng);
        for (auto & x : b) x = N(rng);
        const std::string n = "blk." + std::to_string(il) + ".ffn_up.weight";
        const int64_t ne_a[2] = {base.n_in, 4}, ne_b[2] = {4, base.n_out};
        keep.push_back(std::move(a));
        w.add_tensor(n + ".lora_a", (uint32_t)DType::DType_f32, ne_a,
                     {reinterpret_cast<const uint8_t *>(keep.back().data()), keep.back().size() * 4});
        keep.push_back(std::move(b));
        w.add_tensor(n + ".lora_b", (uint32_t)DType::DType_f32, ne_b,
                     {reinterpret_cast<const uint8_t *>(keep.back().data()), keep.back().size() * 4});
    }
    const std::string path = (dir() / name).string();
    w.write(path);
    return path;
}

ojson task_tools() {
    std::ifstream in(std::string(SY_SOURCE_DIR) + "/examples/task-agent/tools.json");
    return ojson::parse(in);
}

// Tool schemas in a chatml system turn take ~1.5k tokens of the tiny model's synthetic vocabulary.
LocalModelParams params(int n_ctx = 2048) {
    LocalModelParams p;
    p.name = "tiny";
    p.path = model_path();
    p.scheduler.n_slots = 4;
    p.scheduler.n_ctx = n_ctx;
    p.max_tokens = 160;
    return p;
}

ChatRequest user(const std::string & text) {
    ChatRequest r;
    r.model = "tiny";
    r.messages.push_back({"user", text, {}, "", ""});
    return r;
}

const ojson * find_tool(const ojson & tools, const std::string & name) {
    for (const auto & t : tools)
        if (t["function"]["name"] == name) return &t["function"]["parameters"];
    return nullptr;
}

void expect_valid_call(const chat::ToolCall & c, const ojson & tools) {
    EXPECT_EQ(c.id.rfind("call_", 0), 0u);
    EXPECT_EQ(c.id.size(), 29u);
    const ojson * schema = find_tool(tools, c.name);
    ASSERT_NE(schema, nullptr) << "unknown tool " << c.name;
    ASSERT_TRUE(c.arguments.is_object());
    if (schema->contains("required")) {
        for (const auto & k : (*schema)["required"]) EXPECT_TRUE(c.arguments.contains(k.get<std::string>())) << c.arguments.dump();
    }
    for (auto it = c.arguments.begin(); it != c.arguments.end(); ++it)
        EXPECT_TRUE((*schema)["properties"].contains(it.key())) << "extra argument " << it.key();
}

TEST(LocalProvider, ToolCallIdsAreUniqueHex) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const std::string id = new_tool_call_id();
        ASSERT_EQ(id.size(), 29u);
        EXPECT_EQ(id.rfind("call_", 0), 0u);
        EXPECT_EQ(id.find_first_not_of("0123456789abcdef", 5), std::string::npos) << id;
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 1000u);
}

TEST(LocalProvider, ToolsGiveAValidCallOrContent) {
    LocalProvider p(params());
    const ojson tools = task_tools();
    int n_calls = 0, n_text = 0;
    for (uint64_t seed = 1; seed <= 6; ++seed) {
        ChatRequest r = user("add a task: buy milk tomorrow");
        r.tools = tools;
        r.gen.temperature = 1.0f;
        r.gen.seed = seed;
        const ChatResponse resp = p.chat(r);
        ASSERT_TRUE(resp.confidence.has_value());
        if (resp.finish_reason == "length") continue;  // cut off by max_tokens: neither
        if (!resp.message.tool_calls.empty()) {
            ++n_calls;
            EXPECT_EQ(resp.finish_reason, "tool_calls");
            EXPECT_TRUE(resp.message.content.empty());
            for (const auto & c : resp.message.tool_calls) expect_valid_call(c, tools);
        } else {
            ++n_text;
            EXPECT_EQ(resp.finish_reason, "stop");
        }
        EXPECT_GT(resp.usage.prompt_tokens, 0);
        EXPECT_EQ(resp.model, "tiny");
    }
    EXPECT_GT(n_calls + n_text, 0) << "every answer was cut off: the test checked nothing";
    std::printf("tool calls %d, text answers %d of 6\n", n_calls, n_text);
}

TEST(LocalProvider, ToolChoiceRequiredAndNamedFunction) {
    LocalProvider p(params());
    const ojson tools = task_tools();
    for (uint64_t seed = 1; seed <= 3; ++seed) {
        ChatRequest r = user("what is on my list?");
        r.tools = tools;
        r.tool_choice = "required";
        r.gen.temperature = 0.7f;
        r.gen.seed = seed;
        const ChatResponse resp = p.chat(r);
        if (resp.finish_reason == "length") continue;
        ASSERT_EQ(resp.finish_reason, "tool_calls") << resp.text;
        ASSERT_FALSE(resp.message.tool_calls.empty());
        for (const auto & c : resp.message.tool_calls) expect_valid_call(c, tools);
    }
    ChatRequest r = user("what is on my list?");
    r.tools = tools;
    r.tool_choice = ojson{{"type", "function"}, {"function", {{"name", "list_tasks"}}}};
    r.gen.logprobs = true;
    r.gen.top_logprobs = 3;
    const ChatResponse resp = p.chat(r);
    ASSERT_EQ(resp.finish_reason, "tool_calls") << resp.text;
    ASSERT_EQ(resp.message.tool_calls.size(), 1u);
    EXPECT_EQ(resp.message.tool_calls[0].name, "list_tasks");
    expect_valid_call(resp.message.tool_calls[0], tools);
    ASSERT_EQ(resp.logprobs.size(), (size_t)resp.usage.completion_tokens);
    std::string joined;
    for (const auto & lp : resp.logprobs) {
        joined += lp.token;
        EXPECT_LE(lp.logprob, 0.0);
    }
    EXPECT_EQ(joined, resp.text);

    ChatRequest bad = user("x");
    bad.tools = tools;
    bad.tool_choice = ojson{{"type", "function"}, {"function", {{"name", "no_such_tool"}}}};
    EXPECT_THROW(p.chat(bad), Error);
}

TEST(LocalProvider, JsonSchemaResponseAndStreaming) {
    LocalProvider p(params());
    ChatRequest r = user("give me a task as JSON");
    r.response_format = ojson::parse(
        R"({"type":"json_schema","json_schema":{"name":"t","strict":true,"schema":{"type":"object","properties":{"title":{"type":"string","maxLength":12},"n":{"type":"integer","minimum":0,"maximum":9}},"required":["title","n"]}}})");
    r.gen.temperature = 1.0f;
    r.gen.seed = 3;
    std::string streamed;
    const ChatResponse resp = p.chat(r, [&](std::string_view d) {
        streamed += d;
        return true;
    });
    ASSERT_EQ(resp.finish_reason, "stop") << resp.text;
    const ojson v = ojson::parse(resp.message.content, nullptr, false);
    ASSERT_FALSE(v.is_discarded()) << resp.message.content;
    EXPECT_TRUE(v["title"].is_string());
    EXPECT_TRUE(v["n"].is_number_integer());
    EXPECT_EQ(streamed, resp.message.content);

    ChatRequest obj = user("any object");
    obj.response_format = ojson{{"type", "json_object"}};
    obj.gen.seed = 9;
    obj.gen.temperature = 1.0f;
    const ChatResponse o = p.chat(obj);
    if (o.finish_reason == "stop") {
        EXPECT_TRUE(ojson::parse(o.message.content).is_object());
    }

    ChatRequest bad = user("x");
    bad.response_format = ojson{{"type", "yaml"}};
    EXPECT_THROW(p.chat(bad), Error);
}

// A random model samples digits and quotes freely; served with grounded_replies, its replies to a tool
// result hold only the result's values (chat/grounding.h), whatever it samples, and a tool result gets a
// text answer even with tools offered.
TEST(LocalProvider, GroundedRepliesStateOnlyTheToolResultsValues) {
    LocalModelParams gp = params();
    gp.grounded_replies = true;
    LocalProvider grounded(gp);
    LocalProvider free(params());
    ChatRequest r = user("mark task 12 done");
    r.tools = task_tools();
    r.messages.push_back({"assistant", "", {{"call_1", "complete_task", ojson{{"id", 12}}}}, "", ""});
    r.messages.push_back({"tool", R"({"id":12,"title":"buy milk","status":"done","due_date":"2025-03-14"})", {}, "call_1", ""});
    const std::vector<std::string> values = chat::reply_values(r.messages);
    const chat::GroundedText rule(values);
    int free_ungrounded = 0, checked = 0, ended = 0;
    for (uint64_t seed = 1; seed <= 12; ++seed) {
        r.gen.temperature = 1.0f;
        r.gen.seed = seed;
        r.gen.max_tokens = 40;
        const ChatResponse g = grounded.chat(r);
        EXPECT_TRUE(g.message.tool_calls.empty());
        chat::GroundedText::State s = rule.start();
        EXPECT_TRUE(rule.advance(s, g.message.content)) << g.message.content;
        ++checked;
        if (g.finish_reason == "stop") {
            ++ended;
            EXPECT_TRUE(chat::GroundedText::can_end(s)) << g.message.content;
            EXPECT_TRUE(chat::ungrounded_values(g.message.content, values).empty()) << g.message.content;
        }
        ChatRequest plain = r;
        plain.tools = ojson();
        const ChatResponse f = free.chat(plain);
        chat::GroundedText::State fs = rule.start();
        free_ungrounded += !rule.advance(fs, f.message.content);
    }
    std::printf("grounded: %d replies checked (%d ended); unconstrained: %d of 12 break the rule\n", checked, ended,
                free_ungrounded);
    EXPECT_GT(free_ungrounded, 0) << "the random model never wrote a digit or quote: the test checked nothing";
}

// The constraint token by token on the tiny model's vocabulary: a grounded text's tokens are allowed one
// after the other, it may end only between copies, and a wrong id is masked at the digit that breaks it.
TEST(LocalProvider, GroundedConstraintMasksTokensThatBreakTheRule) {
    LocalProvider p(params());
    const tok::Tokenizer & tk = p.model().tokenizer();
    auto vocab = std::make_shared<const GroundingVocab>(tk);
    const std::vector<std::string> values = {"12", "buy milk", "\"buy milk\"", "2025-03-14"};
    auto allowed = [&](GroundedConstraint & c, int32_t t) {
        std::vector<uint32_t> mask(((size_t)p.model().hparams().n_vocab + 31) / 32, 0u);
        c.fill_mask(mask.data(), p.model().hparams().n_vocab);
        return (mask[(size_t)t >> 5] >> (t & 31) & 1u) != 0;
    };
    tok::EncodeOptions eo;
    {
        GroundedConstraint c(vocab, values);
        const std::vector<int32_t> toks = tk.encode("Task #12 \"buy milk\" is due 2025-03-14.", eo);
        bool quote_open_seen = false;
        for (int32_t t : toks) {
            ASSERT_TRUE(allowed(c, t)) << "token '" << tk.token_piece(t) << "' after '" << c.text() << "'";
            c.accept(t, 1.0f);
            if (c.text().size() > 9 && c.text().size() < 19 && c.text()[9] == '"') quote_open_seen = quote_open_seen || !c.can_stop();
        }
        EXPECT_TRUE(c.can_stop());
        EXPECT_TRUE(quote_open_seen) << "inside the quoted title the reply may not end";
        EXPECT_FALSE(c.relaxed());
    }
    {
        // A quoted value the result holds once may be copied once.
        GroundedConstraint c(vocab, values, {0, 0, 1, 0});
        const std::vector<int32_t> toks = tk.encode("#12 \"buy milk\" and \"buy milk\"", eo);
        size_t masked_at = std::string::npos;
        for (int32_t t : toks) {
            if (!allowed(c, t)) {
                masked_at = c.text().size();
                break;
            }
            c.accept(t, 1.0f);
        }
        EXPECT_GE(masked_at, std::string("#12 \"buy milk\" and").size()) << c.text();  // at the second quote
        EXPECT_NE(masked_at, std::string::npos) << "the second copy was allowed";
    }
    {
        GroundedConstraint c(vocab, values);
        const std::vector<int32_t> toks = tk.encode("Task #13", eo);
        bool masked = false;
        for (int32_t t : toks) {
            if (!allowed(c, t)) {
                masked = true;
                break;
            }
            c.accept(t, 1.0f);
        }
        EXPECT_TRUE(masked) << "'#13' was allowed";
    }
}

TEST(LocalProvider, MaxTokensCapAndContextOverflow) {
    LocalProvider p(params(96));
    ChatRequest r = user("hello");
    r.gen.max_tokens = 5;
    const ChatResponse resp = p.chat(r);
    EXPECT_LE(resp.usage.completion_tokens, 5);
    EXPECT_TRUE(resp.finish_reason == "length" || resp.finish_reason == "stop");

    std::string long_text;
    for (int i = 0; i < 200; ++i) long_text += "word" + std::to_string(i) + " ";
    try {
        p.chat(user(long_text));
        FAIL() << "expected a context error";
    } catch (const Error & e) {
        EXPECT_EQ(e.kind(), ErrorKind::ErrorKind_limit);
        EXPECT_NE(std::string(e.what()).find("context"), std::string::npos) << e.what();
    }
    ChatRequest zero = user("hello");
    zero.gen.max_tokens = 0;
    EXPECT_THROW(p.chat(zero), Error);
}

// The base model + adapter as generate() runs it on a raw prompt, greedy.
std::string reference_text(const std::string & adapter_path, const std::string & prompt, int n) {
    auto m = engine::Model::load(model_path());
    engine::ContextParams cp;
    cp.n_ctx = 256;
    engine::Context ctx(*m, cp);
    if (!adapter_path.empty()) ctx.set_loras({{engine::LoraAdapter::load(adapter_path, *m), 1.0f}});
    tok::EncodeOptions eo;
    eo.add_special = true;
    eo.parse_special = true;
    engine::GenerateParams gp;
    gp.n_predict = n;
    gp.sampling.temperature = 0.0f;
    return engine::generate(ctx, m->tokenizer().encode(prompt, eo), gp).text;
}

ChatRequest raw(const std::string & model, const std::string & prompt, int n) {
    ChatRequest r;
    r.model = model;
    r.prompt = prompt;
    r.gen.max_tokens = n;
    r.gen.temperature = 0.0f;
    return r;
}

TEST(LocalProvider, AdapterSelectionByModelName) {
    const std::string a1 = write_adapter("sel_a1.gguf", 1);
    LocalModelParams lp = params();
    lp.adapters["router-v1"] = a1;
    LocalProvider p(lp);
    const std::string prompt = "The adapter decides";
    const std::string base = reference_text("", prompt, 20), with = reference_text(a1, prompt, 20);
    ASSERT_NE(base, with) << "the adapter should change the greedy text";
    EXPECT_EQ(p.chat(raw("tiny", prompt, 20)).text, base);
    const ChatResponse r1 = p.chat(raw("router-v1", prompt, 20));
    EXPECT_EQ(r1.text, with);
    EXPECT_EQ(r1.model, "router-v1");
    EXPECT_EQ(p.chat(raw("tiny:router-v1", prompt, 20)).text, with);
    try {
        p.chat(raw("gpt-4o", prompt, 4));
        FAIL() << "expected an unknown model error";
    } catch (const Error & e) {
        EXPECT_EQ(e.kind(), ErrorKind::ErrorKind_invalid_argument);
        EXPECT_NE(std::string(e.what()).find("unknown model"), std::string::npos) << e.what();
    }
    EXPECT_THROW(p.chat(raw("tiny:nope", prompt, 4)), Error);

    const std::vector<ModelEntry> ms = p.models();
    ASSERT_EQ(ms.size(), 2u);
    EXPECT_EQ(ms[0].id, "tiny");
    EXPECT_EQ(ms[0].kind, "local");
    EXPECT_EQ(ms[0].details["architecture"], "llama");
    EXPECT_GT(ms[0].details["n_params"].get<int64_t>(), 0);
    EXPECT_EQ(ms[0].details["capabilities"], ojson::array({"completion", "tools"}));
    EXPECT_EQ(ms[1].id, "router-v1");
    EXPECT_EQ(ms[1].parent, "tiny");
    EXPECT_EQ(ms[1].kind, "adapter");
    EXPECT_EQ(p.tools_fingerprint("router-v1"), "fp-sel_a1.gguf");
    EXPECT_EQ(p.tools_fingerprint("tiny"), "");

    p.unload_adapter("router-v1");
    EXPECT_THROW(p.chat(raw("router-v1", prompt, 4)), Error);
    EXPECT_THROW(p.unload_adapter("router-v1"), Error);
}

TEST(LocalProvider, AdapterSwapWhileRequestsRun) {
    const std::string a1 = write_adapter("swap_a1.gguf", 11), a2 = write_adapter("swap_a2.gguf", 12);
    LocalModelParams lp = params();
    lp.adapters["live"] = a1;
    LocalProvider p(lp);
    const std::string prompt = "Swapping adapters mid-flight";
    const int n = 40;
    const std::string old_text = reference_text(a1, prompt, n), new_text = reference_text(a2, prompt, n);
    ASSERT_NE(old_text, new_text);

    // Requests that have started (first streamed piece seen) before the swap finish on the old adapter.
    std::atomic<int> started{0};
    std::vector<std::string> results(3);
    std::vector<std::thread> threads;
    for (int i = 0; i < 3; ++i)
        threads.emplace_back([&, i] {
            bool first = true;
            results[i] = p.chat(raw("live", prompt, n), [&](std::string_view) {
                               if (first) started++;
                               first = false;
                               std::this_thread::sleep_for(std::chrono::milliseconds(2));
                               return true;
                           }).text;
        });
    for (int i = 0; i < 5000 && started.load() < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_EQ(started.load(), 3);
    p.load_adapter("live", a2);
    for (auto & t : threads) t.join();
    for (const auto & r : results) EXPECT_EQ(r, old_text);
    EXPECT_EQ(p.chat(raw("live", prompt, n)).text, new_text);
}

}  // namespace
