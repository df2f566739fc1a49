// The contract of MetadataStore's API-key methods, checked the same way on
// every metadata store (SQLite, PostgreSQL through libpq and through ODBC).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "storage/metadata_store.h"

namespace eventlogger::testing_support {

inline ApiKeyRow ContractKey(std::string id, std::string name, std::string created_at) {
  ApiKeyRow row;
  row.id = std::move(id);
  row.name = std::move(name);
  row.scopes = "events:write events:read";
  row.secret_digest = std::string(64, 'a');
  row.created_at = std::move(created_at);
  return row;
}

// Runs the whole contract on a store holding no keys yet.
inline void CheckApiKeyContract(MetadataStore& store) {
  Result<std::vector<ApiKeyRow>> empty = store.ListApiKeys();
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->empty());

  // Listed oldest first, whatever the insertion order; names keep their
  // bytes (non-ASCII included) and every field comes back as written.
  const ApiKeyRow newer = ContractKey("00000000000000b2", "reporting — nightly", "2026-01-02T03:04:05.600Z");
  ApiKeyRow older = ContractKey("00000000000000a1", "checkout", "2026-01-01T00:00:00.007Z");
  older.scopes = "admin";
  ASSERT_TRUE(store.InsertApiKey(newer).ok());
  ASSERT_TRUE(store.InsertApiKey(older).ok());
  Result<std::vector<ApiKeyRow>> listed = store.ListApiKeys();
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0], older);
  EXPECT_EQ((*listed)[1], newer);

  // An id is taken once.
  const Status again = store.InsertApiKey(ContractKey("00000000000000a1", "other", "2026-01-03T00:00:00.000Z"));
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists) << again.ToString();

  // Use only moves forward.
  ASSERT_TRUE(store.RecordApiKeyUse("00000000000000a1", "2026-02-01T10:00:00.500Z").ok());
  ASSERT_TRUE(store.RecordApiKeyUse("00000000000000a1", "2026-01-15T10:00:00.000Z").ok());
  EXPECT_TRUE(store.RecordApiKeyUse("ffffffffffffffff", "2026-02-01T10:00:00.000Z").ok());

  // Revoking keeps the first revocation time; an unknown id is NotFound.
  ASSERT_TRUE(store.RevokeApiKey("00000000000000b2", "2026-03-01T00:00:00.001Z").ok());
  const Status twice = store.RevokeApiKey("00000000000000b2", "2026-04-01T00:00:00.000Z");
  EXPECT_TRUE(twice.ok()) << twice.ToString();
  EXPECT_EQ(store.RevokeApiKey("ffffffffffffffff", "2026-03-01T00:00:00.000Z").code(), StatusCode::kNotFound);

  listed = store.ListApiKeys();
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].last_used_at, "2026-02-01T10:00:00.500Z");
  EXPECT_EQ((*listed)[0].revoked_at, "");
  EXPECT_EQ((*listed)[1].last_used_at, "");
  EXPECT_EQ((*listed)[1].revoked_at, "2026-03-01T00:00:00.001Z");
  EXPECT_EQ((*listed)[1].name, "reporting — nightly");
}

}  // namespace eventlogger::testing_support
