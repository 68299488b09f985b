// Each subcommand lives in its own cmd_*.cpp and registers itself on the parent CLI11 app here.
#pragma once

#include <CLI/CLI.hpp>

namespace sy::cli {

void add_model_info(CLI::App & model);      // switchyard model info
void add_model_init(CLI::App & model);      // switchyard model init
void add_model_quantize(CLI::App & model);  // switchyard model quantize
void add_run(CLI::App & app);               // switchyard run
void add_tokenize(CLI::App & app);          // switchyard tokenize
void add_bench(CLI::App & app);             // switchyard bench
void add_train(CLI::App & app);             // switchyard train
void add_model_lora(CLI::App & model);      // switchyard model merge-lora / export-peft / import-peft
void add_dataset_generate(CLI::App & dataset);  // switchyard dataset generate / eval

void add_traces(CLI::App & app);             // switchyard traces import / export / stats
void add_dataset_build(CLI::App & dataset);  // switchyard dataset build
void add_serve(CLI::App & app);              // switchyard serve
void add_task_api(CLI::App & app);           // switchyard task-api (the example agent's tool backend)
void add_eval(CLI::App & app);               // switchyard eval
void add_demo(CLI::App & app);               // switchyard demo (the flywheel on the example agent)

}  // namespace sy::cli
