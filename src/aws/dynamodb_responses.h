// Parsers for DynamoDB's JSON responses: bytes from the network, so they
// must answer any input with a value or an error, never a crash (they have
// a fuzz target, fuzz/dynamodb_response_fuzzer.cc).
//
// Errors are Internal ("DynamoDB <operation> returned …"): a response this
// client cannot read is DynamoDB's fault or a proxy's, not the caller's.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "aws/dynamodb_types.h"
#include "core/status.h"

namespace eventlogger::aws {

// Query and Scan: {"Items": [item…], "LastEvaluatedKey": item?}.
Result<ItemPage> ParseItemPage(std::string_view operation, std::string_view body);

// GetItem: {"Item": item} or {} when there is no such item.
Result<std::optional<Item>> ParseGetItemResponse(std::string_view body);

// DescribeTable: {"Table": {…}}.
Result<TableDescription> ParseTableDescription(std::string_view body);

// BatchWriteItem: what is left to resend.
struct UnprocessedWrites {
  size_t count = 0;          // writes DynamoDB did not take this round
  std::string request_body;  // a BatchWriteItem request resending them; empty when count is 0
};
Result<UnprocessedWrites> ParseBatchWriteResponse(std::string_view body);

// An error answer: {"__type": "com.amazonaws.dynamodb.v20120810#Name",
// "message": "…"}; `error_type_header` is x-amzn-ErrorType ("Name:…"),
// used when the body names nothing. Fields stay empty when absent.
struct ErrorResponse {
  std::string name;     // without its namespace, e.g. "ThrottlingException"
  std::string message;
};
ErrorResponse ParseErrorResponse(std::string_view body, std::optional<std::string_view> error_type_header);

}  // namespace eventlogger::aws
