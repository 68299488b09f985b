// switchyard model merge-lora / export-peft / import-peft: LoRA adapter conversions (train/outputs.h,
// train/peft.h).
#include <cstdio>

#include "cli/commands.h"
#include "train/outputs.h"
#include "train/peft.h"

namespace sy::cli {

void add_model_lora(CLI::App & model) {
    {
        auto base = std::make_shared<std::string>(), adapter = std::make_shared<std::string>();
        auto out = std::make_shared<std::string>();
        auto scale = std::make_shared<float>(1.0f);
        CLI::App * cmd = model.add_subcommand("merge-lora", "Merge a LoRA adapter into a base model (each tensor keeps its type)");
        cmd->add_option("base", *base, "Base model GGUF")->required();
        cmd->add_option("adapter", *adapter, "LoRA adapter GGUF")->required();
        cmd->add_option("--scale", *scale, "Adapter scale")->capture_default_str();
        cmd->add_option("-o,--output", *out, "Output model GGUF")->required();
        cmd->callback([=] { std::printf("%s\n", train::merge_lora_file(*base, *adapter, *scale, *out).c_str()); });
    }
    {
        auto adapter = std::make_shared<std::string>(), base = std::make_shared<std::string>();
        auto out = std::make_shared<std::string>();
        CLI::App * cmd = model.add_subcommand("export-peft", "Write a GGUF LoRA adapter as a PEFT directory (safetensors)");
        cmd->add_option("adapter", *adapter, "LoRA adapter GGUF")->required();
        cmd->add_option("--base", *base, "The base model GGUF the adapter belongs to")->required();
        cmd->add_option("-o,--output", *out, "Output directory")->required();
        cmd->callback([=] { std::printf("%s\n", train::export_peft(*adapter, *base, *out).c_str()); });
    }
    {
        auto dir = std::make_shared<std::string>(), base = std::make_shared<std::string>();
        auto out = std::make_shared<std::string>();
        CLI::App * cmd = model.add_subcommand("import-peft", "Convert a PEFT LoRA directory to a GGUF adapter");
        cmd->add_option("dir", *dir, "PEFT directory (adapter_config.json + adapter_model.safetensors)")->required();
        cmd->add_option("--base", *base, "The base model GGUF")->required();
        cmd->add_option("-o,--output", *out, "Output adapter GGUF")->required();
        cmd->callback([=] { std::printf("%s\n", train::import_peft(*dir, *base, *out).c_str()); });
    }
}

}  // namespace sy::cli
