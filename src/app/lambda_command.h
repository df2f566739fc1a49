// `eventlogger lambda`: the service as an AWS Lambda custom runtime
// (provided.al2023) behind API Gateway. Takes serve's options (by flag or,
// as Lambda sets them, by EVENTLOGGER_* environment variables) except
// those of the HTTP server; the data dir defaults to /tmp/eventlogger,
// the only writable place there.
//
// Init failures (bad options, a store that cannot be opened, a schema
// behind, no credentials configured) go to the Runtime API's init/error
// before the first `next`, and the process exits non-zero.
#pragma once

#include <string>
#include <vector>

namespace eventlogger {

// As `bootstrap`, the handler name Lambda passes in _HANDLER picks the
// function: `api` (or none) this one, `worker` WorkerCommand's.
int LambdaCommand(const std::vector<std::string>& args);

// `eventlogger worker`: the SQS-triggered function completing the store
// writes `lambda --retry-queue-url` queued (lambda/retry_worker_function.h).
// Init failures go to init/error as for `lambda`.
int WorkerCommand(const std::vector<std::string>& args);

}  // namespace eventlogger
