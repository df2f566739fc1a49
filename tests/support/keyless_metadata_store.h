// A base for test fakes of MetadataStore that are about events only: it
// holds no API keys (an empty list, so a service on it enforces none), no
// legal holds and no erasure jobs, and erases nothing.
#pragma once

#include "storage/metadata_store.h"

namespace eventlogger::testing_support {

class KeylessMetadataStore : public MetadataStore {
 public:
  Status InsertApiKey(const ApiKeyRow&) override { return Status::FailedPrecondition("a keyless fake"); }
  Result<std::vector<ApiKeyRow>> ListApiKeys() override { return std::vector<ApiKeyRow>{}; }
  Status RevokeApiKey(std::string_view, std::string_view) override { return Status::NotFound("a keyless fake"); }
  Status RecordApiKeyUse(std::string_view, std::string_view) override { return Status::Ok(); }
  Result<int64_t> EraseUserEvents(const UserErasure&, int) override { return Status::FailedPrecondition("a keyless fake"); }
  Result<int64_t> DeleteExpired(const ExpiryRule&, int) override { return Status::FailedPrecondition("a keyless fake"); }
  Status PutLegalHold(const LegalHoldRow&) override { return Status::FailedPrecondition("a keyless fake"); }
  Status DeleteLegalHold(std::string_view) override { return Status::NotFound("a keyless fake"); }
  Result<std::vector<LegalHoldRow>> ListLegalHolds() override { return std::vector<LegalHoldRow>{}; }
  Status InsertErasureJob(const ErasureJobRow&) override { return Status::FailedPrecondition("a keyless fake"); }
  Status UpdateErasureJob(const ErasureJobRow&) override { return Status::NotFound("a keyless fake"); }
  Result<ErasureJobRow> FindErasureJob(std::string_view) override { return Status::NotFound("a keyless fake"); }
  Result<std::vector<ErasureJobRow>> ListErasureJobs(std::string_view) override { return std::vector<ErasureJobRow>{}; }
};

}  // namespace eventlogger::testing_support
