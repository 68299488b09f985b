#include "cli/commands.h"

#include "common/error.h"

namespace sy::cli {

// Placeholder until this command lands: registered so --help lists it, fails with a clear message.
void add_model_info(CLI::App & model) {
    CLI::App * cmd = model.add_subcommand("info", "(not available in this build yet)");
    cmd->allow_extras();
    cmd->callback([] { throw Error(ErrorKind::ErrorKind_unsupported, "'info' is not available in this build yet"); });
}

}  // namespace sy::cli
