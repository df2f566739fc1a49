// Opening stores from URLs, so the rest of the service never names a backend.
//
//   metadata:  sqlite:///absolute/path/metadata.db   (or sqlite://relative/path)
//              postgresql://user:pass@host:port/db?sslmode=…&pool_size=…&schema=…
//              odbc:Driver={…};Server=…;…   (or odbc:DSN=name;…)
//   documents: rocksdb:///absolute/path/documents    (or rocksdb://relative/path)
//              dynamodb://TableName?region=eu-west-1[&endpoint=http://127.0.0.1:8000]
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "aws/http_client.h"
#include "core/status.h"
#include "privacy/retention_policy.h"
#include "storage/document_store.h"
#include "storage/metadata_store.h"

namespace eventlogger {

struct StoreUrls {
  std::string metadata;   // empty: sqlite under the data dir
  std::string documents;  // empty: rocksdb under the data dir
  // Defaults for SQL servers (PostgreSQL, ODBC) when the URL does not set
  // them itself (pool_size=, statement_timeout_ms=); 0 keeps the backend's.
  int sql_pool_size = 0;
  int sql_statement_timeout_ms = 0;
};

// Fills empty URLs with the embedded defaults under `data_dir`, and adds the
// SQL defaults to a postgresql:// or odbc: URL that does not set them.
StoreUrls ResolveStoreUrls(StoreUrls urls, const std::string& data_dir);

Result<std::unique_ptr<MetadataStore>> OpenMetadataStore(std::string_view url);
// What a store that expires documents on its own (DynamoDB's TTL) needs to
// stamp them at write: the retention rules, and who is under a legal hold
// (their documents get no expiry). Other stores ignore it.
struct DocumentExpiryHooks {
  std::shared_ptr<const RetentionPolicy> retention;
  std::function<bool(std::string_view user_id)> is_held;
};

// `aws_http`, when given, is the AWS HTTP client a dynamodb:// store shares
// with the process's other AWS clients.
Result<std::unique_ptr<DocumentStore>> OpenDocumentStore(std::string_view url,
                                                         std::shared_ptr<aws::HttpClient> aws_http = nullptr,
                                                         DocumentExpiryHooks expiry = {});

// The URL with any password replaced by "***", for logs and error messages.
std::string RedactUrl(std::string_view url);

}  // namespace eventlogger
