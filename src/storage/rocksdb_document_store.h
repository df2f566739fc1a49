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
  // Values at least this big (a document of a few KiB of jsonDetails) are
  // written to blob files at flush, and compactions move only their keys and
  // a pointer; 0 keeps every value in the SST files. Without blob files,
  // every compaction rewrote 16 KiB documents again: RocksDB's background
  // threads took about half the CPU of a 16 KiB POST, and post-16k ran at
  // 4,100 req/s instead of 6,900 (docs/performance.md).
  size_t min_blob_bytes = 4096;
};

Result<std::unique_ptr<DocumentStore>> OpenRocksDbDocumentStore(const RocksDbDocumentOptions& options);

// Key layout, exposed for tests and tools that inspect the database directly.
std::string RocksDbDocumentKey(std::string_view user_id, std::string_view timestamp,
                               std::string_view event_id);

}  // namespace eventlogger
