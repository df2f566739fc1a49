// Starts the real service in-process on 127.0.0.1 (port 0) over a fresh data
// directory, and opens the embedded stores' files directly afterwards so
// tests can check what actually reached disk.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <rocksdb/db.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "app/service.h"
#include "core/log.h"
#include "integration/backend.h"
#include "integration/faulty_stores.h"

namespace eventlogger::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "eventlogger-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A metadata row read straight from the SQLite file.
struct MetadataRow {
  std::string event_id, user_id, event_type, timestamp;
};

// A document read straight from the RocksDB directory.
struct DocumentRow {
  std::string user_id, timestamp, event_id, event_type, details_json;
  std::string occurred_at;  // empty when the client gave none
};

inline std::vector<MetadataRow> ReadSqliteRows(const std::filesystem::path& file) {
  std::vector<MetadataRow> rows;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << file;
    sqlite3_close(db);
    return rows;
  }
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT event_id, user_id, event_type, timestamp FROM events "
                     "ORDER BY user_id, timestamp, event_id",
                     -1, &st, nullptr);
  while (sqlite3_step(st) == SQLITE_ROW) {
    const auto text = [st](int i) { return std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, i))); };
    rows.push_back({text(0), text(1), text(2), text(3)});
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rows;
}

// Decodes the documented key/value layout independently of the store code.
inline std::vector<DocumentRow> ReadRocksDbRows(const std::filesystem::path& dir) {
  std::vector<DocumentRow> rows;
  rocksdb::DB* raw = nullptr;
  rocksdb::Options options;
  const rocksdb::Status s = rocksdb::DB::OpenForReadOnly(options, dir.string(), &raw);
  if (!s.ok()) {
    ADD_FAILURE() << "cannot open " << dir << ": " << s.ToString();
    return rows;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string key = it->key().ToString();
    const std::string value = it->value().ToString();
    const size_t nul = key.find('\0');
    DocumentRow row;
    row.user_id = key.substr(0, nul);
    row.timestamp = key.substr(nul + 1, 24);
    row.event_id = key.substr(nul + 25);
    // Format 1: [1][type length][type][details]; format 2 carries a
    // client's occurredAt (24 bytes) between the type and the details.
    const size_t type_length = static_cast<unsigned char>(value[1]);
    const size_t occurred_length = value[0] == 2 ? 24 : 0;
    row.event_type = value.substr(2, type_length);
    row.occurred_at = value.substr(2 + type_length, occurred_length);
    row.details_json = value.substr(2 + type_length + occurred_length);
    rows.push_back(row);
  }
  return rows;
}

// Pending entries in an outbox file (read-only; works while the service runs).
inline int64_t ReadOutboxPending(const std::filesystem::path& file) {
  sqlite3* db = nullptr;
  int64_t pending = -1;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM outbox WHERE state = 'pending'", -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      pending = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return pending;
}

class ServiceFixture : public ::testing::Test {
 protected:
  // Override to adjust options before the service starts.
  virtual void Configure(ServiceOptions& /*options*/) {}

  void SetUp() override {
    options_.stores = BackendUrls();
    MigrateBackend(options_.stores);
    options_.data_dir = dir_.path().string();
    options_.http.host = "127.0.0.1";
    options_.http.port = 0;
    options_.http.io_threads = 2;
    options_.http.access_log = false;
    // A fixed secret, as a deployment has: cursors survive a restart.
    options_.cursor_secret = "integration-test-cursor-secret";
    log::SetMinimumLevel(log::Level::kWarn);
    Configure(options_);
    StartService();
  }
  void TearDown() override { StopService(); }

  void StartService() {
    Result<std::unique_ptr<Service>> service = Service::Start(options_);
    ASSERT_TRUE(service.ok()) << service.status().ToString();
    service_ = std::move(*service);
    port_ = service_->endpoint().port();
  }
  // Restarts the service on the same stores with the document store wrapped
  // by a fault injector the test controls.
  void RestartWithFaultyDocumentStore(Fault& fault) {
    StopService();
    const StoreUrls urls = ResolveStoreUrls(options_.stores, options_.data_dir);
    auto metadata = OpenMetadataStore(urls.metadata);
    ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
    auto documents = OpenDocumentStore(urls.documents);
    ASSERT_TRUE(documents.ok()) << documents.status().ToString();
    auto service = Service::StartWithStores(options_, std::move(*metadata),
                                            std::make_unique<FaultyDocumentStore>(std::move(*documents), fault));
    ASSERT_TRUE(service.ok()) << service.status().ToString();
    service_ = std::move(*service);
    port_ = service_->endpoint().port();
  }
  // Stops the service so that the store files can be opened directly.
  void StopService() {
    if (service_) service_->Stop();
    service_.reset();
  }

  // What reached the stores: for the embedded backend read straight from
  // the files (independently of the store code), for the others through a
  // freshly opened store.
  std::vector<MetadataRow> MetadataRows() const {
    if (options_.stores.metadata.empty()) return ReadSqliteRows(dir_.path() / "metadata.db");
    std::vector<MetadataRow> rows;
    auto store = OpenMetadataStore(options_.stores.metadata);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return rows;
    const Status s = (*store)->Scan({}, [&rows](const EventMetadata& m) {
      rows.push_back({m.event_id, m.user_id, m.event_type, m.timestamp});
      return true;
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return rows;
  }
  std::vector<DocumentRow> DocumentRows() const {
    if (options_.stores.documents.empty()) return ReadRocksDbRows(dir_.path() / "documents");
    std::vector<DocumentRow> rows;
    auto store = OpenDocumentStore(options_.stores.documents);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return rows;
    const Status s = (*store)->Scan({}, [&rows](const DocumentView& d) {
      rows.push_back({std::string(d.user_id), std::string(d.timestamp), std::string(d.event_id),
                      std::string(d.event_type), std::string(d.details_json)});
      return true;
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return rows;
  }

  TempDir dir_;
  ServiceOptions options_;
  std::unique_ptr<Service> service_;
  uint16_t port_ = 0;
};

}  // namespace eventlogger::testing
