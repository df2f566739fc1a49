#include "lambda/runtime_loop.h"

#include "core/log.h"

namespace eventlogger::lambda {

int RunRuntimeLoop(RuntimeClient& runtime, Function& function) {
  for (;;) {
    Result<Invocation> invocation = runtime.Next();
    if (!invocation.ok()) {
      log::Error("the Lambda Runtime API is gone; stopping", {{"error", invocation.status().ToString()}});
      log::Flush();
      return 1;
    }
    const std::string trace_root = TraceRoot(invocation->trace_id);
    log::SetProcessContext({{"awsRequestId", invocation->request_id}, {"traceId", trace_root}});
    Result<std::string> answer = function.Invoke(*invocation);
    Status delivered;
    if (answer.ok()) {
      delivered = runtime.Respond(invocation->request_id, *answer);
      if (!delivered.ok()) {
        // Too large for Lambda (6 MB), most likely: say so as the
        // invocation's error rather than leave it to time out.
        log::Warn("the Runtime API refused the response", {{"error", delivered.ToString()}});
        delivered = runtime.ReportInvocationError(
            invocation->request_id, {"Runtime.ResponseRefused", "the Runtime API refused the response"});
      }
    } else {
      log::Warn("invocation failed", {{"error", answer.status().ToString()}});
      delivered = runtime.ReportInvocationError(invocation->request_id,
                                                {"Handler.BadEvent", std::string(answer.status().message())});
    }
    if (!delivered.ok()) log::Error("cannot deliver the invocation's outcome", {{"error", delivered.ToString()}});
    log::SetProcessContext({});
    log::Flush();
  }
}

}  // namespace eventlogger::lambda
