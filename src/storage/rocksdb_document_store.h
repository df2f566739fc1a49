// RocksDB implementation of DocumentStore: the embedded default, and the
// embedded twin of a DynamoDB table with partition key userId and sort key
// "<timestamp>#<eventId>".
//
// Key:   userId 0x00 timestamp(24 bytes) eventId(36 bytes). userId never holds
//        a control character, so 0x00 ends it unambiguously and one user's
//        documents are one contiguous, time-ordered range.
// Value: format byte (1), eventType length (1 byte), eventType, jsonDetails text.
//
// Every batch is one WriteBatch written with sync=true: on disk when it returns.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "core/status.h"
#include "storage/document_store.h"

namespace eventlogger {

struct RocksDbDocumentOptions {
  std::string path;                               // directory; created if missing
  size_t block_cache_bytes = 32u << 20;           // read cache for data blocks
  size_t write_buffer_bytes = 16u << 20;          // memtable size before a flush
};

Result<std::unique_ptr<DocumentStore>> OpenRocksDbDocumentStore(const RocksDbDocumentOptions& options);

// Key layout, exposed for tests and tools that inspect the database directly.
std::string RocksDbDocumentKey(std::string_view user_id, std::string_view timestamp,
                               std::string_view event_id);

}  // namespace eventlogger
