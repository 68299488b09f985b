// switchyard: the one binary. Subcommands are registered from cmd_*.cpp; errors end up here, printed as
// one line on stderr with a non-zero exit code.
#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "common/error.h"

int main(int argc, char ** argv) {
    CLI::App app{"Switchyard: local models behind OpenAI/Ollama APIs, routed, traced and fine-tuned.",
                 "switchyard"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "switchyard 0.1.0");

    CLI::App * model = app.add_subcommand("model", "Inspect, create and convert GGUF model files");
    model->require_subcommand(1);
    sy::cli::add_model_info(*model);
    sy::cli::add_model_init(*model);
    sy::cli::add_model_quantize(*model);
    sy::cli::add_run(app);
    sy::cli::add_tokenize(app);
    sy::cli::add_bench(app);
    sy::cli::add_train(app);
    sy::cli::add_model_lora(*model);
    CLI::App * dataset = app.add_subcommand("dataset", "Generate, build and evaluate training data");
    dataset->require_subcommand(1);
    sy::cli::add_dataset_generate(*dataset);
    sy::cli::add_dataset_build(*dataset);
    sy::cli::add_traces(app);
    sy::cli::add_serve(app);
    sy::cli::add_task_api(app);
    sy::cli::add_eval(app);
    sy::cli::add_demo(app);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError & e) {
        return app.exit(e);
    } catch (const sy::Error & e) {
        std::fprintf(stderr, "switchyard: error: %s\n", e.what());
        return 1;
    } catch (const std::exception & e) {
        std::fprintf(stderr, "switchyard: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
