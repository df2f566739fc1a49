// Function: what the runtime loop hands each invocation to. One per
// execution environment: the API (ApiFunction) or the retry worker
// (RetryWorkerFunction), chosen by the handler name Lambda passes (_HANDLER).
#pragma once

#include <string>

#include "core/status.h"
#include "lambda/runtime_client.h"

namespace eventlogger::lambda {

class Function {
 public:
  virtual ~Function() = default;
  // The invocation's response JSON; an error becomes the invocation's
  // error (Handler.BadEvent) with the status's message.
  virtual Result<std::string> Invoke(const Invocation& invocation) = 0;
};

}  // namespace eventlogger::lambda
