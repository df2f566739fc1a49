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

int LambdaCommand(const std::vector<std::string>& args);

}  // namespace eventlogger
