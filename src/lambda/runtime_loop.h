// The custom runtime's loop: next → handle → response (or error), until
// the Runtime API goes away. Each invocation's log lines carry its
// awsRequestId and traceId (the Root= of Lambda-Runtime-Trace-Id), and
// are written out before the next `next`, while Lambda still lets the
// process run.
#pragma once

#include "lambda/function.h"
#include "lambda/runtime_client.h"

namespace eventlogger::lambda {

// Returns the process exit code (1: the Runtime API could not be reached).
int RunRuntimeLoop(RuntimeClient& runtime, Function& function);

}  // namespace eventlogger::lambda
