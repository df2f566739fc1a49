#include "cache/cache_invalidating_document_store.h"

namespace eventlogger {

Status CacheInvalidatingDocumentStore::WriteBatch(EventBatch events) {
  Status status = store_->WriteBatch(events);
  // After the write: a read that starts later sees the new documents, and a
  // read already under way holds a token this makes stale.
  if (cache_.enabled()) {
    for (const Event* event : events) cache_.Invalidate(event->user_id);
  }
  return status;
}

}  // namespace eventlogger
