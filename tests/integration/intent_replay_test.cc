// What the next start does with an intent log a crash left behind: the
// stores skip their own fsync on the request path, so after an OS crash or
// power loss the log is the only durable copy of the latest events. Here
// the log is written directly (events the stores never saw, as if their
// unsynced writes were lost); the service must put them into both stores
// before it answers requests, and leave the log empty.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "core/clock.h"
#include "core/timestamp.h"
#include "core/uuid.h"
#include "durability/intent_log.h"
#include "integration/service_fixture.h"
#include "integration/test_client.h"
#include "support/events.h"

namespace eventlogger::testing {
namespace {

TEST(IntentReplayTest, EventsLeftInTheLogAreInBothStoresBeforeTheFirstRequest) {
  EVENTLOGGER_EMBEDDED_ONLY();
  log::SetMinimumLevel(log::Level::kWarn);
  TempDir dir;
  const std::filesystem::path log_dir = dir.path() / "intent-log";
  std::vector<Event> events;
  {
    std::vector<Event> none;
    Result<std::unique_ptr<IntentLog>> log = IntentLog::Open({.directory = log_dir.string()}, &none);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    Uuid7Generator ids(SystemClock::Instance());
    for (int i = 0; i < 50; ++i) {
      events.push_back(testing_support::EventWithId(ids.Next(), i % 2 == 0 ? "replay-a" : "replay-b",
                                                    "t", R"({"i":)" + std::to_string(i) + "}"));
    }
    std::vector<const Event*> batch;
    for (const Event& e : events) batch.push_back(&e);
    ASSERT_TRUE((*log)->Append(EventBatch(batch)).ok());
    // Dropped without release or clean close: what a crash leaves.
  }

  ServiceOptions options;
  options.http.port = 0;
  options.http.access_log = false;
  options.data_dir = dir.path().string();
  Result<std::unique_ptr<Service>> service = Service::Start(options);
  ASSERT_TRUE(service.ok()) << service.status().ToString();
  TestClient client((*service)->endpoint().port());
  // The very first read already has them (no waiting for a retry worker).
  const TestResponse a = client.Get("/events/replay-a");
  ASSERT_EQ(a.status, 200);
  for (size_t i = 0; i < events.size(); i += 2) EXPECT_THAT(a.body, ::testing::HasSubstr(events[i].event_id));
  EXPECT_THAT(a.body, ::testing::HasSubstr(R"("jsonPayload":{"i":48})"));
  (*service)->Stop();

  EXPECT_EQ(ReadSqliteRows(dir.path() / "metadata.db").size(), events.size());
  EXPECT_EQ(ReadRocksDbRows(dir.path() / "documents").size(), events.size());
  EXPECT_EQ(ReadOutboxPending(dir.path() / "outbox.db"), 0);
  // A clean stop leaves nothing to replay.
  std::vector<Event> replayed;
  Result<std::unique_ptr<IntentLog>> reopened = IntentLog::Open({.directory = log_dir.string()}, &replayed);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_TRUE(replayed.empty()) << replayed.size() << " events would be replayed again";
}

TEST(IntentReplayTest, ACleanStopUnderLoadLeavesNothingToReplay) {
  EVENTLOGGER_EMBEDDED_ONLY();
  log::SetMinimumLevel(log::Level::kWarn);
  TempDir dir;
  ServiceOptions options;
  options.http.port = 0;
  options.http.access_log = false;
  options.data_dir = dir.path().string();
  {
    Result<std::unique_ptr<Service>> service = Service::Start(options);
    ASSERT_TRUE(service.ok()) << service.status().ToString();
    TestClient client((*service)->endpoint().port());
    for (int i = 0; i < 200; ++i) {
      ASSERT_EQ(client.PostEvent(R"({"userId":"clean","eventType":"t","jsonDetails":{}})").status, 201);
    }
    (*service)->Stop();
  }
  std::vector<Event> replayed;
  Result<std::unique_ptr<IntentLog>> log =
      IntentLog::Open({.directory = (dir.path() / "intent-log").string()}, &replayed);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_TRUE(replayed.empty()) << replayed.size();
  EXPECT_EQ(ReadSqliteRows(dir.path() / "metadata.db").size(), 200u);
}

// An event an erasure covers is not written back by the replay: a crash
// may leave it in the log after the erasure deleted it from the stores.
TEST(IntentReplayTest, EventsAnErasureCoversAreNotReplayed) {
  EVENTLOGGER_EMBEDDED_ONLY();
  log::SetMinimumLevel(log::Level::kWarn);
  TempDir dir;
  const std::filesystem::path log_dir = dir.path() / "intent-log";
  Uuid7Generator ids(SystemClock::Instance());
  std::vector<Event> events;
  events.push_back(testing_support::EventWithId(ids.Next(), "erased-user", "t", "{}"));
  events.push_back(testing_support::EventWithId(ids.Next(), "other-user", "t", "{}"));
  const Uuid7 cutoff = ids.Next();
  // Received after the erasure's cutoff: kept.
  while (ids.Next().unix_millis <= cutoff.unix_millis) {
  }
  events.push_back(testing_support::EventWithId(ids.Next(), "erased-user", "t", "{}"));
  {
    std::vector<Event> none;
    Result<std::unique_ptr<IntentLog>> log = IntentLog::Open({.directory = log_dir.string()}, &none);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    std::vector<const Event*> batch;
    for (const Event& e : events) batch.push_back(&e);
    ASSERT_TRUE((*log)->Append(EventBatch(batch)).ok());
  }
  {
    // The erasure job as the metadata store keeps it.
    Result<std::unique_ptr<MetadataStore>> metadata =
        OpenMetadataStore("sqlite://" + (dir.path() / "metadata.db").string());
    ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
    ErasureJobRow job;
    job.id = FormatUuid(cutoff.bytes);
    job.user_id = "erased-user";
    job.state = "done";
    job.received_cutoff = FormatTimestamp(cutoff.unix_millis);
    job.created_at = job.received_cutoff;
    job.metadata_erased = 1;
    ASSERT_TRUE((*metadata)->InsertErasureJob(job).ok());
  }
  ServiceOptions options;
  options.http.port = 0;
  options.http.access_log = false;
  options.data_dir = dir.path().string();
  Result<std::unique_ptr<Service>> service = Service::Start(options);
  ASSERT_TRUE(service.ok()) << service.status().ToString();
  (*service)->Stop();
  std::set<std::string> stored;
  for (const MetadataRow& row : ReadSqliteRows(dir.path() / "metadata.db")) stored.insert(row.event_id);
  EXPECT_EQ(stored, (std::set<std::string>{events[1].event_id, events[2].event_id}));
  stored.clear();
  for (const DocumentRow& row : ReadRocksDbRows(dir.path() / "documents")) stored.insert(row.event_id);
  EXPECT_EQ(stored, (std::set<std::string>{events[1].event_id, events[2].event_id}));
}

}  // namespace
}  // namespace eventlogger::testing
