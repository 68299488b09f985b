// switchyard dataset generate: seeded OpenAI chat JSONL examples for the task-agent tool set
// (examples/task-agent/tools.json), train or held-out test split (train/datagen.h).
#include <fstream>

#include "cli/commands.h"
#include "common/error.h"
#include "train/datagen.h"

namespace sy::cli {
namespace {

struct DatasetArgs {
    std::string tools, split = "train", out, today = "2025-03-12";
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
    const std::vector<chat::ojson> rows = train::generate_task_examples(tools, p);
    std::ofstream out(a.out, std::ios::binary);
    if (!out) throw Error(ErrorKind::ErrorKind_io, "cannot write '" + a.out + "'");
    for (const auto & r : rows) out << r.dump() << "\n";
    out.close();
    if (!out) throw Error(ErrorKind::ErrorKind_io, "error writing '" + a.out + "'");
    std::printf("wrote %zu %s examples to %s\n", rows.size(), a.split.c_str(), a.out.c_str());
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
    cmd->add_flag("--no-augment", a->no_augment, "Train split without typos, casing and word-drop augmentation");
    cmd->add_option("-o,--output", a->out, "Output JSONL")->required();
    cmd->callback([a] { run_generate(*a); });
}

}  // namespace sy::cli
