#include "cli/commands.h"

#include "common/error.h"

namespace sy::cli {

// Placeholder until this command lands: registered so --help lists it, fails with a clear message.
void add_tokenize(CLI::App & app) {
    CLI::App * cmd = app.add_subcommand("tokenize", "(not available in this build yet)");
    cmd->allow_extras();
    cmd->callback([] { throw Error(ErrorKind::ErrorKind_unsupported, "'tokenize' is not available in this build yet"); });
}

}  // namespace sy::cli
