// A base for test fakes of MetadataStore that are about events only: it
// holds no API keys (an empty list, so a service on it enforces none).
#pragma once

#include "storage/metadata_store.h"

namespace eventlogger::testing_support {

class KeylessMetadataStore : public MetadataStore {
 public:
  Status InsertApiKey(const ApiKeyRow&) override { return Status::FailedPrecondition("a keyless fake"); }
  Result<std::vector<ApiKeyRow>> ListApiKeys() override { return std::vector<ApiKeyRow>{}; }
  Status RevokeApiKey(std::string_view, std::string_view) override { return Status::NotFound("a keyless fake"); }
  Status RecordApiKeyUse(std::string_view, std::string_view) override { return Status::Ok(); }
};

}  // namespace eventlogger::testing_support
