#include "cache/cache_invalidating_document_store.h"

namespace eventlogger {

Status CacheInvalidatingDocumentStore::WriteBatch(EventBatch events) {
  Status status = store_->WriteBatch(events);
  Invalidate(events);
  return status;
}

Status CacheInvalidatingDocumentStore::WriteBatchWithoutSync(EventBatch events) {
  Status status = store_->WriteBatchWithoutSync(events);
  Invalidate(events);
  return status;
}

Result<int64_t> CacheInvalidatingDocumentStore::EraseUserEvents(const UserErasure& erasure, int limit) {
  if (cache_.enabled()) cache_.Invalidate(erasure.user_id);
  Result<int64_t> erased = store_->EraseUserEvents(erasure, limit);
  if (cache_.enabled()) cache_.Invalidate(erasure.user_id);
  return erased;
}

void CacheInvalidatingDocumentStore::Invalidate(EventBatch events) {
  // After the write: a read that starts later sees the new documents, and a
  // read already under way holds a token this makes stale.
  if (!cache_.enabled()) return;
  for (const Event* event : events) cache_.Invalidate(event->user_id);
}

}  // namespace eventlogger
