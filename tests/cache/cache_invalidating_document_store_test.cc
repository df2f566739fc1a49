// Tests for CacheInvalidatingDocumentStore over a real RocksDB store: reads
// pass through, and every write (also a failed one) invalidates exactly the
// users of its batch.
#include "cache/cache_invalidating_document_store.h"

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/timestamp.h"
#include "core/uuid.h"
#include "integration/service_fixture.h"  // TempDir
#include "storage/rocksdb_document_store.h"
#include "support/events.h"

namespace eventlogger {
namespace {

using testing::TempDir;

// An event as the service makes it: a UUIDv7 whose millisecond is its timestamp.
Event MakeEvent(const std::string& user) {
  static testing_support::EventFactory events;
  return events.Make(user, 1'750'000'000'000, "t");
}

bool Cache(UserEventsCache& cache, const std::string& user) {
  return cache.Insert(user, cache.BeginRead(user), std::make_shared<const CachedAnswer>(CachedAnswer{"[]", "\"t\"", ""}));
}

// A store whose writes always fail, to check that failures invalidate too.
class FailingStore final : public DocumentStore {
 public:
  Status WriteBatch(EventBatch) override { return Status::Unavailable("down"); }
  Status ReadUserRange(std::string_view, const UserRangeQuery&,
                       const std::function<bool(const DocumentView&)>&) override {
    return Status::Ok();
  }
  Status FindEvent(std::string_view, std::string_view, const std::function<void(const DocumentView&)>&) override {
    return Status::NotFound("none");
  }
  Status FindEventAt(std::string_view, const DocumentKey&, const std::function<void(const DocumentView&)>&) override {
    return Status::NotFound("none");
  }
  Status Scan(const ScanFilter&, const std::function<bool(const DocumentView&)>&) override { return Status::Ok(); }
  Result<int64_t> EraseUserEvents(const UserErasure&, int) override { return Status::Internal("not used here"); }
  Result<int64_t> DeleteExpired(const ExpiryRule&, const std::function<bool(std::string_view)>&, int) override {
    return Status::Internal("not used here");
  }
  size_t MaxDocumentBytes() const override { return 77; }
  Status Migrate() override { return Status::Ok(); }
  Status CheckSchema() override { return Status::Ok(); }
  Status Ping() override { return Status::Ok(); }
  std::string_view Kind() const override { return "failing"; }
};

TEST(CacheInvalidatingDocumentStoreTest, WritesInvalidateTheirUsersAndReadsPassThrough) {
  TempDir dir;
  Result<std::unique_ptr<DocumentStore>> rocks = OpenRocksDbDocumentStore({.path = (dir.path() / "docs").string()});
  ASSERT_TRUE(rocks.ok()) << rocks.status().ToString();
  UserEventsCache cache({});
  CacheInvalidatingDocumentStore store(std::move(*rocks), cache);
  EXPECT_EQ(store.Kind(), "rocksdb");

  ASSERT_TRUE(Cache(cache, "a"));
  ASSERT_TRUE(Cache(cache, "b"));
  ASSERT_TRUE(Cache(cache, "c"));
  const Event e1 = MakeEvent("a"), e2 = MakeEvent("b");
  const Event* batch[] = {&e1, &e2};
  ASSERT_TRUE(store.WriteBatch(EventBatch(batch)).ok());
  EXPECT_EQ(cache.Find("a"), nullptr);
  EXPECT_EQ(cache.Find("b"), nullptr);
  EXPECT_NE(cache.Find("c"), nullptr);  // not in the batch

  int found = 0;
  ASSERT_TRUE(store.ScanUser("a", [&](const DocumentView& view) {
    EXPECT_EQ(view.event_id, e1.event_id);
    return ++found, true;
  }).ok());
  EXPECT_EQ(found, 1);
  EXPECT_TRUE(store.FindEvent("b", e2.event_id, [](const DocumentView&) {}).ok());
}

TEST(CacheInvalidatingDocumentStoreTest, AFailedWriteInvalidatesToo) {
  UserEventsCache cache({});
  CacheInvalidatingDocumentStore store(std::make_unique<FailingStore>(), cache);
  ASSERT_TRUE(Cache(cache, "a"));
  const Event e1 = MakeEvent("a");
  const Event* batch[] = {&e1};
  EXPECT_FALSE(store.WriteBatch(EventBatch(batch)).ok());
  EXPECT_EQ(cache.Find("a"), nullptr);
  EXPECT_EQ(store.MaxDocumentBytes(), 77u);
  EXPECT_EQ(store.Kind(), "failing");
}

}  // namespace
}  // namespace eventlogger
