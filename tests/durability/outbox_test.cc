// Tests for the Outbox on a real SQLite file in a temporary directory: the
// lifecycle of an entry (intent → resolution → attempts → dead letter →
// replay/purge), what a second Outbox on the same file sees (as the
// `eventlogger retry` commands do while `serve` runs), reopening, and
// refusing a file written by a newer build.
#include "durability/outbox.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/timestamp.h"
#include "core/uuid.h"
#include "integration/service_fixture.h"  // TempDir
#include "support/events.h"

namespace eventlogger {
namespace {

using testing::TempDir;

constexpr int64_t kT0 = 1'750'000'000'000;  // 2025-06-15T15:06:40.000Z

// Events with UUIDv7 ids whose embedded millisecond is the event time, as
// the service makes them (a fresh generator each time, so that an event may
// also be made "in the past").
class EventFactory {
 public:
  Event Make(int64_t millis, const std::string& user = "u1", const std::string& key = "") {
    Event event = testing_support::EventAt(
        millis, user, "bet", R"({"n":)" + std::to_string(++count_) + R"(,"ip":"10.0.0.1"})");
    if (!key.empty()) {
      event.idempotency_key = key;
      event.request_hash = "hash-of-" + key;
    }
    return event;
  }

 private:
  int count_ = 0;
};

EventBatch Batch(const std::vector<const Event*>& events) { return EventBatch(events); }

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override { outbox_ = Open(); }

  std::unique_ptr<Outbox> Open() {
    Result<std::unique_ptr<Outbox>> opened = Outbox::Open({.path = path_});
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return opened.ok() ? std::move(*opened) : nullptr;
  }

  void Record(const std::vector<const Event*>& events, int64_t next_attempt_ms) {
    ASSERT_TRUE(outbox_->RecordIntents(Batch(events), next_attempt_ms).ok());
  }

  std::optional<OutboxEntry> Find(const std::string& event_id, Outbox* outbox = nullptr) {
    Result<std::optional<OutboxEntry>> found = (outbox ? outbox : outbox_.get())->Find(event_id);
    EXPECT_TRUE(found.ok()) << found.status().ToString();
    return found.ok() ? *found : std::nullopt;
  }

  std::vector<std::string> DueIds(int64_t now, int limit = 100) {
    Result<std::vector<OutboxEntry>> due = outbox_->Due(now, limit);
    EXPECT_TRUE(due.ok()) << due.status().ToString();
    std::vector<std::string> ids;
    if (due.ok()) {
      for (const OutboxEntry& e : *due) ids.push_back(e.event.event_id);
    }
    return ids;
  }

  OutboxStats Stats() {
    Result<OutboxStats> stats = outbox_->Stats();
    EXPECT_TRUE(stats.ok()) << stats.status().ToString();
    return stats.ok() ? *stats : OutboxStats{-1, -1, -1};
  }

  // Moves an entry to the dead letters through the public API.
  void KillEntry(const std::string& event_id) {
    ASSERT_TRUE(outbox_->RecordAttempts({{.event_id = event_id, .error = "Unavailable: gone", .next_attempt_ms = std::nullopt}}).ok());
    ASSERT_EQ(Find(event_id)->state, OutboxState::kDead);
  }

  static void ExpectSameEvent(const Event& actual, const Event& expected) {
    EXPECT_EQ(actual.event_id, expected.event_id);
    EXPECT_EQ(actual.user_id, expected.user_id);
    EXPECT_EQ(actual.event_type, expected.event_type);
    EXPECT_EQ(actual.timestamp, expected.timestamp);
    EXPECT_EQ(actual.unix_millis, expected.unix_millis);
    EXPECT_EQ(actual.details_json, expected.details_json);
    EXPECT_EQ(actual.idempotency_key, expected.idempotency_key);
    EXPECT_EQ(actual.request_hash, expected.request_hash);
  }

  TempDir dir_;
  std::string path_ = (dir_.path() / "outbox.db").string();
  std::unique_ptr<Outbox> outbox_;
  EventFactory events_;
};

TEST_F(OutboxTest, CheckpointCopiesTheWalIntoTheDatabaseFile) {
  // Commits never checkpoint (wal_autocheckpoint is off), so Checkpoint is
  // what keeps the WAL from growing for ever.
  EventFactory factory;
  std::vector<Event> events;
  for (int i = 0; i < 300; ++i) {
    events.push_back(factory.Make(kT0 + i));
    events.back().details_json = "{\"pad\":\"" + std::string(1000, 'x') + "\"}";
  }
  std::vector<const Event*> batch;
  for (const Event& e : events) batch.push_back(&e);
  const auto size = [this] { return std::filesystem::file_size(path_); };
  const auto before = size();
  Record(batch, kT0);
  EXPECT_EQ(size(), before);  // all of it still in the WAL
  ASSERT_TRUE(outbox_->Checkpoint().ok());
  EXPECT_GT(size(), before + 200 * 1024);
  EXPECT_EQ(Stats().pending, 300);
}

TEST_F(OutboxTest, RecordedIntentsAreVisibleToASecondOutboxOnTheSameFile) {
  ASSERT_NE(outbox_, nullptr);
  const Event a = events_.Make(kT0, "alice", "key-1");
  const Event b = events_.Make(kT0 + 5, "bob");
  Record({&a, &b}, kT0 + 10'000);

  // A second connection, as `eventlogger retry` in another process has.
  std::unique_ptr<Outbox> other = Open();
  ASSERT_NE(other, nullptr);
  const std::optional<OutboxEntry> found = Find(a.event_id, other.get());
  ASSERT_TRUE(found.has_value());
  ExpectSameEvent(found->event, a);
  EXPECT_EQ(found->state, OutboxState::kPending);
  EXPECT_FALSE(found->metadata_done);
  EXPECT_FALSE(found->document_done);
  EXPECT_EQ(found->attempts, 0);
  EXPECT_EQ(found->created_at_ms, a.unix_millis);
  EXPECT_EQ(found->next_attempt_ms, kT0 + 10'000);
  EXPECT_EQ(found->last_error, "");

  const std::optional<OutboxEntry> found_b = Find(b.event_id, other.get());
  ASSERT_TRUE(found_b.has_value());
  ExpectSameEvent(found_b->event, b);
  EXPECT_EQ(found_b->event.idempotency_key, "");

  Result<OutboxStats> stats = other->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->pending, 2);
  EXPECT_EQ(stats->dead, 0);
}

TEST_F(OutboxTest, IntentIsCommittedWhenRecordIntentsReturns) {
  // Read the file with the plain SQLite C API, bypassing the Outbox class.
  const Event a = events_.Make(kT0);
  Record({&a}, kT0);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT event_id, state FROM outbox", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))), a.event_id);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 1))), "pending");
  EXPECT_EQ(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_F(OutboxTest, RecordingAnEventAgainLeavesTheEntryAsItIs) {
  const Event a = events_.Make(kT0);
  Record({&a}, kT0 + 100);
  ASSERT_TRUE(outbox_->RecordAttempts({{.event_id = a.event_id, .metadata_done = true, .error = "e",
                                        .next_attempt_ms = kT0 + 500}}).ok());
  Record({&a}, kT0 + 99'999);
  const std::optional<OutboxEntry> found = Find(a.event_id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->attempts, 1);
  EXPECT_TRUE(found->metadata_done);
  EXPECT_EQ(found->next_attempt_ms, kT0 + 500);
  EXPECT_EQ(Stats().pending, 1);
}

TEST_F(OutboxTest, EmptyBatchesAreNoOps) {
  EXPECT_TRUE(outbox_->RecordIntents(EventBatch(), kT0).ok());
  EXPECT_TRUE(outbox_->Resolve({}).ok());
  EXPECT_TRUE(outbox_->RecordAttempts({}).ok());
  EXPECT_EQ(Stats().pending, 0);
}

TEST_F(OutboxTest, ResolveRemovesFullyDoneEntriesAndKeepsPartialProgress) {
  const Event done = events_.Make(kT0);
  const Event metadata_only = events_.Make(kT0 + 1);
  const Event document_only = events_.Make(kT0 + 2);
  const Event neither = events_.Make(kT0 + 3);
  Record({&done, &metadata_only, &document_only, &neither}, kT0 + 10'000);

  ASSERT_TRUE(outbox_->Resolve({
      {.event_id = done.event_id, .metadata_done = true, .document_done = true},
      {.event_id = metadata_only.event_id, .metadata_done = true, .document_done = false,
       .error = "Unavailable: document store down", .next_attempt_ms = kT0 + 200},
      {.event_id = document_only.event_id, .metadata_done = false, .document_done = true,
       .error = "Unavailable: metadata store down", .next_attempt_ms = kT0 + 300},
      {.event_id = neither.event_id, .error = "DeadlineExceeded: store write timed out",
       .next_attempt_ms = kT0 + 400},
  }).ok());

  EXPECT_FALSE(Find(done.event_id).has_value());

  const std::optional<OutboxEntry> m = Find(metadata_only.event_id);
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(m->metadata_done);
  EXPECT_FALSE(m->document_done);
  EXPECT_EQ(m->state, OutboxState::kPending);
  EXPECT_EQ(m->attempts, 0) << "the request path's write is not a worker attempt";
  EXPECT_EQ(m->next_attempt_ms, kT0 + 200);
  EXPECT_EQ(m->last_error, "Unavailable: document store down");

  const std::optional<OutboxEntry> d = Find(document_only.event_id);
  ASSERT_TRUE(d.has_value());
  EXPECT_FALSE(d->metadata_done);
  EXPECT_TRUE(d->document_done);
  EXPECT_EQ(d->next_attempt_ms, kT0 + 300);

  const std::optional<OutboxEntry> n = Find(neither.event_id);
  ASSERT_TRUE(n.has_value());
  EXPECT_FALSE(n->metadata_done);
  EXPECT_FALSE(n->document_done);
  EXPECT_EQ(n->next_attempt_ms, kT0 + 400);

  EXPECT_EQ(Stats().pending, 3);
}

TEST_F(OutboxTest, ProgressIsNeverLost) {
  // A later outcome that does not mention a store does not undo its progress.
  const Event a = events_.Make(kT0);
  Record({&a}, kT0);
  ASSERT_TRUE(outbox_->Resolve({{.event_id = a.event_id, .metadata_done = true, .next_attempt_ms = kT0}}).ok());
  ASSERT_TRUE(outbox_->RecordAttempts({{.event_id = a.event_id, .metadata_done = false, .document_done = false,
                                        .error = "x", .next_attempt_ms = kT0 + 1}}).ok());
  const std::optional<OutboxEntry> found = Find(a.event_id);
  ASSERT_TRUE(found.has_value());
  EXPECT_TRUE(found->metadata_done);
  EXPECT_FALSE(found->document_done);
}

TEST_F(OutboxTest, ResolvingAnUnknownEventIsHarmless) {
  const Event a = events_.Make(kT0);
  Record({&a}, kT0);
  EXPECT_TRUE(outbox_->Resolve({{.event_id = "00000000-0000-7000-8000-000000000000", .metadata_done = true,
                                 .document_done = false, .next_attempt_ms = kT0}}).ok());
  EXPECT_EQ(Stats().pending, 1);
}

TEST_F(OutboxTest, DueRespectsNextAttemptTimeAndOrder) {
  const Event a = events_.Make(kT0);
  const Event b = events_.Make(kT0 + 1);
  const Event c = events_.Make(kT0 + 2);
  const Event d = events_.Make(kT0 + 3);
  Record({&a, &b, &c, &d}, kT0 + 10'000);
  // Next attempts out of creation order: c first, then a and d (tie: by
  // eventId, which is creation order for UUIDv7), then b.
  ASSERT_TRUE(outbox_->Resolve({
      {.event_id = a.event_id, .next_attempt_ms = kT0 + 200},
      {.event_id = b.event_id, .next_attempt_ms = kT0 + 300},
      {.event_id = c.event_id, .next_attempt_ms = kT0 + 100},
      {.event_id = d.event_id, .next_attempt_ms = kT0 + 200},
  }).ok());

  EXPECT_TRUE(DueIds(kT0 + 99).empty());
  EXPECT_EQ(DueIds(kT0 + 100), (std::vector<std::string>{c.event_id}));
  EXPECT_EQ(DueIds(kT0 + 200), (std::vector<std::string>{c.event_id, a.event_id, d.event_id}));
  EXPECT_EQ(DueIds(kT0 + 1'000'000), (std::vector<std::string>{c.event_id, a.event_id, d.event_id, b.event_id}));
  EXPECT_EQ(DueIds(kT0 + 1'000'000, /*limit=*/2), (std::vector<std::string>{c.event_id, a.event_id}));

  // Due entries carry the whole event and its progress.
  Result<std::vector<OutboxEntry>> due = outbox_->Due(kT0 + 100, 10);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 1u);
  ExpectSameEvent(due->front().event, c);
}

TEST_F(OutboxTest, FreshIntentsAreNotDueBeforeTheirGracePeriod) {
  const Event a = events_.Make(kT0);
  Record({&a}, kT0 + 10'000);
  EXPECT_TRUE(DueIds(kT0 + 9'999).empty());
  EXPECT_EQ(DueIds(kT0 + 10'000), (std::vector<std::string>{a.event_id}));
}

TEST_F(OutboxTest, DeadEntriesAreNeverDue) {
  const Event a = events_.Make(kT0);
  const Event b = events_.Make(kT0 + 1);
  Record({&a, &b}, kT0);
  KillEntry(a.event_id);
  EXPECT_EQ(DueIds(kT0 + 1'000'000), (std::vector<std::string>{b.event_id}));
}

TEST_F(OutboxTest, RecordAttemptsCountsAttemptsAndSchedulesTheNext) {
  const Event a = events_.Make(kT0);
  Record({&a}, kT0);
  ASSERT_TRUE(outbox_->RecordAttempts({{.event_id = a.event_id, .metadata_done = true, .document_done = false,
                                        .error = "Unavailable: document store down",
                                        .next_attempt_ms = kT0 + 700}}).ok());
  std::optional<OutboxEntry> found = Find(a.event_id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->state, OutboxState::kPending);
  EXPECT_EQ(found->attempts, 1);
  EXPECT_TRUE(found->metadata_done);
  EXPECT_FALSE(found->document_done);
  EXPECT_EQ(found->next_attempt_ms, kT0 + 700);
  EXPECT_EQ(found->last_error, "Unavailable: document store down");

  ASSERT_TRUE(outbox_->RecordAttempts({{.event_id = a.event_id, .metadata_done = false, .document_done = false,
                                        .error = "Unavailable: still down", .next_attempt_ms = kT0 + 1500}}).ok());
  found = Find(a.event_id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->attempts, 2);
  EXPECT_EQ(found->next_attempt_ms, kT0 + 1500);
  EXPECT_EQ(found->last_error, "Unavailable: still down");
}

TEST_F(OutboxTest, RecordAttemptsWithoutANextAttemptMakesADeadLetter) {
  const Event a = events_.Make(kT0, "alice", "k");
  Record({&a}, kT0);
  ASSERT_TRUE(outbox_->RecordAttempts({{.event_id = a.event_id, .metadata_done = true, .document_done = false,
                                        .error = "Unavailable: gone for good", .next_attempt_ms = std::nullopt}}).ok());
  const std::optional<OutboxEntry> found = Find(a.event_id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->state, OutboxState::kDead);
  EXPECT_EQ(found->attempts, 1);
  EXPECT_TRUE(found->metadata_done);
  EXPECT_FALSE(found->document_done);
  EXPECT_EQ(found->last_error, "Unavailable: gone for good");
  ExpectSameEvent(found->event, a);  // the whole event is kept for a replay
  EXPECT_EQ(Stats().pending, 0);
  EXPECT_EQ(Stats().dead, 1);

  // A late attempt outcome does not resurrect or change a dead letter.
  ASSERT_TRUE(outbox_->RecordAttempts({{.event_id = a.event_id, .error = "late", .next_attempt_ms = kT0 + 1}}).ok());
  EXPECT_EQ(Find(a.event_id)->state, OutboxState::kDead);
  EXPECT_EQ(Find(a.event_id)->attempts, 1);
}

TEST_F(OutboxTest, RecordAttemptsRemovesEntriesDoneInBothStores) {
  const Event a = events_.Make(kT0);
  const Event b = events_.Make(kT0 + 1);
  Record({&a, &b}, kT0);
  ASSERT_TRUE(outbox_->Resolve({{.event_id = a.event_id, .metadata_done = true, .next_attempt_ms = kT0}}).ok());
  ASSERT_TRUE(outbox_->RecordAttempts({
      {.event_id = a.event_id, .metadata_done = true, .document_done = true},
      {.event_id = b.event_id, .metadata_done = false, .document_done = true, .error = "m",
       .next_attempt_ms = kT0 + 50},
  }).ok());
  EXPECT_FALSE(Find(a.event_id).has_value());
  ASSERT_TRUE(Find(b.event_id).has_value());
  EXPECT_TRUE(Find(b.event_id)->document_done);
}

TEST_F(OutboxTest, MakeAllPendingDueMakesFutureEntriesDueNow) {
  const Event early = events_.Make(kT0);
  const Event later = events_.Make(kT0 + 1);
  const Event dead = events_.Make(kT0 + 2);
  Record({&early, &later, &dead}, kT0 + 60'000);
  KillEntry(dead.event_id);
  ASSERT_TRUE(outbox_->Resolve({{.event_id = early.event_id, .next_attempt_ms = kT0 + 5}}).ok());

  const int64_t now = kT0 + 100;
  EXPECT_EQ(DueIds(now), (std::vector<std::string>{early.event_id}));
  ASSERT_TRUE(outbox_->MakeAllPendingDue(now).ok());
  EXPECT_EQ(DueIds(now), (std::vector<std::string>{early.event_id, later.event_id}));
  EXPECT_EQ(Find(later.event_id)->next_attempt_ms, now);
  EXPECT_EQ(Find(early.event_id)->next_attempt_ms, kT0 + 5) << "an entry already due keeps its place";
  EXPECT_EQ(Find(dead.event_id)->state, OutboxState::kDead);
}

TEST_F(OutboxTest, StatsCountPendingAndDeadAndTheOldestPending) {
  EXPECT_EQ(Stats().pending, 0);
  EXPECT_EQ(Stats().dead, 0);
  EXPECT_EQ(Stats().oldest_pending_created_ms, 0);

  const Event oldest = events_.Make(kT0);
  const Event a = events_.Make(kT0 + 1000);
  const Event b = events_.Make(kT0 + 2000);
  Record({&b, &a, &oldest}, kT0 + 10'000);
  OutboxStats stats = Stats();
  EXPECT_EQ(stats.pending, 3);
  EXPECT_EQ(stats.dead, 0);
  EXPECT_EQ(stats.oldest_pending_created_ms, oldest.unix_millis);

  KillEntry(oldest.event_id);  // dead letters do not count as the oldest pending
  stats = Stats();
  EXPECT_EQ(stats.pending, 2);
  EXPECT_EQ(stats.dead, 1);
  EXPECT_EQ(stats.oldest_pending_created_ms, a.unix_millis);

  ASSERT_TRUE(outbox_->Resolve({{.event_id = a.event_id, .metadata_done = true, .document_done = true},
                                {.event_id = b.event_id, .metadata_done = true, .document_done = true}}).ok());
  stats = Stats();
  EXPECT_EQ(stats.pending, 0);
  EXPECT_EQ(stats.dead, 1);
  EXPECT_EQ(stats.oldest_pending_created_ms, 0);
}

TEST_F(OutboxTest, ListReturnsOneStateOldestFirstUpToTheLimit) {
  const Event p1 = events_.Make(kT0);
  const Event d1 = events_.Make(kT0 + 10);
  const Event p2 = events_.Make(kT0 + 20);
  const Event d2 = events_.Make(kT0 + 30);
  const Event p3 = events_.Make(kT0 + 40);
  Record({&p3, &d2, &p2, &d1, &p1}, kT0);
  KillEntry(d2.event_id);
  KillEntry(d1.event_id);

  const auto ids = [&](OutboxState state, int limit) {
    Result<std::vector<OutboxEntry>> entries = outbox_->List(state, limit);
    EXPECT_TRUE(entries.ok());
    std::vector<std::string> out;
    if (entries.ok()) {
      for (const OutboxEntry& e : *entries) {
        EXPECT_EQ(e.state, state);
        out.push_back(e.event.event_id);
      }
    }
    return out;
  };
  EXPECT_EQ(ids(OutboxState::kPending, 100), (std::vector<std::string>{p1.event_id, p2.event_id, p3.event_id}));
  EXPECT_EQ(ids(OutboxState::kDead, 100), (std::vector<std::string>{d1.event_id, d2.event_id}));
  EXPECT_EQ(ids(OutboxState::kPending, 2), (std::vector<std::string>{p1.event_id, p2.event_id}));
  EXPECT_EQ(ids(OutboxState::kDead, 1), (std::vector<std::string>{d1.event_id}));
}

TEST_F(OutboxTest, FindReturnsNothingForAnUnknownEvent) {
  EXPECT_FALSE(Find("01938c4e-7f10-7a3b-9c1d-2b6f0e8a4d21").has_value());
}

TEST_F(OutboxTest, FindByIdempotencyKeyIsScopedToTheUser) {
  const Event alice = events_.Make(kT0, "alice", "shared-key");
  const Event bob = events_.Make(kT0 + 1, "bob", "shared-key");
  const Event no_key = events_.Make(kT0 + 2, "carol");
  Record({&alice, &bob, &no_key}, kT0);

  const auto find = [&](const std::string& user, const std::string& key) -> std::optional<OutboxEntry> {
    Result<std::optional<OutboxEntry>> found = outbox_->FindByIdempotencyKey(user, key);
    EXPECT_TRUE(found.ok()) << found.status().ToString();
    return found.ok() ? *found : std::nullopt;
  };
  ASSERT_TRUE(find("alice", "shared-key").has_value());
  ExpectSameEvent(find("alice", "shared-key")->event, alice);
  ASSERT_TRUE(find("bob", "shared-key").has_value());
  EXPECT_EQ(find("bob", "shared-key")->event.event_id, bob.event_id);
  EXPECT_FALSE(find("alice", "other-key").has_value());
  EXPECT_FALSE(find("carol", "shared-key").has_value());
  EXPECT_FALSE(find("carol", "").has_value()) << "an event without a key is not found by the empty key";

  // Dead letters still hold their key: the event exists, it is just stuck.
  KillEntry(alice.event_id);
  ASSERT_TRUE(find("alice", "shared-key").has_value());
  EXPECT_EQ(find("alice", "shared-key")->state, OutboxState::kDead);

  // Once both stores have the event the outbox forgets it (and the key).
  ASSERT_TRUE(outbox_->Resolve({{.event_id = bob.event_id, .metadata_done = true, .document_done = true}}).ok());
  EXPECT_FALSE(find("bob", "shared-key").has_value());
}

TEST_F(OutboxTest, ReplayTurnsADeadLetterBackIntoADuePendingEntry) {
  const Event a = events_.Make(kT0);
  const Event b = events_.Make(kT0 + 1);
  Record({&a, &b}, kT0);
  ASSERT_TRUE(outbox_->RecordAttempts({{.event_id = a.event_id, .metadata_done = true, .error = "e1",
                                        .next_attempt_ms = kT0 + 10}}).ok());
  KillEntry(a.event_id);
  ASSERT_EQ(Find(a.event_id)->attempts, 2);

  const int64_t now = kT0 + 5'000'000;
  Result<int64_t> replayed = outbox_->Replay(a.event_id, now);
  ASSERT_TRUE(replayed.ok());
  EXPECT_EQ(*replayed, 1);
  const std::optional<OutboxEntry> found = Find(a.event_id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->state, OutboxState::kPending);
  EXPECT_EQ(found->attempts, 0);
  EXPECT_EQ(found->next_attempt_ms, now);
  EXPECT_TRUE(found->metadata_done) << "progress survives the dead letters";
  ExpectSameEvent(found->event, a);
  const std::vector<std::string> due = DueIds(now);
  EXPECT_NE(std::find(due.begin(), due.end(), a.event_id), due.end());

  // Only dead letters are replayed.
  replayed = outbox_->Replay(b.event_id, now);
  ASSERT_TRUE(replayed.ok());
  EXPECT_EQ(*replayed, 0);
  replayed = outbox_->Replay("00000000-0000-7000-8000-000000000000", now);
  ASSERT_TRUE(replayed.ok());
  EXPECT_EQ(*replayed, 0);
}

TEST_F(OutboxTest, ReplayAllDeadReplaysEveryDeadLetterOnly) {
  const Event a = events_.Make(kT0);
  const Event b = events_.Make(kT0 + 1);
  const Event c = events_.Make(kT0 + 2);
  Record({&a, &b, &c}, kT0 + 60'000);
  KillEntry(a.event_id);
  KillEntry(c.event_id);
  Result<int64_t> replayed = outbox_->ReplayAllDead(kT0 + 100);
  ASSERT_TRUE(replayed.ok());
  EXPECT_EQ(*replayed, 2);
  EXPECT_EQ(Stats().dead, 0);
  EXPECT_EQ(Stats().pending, 3);
  EXPECT_EQ(DueIds(kT0 + 100), (std::vector<std::string>{a.event_id, c.event_id}));
  EXPECT_EQ(Find(b.event_id)->next_attempt_ms, kT0 + 60'000) << "pending entries are left alone";

  replayed = outbox_->ReplayAllDead(kT0 + 200);
  ASSERT_TRUE(replayed.ok());
  EXPECT_EQ(*replayed, 0);
}

TEST_F(OutboxTest, PurgeDeadDeletesOnlyDeadLettersCreatedBeforeTheCutoff) {
  const Event old_dead = events_.Make(kT0);
  const Event new_dead = events_.Make(kT0 + 10'000);
  const Event old_pending = events_.Make(kT0 - 10'000);
  Record({&old_dead, &new_dead, &old_pending}, kT0);
  KillEntry(old_dead.event_id);
  KillEntry(new_dead.event_id);

  Result<int64_t> purged = outbox_->PurgeDead(kT0 + 10'000);  // strictly before
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 1);
  EXPECT_FALSE(Find(old_dead.event_id).has_value());
  EXPECT_TRUE(Find(new_dead.event_id).has_value());
  EXPECT_TRUE(Find(old_pending.event_id).has_value()) << "pending entries are never purged";

  purged = outbox_->PurgeDead(kT0 + 10'001);
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 1);
  EXPECT_EQ(Stats().dead, 0);
  EXPECT_EQ(Stats().pending, 1);
}

TEST_F(OutboxTest, ReopeningKeepsEverything) {
  const Event pending = events_.Make(kT0, "alice", "k1");
  const Event dead = events_.Make(kT0 + 1, "bob", "k2");
  Record({&pending, &dead}, kT0 + 123);
  ASSERT_TRUE(outbox_->Resolve({{.event_id = pending.event_id, .document_done = true, .error = "meta down",
                                 .next_attempt_ms = kT0 + 456}}).ok());
  ASSERT_TRUE(outbox_->RecordAttempts({{.event_id = dead.event_id, .metadata_done = true, .error = "doc down",
                                        .next_attempt_ms = std::nullopt}}).ok());
  outbox_.reset();

  outbox_ = Open();
  ASSERT_NE(outbox_, nullptr);
  const std::optional<OutboxEntry> p = Find(pending.event_id);
  ASSERT_TRUE(p.has_value());
  ExpectSameEvent(p->event, pending);
  EXPECT_EQ(p->state, OutboxState::kPending);
  EXPECT_FALSE(p->metadata_done);
  EXPECT_TRUE(p->document_done);
  EXPECT_EQ(p->attempts, 0);
  EXPECT_EQ(p->next_attempt_ms, kT0 + 456);
  EXPECT_EQ(p->last_error, "meta down");
  EXPECT_EQ(p->created_at_ms, pending.unix_millis);

  const std::optional<OutboxEntry> d = Find(dead.event_id);
  ASSERT_TRUE(d.has_value());
  ExpectSameEvent(d->event, dead);
  EXPECT_EQ(d->state, OutboxState::kDead);
  EXPECT_TRUE(d->metadata_done);
  EXPECT_EQ(d->attempts, 1);
  EXPECT_EQ(d->last_error, "doc down");

  EXPECT_EQ(Stats().pending, 1);
  EXPECT_EQ(Stats().dead, 1);
}

TEST(OutboxOpenTest, RefusesAFileWrittenByANewerVersion) {
  TempDir dir;
  const std::string path = (dir.path() / "outbox.db").string();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE future (x INTEGER); PRAGMA user_version = 3;", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);

  Result<std::unique_ptr<Outbox>> opened = Outbox::Open({.path = path});
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kFailedPrecondition) << opened.status().ToString();

  // Not modified: still version 3, still in its rollback-journal mode, and
  // no outbox table was created.
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 3);
  sqlite3_finalize(st);
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))), "delete");
  sqlite3_finalize(st);
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'outbox'", -1, &st, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST(OutboxOpenTest, OpensAFileOfTheCurrentVersionAndCreatesANewOne) {
  TempDir dir;
  const std::string path = (dir.path() / "outbox.db").string();
  {
    Result<std::unique_ptr<Outbox>> created = Outbox::Open({.path = path});
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }
  EXPECT_TRUE(std::filesystem::exists(path));
  Result<std::unique_ptr<Outbox>> reopened = Outbox::Open({.path = path});
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
}

TEST(OutboxOpenTest, UpgradesAnOutboxOfVersion1InPlace) {
  // Exactly what version 1 created, holding a pending entry.
  TempDir dir;
  const std::string path = (dir.path() / "outbox.db").string();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, R"sql(
    PRAGMA journal_mode=WAL;
    CREATE TABLE outbox (
      event_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, event_type TEXT NOT NULL, timestamp TEXT NOT NULL,
      details_json TEXT NOT NULL, idempotency_key TEXT, request_hash TEXT,
      metadata_done INTEGER NOT NULL DEFAULT 0, document_done INTEGER NOT NULL DEFAULT 0,
      state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
      created_at_ms INTEGER NOT NULL, next_attempt_ms INTEGER NOT NULL, last_error TEXT) WITHOUT ROWID;
    CREATE INDEX outbox_due ON outbox (state, next_attempt_ms, event_id);
    CREATE UNIQUE INDEX outbox_by_idempotency_key ON outbox (user_id, idempotency_key)
      WHERE idempotency_key IS NOT NULL;
    INSERT INTO outbox (event_id, user_id, event_type, timestamp, details_json, idempotency_key, request_hash,
                        metadata_done, created_at_ms, next_attempt_ms)
      VALUES ('0197738a-a700-7000-8000-000000000001', 'u1', 'bet', '2025-06-15T15:06:40.000Z', '{"n":1}',
              'k1', 'h1', 1, 1750000000000, 1750000000000);
    PRAGMA user_version = 1;)sql",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);

  Result<std::unique_ptr<Outbox>> opened = Outbox::Open({.path = path});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Outbox& outbox = **opened;
  Result<std::optional<OutboxEntry>> old = outbox.Find("0197738a-a700-7000-8000-000000000001");
  ASSERT_TRUE(old.ok() && old->has_value());
  EXPECT_EQ((*old)->event.details_json, R"({"n":1})");
  EXPECT_EQ((*old)->event.idempotency_key, "k1");
  EXPECT_TRUE((*old)->metadata_done);
  EXPECT_EQ((*old)->event.occurred_at, "");

  // A client-timed event keeps its occurredAt, and is queued at its receipt
  // (its eventId's millisecond), not at its much earlier timestamp.
  Event event = testing_support::EventAt(kT0, "u2", "bet", "{}");
  event.occurred_at = "2025-06-10T08:00:00.000Z";
  event.timestamp = event.occurred_at;
  event.unix_millis = kT0 - 5 * 24 * 3600 * 1000LL;
  const std::vector<const Event*> events = {&event};
  ASSERT_TRUE(outbox.RecordIntents(Batch(events), kT0).ok());
  Result<std::optional<OutboxEntry>> found = outbox.Find(event.event_id);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->event.occurred_at, "2025-06-10T08:00:00.000Z");
  EXPECT_EQ((*found)->event.timestamp, "2025-06-10T08:00:00.000Z");
  EXPECT_EQ((*found)->created_at_ms, kT0);
  opened->reset();  // closes it

  // Reopening a current outbox changes nothing.
  Result<std::unique_ptr<Outbox>> again = Outbox::Open({.path = path});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  found = (*again)->Find(event.event_id);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->event.occurred_at, "2025-06-10T08:00:00.000Z");
}

TEST(OutboxOpenTest, FailsWhenTheDirectoryDoesNotExist) {
  TempDir dir;
  Result<std::unique_ptr<Outbox>> opened = Outbox::Open({.path = (dir.path() / "missing" / "outbox.db").string()});
  EXPECT_FALSE(opened.ok());
}

// An erasure removes the user's entries received at or before its cutoff,
// pending and dead alike, and counts each kind; other users' entries and
// the user's later ones stay (their eventIds' time decides, not when they
// were queued).
TEST_F(OutboxTest, EraseUserEventsRemovesTheUsersEntriesUpToTheCutoff) {
  const Event pending = events_.Make(kT0, "erased");
  const Event dead = events_.Make(kT0 + 1, "erased");
  const Event later = events_.Make(kT0 + 3, "erased");
  const Event other = events_.Make(kT0, "kept");
  Record({&pending, &dead, &later, &other}, kT0 + 10);
  KillEntry(dead.event_id);

  Result<OutboxErasure> erased = outbox_->EraseUserEvents("erased", kT0 + 2);
  ASSERT_TRUE(erased.ok()) << erased.status().ToString();
  EXPECT_EQ(erased->pending, 1);
  EXPECT_EQ(erased->dead, 1);
  EXPECT_FALSE(Find(pending.event_id).has_value());
  EXPECT_FALSE(Find(dead.event_id).has_value());
  EXPECT_TRUE(Find(later.event_id).has_value());
  EXPECT_TRUE(Find(other.event_id).has_value());
  // Idempotent: nothing more to erase.
  erased = outbox_->EraseUserEvents("erased", kT0 + 2);
  ASSERT_TRUE(erased.ok());
  EXPECT_EQ(erased->pending + erased->dead, 0);
  // The cutoff is inclusive.
  erased = outbox_->EraseUserEvents("erased", kT0 + 3);
  ASSERT_TRUE(erased.ok());
  EXPECT_EQ(erased->pending, 1);
  EXPECT_FALSE(Find(later.event_id).has_value());
}

}  // namespace
}  // namespace eventlogger
