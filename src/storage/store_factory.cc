#include "storage/store_factory.h"

#include <filesystem>

#include "storage/dynamodb_document_store.h"
#include "storage/odbc_metadata_store.h"
#include "storage/postgres_metadata_store.h"
#include "storage/rocksdb_document_store.h"
#include "storage/sqlite_metadata_store.h"

namespace eventlogger {
namespace {

// "scheme://rest" → rest, for file-backed schemes; "sqlite:///a/b" → "/a/b".
bool StripScheme(std::string_view url, std::string_view scheme, std::string* path) {
  if (!url.starts_with(scheme) || url.substr(scheme.size(), 3) != "://") return false;
  *path = std::string(url.substr(scheme.size() + 3));
  return true;
}

Status EnsureParentDirectory(const std::string& path, bool path_is_directory) {
  std::error_code ec;
  const std::filesystem::path dir =
      path_is_directory ? std::filesystem::path(path) : std::filesystem::path(path).parent_path();
  if (dir.empty()) return Status::Ok();
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Unavailable("cannot create directory " + dir.string() + ": " + ec.message());
  return Status::Ok();
}

// Splits "PATH?user_index=on" into the path and the options it sets. The
// only parameter is user_index (on/off, true/false, 1/0); anything else is
// refused rather than ignored, so a typo cannot silently change the schema.
Status ParseSqliteQuery(std::string* path, SqliteMetadataOptions* options) {
  const size_t question = path->find('?');
  if (question == std::string::npos) return Status::Ok();
  const std::string query = path->substr(question + 1);
  path->resize(question);
  size_t begin = 0;
  while (begin <= query.size()) {
    size_t end = query.find('&', begin);
    if (end == std::string::npos) end = query.size();
    const std::string pair = query.substr(begin, end - begin);
    begin = end + 1;
    if (pair.empty()) continue;
    const size_t equals = pair.find('=');
    const std::string name = pair.substr(0, equals);
    const std::string value = equals == std::string::npos ? "" : pair.substr(equals + 1);
    if (name != "user_index") {
      return Status::InvalidArgument("unknown sqlite URL parameter '" + name + "' (known: user_index)");
    }
    if (value == "on" || value == "true" || value == "1") {
      options->user_index = true;
    } else if (value == "off" || value == "false" || value == "0") {
      options->user_index = false;
    } else {
      return Status::InvalidArgument("sqlite URL parameter user_index must be on or off, not '" + value + "'");
    }
  }
  return Status::Ok();
}

}  // namespace

StoreUrls ResolveStoreUrls(StoreUrls urls, const std::string& data_dir) {
  const std::filesystem::path dir(data_dir);
  if (urls.metadata.empty()) urls.metadata = "sqlite://" + (dir / "metadata.db").string();
  if (urls.documents.empty()) urls.documents = "rocksdb://" + (dir / "documents").string();
  const bool postgres = urls.metadata.starts_with("postgresql://") || urls.metadata.starts_with("postgres://");
  const bool odbc = urls.metadata.starts_with("odbc:");
  const auto add = [&](std::string_view name, int value) {
    if (value <= 0 || urls.metadata.find(std::string(name) + "=") != std::string::npos) return;
    if (postgres) {
      urls.metadata += urls.metadata.find('?') == std::string::npos ? '?' : '&';
      urls.metadata += std::string(name) + "=" + std::to_string(value);
    } else if (odbc) {
      if (!urls.metadata.ends_with(";")) urls.metadata += ';';
      urls.metadata += std::string(name) + "=" + std::to_string(value) + ";";
    }
  };
  add("pool_size", urls.sql_pool_size);
  add("statement_timeout_ms", urls.sql_statement_timeout_ms);
  return urls;
}

Result<std::unique_ptr<MetadataStore>> OpenMetadataStore(std::string_view url) {
  std::string path;
  if (StripScheme(url, "sqlite", &path)) {
    SqliteMetadataOptions options;
    if (Status s = ParseSqliteQuery(&path, &options); !s.ok()) return s;
    if (path.empty()) return Status::InvalidArgument("sqlite URL has no path: " + RedactUrl(url));
    if (Status s = EnsureParentDirectory(path, false); !s.ok()) return s;
    options.path = path;
    return OpenSqliteMetadataStore(options);
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    Result<PostgresMetadataOptions> options = PostgresMetadataOptionsFromUrl(url);
    if (!options.ok()) return options.status();
    return OpenPostgresMetadataStore(*options);
  }
  if (url.starts_with("odbc:")) {
    Result<OdbcMetadataOptions> options = OdbcMetadataOptionsFromUrl(url);
    if (!options.ok()) return options.status();
    return OpenOdbcMetadataStore(*options);
  }
  return Status::InvalidArgument(
      "unsupported metadata store URL (expected sqlite://, postgresql:// or odbc:…): " + RedactUrl(url));
}

Result<std::unique_ptr<DocumentStore>> OpenDocumentStore(std::string_view url, std::shared_ptr<aws::HttpClient> aws_http,
                                                         DocumentExpiryHooks expiry) {
  std::string path;
  if (StripScheme(url, "rocksdb", &path)) {
    if (path.empty()) return Status::InvalidArgument("rocksdb URL has no path: " + RedactUrl(url));
    if (Status s = EnsureParentDirectory(path, true); !s.ok()) return s;
    return OpenRocksDbDocumentStore({.path = path});
  }
  if (url.starts_with("dynamodb://")) {
    Result<DynamoDbDocumentOptions> options = ParseDynamoDbDocumentUrl(url);
    if (!options.ok()) return options.status();
    options->shared_http = std::move(aws_http);
    options->retention = std::move(expiry.retention);
    options->is_held = std::move(expiry.is_held);
    return OpenDynamoDbDocumentStore(*options);
  }
  return Status::InvalidArgument(
      "unsupported document store URL (expected rocksdb:// or dynamodb://…): " + RedactUrl(url));
}

std::string RedactUrl(std::string_view url) {
  if (url.starts_with("odbc:")) return RedactOdbcConnectionString(url);
  // scheme://user:password@host → scheme://user:***@host
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  const size_t authority = scheme_end + 3;
  const size_t at = url.find('@', authority);
  const size_t slash = url.find('/', authority);
  if (at == std::string_view::npos || (slash != std::string_view::npos && slash < at)) {
    return std::string(url);
  }
  const size_t colon = url.find(':', authority);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  std::string out(url.substr(0, colon + 1));
  out += "***";
  out += url.substr(at);
  return out;
}

}  // namespace eventlogger
