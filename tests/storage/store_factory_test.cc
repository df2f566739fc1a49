// Tests for opening stores from URLs and for redacting URLs in messages.
//
// The factory is the only place that knows backends by name, and its error
// messages end up in logs, so besides the happy paths the tests check that a
// password in a URL never appears in an error.
#include "storage/store_factory.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

namespace eventlogger {
namespace {

using testing_support::TempDir;

Event MakeEvent() {
  Event event;
  event.event_id = "01890a5d-ac96-774b-bcce-b302099a8057";
  event.user_id = "u";
  event.event_type = "t";
  event.timestamp = "2023-06-30T03:34:18.518Z";  // the instant inside that id
  event.unix_millis = 0x01890a5dac96;
  event.details_json = "{}";
  return event;
}

TEST(ResolveStoreUrlsTest, FillsDefaultsUnderTheDataDir) {
  const StoreUrls urls = ResolveStoreUrls({}, "/var/lib/eventlogger");
  EXPECT_EQ(urls.metadata, "sqlite:///var/lib/eventlogger/metadata.db");
  EXPECT_EQ(urls.documents, "rocksdb:///var/lib/eventlogger/documents");
}

TEST(ResolveStoreUrlsTest, RelativeDataDirGivesRelativeUrls) {
  const StoreUrls urls = ResolveStoreUrls({}, "data");
  EXPECT_EQ(urls.metadata, "sqlite://data/metadata.db");
  EXPECT_EQ(urls.documents, "rocksdb://data/documents");
}

TEST(ResolveStoreUrlsTest, KeepsUrlsThatAreSet) {
  StoreUrls given;
  given.metadata = "postgresql://u:p@db:5432/events";
  StoreUrls urls = ResolveStoreUrls(given, "/data");
  EXPECT_EQ(urls.metadata, "postgresql://u:p@db:5432/events");
  EXPECT_EQ(urls.documents, "rocksdb:///data/documents");

  given = {};
  given.documents = "rocksdb:///elsewhere";
  urls = ResolveStoreUrls(given, "/data");
  EXPECT_EQ(urls.metadata, "sqlite:///data/metadata.db");
  EXPECT_EQ(urls.documents, "rocksdb:///elsewhere");
}

TEST(OpenMetadataStoreTest, OpensSqliteCreatingParentDirectories) {
  TempDir dir;
  const std::string file = dir.path() + "/a/b/metadata.db";
  Result<std::unique_ptr<MetadataStore>> store = OpenMetadataStore("sqlite://" + file);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->Kind(), "sqlite");
  const Event event = MakeEvent();
  const Event* batch[] = {&event};
  ASSERT_TRUE((*store)->WriteBatch(EventBatch(batch)).ok());
  int rows = 0;
  ASSERT_TRUE((*store)->ScanUser("u", [&](const EventMetadata&) { return ++rows, true; }).ok());
  EXPECT_EQ(rows, 1);
  EXPECT_TRUE(std::filesystem::is_regular_file(file));
}

TEST(OpenMetadataStoreTest, SqliteUrlParameterChoosesTheUserIndex) {
  TempDir dir;
  const std::string file = dir.path() + "/metadata.db";
  const auto has_index = [&file] {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE name = 'events_by_user_time'", -1, &st,
                       nullptr);
    EXPECT_EQ(sqlite3_step(st), SQLITE_ROW);
    const int count = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close_v2(db);
    return count == 1;
  };
  for (const auto& [query, expected] : std::vector<std::pair<std::string, bool>>{
           {"?user_index=on", true}, {"", false}, {"?user_index=true", true}, {"?user_index=0", false},
           {"?user_index=1", true}, {"?user_index=off", false}}) {
    Result<std::unique_ptr<MetadataStore>> store = OpenMetadataStore("sqlite://" + file + query);
    ASSERT_TRUE(store.ok()) << query << ": " << store.status().ToString();
    store->reset();
    EXPECT_EQ(has_index(), expected) << query;
  }
  // The query is not part of the file name.
  EXPECT_FALSE(std::filesystem::exists(file + "?user_index=on"));
  for (const char* bad : {"?user_index=maybe", "?userindex=on", "?user_index=on&other=1"}) {
    Result<std::unique_ptr<MetadataStore>> store = OpenMetadataStore("sqlite://" + file + bad);
    ASSERT_FALSE(store.ok()) << bad;
    EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(OpenDocumentStoreTest, OpensRocksDbCreatingParentDirectories) {
  TempDir dir;
  const std::string path = dir.path() + "/x/y/documents";
  Result<std::unique_ptr<DocumentStore>> store = OpenDocumentStore("rocksdb://" + path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->Kind(), "rocksdb");
  const Event event = MakeEvent();
  const Event* batch[] = {&event};
  ASSERT_TRUE((*store)->WriteBatch(EventBatch(batch)).ok());
  int found = 0;
  ASSERT_TRUE((*store)->FindEvent("u", event.event_id, [&](const DocumentView&) { ++found; }).ok());
  EXPECT_EQ(found, 1);
  EXPECT_TRUE(std::filesystem::is_directory(path));
}

TEST(OpenStoreTest, DefaultUrlsOpen) {
  // What a first start with only --data-dir does.
  TempDir dir;
  const StoreUrls urls = ResolveStoreUrls({}, dir.path() + "/fresh");
  Result<std::unique_ptr<MetadataStore>> metadata = OpenMetadataStore(urls.metadata);
  ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
  Result<std::unique_ptr<DocumentStore>> documents = OpenDocumentStore(urls.documents);
  ASSERT_TRUE(documents.ok()) << documents.status().ToString();
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/fresh/metadata.db"));
  EXPECT_TRUE(std::filesystem::is_directory(dir.path() + "/fresh/documents"));
}

TEST(OpenStoreTest, UnknownOrMalformedUrlsAreInvalidArgument) {
  for (const char* url : {"", "mysql://u@h/db", "sqlite:/x", "sqlite:x", "sqlitex:///x",
                          "SQLITE:///x", "sqlite://", "rocksdb:///x", "/plain/path"}) {
    Result<std::unique_ptr<MetadataStore>> store = OpenMetadataStore(url);
    ASSERT_FALSE(store.ok()) << url;
    EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument) << url;
  }
  for (const char* url : {"", "dynamodbx://t", "rocksdb:/x", "rocksdb://", "sqlite:///x",
                          "ROCKSDB:///x", "/plain/path"}) {
    Result<std::unique_ptr<DocumentStore>> store = OpenDocumentStore(url);
    ASSERT_FALSE(store.ok()) << url;
    EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument) << url;
  }
}

TEST(OpenStoreTest, ErrorsNeverShowThePassword) {
  Result<std::unique_ptr<MetadataStore>> metadata =
      OpenMetadataStore("mysql://admin:hunter2@db.internal:3306/events");
  ASSERT_FALSE(metadata.ok());
  EXPECT_EQ(metadata.status().message().find("hunter2"), std::string::npos)
      << metadata.status().message();
  EXPECT_NE(metadata.status().message().find("mysql://admin:***@db.internal:3306/events"),
            std::string::npos)
      << metadata.status().message();
  Result<std::unique_ptr<DocumentStore>> documents =
      OpenDocumentStore("mongodb://admin:hunter2@db.internal/events");
  ASSERT_FALSE(documents.ok());
  EXPECT_EQ(documents.status().message().find("hunter2"), std::string::npos)
      << documents.status().message();
}

TEST(RedactUrlTest, MasksThePassword) {
  EXPECT_EQ(RedactUrl("postgresql://u:secret@h:5432/db"), "postgresql://u:***@h:5432/db");
  EXPECT_EQ(RedactUrl("postgresql://u:secret@h"), "postgresql://u:***@h");
  EXPECT_EQ(RedactUrl("postgresql://u:@h/db"), "postgresql://u:***@h/db");
  EXPECT_EQ(RedactUrl("postgresql://:secret@h/db"), "postgresql://:***@h/db");
  EXPECT_EQ(RedactUrl("redis://u:pa:ss@h:6379"), "redis://u:***@h:6379");
  EXPECT_EQ(RedactUrl("postgresql://u:secret@h/db?sslmode=require"),
            "postgresql://u:***@h/db?sslmode=require");
}

TEST(RedactUrlTest, LeavesUrlsWithoutPasswordAlone) {
  for (const char* url :
       {"postgresql://u@h:5432/db", "postgresql://h:5432/db", "postgresql://h/db",
        "sqlite:///var/lib/a:b/m.db", "sqlite:///data/user@host:x", "rocksdb://rel/p:x@y",
        "dynamodb://table", "no scheme at all", "", "http://h:80/path@x"}) {
    EXPECT_EQ(RedactUrl(url), url);
  }
}

}  // namespace
}  // namespace eventlogger
