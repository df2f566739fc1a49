// DynamoDB's response bodies: every parser must answer any bytes with a
// value or an error. What a parser accepts must also hold together: a
// resend of unprocessed writes is itself a BatchWriteItem request naming
// that many writes, and an error name carries no namespace.
#include <rapidjson/document.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "aws/dynamodb_responses.h"

namespace aws = eventlogger::aws;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  if (const auto page = aws::ParseItemPage("Query", body); page.ok()) {
    for (const aws::Item& item : page->items) (void)aws::ItemSizeBytes(item);
  }
  (void)aws::ParseGetItemResponse(body);
  (void)aws::ParseTableDescription(body);
  if (const auto unprocessed = aws::ParseBatchWriteResponse(body); unprocessed.ok() && unprocessed->count > 0) {
    const auto again = aws::ParseBatchWriteResponse(
        "{\"UnprocessedItems\":" +
        unprocessed->request_body.substr(16, unprocessed->request_body.size() - 17) + "}");
    if (!again.ok() || again->count != unprocessed->count) std::abort();
  }
  const aws::ErrorResponse error = aws::ParseErrorResponse(body, body.substr(0, 40));
  if (error.name.find('#') != std::string::npos) std::abort();
  return 0;
}
