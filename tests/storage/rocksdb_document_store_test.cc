// Tests for the RocksDB DocumentStore, each in a fresh temporary directory.
//
// The read path answers GET /events/{userId} with one range scan, so the key
// layout carries the correctness: a user's range must hold exactly that
// user's documents (even when another userId has it as a prefix), in
// (timestamp, eventId) order. After the store is closed the raw keys and
// values are checked with RocksDB itself, so a change of layout, which would
// strand existing data, fails loudly.
#include "storage/rocksdb_document_store.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/table_properties.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/event.h"
#include "core/timestamp.h"
#include "core/uuid.h"
#include "storage/client_time_contract.h"
#include "storage/privacy_document_contract.h"
#include "storage/user_range_contract.h"
#include "support/events.h"
#include "support/temp_dir.h"

namespace eventlogger {
namespace {

using testing_support::EventFactory;

using testing_support::TempDir;


constexpr int64_t kT0 = 1751207565123;  // 2025-06-29T14:32:45.123Z

Status Write(DocumentStore& store, const std::vector<Event>& events) {
  std::vector<const Event*> pointers;
  for (const Event& e : events) pointers.push_back(&e);
  return store.WriteBatch(EventBatch(pointers));
}

// An owning copy of a DocumentView, which is only valid inside the callback.
struct Document {
  std::string user_id, event_id, event_type, timestamp, details_json;
  explicit Document(const DocumentView& v)
      : user_id(v.user_id),
        event_id(v.event_id),
        event_type(v.event_type),
        timestamp(v.timestamp),
        details_json(v.details_json) {}
};

std::vector<Document> ScanAll(DocumentStore& store, std::string_view user_id) {
  std::vector<Document> documents;
  const Status status = store.ScanUser(user_id, [&](const DocumentView& view) {
    documents.emplace_back(view);
    return true;
  });
  EXPECT_TRUE(status.ok()) << status.ToString();
  return documents;
}

std::vector<std::string> EventIds(const std::vector<Document>& documents) {
  std::vector<std::string> ids;
  for (const auto& d : documents) ids.push_back(d.event_id);
  return ids;
}

// Writes `events`, `batch_size` at a time, into a store with a 1 MiB
// memtable, so that a few MB go through several flushes; then closes it.
void WriteThroughSmallMemtable(const std::string& path, const std::vector<Event>& events,
                               size_t batch_size) {
  Result<std::unique_ptr<DocumentStore>> store =
      OpenRocksDbDocumentStore({.path = path, .write_buffer_bytes = 1u << 20});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  for (size_t begin = 0; begin < events.size(); begin += batch_size) {
    const size_t end = std::min(events.size(), begin + batch_size);
    const std::vector<Event> batch(events.begin() + static_cast<std::ptrdiff_t>(begin),
                                   events.begin() + static_cast<std::ptrdiff_t>(end));
    ASSERT_TRUE(Write(**store, batch).ok());
  }
}

size_t CountFiles(const std::string& directory, const std::string& extension) {
  size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    if (entry.path().extension() == extension) ++count;
  }
  return count;
}

// The options RocksDB recorded for the database at `path` (its newest
// OPTIONS file): what the store really opened it with.
std::string RecordedOptions(const std::string& path) {
  std::string newest_name, text;
  for (const auto& entry : std::filesystem::directory_iterator(path)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("OPTIONS-", 0) != 0 || name < newest_name) continue;
    newest_name = name;
    std::ifstream in(entry.path());
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return text;
}

// Writes `count` events over `users` users, each with about 1 KB of highly
// compressible details, through a 1 MiB memtable: a flushed file for about
// every thousand events.
void WritePaddedEvents(const std::string& path, int count, int users) {
  EventFactory factory;
  std::vector<Event> events;
  for (int i = 0; i < count; ++i) {
    events.push_back(factory.Make("user-" + std::to_string(i % users), kT0 + i, "t",
                                  R"({"i":)" + std::to_string(i) + R"(,"pad":")" + std::string(1000, 'p') + R"("})"));
  }
  WriteThroughSmallMemtable(path, events, 50);
}

// The closed database at `path`, opened read-only as a tool inspecting it would.
std::unique_ptr<rocksdb::DB> OpenReadOnly(const std::string& path) {
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status opened = rocksdb::DB::OpenForReadOnly(rocksdb::Options(), path, &raw);
  EXPECT_TRUE(opened.ok()) << opened.ToString();
  return std::unique_ptr<rocksdb::DB>(opened.ok() ? raw : nullptr);
}

std::unique_ptr<DocumentStore> OpenOrDie(const std::string& path) {
  Result<std::unique_ptr<DocumentStore>> store = OpenRocksDbDocumentStore({.path = path});
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

TEST(RocksDbDocumentStoreTest, KindIsRocksDb) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("docs"));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Kind(), "rocksdb");
}

TEST(RocksDbDocumentStoreTest, ScanUserReturnsTimestampThenEventIdOrder) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("docs"));
  ASSERT_NE(store, nullptr);
  EventFactory factory;
  const Event early = factory.Make("u", kT0 - 86'400'000, "early", R"({"n":0})");
  const Event same_ms_1 = factory.Make("u", kT0, "first", R"({"n":1})");
  const Event same_ms_2 = factory.Make("u", kT0, "second", R"({"n":2})");
  const Event late = factory.Make("u", kT0 + 1000, "late", R"({"n":3})");
  ASSERT_LT(same_ms_1.event_id, same_ms_2.event_id);
  // Written newest first, in two batches.
  ASSERT_TRUE(Write(*store, {late, same_ms_2}).ok());
  ASSERT_TRUE(Write(*store, {same_ms_1, early}).ok());

  const std::vector<Document> documents = ScanAll(*store, "u");
  EXPECT_EQ(EventIds(documents), (std::vector<std::string>{early.event_id, same_ms_1.event_id,
                                                           same_ms_2.event_id, late.event_id}));
  ASSERT_EQ(documents.size(), 4u);
  EXPECT_EQ(documents[1].user_id, "u");
  EXPECT_EQ(documents[1].event_type, "first");
  EXPECT_EQ(documents[1].timestamp, same_ms_1.timestamp);
  EXPECT_EQ(documents[1].details_json, R"({"n":1})");
  EXPECT_EQ(documents[0].timestamp, "2025-06-28T14:32:45.123Z");
}

TEST(RocksDbDocumentStoreTest, InterleavedUsersAndLateArrivalsStaySorted) {
  // The memtable starts each insert where the same user's last one went.
  // Users whose ids prefix one another, batches that mix them, and events
  // that arrive after later ones (replays, retries) must still land in
  // order and in their own user's range.
  TempDir dir;
  auto store = OpenOrDie(dir.File("docs"));
  ASSERT_NE(store, nullptr);
  const std::vector<std::string> users = {"a", "ab", "a b", "b", "ba"};
  EventFactory factory;
  std::map<std::string, std::vector<Event>> by_user;
  std::vector<Event> all;
  for (int i = 0; i < 400; ++i) {
    const std::string& user = users[(i * 7) % users.size()];
    Event event = factory.Make(user, kT0 + i / 3);
    by_user[user].push_back(event);
    all.push_back(std::move(event));
  }
  // Batches of 16 in a shuffled order: each batch mixes users, and a user's
  // later events often arrive before earlier ones.
  std::vector<std::vector<Event>> batches;
  for (size_t i = 0; i < all.size(); i += 16) {
    batches.emplace_back(all.begin() + i, all.begin() + std::min(all.size(), i + 16));
  }
  for (size_t i = 0; i < batches.size(); ++i) {
    ASSERT_TRUE(Write(*store, batches[(i * 11) % batches.size()]).ok());
  }
  for (const auto& [user, events] : by_user) {
    std::vector<std::string> expected;
    for (const Event& e : events) expected.push_back(e.event_id);
    const std::vector<Document> documents = ScanAll(*store, user);
    EXPECT_EQ(EventIds(documents), expected) << user;
    for (const Document& d : documents) EXPECT_EQ(d.user_id, user);
  }
}

TEST(RocksDbDocumentStoreTest, UsersWhoseIdsArePrefixesOfEachOtherStaySeparate) {
  // "a" must not see "ab", "a b", "a\x01" (adjacent to the 0x00 terminator)
  // or "a\xC3\xA9"; and those must not see "a".
  TempDir dir;
  auto store = OpenOrDie(dir.File("docs"));
  ASSERT_NE(store, nullptr);
  EventFactory factory;
  const std::vector<std::string> users = {"a",         "ab", "a b", std::string("a\x01"),
                                          "a\xC3\xA9", "A",  "b",   "`"};
  std::map<std::string, std::vector<std::string>> expected;
  std::vector<Event> events;
  for (int round = 0; round < 3; ++round) {
    for (const std::string& user : users) {
      events.push_back(factory.Make(user, kT0 + round));
      expected[user].push_back(events.back().event_id);
    }
  }
  ASSERT_TRUE(Write(*store, events).ok());
  for (const std::string& user : users) {
    SCOPED_TRACE(testing::PrintToString(user));
    const std::vector<Document> documents = ScanAll(*store, user);
    EXPECT_EQ(EventIds(documents), expected[user]);
    for (const auto& d : documents) EXPECT_EQ(d.user_id, user);
  }
  EXPECT_TRUE(ScanAll(*store, "nobody").empty());
  EXPECT_TRUE(ScanAll(*store, "").empty());
}

TEST(RocksDbDocumentStoreTest, ScanUserStopsWhenVisitReturnsFalse) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("docs"));
  ASSERT_NE(store, nullptr);
  EventFactory factory;
  std::vector<Event> events;
  for (int i = 0; i < 10; ++i) events.push_back(factory.Make("u", kT0 + i));
  ASSERT_TRUE(Write(*store, events).ok());
  int visited = 0;
  const Status status = store->ScanUser("u", [&](const DocumentView&) { return ++visited < 4; });
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(visited, 4);
}

TEST(RocksDbDocumentStoreTest, ReadUserRangeKeepsTheContract) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("docs"));
  ASSERT_NE(store, nullptr);
  testing_support::UserRangeContract contract;
  contract.WriteTo(*store);
  contract.CheckEdges(*store);
  for (const size_t page : {1, 7, 100}) contract.CheckWalks(*store, page);
}

// Reads the user "u" with or without memory_only: the status, and how many
// documents the visitor saw before it.
std::pair<Status, size_t> ReadU(DocumentStore& store, bool memory_only) {
  UserRangeQuery query;
  query.memory_only = memory_only;
  size_t seen = 0;
  Status status = store.ReadUserRange("u", query, [&](const DocumentView&) {
    ++seen;
    return true;
  });
  return {std::move(status), seen};
}

// A read asked to stay in memory stops with WouldBlock where it would read
// a file, and reads in full once the blocks are in the cache.
TEST(RocksDbDocumentStoreTest, AMemoryOnlyReadStopsWhereItWouldReadAFile) {
  TempDir dir;
  EventFactory factory;
  std::vector<Event> events;
  for (int i = 0; i < 50; ++i) events.push_back(factory.Make("u", kT0 + i, "view", R"({"n":1})"));
  {
    auto store = OpenOrDie(dir.File("docs"));
    ASSERT_TRUE(store->ReadsFromMemory());
    ASSERT_TRUE(Write(*store, events).ok());
    // In the memtable: read from memory.
    const auto [status, seen] = ReadU(*store, /*memory_only=*/true);
    ASSERT_TRUE(status.ok()) << status.ToString();
    EXPECT_EQ(seen, events.size());
  }
  // Reopened: the recovery flushed the documents to a file, and the block
  // cache is new and empty.
  auto store = OpenOrDie(dir.File("docs"));
  const auto [blocked, seen_blocked] = ReadU(*store, /*memory_only=*/true);
  EXPECT_EQ(blocked.code(), StatusCode::kWouldBlock) << blocked.ToString();
  EXPECT_LT(seen_blocked, events.size());
  const auto [read, seen_read] = ReadU(*store, /*memory_only=*/false);
  ASSERT_TRUE(read.ok()) << read.ToString();
  EXPECT_EQ(seen_read, events.size());
  // The blocks are cached now.
  const auto [cached, seen_cached] = ReadU(*store, /*memory_only=*/true);
  ASSERT_TRUE(cached.ok()) << cached.ToString();
  EXPECT_EQ(seen_cached, events.size());
}

TEST(RocksDbDocumentStoreTest, ClientTimedEventsKeepTheContract) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("docs"));
  ASSERT_NE(store, nullptr);
  testing_support::CheckClientTimedDocuments(*store, "late-user");
}

TEST(RocksDbDocumentStoreTest, ErasureKeepsTheContract) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("docs"));
  ASSERT_NE(store, nullptr);
  testing_support::CheckErasureKeepsWhatWasReceivedLater(*store);
  testing_support::CheckErasureInSteps(*store, "stepwise-7", 7);
  testing_support::CheckErasureInSteps(*store, "stepwise-30", 30);
}

TEST(RocksDbDocumentStoreTest, ExpirySweepsKeepTheContract) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("docs"));
  ASSERT_NE(store, nullptr);
  testing_support::CheckDeleteExpired(*store);
  // No expiry of its own to clear: the sweep is all there is.
  Result<int64_t> cleared = store->ClearExpiry("alice");
  ASSERT_TRUE(cleared.ok());
  EXPECT_EQ(*cleared, 0);
}

TEST(RocksDbDocumentStoreTest, ErasureSurvivesReopenAndWritesRangeTombstones) {
  TempDir dir;
  const int64_t cutoff = kT0 + 100;
  {
    auto store = OpenOrDie(dir.File("docs"));
    ASSERT_NE(store, nullptr);
    EventFactory factory;
    std::vector<Event> events;
    events.reserve(101);
    for (int i = 0; i < 100; ++i) events.push_back(factory.Make("gone", kT0 + i));
    events.push_back(testing_support::ClientTimedEvent(factory, "gone", cutoff + 1, kT0 + 50, "kept"));
    ASSERT_TRUE(Write(*store, events).ok());
    Result<int64_t> erased = store->EraseUserEvents(testing_support::ErasureUntil("gone", cutoff), 1000);
    ASSERT_TRUE(erased.ok()) << erased.status().ToString();
    EXPECT_EQ(*erased, 100);
  }
  // Two runs around the kept event: two range tombstones, no point
  // deletes. Flushed first, so that the table files show them.
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir.File("docs"), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Flush(rocksdb::FlushOptions()).ok());
    uint64_t deletions = 0, range_deletions = 0;
    rocksdb::TablePropertiesCollection files;
    ASSERT_TRUE(db->GetPropertiesOfAllTables(&files).ok());
    for (const auto& [name, properties] : files) {
      deletions += properties->num_deletions;
      range_deletions += properties->num_range_deletions;
    }
    EXPECT_EQ(range_deletions, 2u);
    EXPECT_EQ(deletions - range_deletions, 0u);  // num_deletions may count range tombstones too
  }
  auto store = OpenOrDie(dir.File("docs"));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(testing_support::DetailsOf(*store, "gone"), std::vector<std::string>{testing_support::Named("kept")});
}

// The writer adds documents received after the cutoff, each sorting right
// after an erasable one (same timestamp, later eventId), while erasures of
// the same user run: a range tombstone written over a document it did not
// see would delete it.
TEST(RocksDbDocumentStoreTest, ErasureNeverDeletesDocumentsWrittenDuringIt) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("docs"));
  ASSERT_NE(store, nullptr);
  constexpr int kEvents = 3000;
  constexpr int kLimit = 40;
  const std::string user = "racing";
  const int64_t cutoff = kT0 + kEvents;
  EventFactory factory;
  std::vector<Event> erasable, written_during;
  for (int i = 0; i < kEvents; ++i) erasable.push_back(factory.Make(user, kT0 + i));
  for (int i = 0; i < kEvents; ++i) {
    written_during.push_back(
        testing_support::ClientTimedEvent(factory, user, cutoff + 1 + i, kT0 + i, "during" + std::to_string(i)));
  }
  ASSERT_TRUE(Write(*store, erasable).ok());

  std::atomic<bool> erasing_done{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    // Unsynced, as the request path writes: fast enough to land between
    // every scan and its tombstones.
    for (const Event& event : written_during) {
      const Event* batch[] = {&event};
      ASSERT_TRUE(store->WriteBatchWithoutSync(batch).ok());
      written.fetch_add(1);
      if (erasing_done.load()) break;
    }
  });
  int64_t erased = 0;
  for (int call = 0; call < 1000; ++call) {
    Result<int64_t> count = store->EraseUserEvents(testing_support::ErasureUntil(user, cutoff), kLimit);
    ASSERT_TRUE(count.ok()) << count.status().ToString();
    erased += *count;
    if (*count < kLimit) break;
  }
  erasing_done.store(true);
  writer.join();
  EXPECT_EQ(erased, kEvents);
  const std::vector<std::string> left = testing_support::DetailsOf(*store, user);
  ASSERT_EQ(left.size(), static_cast<size_t>(written.load()));
  for (size_t i = 0; i < left.size(); ++i) EXPECT_EQ(left[i], testing_support::Named("during" + std::to_string(i)));
}

TEST(RocksDbDocumentStoreTest, ExpirySweepSkipsHeldUsersWithoutReadingThem) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("docs"));
  ASSERT_NE(store, nullptr);
  EventFactory factory;
  std::vector<Event> events;
  for (int64_t i = 0; i < 50; ++i) {
    events.push_back(factory.Make("free", kT0 + i * 10));
    events.push_back(factory.Make("held", kT0 + i * 10 + 1));
  }
  ASSERT_TRUE(Write(*store, events).ok());
  std::map<std::string, int> asked;
  const auto is_held = [&asked](std::string_view user) {
    ++asked[std::string(user)];
    return user == "held";
  };
  const int64_t before = kT0 + 1000;
  const ExpiryRule rule{{}, {}, FormatTimestamp(before), before};
  Result<int64_t> swept = store->DeleteExpired(rule, is_held, 1000);
  ASSERT_TRUE(swept.ok()) << swept.status().ToString();
  EXPECT_EQ(*swept, 50);
  // Once per user and call, not per document.
  EXPECT_EQ(asked, (std::map<std::string, int>{{"free", 1}, {"held", 1}}));
  EXPECT_EQ(ScanAll(*store, "held").size(), 50u);
  EXPECT_TRUE(ScanAll(*store, "free").empty());
}

TEST(RocksDbDocumentStoreTest, FindEventByUserAndEventId) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("docs"));
  ASSERT_NE(store, nullptr);
  EventFactory factory;
  const Event target = factory.Make("u1", kT0, "purchase", R"({"amount":12.50})");
  const Event neighbour = factory.Make("u1", kT0);  // same millisecond
  const Event other_user = factory.Make("u2", kT0);
  ASSERT_TRUE(Write(*store, {target, neighbour, other_user}).ok());

  int calls = 0;
  Status status = store->FindEvent("u1", target.event_id, [&](const DocumentView& view) {
    ++calls;
    EXPECT_EQ(view.user_id, "u1");
    EXPECT_EQ(view.event_id, target.event_id);
    EXPECT_EQ(view.event_type, "purchase");
    EXPECT_EQ(view.timestamp, target.timestamp);
    EXPECT_EQ(view.details_json, R"({"amount":12.50})");
  });
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(calls, 1);

  const auto not_found = [&](std::string_view user, std::string_view id) {
    int visits = 0;
    const Status s = store->FindEvent(user, id, [&](const DocumentView&) { ++visits; });
    EXPECT_EQ(visits, 0) << user << " " << id;
    return s.code() == StatusCode::kNotFound;
  };
  // Another user's event is not found under this user, nor the reverse.
  EXPECT_TRUE(not_found("u2", target.event_id));
  EXPECT_TRUE(not_found("u1", other_user.event_id));
  EXPECT_TRUE(not_found("u", target.event_id));  // a prefix of the owner
  // Well-formed but unknown v7 id.
  EXPECT_TRUE(not_found("u1", factory.Make("u1", kT0).event_id));
  // Not a v7 id: a v4 UUID, and text that is no UUID at all.
  EXPECT_TRUE(not_found("u1", "f47ac10b-58cc-4372-a567-0e02b2c3d479"));
  std::string as_v4 = target.event_id;
  as_v4[14] = '4';  // same bytes, version nibble 4
  EXPECT_TRUE(not_found("u1", as_v4));
  EXPECT_TRUE(not_found("u1", "not-a-uuid"));
  EXPECT_TRUE(not_found("u1", ""));
}

TEST(RocksDbDocumentStoreTest, RewritingAnEventLeavesOneDocument) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("docs"));
  ASSERT_NE(store, nullptr);
  EventFactory factory;
  const Event event = factory.Make("u", kT0, "t", R"({"v":1})");
  ASSERT_TRUE(Write(*store, {event}).ok());
  ASSERT_TRUE(Write(*store, {event}).ok());
  ASSERT_TRUE(Write(*store, {event, event}).ok());
  const std::vector<Document> documents = ScanAll(*store, "u");
  ASSERT_EQ(documents.size(), 1u);
  EXPECT_EQ(documents[0].event_id, event.event_id);
  EXPECT_EQ(documents[0].details_json, R"({"v":1})");
}

TEST(RocksDbDocumentStoreTest, DataSurvivesCloseAndReopen) {
  TempDir dir;
  const std::string path = dir.File("docs");
  EventFactory factory;
  const Event first = factory.Make("u", kT0, "t", R"({"k":"v"})");
  const Event second = factory.Make("u", kT0 + 1);
  {
    auto store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(Write(*store, {first, second}).ok());
  }
  auto reopened = OpenOrDie(path);
  ASSERT_NE(reopened, nullptr);
  const std::vector<Document> documents = ScanAll(*reopened, "u");
  EXPECT_EQ(EventIds(documents), (std::vector<std::string>{first.event_id, second.event_id}));
  ASSERT_FALSE(documents.empty());
  EXPECT_EQ(documents[0].details_json, R"({"k":"v"})");
  EXPECT_TRUE(reopened->FindEvent("u", first.event_id, [](const DocumentView&) {}).ok());
}

TEST(RocksDbDocumentStoreTest, RawKeyAndValueLayout) {
  TempDir dir;
  const std::string path = dir.File("docs");
  EventFactory factory;
  const Event a = factory.Make("user-1", kT0, "page.view", R"({"x":[1,2]})");
  const Event b = factory.Make("user-2", kT0 + 5, "t", "{}");
  {
    auto store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(Write(*store, {a, b}).ok());
  }

  // The documented layout, spelled out independently of RocksDbDocumentKey.
  const std::string expected_key_a = "user-1" + std::string(1, '\0') + a.timestamp + a.event_id;
  EXPECT_EQ(RocksDbDocumentKey(a.user_id, a.timestamp, a.event_id), expected_key_a);
  EXPECT_EQ(expected_key_a.size(), 6 + 1 + 24 + 36u);

  rocksdb::DB* raw = nullptr;
  const rocksdb::Status opened = rocksdb::DB::OpenForReadOnly(rocksdb::Options(), path, &raw);
  ASSERT_TRUE(opened.ok()) << opened.ToString();
  std::unique_ptr<rocksdb::DB> db(raw);
  std::map<std::string, std::string> contents;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    contents.emplace(it->key().ToString(), it->value().ToString());
  }
  ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  it.reset();

  const std::string value_a =
      std::string(1, '\x01') + std::string(1, '\x09') + "page.view" + R"({"x":[1,2]})";
  const std::string value_b = std::string(1, '\x01') + std::string(1, '\x01') + "t" + "{}";
  const std::map<std::string, std::string> expected = {
      {expected_key_a, value_a},
      {RocksDbDocumentKey(b.user_id, b.timestamp, b.event_id), value_b},
  };
  EXPECT_EQ(contents, expected);
}

TEST(RocksDbDocumentStoreTest, LargeDocumentsLiveInBlobFilesAndReadBackExactly) {
  TempDir dir;
  const std::string path = dir.File("docs");
  EventFactory factory;
  std::vector<Event> events;
  for (int i = 0; i < 240; ++i) {
    // 5 KiB to 20 KiB of details (above min_blob_bytes), each one different.
    const std::string filler(5000 + 60 * i, static_cast<char>('a' + i % 26));
    events.push_back(factory.Make("user-" + std::to_string(i % 3), kT0 + i, "t",
                                  R"({"i":)" + std::to_string(i) + R"(,"f":")" + filler + R"("})"));
  }
  ASSERT_NO_FATAL_FAILURE(WriteThroughSmallMemtable(path, events, 20));  // 2.9 MB: several flushes
  EXPECT_GT(CountFiles(path, ".blob"), 0u) << "no value went to a blob file";

  auto reopened = OpenOrDie(path);
  ASSERT_NE(reopened, nullptr);
  for (int user = 0; user < 3; ++user) {
    const std::vector<Document> documents = ScanAll(*reopened, "user-" + std::to_string(user));
    ASSERT_EQ(documents.size(), 80u);
    for (size_t k = 0; k < documents.size(); ++k) {
      const Event& expected = events[3 * k + static_cast<size_t>(user)];
      EXPECT_EQ(documents[k].event_id, expected.event_id);
      EXPECT_EQ(documents[k].details_json, expected.details_json);
    }
  }
  const Event& last = events.back();
  bool found = false;
  ASSERT_TRUE(reopened->FindEvent(last.user_id, last.event_id, [&](const DocumentView& view) {
    found = view.details_json == last.details_json;
  }).ok());
  EXPECT_TRUE(found);
}

TEST(RocksDbDocumentStoreTest, ReadsThroughManyFilesWithPrefixFiltersFindExactlyEachUsersEvents) {
  // Reads skip the files whose prefix filter rules their user out, so users
  // spread over several SST files, ids
  // that are prefixes of one another, and users never written must all
  // come back exactly; a scan of every user must not be filtered at all.
  TempDir dir;
  const std::string path = dir.File("docs");
  EventFactory factory;
  const std::vector<std::string> users = {"u", "u1", "u10", "u100", "v", "user with space", "ü"};
  std::map<std::string, std::vector<std::string>> expected_ids;
  std::vector<Event> events;
  for (int i = 0; i < 2100; ++i) {
    const std::string& user = users[static_cast<size_t>(i) % users.size()];
    events.push_back(factory.Make(user, kT0 + i, "t", R"({"i":)" + std::to_string(i) + R"(,"pad":")" +
                                                          std::string(1000, 'p') + R"("})"));
    expected_ids[user].push_back(events.back().event_id);
  }
  // Three sessions, each flushed into a level-0 file of its own at the next
  // open: every user in every file, and fewer files than trigger a
  // compaction (4), so the count does not depend on background timing.
  constexpr size_t kSessions = 3;
  const size_t per_session = (events.size() + kSessions - 1) / kSessions;
  for (size_t begin = 0; begin < events.size(); begin += per_session) {
    auto store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    const size_t end = std::min(events.size(), begin + per_session);
    ASSERT_TRUE(Write(*store, std::vector<Event>(events.begin() + static_cast<std::ptrdiff_t>(begin),
                                                 events.begin() + static_cast<std::ptrdiff_t>(end)))
                    .ok());
  }

  auto reopened = OpenOrDie(path);
  EXPECT_GE(CountFiles(path, ".sst"), kSessions) << "the test needs the events spread over several files";
  ASSERT_NE(reopened, nullptr);
  for (const std::string& user : users) {
    SCOPED_TRACE(user);
    EXPECT_EQ(EventIds(ScanAll(*reopened, user)), expected_ids[user]);
    const std::string& last = expected_ids[user].back();
    bool found = false;
    ASSERT_TRUE(reopened->FindEvent(user, last, [&](const DocumentView& view) {
      found = view.event_id == last && view.user_id == user;
    }).ok());
    EXPECT_TRUE(found);
  }
  for (const char* stranger : {"", "u2", "u1000", "w", "uu"}) {
    EXPECT_TRUE(ScanAll(*reopened, stranger).empty()) << stranger;
  }
  EXPECT_FALSE(reopened->FindEvent("u2", expected_ids["u"].front(), [](const DocumentView&) {}).ok());

  std::map<std::string, size_t> seen;
  ASSERT_TRUE(reopened->Scan(ScanFilter{}, [&](const DocumentView& view) {
    ++seen[std::string(view.user_id)];
    return true;
  }).ok());
  for (const std::string& user : users) EXPECT_EQ(seen[user], expected_ids[user].size()) << user;
  EXPECT_EQ(seen.size(), users.size());

  ScanFilter one_user;
  one_user.user_id = "u1";
  size_t u1_events = 0;
  ASSERT_TRUE(reopened->Scan(one_user, [&](const DocumentView& view) {
    EXPECT_EQ(view.user_id, "u1");
    ++u1_events;
    return true;
  }).ok());
  EXPECT_EQ(u1_events, expected_ids["u1"].size());
}

TEST(RocksDbDocumentStoreTest, SyncedWritesAreOnDiskWithoutAClose) {
  // What a crash right after a sync would leave: the directory copied while
  // the store is still open (no flush, no close) holds every write made
  // before SyncWrites, and every write before a durable WriteBatch.
  TempDir dir;
  EventFactory factory;
  std::vector<Event> events;
  for (int i = 0; i < 12; ++i) events.push_back(factory.Make("u", kT0 + i));
  std::vector<const Event*> pointers;
  for (const Event& e : events) pointers.push_back(&e);
  const auto span = std::span<const Event* const>(pointers);
  const auto copy_of_open_store = [&](const std::string& name) {
    std::filesystem::copy(dir.File("docs"), dir.File(name));
    return OpenOrDie(dir.File(name));
  };
  auto store = OpenOrDie(dir.File("docs"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->WriteBatchWithoutSync(EventBatch(span.subspan(0, 10))).ok());
  ASSERT_TRUE(store->SyncWrites().ok());
  {
    auto copy = copy_of_open_store("after-sync");
    ASSERT_NE(copy, nullptr);
    EXPECT_EQ(ScanAll(*copy, "u").size(), 10u);
  }
  ASSERT_TRUE(store->WriteBatchWithoutSync(EventBatch(span.subspan(10, 1))).ok());
  ASSERT_TRUE(store->WriteBatch(EventBatch(span.subspan(11, 1))).ok());
  {
    auto copy = copy_of_open_store("after-durable-write");
    ASSERT_NE(copy, nullptr);
    EXPECT_EQ(ScanAll(*copy, "u").size(), 12u);
  }
}

}  // namespace
}  // namespace eventlogger

namespace eventlogger {
namespace {

TEST(RocksDbDocumentStoreTest, WritesWithoutSyncAreVisibleAtOnceAndSurviveReopenAfterSync) {
  TempDir dir;
  EventFactory factory;
  std::vector<Event> events;
  for (int i = 0; i < 10; ++i) events.push_back(factory.Make("u", kT0 + i));
  std::vector<const Event*> batch;
  for (const Event& e : events) batch.push_back(&e);
  {
    auto store = OpenOrDie(dir.File("docs"));
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->WriteBatchWithoutSync(EventBatch(batch)).ok());
    // Visible to reads before any sync.
    EXPECT_EQ(ScanAll(*store, "u").size(), 10u);
    ASSERT_TRUE(store->SyncWrites().ok());
    // A later synced write still works after unsynced ones.
    const Event extra = factory.Make("v", kT0 + 100);
    const Event* one[] = {&extra};
    ASSERT_TRUE(store->WriteBatch(EventBatch(one)).ok());
  }
  auto reopened = OpenOrDie(dir.File("docs"));
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(ScanAll(*reopened, "u").size(), 10u);
  EXPECT_EQ(ScanAll(*reopened, "v").size(), 1u);
}

TEST(RocksDbDocumentStoreTest, NewestLevelsAreStoredUncompressedAndDeeperLevelsCompressed) {
  // Levels 0 and 1 are rewritten by nearly every compaction, so compressing
  // them costs CPU under write load for little disk; the deeper levels hold
  // the bulk of the data and are compressed.
  TempDir dir;
  const std::string path = dir.File("docs");
  // 3 MB of highly compressible details: several flushed files, each of
  // which would be far smaller compressed.
  ASSERT_NO_FATAL_FAILURE(WritePaddedEvents(path, 3000, 7));

  std::unique_ptr<rocksdb::DB> db = OpenReadOnly(path);
  ASSERT_NE(db, nullptr);
  rocksdb::TablePropertiesCollection tables;
  ASSERT_TRUE(db->GetPropertiesOfAllTables(&tables).ok());
  ASSERT_GE(tables.size(), 2u) << "the test needs several flushed files";
  for (const auto& [file, properties] : tables) {
    EXPECT_EQ(properties->compression_name, "NoCompression") << file;
  }
  std::vector<rocksdb::LiveFileMetaData> files;
  db->GetLiveFilesMetaData(&files);
  for (const auto& file : files) EXPECT_LE(file.level, 1) << file.name;
  db.reset();

  // The per-level policy the store opened RocksDB with, as RocksDB recorded it.
  const std::string options_text = RecordedOptions(path);
  EXPECT_NE(options_text.find("compression_per_level=kNoCompression:kNoCompression:kSnappyCompression:"
                              "kSnappyCompression:kSnappyCompression:kSnappyCompression:kSnappyCompression\n"),
            std::string::npos)
      << options_text;
}

TEST(RocksDbDocumentStoreTest, LevelZeroCompactionWaitsForEightFlushedFiles) {
  // Each flushed file spans nearly every user, so a level-0 compaction
  // rewrites all of level 1 however few files it takes: it waits for eight,
  // not RocksDB's four, to do that half as often under write load.
  TempDir dir;
  const std::string path = dir.File("docs");
  // 6 MB: six or seven flushes, so RocksDB's default would have compacted
  // level 0 into level 1 by now.
  ASSERT_NO_FATAL_FAILURE(WritePaddedEvents(path, 6000, 50));

  std::unique_ptr<rocksdb::DB> db = OpenReadOnly(path);
  ASSERT_NE(db, nullptr);
  std::vector<rocksdb::LiveFileMetaData> files;
  db->GetLiveFilesMetaData(&files);
  size_t level_zero_files = 0;
  for (const auto& file : files) {
    EXPECT_EQ(file.level, 0) << file.name;
    if (file.level == 0) ++level_zero_files;
  }
  EXPECT_GE(level_zero_files, 5u) << "the test needs more than four flushed files";
  EXPECT_LT(level_zero_files, 8u) << "the test needs fewer than eight flushed files";
  db.reset();

  const std::string options_text = RecordedOptions(path);
  EXPECT_NE(options_text.find("level0_file_num_compaction_trigger=8\n"), std::string::npos) << options_text;
  // The write-stall thresholds keep their distance above the trigger.
  EXPECT_NE(options_text.find("level0_slowdown_writes_trigger=24\n"), std::string::npos) << options_text;
  EXPECT_NE(options_text.find("level0_stop_writes_trigger=40\n"), std::string::npos) << options_text;
}

}  // namespace
}  // namespace eventlogger
