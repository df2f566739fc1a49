// Tests for Reconcile on the real embedded stores (SQLite metadata, RocksDB
// documents) and the real Outbox, all in a temporary directory. Gaps are
// made by writing an event to one store only, which is exactly what a crash
// or a lost outbox would leave behind.
#include "durability/reconciler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/timestamp.h"
#include "core/uuid.h"
#include "integration/service_fixture.h"  // TempDir
#include "storage/rocksdb_document_store.h"
#include "storage/sqlite_metadata_store.h"
#include "support/events.h"

namespace eventlogger {
namespace {

using testing::TempDir;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

constexpr int64_t kT0 = 1'750'000'000'000;  // 2025-06-15T15:06:40.000Z

Event MakeEvent(int64_t millis, const std::string& user, const std::string& type = "bet") {
  return testing_support::EventAt(millis, user, type, R"({"ip":"192.168.1.1","device":"Chrome"})");
}

class ReconcilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto metadata = OpenSqliteMetadataStore({.path = (dir_.path() / "metadata.db").string()});
    ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
    metadata_ = std::move(*metadata);
    auto documents = OpenRocksDbDocumentStore({.path = (dir_.path() / "documents").string()});
    ASSERT_TRUE(documents.ok()) << documents.status().ToString();
    documents_ = std::move(*documents);
    auto outbox = Outbox::Open({.path = (dir_.path() / "outbox.db").string()});
    ASSERT_TRUE(outbox.ok()) << outbox.status().ToString();
    outbox_ = std::move(*outbox);
  }

  void WriteMetadata(const std::vector<const Event*>& events) {
    ASSERT_TRUE(metadata_->WriteBatch(EventBatch(events)).ok());
  }
  void WriteDocuments(const std::vector<const Event*>& events) {
    ASSERT_TRUE(documents_->WriteBatch(EventBatch(events)).ok());
  }
  void WriteBoth(const std::vector<const Event*>& events) {
    WriteMetadata(events);
    WriteDocuments(events);
  }
  // An outbox entry for `event`, pending, or dead when `dead`.
  void Queue(const Event& event, bool dead, bool metadata_done, bool document_done) {
    const Event* batch[] = {&event};
    ASSERT_TRUE(outbox_->RecordIntents(EventBatch(batch), kT0).ok());
    ASSERT_TRUE(outbox_->RecordAttempts({{.event_id = event.event_id, .metadata_done = metadata_done,
                                          .document_done = document_done, .error = "store down",
                                          .next_attempt_ms = dead ? std::nullopt : std::optional<int64_t>(kT0)}})
                    .ok());
  }

  ReconcileReport Run(ReconcileOptions options = {}, bool with_outbox = true) {
    Result<ReconcileReport> report =
        Reconcile(*metadata_, *documents_, with_outbox ? outbox_.get() : nullptr, clock_, options);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : ReconcileReport{-1, -1, {}, {}, {}, -1};
  }

  std::vector<EventMetadata> MetadataRows() {
    std::vector<EventMetadata> rows;
    EXPECT_TRUE(metadata_->Scan({}, [&](const EventMetadata& row) {
      rows.push_back(row);
      return true;
    }).ok());
    std::sort(rows.begin(), rows.end(),
              [](const EventMetadata& a, const EventMetadata& b) { return a.event_id < b.event_id; });
    return rows;
  }

  std::optional<EventMetadata> MetadataRow(const std::string& event_id) {
    for (const EventMetadata& row : MetadataRows()) {
      if (row.event_id == event_id) return row;
    }
    return std::nullopt;
  }

  TempDir dir_;
  ManualClock clock_{kT0 + 3'600'000};
  std::unique_ptr<MetadataStore> metadata_;
  std::unique_ptr<DocumentStore> documents_;
  std::unique_ptr<Outbox> outbox_;
};

TEST_F(ReconcilerTest, EmptyStoresAreConsistent) {
  const ReconcileReport report = Run();
  EXPECT_EQ(report.metadata_events, 0);
  EXPECT_EQ(report.document_events, 0);
  EXPECT_THAT(report.document_only, IsEmpty());
  EXPECT_THAT(report.metadata_only, IsEmpty());
  EXPECT_THAT(report.queued, IsEmpty());
  EXPECT_EQ(report.repaired, 0);
}

TEST_F(ReconcilerTest, ConsistentStoresGiveAnEmptyReport) {
  const Event a = MakeEvent(kT0, "alice");
  const Event b = MakeEvent(kT0 + 1, "alice");
  const Event c = MakeEvent(kT0 + 2, "bob");
  WriteBoth({&a, &b, &c});
  ReconcileOptions options;
  options.repair = true;  // nothing to repair, nothing changes
  const ReconcileReport report = Run(options);
  EXPECT_EQ(report.metadata_events, 3);
  EXPECT_EQ(report.document_events, 3);
  EXPECT_THAT(report.document_only, IsEmpty());
  EXPECT_THAT(report.metadata_only, IsEmpty());
  EXPECT_THAT(report.queued, IsEmpty());
  EXPECT_EQ(report.repaired, 0);
  EXPECT_EQ(MetadataRows().size(), 3u);
}

TEST_F(ReconcilerTest, DocumentOnlyIsReportedAndNotChangedWithoutRepair) {
  const Event both = MakeEvent(kT0, "alice");
  const Event orphan = MakeEvent(kT0 + 1, "bob", "withdrawal");
  WriteBoth({&both});
  WriteDocuments({&orphan});
  const ReconcileReport report = Run();
  EXPECT_EQ(report.metadata_events, 1);
  EXPECT_EQ(report.document_events, 2);
  EXPECT_THAT(report.document_only, ElementsAre(orphan.event_id));
  EXPECT_THAT(report.metadata_only, IsEmpty());
  EXPECT_THAT(report.queued, IsEmpty());
  EXPECT_EQ(report.repaired, 0);
  EXPECT_FALSE(MetadataRow(orphan.event_id).has_value());
}

TEST_F(ReconcilerTest, RepairRebuildsTheMetadataRowFromTheDocument) {
  const Event orphan = MakeEvent(kT0 + 42, "user/with spaces", "casino.spin:v2");
  WriteDocuments({&orphan});
  ReconcileOptions options;
  options.repair = true;
  const ReconcileReport report = Run(options);
  EXPECT_THAT(report.document_only, ElementsAre(orphan.event_id));
  EXPECT_EQ(report.repaired, 1);

  const std::optional<EventMetadata> row = MetadataRow(orphan.event_id);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->user_id, "user/with spaces");
  EXPECT_EQ(row->event_type, "casino.spin:v2");
  EXPECT_EQ(row->timestamp, orphan.timestamp);
  EXPECT_EQ(row->timestamp, FormatTimestamp(kT0 + 42));

  // And the user's metadata history now includes it.
  int seen = 0;
  ASSERT_TRUE(metadata_->ScanUser("user/with spaces", [&](const EventMetadata& r) {
    EXPECT_EQ(r.event_id, orphan.event_id);
    ++seen;
    return true;
  }).ok());
  EXPECT_EQ(seen, 1);

  // Repaired: a second pass finds nothing.
  const ReconcileReport again = Run(options);
  EXPECT_EQ(again.metadata_events, 1);
  EXPECT_EQ(again.document_events, 1);
  EXPECT_THAT(again.document_only, IsEmpty());
  EXPECT_EQ(again.repaired, 0);
}

TEST_F(ReconcilerTest, MetadataOnlyWithoutAnOutboxEntryIsUnrecoverable) {
  const Event both = MakeEvent(kT0, "alice");
  const Event lost = MakeEvent(kT0 + 1, "alice");
  WriteBoth({&both});
  WriteMetadata({&lost});
  ReconcileOptions options;
  options.repair = true;  // nothing can rebuild the JSON details
  const ReconcileReport report = Run(options);
  EXPECT_EQ(report.metadata_events, 2);
  EXPECT_EQ(report.document_events, 1);
  EXPECT_THAT(report.metadata_only, ElementsAre(lost.event_id));
  EXPECT_THAT(report.document_only, IsEmpty());
  EXPECT_THAT(report.queued, IsEmpty());
  EXPECT_EQ(report.repaired, 0);
}

TEST_F(ReconcilerTest, WithoutAnOutboxEveryGapIsReportedAsSuch) {
  const Event lost = MakeEvent(kT0, "alice");
  Queue(lost, /*dead=*/true, /*metadata_done=*/true, /*document_done=*/false);
  WriteMetadata({&lost});
  const ReconcileReport report = Run({}, /*with_outbox=*/false);
  EXPECT_THAT(report.metadata_only, ElementsAre(lost.event_id));
  EXPECT_THAT(report.queued, IsEmpty());
}

TEST_F(ReconcilerTest, MetadataOnlyWithADeadOutboxEntryIsQueuedAndRepairReplaysIt) {
  const Event stuck = MakeEvent(kT0, "alice");
  WriteMetadata({&stuck});
  Queue(stuck, /*dead=*/true, /*metadata_done=*/true, /*document_done=*/false);

  const ReconcileReport report = Run();
  EXPECT_THAT(report.queued, ElementsAre(stuck.event_id));
  EXPECT_THAT(report.metadata_only, IsEmpty());
  EXPECT_EQ(report.repaired, 0);
  ASSERT_EQ((*outbox_->Find(stuck.event_id))->state, OutboxState::kDead) << "no change without --repair";

  ReconcileOptions options;
  options.repair = true;
  const ReconcileReport repaired = Run(options);
  EXPECT_THAT(repaired.queued, ElementsAre(stuck.event_id));
  EXPECT_EQ(repaired.repaired, 1);
  const std::optional<OutboxEntry> entry = *outbox_->Find(stuck.event_id);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->state, OutboxState::kPending);
  EXPECT_EQ(entry->attempts, 0);
  EXPECT_EQ(entry->next_attempt_ms, clock_.NowUnixMillis()) << "due now for the retry worker";
  EXPECT_EQ(entry->event.details_json, stuck.details_json);
}

TEST_F(ReconcilerTest, PendingOutboxEntriesAreInFlightNotInconsistencies) {
  const Event metadata_side = MakeEvent(kT0, "alice");
  const Event document_side = MakeEvent(kT0 + 1, "bob");
  WriteMetadata({&metadata_side});
  WriteDocuments({&document_side});
  Queue(metadata_side, /*dead=*/false, /*metadata_done=*/true, /*document_done=*/false);
  Queue(document_side, /*dead=*/false, /*metadata_done=*/false, /*document_done=*/true);
  ReconcileOptions options;
  options.repair = true;
  const ReconcileReport report = Run(options);
  EXPECT_THAT(report.queued, UnorderedElementsAre(metadata_side.event_id, document_side.event_id));
  EXPECT_THAT(report.document_only, IsEmpty());
  EXPECT_THAT(report.metadata_only, IsEmpty());
  EXPECT_EQ(report.repaired, 0) << "the retry worker owns pending entries";
  EXPECT_FALSE(MetadataRow(document_side.event_id).has_value());
  EXPECT_EQ((*outbox_->Find(metadata_side.event_id))->next_attempt_ms, kT0);
}

TEST_F(ReconcilerTest, DocumentOnlyWithADeadOutboxEntryIsRebuiltFromTheDocument) {
  const Event event = MakeEvent(kT0, "alice");
  WriteDocuments({&event});
  Queue(event, /*dead=*/true, /*metadata_done=*/false, /*document_done=*/true);
  ReconcileOptions options;
  options.repair = true;
  const ReconcileReport report = Run(options);
  EXPECT_THAT(report.document_only, ElementsAre(event.event_id));
  EXPECT_EQ(report.repaired, 1);
  EXPECT_TRUE(MetadataRow(event.event_id).has_value());
}

TEST_F(ReconcilerTest, UserFilterLimitsTheComparison) {
  const Event alice_gap = MakeEvent(kT0, "alice");
  const Event alice_ok = MakeEvent(kT0 + 1, "alice");
  const Event bob_gap = MakeEvent(kT0 + 2, "bob");
  const Event alicia_gap = MakeEvent(kT0 + 3, "alicia");  // shares a prefix with alice
  WriteBoth({&alice_ok});
  WriteDocuments({&alice_gap, &bob_gap, &alicia_gap});

  ReconcileOptions options;
  options.filter.user_id = "alice";
  ReconcileReport report = Run(options);
  EXPECT_EQ(report.metadata_events, 1);
  EXPECT_EQ(report.document_events, 2);
  EXPECT_THAT(report.document_only, ElementsAre(alice_gap.event_id));

  options.filter.user_id = "bob";
  options.repair = true;
  report = Run(options);
  EXPECT_THAT(report.document_only, ElementsAre(bob_gap.event_id));
  EXPECT_EQ(report.repaired, 1);
  EXPECT_TRUE(MetadataRow(bob_gap.event_id).has_value());
  EXPECT_FALSE(MetadataRow(alice_gap.event_id).has_value()) << "other users are not repaired";
  EXPECT_FALSE(MetadataRow(alicia_gap.event_id).has_value());

  report = Run();
  EXPECT_THAT(report.document_only, UnorderedElementsAre(alice_gap.event_id, alicia_gap.event_id));
}

TEST_F(ReconcilerTest, TimeWindowIncludesSinceAndExcludesUntil) {
  const Event before = MakeEvent(kT0 - 1, "alice");
  const Event at_since = MakeEvent(kT0, "alice");
  const Event inside = MakeEvent(kT0 + 500, "bob");
  const Event at_until = MakeEvent(kT0 + 1000, "alice");
  const Event metadata_gap = MakeEvent(kT0 + 600, "carol");
  WriteDocuments({&before, &at_since, &inside, &at_until});
  WriteMetadata({&metadata_gap});

  ReconcileOptions options;
  options.filter.since = FormatTimestamp(kT0);
  options.filter.until = FormatTimestamp(kT0 + 1000);
  ReconcileReport report = Run(options);
  EXPECT_EQ(report.document_events, 2);
  EXPECT_EQ(report.metadata_events, 1);
  EXPECT_THAT(report.document_only, UnorderedElementsAre(at_since.event_id, inside.event_id));
  EXPECT_THAT(report.metadata_only, ElementsAre(metadata_gap.event_id));

  // since alone, until alone, and a window with a user.
  options.filter.until.clear();
  report = Run(options);
  EXPECT_THAT(report.document_only, UnorderedElementsAre(at_since.event_id, inside.event_id, at_until.event_id));
  options.filter.since.clear();
  options.filter.until = FormatTimestamp(kT0);
  report = Run(options);
  EXPECT_THAT(report.document_only, ElementsAre(before.event_id));
  EXPECT_THAT(report.metadata_only, IsEmpty());
  options.filter.user_id = "alice";
  options.filter.since = FormatTimestamp(kT0);
  options.filter.until = FormatTimestamp(kT0 + 1001);
  report = Run(options);
  EXPECT_THAT(report.document_only, UnorderedElementsAre(at_since.event_id, at_until.event_id));
  EXPECT_THAT(report.metadata_only, IsEmpty());
}

TEST_F(ReconcilerTest, RepairInAWindowTouchesOnlyThatWindow) {
  const Event early = MakeEvent(kT0, "alice");
  const Event late = MakeEvent(kT0 + 10'000, "alice");
  WriteDocuments({&early, &late});
  ReconcileOptions options;
  options.filter.since = FormatTimestamp(kT0 + 5000);
  options.repair = true;
  const ReconcileReport report = Run(options);
  EXPECT_THAT(report.document_only, ElementsAre(late.event_id));
  EXPECT_EQ(report.repaired, 1);
  EXPECT_TRUE(MetadataRow(late.event_id).has_value());
  EXPECT_FALSE(MetadataRow(early.event_id).has_value());
}

}  // namespace
}  // namespace eventlogger
