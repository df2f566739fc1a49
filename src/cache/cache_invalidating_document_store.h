// CacheInvalidatingDocumentStore: a DocumentStore that tells the read cache
// which users a write touched. It wraps the real store, so every writer (the
// group-commit writer, the retry worker, replays) invalidates without knowing
// that a cache exists.
//
// The cache entry is dropped after the write returns, whatever its status: a
// failed or timed-out write may still have landed (a DynamoDB batch can be
// partly applied), and a spurious invalidation only costs one re-read.
//
// Thread safety: as the wrapped store.
#pragma once

#include <memory>

#include "cache/user_events_cache.h"
#include "storage/document_store.h"

namespace eventlogger {

class CacheInvalidatingDocumentStore final : public DocumentStore {
 public:
  CacheInvalidatingDocumentStore(std::unique_ptr<DocumentStore> store, UserEventsCache& cache)
      : store_(std::move(store)), cache_(cache) {}

  Status WriteBatch(EventBatch events) override;
  Status WriteBatchWithoutSync(EventBatch events) override;
  Status SyncWrites() override { return store_->SyncWrites(); }
  bool ReadsFromMemory() const override { return store_->ReadsFromMemory(); }
  Status ReadUserRange(std::string_view user_id, const UserRangeQuery& query,
                       const std::function<bool(const DocumentView&)>& visit) override {
    return store_->ReadUserRange(user_id, query, visit);
  }
  Status FindEvent(std::string_view user_id, std::string_view event_id,
                   const std::function<void(const DocumentView&)>& visit) override {
    return store_->FindEvent(user_id, event_id, visit);
  }
  Status FindEventAt(std::string_view user_id, const DocumentKey& key,
                     const std::function<void(const DocumentView&)>& visit) override {
    return store_->FindEventAt(user_id, key, visit);
  }
  Status Scan(const ScanFilter& filter, const std::function<bool(const DocumentView&)>& visit) override {
    return store_->Scan(filter, visit);
  }
  // Drops the user's cached page, before (so no read serves it while the
  // erasure runs) and after (a read that raced the erasure cannot put back
  // what it saw).
  Result<int64_t> EraseUserEvents(const UserErasure& erasure, int limit) override;
  Result<int64_t> DeleteExpired(const ExpiryRule& rule, const std::function<bool(std::string_view)>& is_held,
                                int limit) override {
    // A cached answer never outlives the first of its events to expire
    // (CachedAnswer::expires_at_ms), so a sweep leaves the cache valid.
    return store_->DeleteExpired(rule, is_held, limit);
  }
  // Changes no document a read returns: the cache stays valid.
  Result<int64_t> ClearExpiry(std::string_view user_id) override { return store_->ClearExpiry(user_id); }
  size_t MaxDocumentBytes() const override { return store_->MaxDocumentBytes(); }
  Status Migrate() override { return store_->Migrate(); }
  Status CheckSchema() override { return store_->CheckSchema(); }
  Status Ping() override { return store_->Ping(); }
  std::string_view Kind() const override { return store_->Kind(); }

 private:
  void Invalidate(EventBatch events);

  const std::unique_ptr<DocumentStore> store_;
  UserEventsCache& cache_;
};

}  // namespace eventlogger
