// Which storage backends the integration tests run against, chosen by
// EVENTLOGGER_TEST_BACKEND (CTest registers the HTTP suite once per value):
//   embedded           SQLite + RocksDB in the test's data dir (default)
//   postgres-dynamodb  PostgreSQL (libpq) + dynalite
//   odbc-dynamodb      PostgreSQL through ODBC (psqlODBC) + dynalite
// The real servers come from tests/support/test-servers.sh (scripts/test.sh
// starts them): EVENTLOGGER_TEST_POSTGRES_URL, EVENTLOGGER_TEST_DYNAMODB_ENDPOINT.
// Each test gets its own PostgreSQL schema and DynamoDB table.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <string>

#include "storage/store_factory.h"

namespace eventlogger::testing {

enum class Backend { kEmbedded, kPostgresDynamoDb, kOdbcDynamoDb };

inline Backend CurrentBackend() {
  const char* name = std::getenv("EVENTLOGGER_TEST_BACKEND");
  const std::string value = name == nullptr ? "embedded" : name;
  if (value == "postgres-dynamodb") return Backend::kPostgresDynamoDb;
  if (value == "odbc-dynamodb") return Backend::kOdbcDynamoDb;
  return Backend::kEmbedded;
}

inline std::string RequiredEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    ADD_FAILURE() << name << " is not set: run the tests through scripts/test.sh, which starts "
                  << "PostgreSQL and dynalite (tests/support/test-servers.sh)";
    return {};
  }
  return value;
}

// Fresh store URLs for one test (empty for the embedded backend).
inline StoreUrls BackendUrls() {
  const Backend backend = CurrentBackend();
  if (backend == Backend::kEmbedded) return {};
  // Dummy credentials: dynalite does not check signatures, but we sign anyway.
  ::setenv("AWS_ACCESS_KEY_ID", "AKIDEVENTLOGGERTEST", 0);
  ::setenv("AWS_SECRET_ACCESS_KEY", "eventlogger-test-secret", 0);
  ::setenv("AWS_REGION", "us-east-1", 0);
  static std::mt19937_64 random(std::random_device{}());
  const std::string unique = "t" + std::to_string(random() % 1'000'000'000'000ULL);
  StoreUrls urls;
  const std::string postgres = RequiredEnv("EVENTLOGGER_TEST_POSTGRES_URL");
  if (backend == Backend::kPostgresDynamoDb) {
    urls.metadata = postgres + (postgres.find('?') == std::string::npos ? "?" : "&") + "schema=" + unique;
  } else {
    // postgresql://user@host:port/db → an ODBC connection string for psqlODBC.
    const size_t at = postgres.find('@'), colon = postgres.rfind(':'), slash = postgres.rfind('/');
    const std::string user = postgres.substr(postgres.find("://") + 3, at - postgres.find("://") - 3);
    urls.metadata = "odbc:Driver={PostgreSQL Unicode};Server=" + postgres.substr(at + 1, colon - at - 1) +
                    ";Port=" + postgres.substr(colon + 1, slash - colon - 1) +
                    ";Database=" + postgres.substr(slash + 1) + ";Uid=" + user + ";schema=" + unique + ";";
  }
  urls.documents = "dynamodb://Events_" + unique + "?region=us-east-1&endpoint=" +
                   RequiredEnv("EVENTLOGGER_TEST_DYNAMODB_ENDPOINT");
  return urls;
}

// Creates the schema and table behind `urls` (what `eventlogger migrate` does).
inline void MigrateBackend(const StoreUrls& urls) {
  if (urls.metadata.empty()) return;
  auto metadata = OpenMetadataStore(urls.metadata);
  ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
  ASSERT_TRUE((*metadata)->Migrate().ok());
  auto documents = OpenDocumentStore(urls.documents);
  ASSERT_TRUE(documents.ok()) << documents.status().ToString();
  const Status migrated = (*documents)->Migrate();
  ASSERT_TRUE(migrated.ok()) << migrated.ToString();
}

// For tests that exercise the embedded files or the binary directly: they
// run once, in the embedded pass.
#define EVENTLOGGER_EMBEDDED_ONLY()                                      \
  do {                                                                   \
    if (::eventlogger::testing::CurrentBackend() !=                      \
        ::eventlogger::testing::Backend::kEmbedded) {                    \
      GTEST_SKIP() << "runs in the embedded pass only";                  \
    }                                                                    \
  } while (false)

}  // namespace eventlogger::testing
