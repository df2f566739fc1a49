// RetryMessage: an event that did not reach both stores, as a message for a
// remote retry queue (SQS), which the retry worker function reads back.
//
// The body is one JSON object, written in ASCII only (every other character
// as a \u escape), so any event fits SQS's accepted character set:
//   {"v":1, "eventId", "userId", "eventType", "timestamp",
//    "jsonDetails": the details JSON text as a string (its exact bytes),
//    "idempotencyKey"?, "requestHash"?,
//    "metadataDone", "documentDone": which store already has the event,
//    "error"?: why a store failed, for operators reading a dead letter}
// The details travel as a string, not as a JSON value, so that the worker
// writes exactly the bytes the healthy store got.
//
// Decoding is strict: a message that is not exactly this (unknown version,
// missing or ill-typed field, invalid eventId, userId or eventType, a
// timestamp not in the stored format, details that are not JSON) is
// refused with InvalidArgument and a reason, never half-applied.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/event.h"
#include "core/status.h"

namespace eventlogger {

struct RetryMessage {
  Event event;
  bool metadata_done = false;
  bool document_done = false;
  std::string error;  // at most kMaxRetryErrorBytes are kept
};

inline constexpr size_t kMaxRetryErrorBytes = 512;

std::string EncodeRetryMessage(const RetryMessage& message);
Result<RetryMessage> DecodeRetryMessage(std::string_view body);

// An upper bound of EncodeRetryMessage's size for an event whose user id,
// event type and details take `document_bytes` bytes: ASCII escaping at
// most triples text (a 4-byte character becomes a 12-byte surrogate pair).
inline size_t MaxRetryMessageBytes(size_t document_bytes) { return 3 * document_bytes + 1024 + kMaxRetryErrorBytes; }

}  // namespace eventlogger
