// LegalHolds: places and releases legal holds (PUT/DELETE
// /users/{userId}/hold). While a user is held, neither erasure nor
// retention removes any of their events: an erasure request is refused
// (409), a job that was already accepted stops before deleting more, and
// retention sweeps, reads and DynamoDB's own TTL skip the user.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"
#include "privacy/privacy_registry.h"
#include "storage/document_store.h"
#include "storage/metadata_store.h"

namespace eventlogger {

class LegalHolds {
 public:
  LegalHolds(MetadataStore& metadata, DocumentStore& documents, PrivacyRegistry& registry, const Clock& clock)
      : metadata_(metadata), documents_(documents), registry_(registry), clock_(clock) {}

  // Places (or re-places, with the new reason) a hold; the row stored. Takes
  // the expiry off the user's documents in stores that expire them on their
  // own, so no TTL removes a held user's events.
  Result<LegalHoldRow> Place(std::string_view user_id, std::string_view reason);
  // NotFound when the user is not held. The user's events become subject
  // to retention again (DynamoDB's TTL excepted: the sweep covers them).
  Status Release(std::string_view user_id);
  // nullopt when the user is not held.
  Result<std::optional<LegalHoldRow>> Find(std::string_view user_id);

 private:
  MetadataStore& metadata_;
  DocumentStore& documents_;
  PrivacyRegistry& registry_;
  const Clock& clock_;
};

}  // namespace eventlogger
