#include "app/lambda_command.h"

#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "app/cli.h"
#include "app/service.h"
#include "core/log.h"
#include "lambda/api_function.h"
#include "lambda/retry_worker_function.h"
#include "lambda/runtime_client.h"
#include "lambda/runtime_loop.h"
#include "storage/store_factory.h"

namespace eventlogger {

namespace {

// Reports an init failure to the Runtime API before the first `next`.
int InitFailed(lambda::RuntimeClient& runtime, const Status& status, int exit_code) {
  log::Error("init failed", {{"error", status.ToString()}});
  if (Status s = runtime.ReportInitError({"Runtime.InitError", std::string(status.message())}); !s.ok()) {
    log::Error("cannot report the init error", {{"error", s.ToString()}});
  }
  log::Flush();
  return exit_code;
}

Result<std::unique_ptr<lambda::RuntimeClient>> ConnectRuntime() {
  const char* endpoint = std::getenv("AWS_LAMBDA_RUNTIME_API");
  return lambda::RuntimeClient::Create(endpoint ? endpoint : "");
}

}  // namespace

int LambdaCommand(const std::vector<std::string>& args) {
  const char* handler = std::getenv("_HANDLER");
  const std::string_view handler_name = handler ? handler : "";
  if (handler_name == "worker") return WorkerCommand(args);
  std::vector<std::string> serve_args = args;
  const bool data_dir_given =
      std::any_of(args.begin(), args.end(), [](const std::string& a) { return a.starts_with("--data-dir"); }) ||
      std::getenv("EVENTLOGGER_DATA_DIR") != nullptr;
  if (!data_dir_given) serve_args.insert(serve_args.end(), {"--data-dir", "/tmp/eventlogger"});
  std::string help;
  Result<ServiceOptions> options = ParseServeOptions(serve_args, &help);
  if (options.ok() && !help.empty()) {
    std::cout << "eventlogger lambda: the serve options below apply (the HTTP server's are ignored); "
                 "AWS_LAMBDA_RUNTIME_API names the Runtime API.\n\n"
              << help;
    return 0;
  }
  Result<std::unique_ptr<lambda::RuntimeClient>> runtime = ConnectRuntime();
  if (!runtime.ok()) {
    std::cerr << "eventlogger lambda: " << runtime.status().message() << "\n";
    return 2;
  }
  const auto init_failed = [&runtime](const Status& status, int exit_code) {
    return InitFailed(**runtime, status, exit_code);
  };
  if (!handler_name.empty() && handler_name != "api" && handler_name != "bootstrap") {
    return init_failed(Status::InvalidArgument("unknown handler '" + std::string(handler_name) +
                                               "' (_HANDLER): expected api or worker"),
                       2);
  }
  if (!options.ok()) return init_failed(options.status(), 2);
  options->serve_http = false;
  options->behind_public_gateway = true;
  // Frozen between invocations, an environment runs no background job:
  // erasures and sweeps run in `serve` or `eventlogger erase` on the stores.
  options->privacy.background_jobs = false;
  signal(SIGPIPE, SIG_IGN);
  Result<std::unique_ptr<Service>> service = Service::Start(*options);
  if (!service.ok()) return init_failed(service.status(), 1);
  log::Flush();  // Lambda may freeze the process at the first `next`
  int exit_code;
  {
    lambda::ApiFunction function((*service)->handler_context(), &(*service)->request_observer(),
                                 {.access_log = options->http.access_log});
    exit_code = lambda::RunRuntimeLoop(**runtime, function);
  }
  (*service)->Stop();
  return exit_code;
}


int WorkerCommand(const std::vector<std::string>& args) {
  std::string help;
  Result<WorkerOptions> options = ParseWorkerOptions(args, &help);
  if (options.ok() && !help.empty()) {
    std::cout << help;
    return 0;
  }
  Result<std::unique_ptr<lambda::RuntimeClient>> runtime = ConnectRuntime();
  if (!runtime.ok()) {
    std::cerr << "eventlogger worker: " << runtime.status().message() << "\n";
    return 2;
  }
  if (!options.ok()) return InitFailed(**runtime, options.status(), 2);
  signal(SIGPIPE, SIG_IGN);
  const StoreUrls urls = ResolveStoreUrls(options->stores, options->data_dir);
  Result<std::unique_ptr<MetadataStore>> metadata = OpenMetadataStore(urls.metadata);
  if (!metadata.ok()) return InitFailed(**runtime, metadata.status(), 1);
  Result<std::unique_ptr<DocumentStore>> documents = OpenDocumentStore(urls.documents);
  if (!documents.ok()) return InitFailed(**runtime, documents.status(), 1);
  if (Status s = (*metadata)->CheckSchema(); !s.ok()) return InitFailed(**runtime, s, 1);
  if (Status s = (*documents)->CheckSchema(); !s.ok()) return InitFailed(**runtime, s, 1);
  log::Info("retry worker ready", {{"metadataStore", RedactUrl(urls.metadata)},
                                   {"documentStore", RedactUrl(urls.documents)}});
  log::Flush();
  lambda::RetryWorkerFunction function(**metadata, **documents, {.deadline_margin = options->deadline_margin});
  return lambda::RunRuntimeLoop(**runtime, function);
}

}  // namespace eventlogger
