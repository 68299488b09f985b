// LocalProvider with a model that records copy fields (switchyard.router.copy_fields): every tool call's
// string argument at a copy field is a span of the request's user text, whatever a random-weight model
// would rather write; the same model with the key removed writes other strings.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/model_init.h"
#include "gguf/gguf.h"
#include "grammar/copy.h"
#include "providers/local_provider.h"

namespace fs = std::filesystem;
using namespace sy;
using namespace sy::providers;

namespace {

fs::path test_dir() {
    static const fs::path d = [] {
        fs::path p = fs::temp_directory_path() / ("sy_provider_copy_tests_" + std::to_string(::getpid()));
        fs::create_directories(p);
        return p;
    }();
    return d;
}

// A random-weight model, and the same model with copy fields recorded.
std::string with_copy_fields(const std::vector<std::string> & fields) {
    const std::string plain = (test_dir() / "plain.gguf").string();
    if (!fs::exists(plain)) {
        engine::InitParams ip;
        ip.dtype = "q8_0";
        ip.seed = 11;
        engine::init_random_model(ip, plain);
    }
    if (fields.empty()) return plain;
    const std::string out = (test_dir() / "copy.gguf").string();
    const gguf::File f = gguf::File::open(plain);
    gguf::Writer w;
    w.copy_metadata(f);
    w.set(grammar::kCopyFieldsKey, gguf::Value::strings(fields));
    for (const auto & t : f.tensors())
        w.add_tensor_ref(t.name, t.type, std::vector<int64_t>(t.ne, t.ne + t.n_dims), t.data, t.n_bytes);
    w.write(out);
    return out;
}

ojson task_tools() {
    std::ifstream in(std::string(SY_SOURCE_DIR) + "/examples/task-agent/tools.json");
    return ojson::parse(in);
}

struct Outcome {
    int n_strings = 0, n_spans = 0;
    int n_cut = 0;  // no finished call (a random model's free string runs to the token limit)
};

Outcome run(const std::string & path) {
    LocalModelParams p;
    p.name = "tiny";
    p.path = path;
    p.scheduler.n_slots = 2;
    p.scheduler.n_ctx = 2048;
    p.max_tokens = 120;
    LocalProvider provider(p);
    const std::vector<std::string> prompts = {"add a task to call the dentist about the crown, tag health",
                                              "search my tasks for \"quarterly report\" please",
                                              "remind me: buy oat milk & café beans"};
    Outcome o;
    for (const std::string & text : prompts)
        for (const char * tool : {"create_task", "search_tasks"}) {
            ChatRequest r;
            r.model = "tiny";
            r.messages.push_back({"user", text, {}, "", ""});
            r.tools = task_tools();
            r.tool_choice = ojson{{"type", "function"}, {"function", {{"name", tool}}}};
            r.gen.temperature = 0.8f;
            r.gen.seed = 7;
            const ChatResponse resp = provider.chat(r);
            if (resp.finish_reason != "tool_calls" || resp.message.tool_calls.empty()) {
                ++o.n_cut;
                continue;
            }
            const ojson & args = resp.message.tool_calls[0].arguments;
            std::vector<std::string> values;
            for (const char * k : {"title", "query"})
                if (args.contains(k) && args[k].is_string()) values.push_back(args[k]);
            if (args.contains("tags") && args["tags"].is_array())
                for (const auto & t : args["tags"]) values.push_back(t);
            for (const std::string & v : values) {
                ++o.n_strings;
                if (grammar::is_copy_span({text}, v)) ++o.n_spans;
                else if (path.find("copy") != std::string::npos) ADD_FAILURE() << "'" << v << "' is no span of '" << text << "'";
            }
        }
    return o;
}

TEST(LocalProviderCopy, StringArgumentsAreSpansOfTheUserText) {
    const Outcome copy = run(with_copy_fields({"create_task.title", "create_task.tags[]", "search_tasks.query"}));
    EXPECT_GE(copy.n_strings, 3);
    EXPECT_EQ(copy.n_spans, copy.n_strings);
    const Outcome plain = run(with_copy_fields({}));
    EXPECT_LT(plain.n_spans, plain.n_strings + plain.n_cut);  // a random model does not copy by itself
}

}  // namespace
