// The `eventlogger` command line: subcommands, flags, and their environment
// variables (every flag --some-flag also reads EVENTLOGGER_SOME_FLAG; a flag
// on the command line wins over the environment).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "app/service.h"
#include "core/status.h"

namespace eventlogger {

// Parses the `serve` subcommand's arguments (after "serve") and environment
// into validated options. `help` receives the usage text when --help is given.
Result<ServiceOptions> ParseServeOptions(const std::vector<std::string>& args,
                                         std::string* help);

// `eventlogger worker`: the stores to complete writes in, and how close to
// an invocation's deadline a store write may still start.
struct WorkerOptions {
  std::string data_dir = "/tmp/eventlogger";
  StoreUrls stores;
  std::chrono::milliseconds deadline_margin{2000};
};
Result<WorkerOptions> ParseWorkerOptions(const std::vector<std::string>& args, std::string* help);

// Entry point: returns the process exit code.
int RunCli(int argc, char** argv);

}  // namespace eventlogger
