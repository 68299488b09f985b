// switchyard dataset generate: seeded OpenAI chat JSONL examples for the task-agent tool set
// (examples/task-agent/tools.json), train or held-out test split (train/datagen.h).
// switchyard dataset eval: a model's tool selection and exact-argument accuracy on chat JSONL, decoding
// under the tool grammar as serving does (train/router_eval.h).
#include <fstream>

#include "cli/commands.h"
#include "common/error.h"
#include "engine/model.h"
#include "responder_data.h"
#include "train/data.h"
#include "train/datagen.h"
#include "train/router_eval.h"

namespace sy::cli {
namespace {

struct DatasetArgs {
    std::string tools, split = "train", out, today = "2025-03-12", kind = "router";
    int64_t n = 1000, seed = 0;
    bool no_augment = false;
};

void run_generate(const DatasetArgs & a) {
    std::ifstream in(a.tools);
    if (!in) throw Error(ErrorKind::ErrorKind_io, "cannot open '" + a.tools + "'");
    chat::ojson tools = chat::ojson::parse(in, nullptr, false);
    if (tools.is_discarded()) throw Error(ErrorKind::ErrorKind_invalid_argument, a.tools + ": invalid JSON");
    if (tools.is_object() && tools.contains("tools")) tools = chat::ojson(tools["tools"]);
    train::DatagenParams p;
    p.n = a.n;
    p.seed = (uint64_t)a.seed;
    p.split = train::data_split_from_name(a.split);
    p.today = a.today;
    p.augment = !a.no_augment;
    std::vector<chat::ojson> rows = train::generate_task_examples(tools, p);
    if (a.kind == "responder") rows = examples::make_responder_examples(rows, p.seed);
    else if (a.kind != "router") throw Error(ErrorKind::ErrorKind_invalid_argument, "--kind must be router or responder, got '" + a.kind + "'");
    std::ofstream out(a.out, std::ios::binary);
    if (!out) throw Error(ErrorKind::ErrorKind_io, "cannot write '" + a.out + "'");
    for (const auto & r : rows) out << r.dump() << "\n";
    out.close();
    if (!out) throw Error(ErrorKind::ErrorKind_io, "error writing '" + a.out + "'");
    std::printf("wrote %zu %s %s examples to %s\n", rows.size(), a.split.c_str(), a.kind.c_str(), a.out.c_str());
}

struct EvalArgs {
    std::string model, data, copy_fields = "model";
    int32_t threads = 2, show = 10;
};

void run_eval(const EvalArgs & a) {
    auto model = engine::Model::load(a.model);
    const chat::ChatFormat fmt = chat::ChatFormat::detect(model->file(), model->tokenizer().vocab());
    const std::vector<chat::Conversation> convs = train::read_chat_jsonl(a.data);
    std::optional<std::vector<std::string>> fields;  // model: the recorded copy fields
    if (a.copy_fields == "none") fields = std::vector<std::string>{};
    else if (a.copy_fields != "model")
        throw Error(ErrorKind::ErrorKind_invalid_argument, "--copy-fields must be model or none, got '" + a.copy_fields + "'");
    const train::RouterEval ev = train::evaluate_router(*model, convs, fmt, a.threads, (size_t)std::max(0, a.show), fields);
    for (const auto & f : ev.failures) std::printf("miss: %s\n", f.c_str());
    std::printf("tool selection %.2f%% (%lld/%lld), exact arguments %.2f%% (%lld/%lld calls), false calls %lld/%lld, "
                "invalid %lld; %lld tokens in %.1fs\n",
                100 * ev.tool_accuracy(), (long long)ev.tool_correct, (long long)ev.n, 100 * ev.args_accuracy(),
                (long long)ev.args_exact, (long long)ev.n_calls, (long long)ev.false_calls, (long long)(ev.n - ev.n_calls),
                (long long)ev.invalid, (long long)ev.n_tokens, ev.seconds);
}

}  // namespace

void add_dataset_generate(CLI::App & dataset) {
    auto a = std::make_shared<DatasetArgs>();
    CLI::App * cmd = dataset.add_subcommand("generate", "Generate chat JSONL examples for the task-agent tool set");
    cmd->add_option("--tools", a->tools, "Tools JSON (examples/task-agent/tools.json)")->required();
    cmd->add_option("--n", a->n, "Number of examples")->capture_default_str()->check(CLI::Range((int64_t)0, (int64_t)10000000));
    cmd->add_option("--seed", a->seed, "Random seed")->capture_default_str();
    cmd->add_option("--split", a->split, "train | test (test: templates and entities never used in train)")
        ->capture_default_str();
    cmd->add_option("--today", a->today, "The date relative dates resolve against (YYYY-MM-DD)")->capture_default_str();
    cmd->add_option("--kind", a->kind, "router (tool calls) | responder (answers from tool results)")
        ->capture_default_str();
    cmd->add_flag("--no-augment", a->no_augment, "Train split without typos, casing and word-drop augmentation");
    cmd->add_option("-o,--output", a->out, "Output JSONL")->required();
    cmd->callback([a] { run_generate(*a); });

    auto e = std::make_shared<EvalArgs>();
    CLI::App * ev = dataset.add_subcommand("eval", "Tool selection and exact-argument accuracy of a model on chat JSONL");
    ev->add_option("-m,--model", e->model, "GGUF model")->required();
    ev->add_option("--data", e->data, "Chat JSONL; each conversation's last assistant message is the reference")->required();
    ev->add_option("-t,--threads", e->threads, "Threads")->capture_default_str()->check(CLI::Range(1, 256));
    ev->add_option("--copy-fields", e->copy_fields,
                   "model: decode the model's recorded copy fields as spans of the request (as served); none: plain grammar")
        ->capture_default_str();
    ev->add_option("--show", e->show, "Mistakes to print")->capture_default_str();
    ev->callback([e] { run_eval(*e); });
}

}  // namespace sy::cli
