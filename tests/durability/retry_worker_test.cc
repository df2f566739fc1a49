// Tests for the RetryWorker with the real Outbox (SQLite in a temporary
// directory), fake stores that count calls and can be told to fail, a
// ManualClock, and RunOnce() for deterministic rounds: the worker thread is
// never started except where Start()'s own effect is under test.
#include "durability/retry_worker.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/timestamp.h"
#include "core/uuid.h"
#include "integration/service_fixture.h"  // TempDir
#include "support/events.h"
#include "support/keyless_metadata_store.h"

namespace eventlogger {
namespace {

using testing::TempDir;
using std::chrono::milliseconds;

constexpr int64_t kT0 = 1'750'000'000'000;

// What both fakes share: the events written, every call's batch, and
// injected failures (the next N calls, or all calls while `failing`).
class FakeBackend {
 public:
  Status Write(EventBatch batch) {
    std::lock_guard lock(mutex_);
    std::vector<std::string> ids;
    for (const Event* event : batch) ids.push_back(event->event_id);
    calls_.push_back(ids);
    if (fail_next_ > 0 || failing_) {
      if (fail_next_ > 0) --fail_next_;
      return Status::Unavailable("injected failure");
    }
    for (const Event* event : batch) events_[event->event_id] = *event;
    return Status::Ok();
  }
  void FailNext(int n) {
    std::lock_guard lock(mutex_);
    fail_next_ = n;
  }
  void SetFailing(bool failing) {
    std::lock_guard lock(mutex_);
    failing_ = failing;
  }
  // The ids of each WriteBatch call, in call order (failed calls included).
  std::vector<std::vector<std::string>> calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  size_t call_count() { return calls().size(); }
  std::optional<Event> stored(const std::string& event_id) {
    std::lock_guard lock(mutex_);
    auto it = events_.find(event_id);
    return it == events_.end() ? std::nullopt : std::optional<Event>(it->second);
  }
  size_t stored_count() {
    std::lock_guard lock(mutex_);
    return events_.size();
  }

 private:
  std::mutex mutex_;
  int fail_next_ = 0;
  bool failing_ = false;
  std::vector<std::vector<std::string>> calls_;
  std::map<std::string, Event> events_;
};

class FakeMetadataStore final : public testing_support::KeylessMetadataStore {
 public:
  Status WriteBatch(EventBatch events) override { return backend.Write(events); }
  Status ScanUser(std::string_view, const std::function<bool(const EventMetadata&)>&) override {
    return Status::Internal("not used by the retry worker");
  }
  Status Scan(const ScanFilter&, const std::function<bool(const EventMetadata&)>&) override {
    return Status::Internal("not used by the retry worker");
  }
  Result<EventMetadata> FindByIdempotencyKey(std::string_view, std::string_view) override {
    return Status::Internal("not used by the retry worker");
  }
  Result<EventMetadata> FindEvent(std::string_view, std::string_view) override {
    return Status::Internal("not used by the retry worker");
  }
  Status Migrate() override { return Status::Ok(); }
  Status CheckSchema() override { return Status::Ok(); }
  Status Ping() override { return Status::Ok(); }
  std::string_view Kind() const override { return "fake-metadata"; }

  FakeBackend backend;
};

class FakeDocumentStore final : public DocumentStore {
 public:
  Status WriteBatch(EventBatch events) override { return backend.Write(events); }
  Status ReadUserRange(std::string_view, const UserRangeQuery&,
                       const std::function<bool(const DocumentView&)>&) override {
    return Status::Internal("not used by the retry worker");
  }
  Status FindEvent(std::string_view, std::string_view, const std::function<void(const DocumentView&)>&) override {
    return Status::Internal("not used by the retry worker");
  }
  Status FindEventAt(std::string_view, const DocumentKey&, const std::function<void(const DocumentView&)>&) override {
    return Status::Internal("not used by the retry worker");
  }
  Status Scan(const ScanFilter&, const std::function<bool(const DocumentView&)>&) override {
    return Status::Internal("not used by the retry worker");
  }
  Result<int64_t> EraseUserEvents(const UserErasure&, int) override { return Status::Internal("not used here"); }
  Result<int64_t> DeleteExpired(const ExpiryRule&, const std::function<bool(std::string_view)>&, int) override {
    return Status::Internal("not used here");
  }
  size_t MaxDocumentBytes() const override { return 1 << 20; }
  Status Migrate() override { return Status::Ok(); }
  Status CheckSchema() override { return Status::Ok(); }
  Status Ping() override { return Status::Ok(); }
  std::string_view Kind() const override { return "fake-documents"; }

  FakeBackend backend;
};

Event MakeEvent(int64_t millis, const std::string& user, int n) {
  Event event = testing_support::EventAt(
      millis, user, "deposit", R"({"amount":)" + std::to_string(n) + R"(,"currency":"EUR"})");
  event.idempotency_key = "key-" + std::to_string(n);
  event.request_hash = "hash-" + std::to_string(n);
  return event;
}

class RetryWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<Outbox>> opened = Outbox::Open({.path = (dir_.path() / "outbox.db").string()});
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    outbox_ = std::move(*opened);
    options_.policy.base = milliseconds(100);
    options_.policy.cap = milliseconds(1000);
    options_.policy.max_attempts = 50;
    options_.poll_interval = std::chrono::hours(1);  // rounds only through RunOnce
    breaker_options_.failure_threshold = 3;
    breaker_options_.open_duration = milliseconds(5000);
  }

  RetryWorker& Worker() {
    if (!worker_) {
      metadata_breaker_ = std::make_unique<CircuitBreaker>(clock_, breaker_options_);
      document_breaker_ = std::make_unique<CircuitBreaker>(clock_, breaker_options_);
      worker_ = std::make_unique<RetryWorker>(*outbox_, metadata_, documents_, *metadata_breaker_,
                                              *document_breaker_, clock_, options_);
    }
    return *worker_;
  }

  // Records `event` as the request path does, with the request path's outcome
  // already applied: due at `due_ms`.
  void Queue(const Event& event, bool metadata_done, bool document_done, int64_t due_ms) {
    const Event* batch[] = {&event};
    ASSERT_TRUE(outbox_->RecordIntents(EventBatch(batch), due_ms).ok());
    ASSERT_TRUE(outbox_->Resolve({{.event_id = event.event_id, .metadata_done = metadata_done,
                                   .document_done = document_done, .error = "request path failed",
                                   .next_attempt_ms = due_ms}})
                    .ok());
  }

  std::optional<OutboxEntry> Find(const std::string& event_id) {
    Result<std::optional<OutboxEntry>> found = outbox_->Find(event_id);
    EXPECT_TRUE(found.ok()) << found.status().ToString();
    return found.ok() ? *found : std::nullopt;
  }

  // Runs one round and expects it to succeed.
  void Round() { ASSERT_TRUE(Worker().RunOnce().ok()); }
  // Moves the clock past any backoff the policy can choose, then runs a round.
  void RoundAfterBackoff() {
    clock_.Advance(options_.policy.cap.count());
    Round();
  }

  TempDir dir_;
  std::unique_ptr<Outbox> outbox_;
  ManualClock clock_{kT0};
  FakeMetadataStore metadata_;
  FakeDocumentStore documents_;
  RetryWorkerOptions options_;
  CircuitBreakerOptions breaker_options_;
  std::unique_ptr<CircuitBreaker> metadata_breaker_;
  std::unique_ptr<CircuitBreaker> document_breaker_;
  std::unique_ptr<RetryWorker> worker_;
};

TEST_F(RetryWorkerTest, FailedStoreIsRetriedUntilItSucceedsThenTheEntryIsRemoved) {
  const Event event = MakeEvent(kT0, "alice", 1);
  Queue(event, /*metadata_done=*/true, /*document_done=*/false, kT0);
  documents_.backend.FailNext(2);

  Round();  // attempt 1: fails
  std::optional<OutboxEntry> entry = Find(event.event_id);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->state, OutboxState::kPending);
  EXPECT_EQ(entry->attempts, 1);
  EXPECT_TRUE(entry->metadata_done);
  EXPECT_FALSE(entry->document_done);
  EXPECT_NE(entry->last_error.find("injected failure"), std::string::npos) << entry->last_error;
  // Backoff with full jitter after 1 failed attempt: within [now, now + ceiling(2)].
  EXPECT_GE(entry->next_attempt_ms, kT0);
  EXPECT_LE(entry->next_attempt_ms, kT0 + BackoffCeiling(options_.policy, 2).count());

  RoundAfterBackoff();  // attempt 2: fails
  entry = Find(event.event_id);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->attempts, 2);

  RoundAfterBackoff();  // attempt 3: succeeds
  EXPECT_FALSE(Find(event.event_id).has_value());
  EXPECT_EQ(documents_.backend.call_count(), 3u);
  const std::optional<Event> stored = documents_.backend.stored(event.event_id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->details_json, event.details_json);
  EXPECT_EQ(stored->user_id, "alice");
  EXPECT_EQ(stored->timestamp, event.timestamp);

  const RetryCounters counters = Worker().counters();
  EXPECT_EQ(counters.attempts, 3);
  EXPECT_EQ(counters.recovered, 1);
  EXPECT_EQ(counters.dead_lettered, 0);

  // Nothing left to do: a further round writes nothing.
  RoundAfterBackoff();
  EXPECT_EQ(documents_.backend.call_count(), 3u);
  EXPECT_EQ(Worker().counters().attempts, 3);
}

TEST_F(RetryWorkerTest, OnlyTheMissingStoreIsRewritten) {
  const Event needs_document = MakeEvent(kT0, "alice", 1);
  const Event needs_metadata = MakeEvent(kT0 + 1, "bob", 2);
  Queue(needs_document, /*metadata_done=*/true, /*document_done=*/false, kT0);
  Round();
  EXPECT_EQ(metadata_.backend.call_count(), 0u) << "the metadata store already has the event";
  EXPECT_EQ(documents_.backend.call_count(), 1u);
  EXPECT_FALSE(Find(needs_document.event_id).has_value());

  Queue(needs_metadata, /*metadata_done=*/false, /*document_done=*/true, kT0);
  Round();
  EXPECT_EQ(metadata_.backend.call_count(), 1u);
  EXPECT_EQ(documents_.backend.call_count(), 1u) << "the document store already has the event";
  EXPECT_TRUE(metadata_.backend.stored(needs_metadata.event_id).has_value());
  EXPECT_FALSE(documents_.backend.stored(needs_metadata.event_id).has_value());
  EXPECT_FALSE(Find(needs_metadata.event_id).has_value());
}

TEST_F(RetryWorkerTest, ProgressFromAFailedRoundIsKeptSoTheDoneStoreIsNotRewritten) {
  // Neither store has the event; the metadata write succeeds, the document
  // write fails. The next round rewrites only the document.
  const Event event = MakeEvent(kT0, "alice", 1);
  Queue(event, false, false, kT0);
  documents_.backend.FailNext(1);
  Round();
  std::optional<OutboxEntry> entry = Find(event.event_id);
  ASSERT_TRUE(entry.has_value());
  EXPECT_TRUE(entry->metadata_done);
  EXPECT_FALSE(entry->document_done);
  RoundAfterBackoff();
  EXPECT_FALSE(Find(event.event_id).has_value());
  EXPECT_EQ(metadata_.backend.call_count(), 1u);
  EXPECT_EQ(documents_.backend.call_count(), 2u);
}

TEST_F(RetryWorkerTest, OneBatchPerStorePerRoundWithExactlyTheMissingEvents) {
  std::vector<Event> events;
  for (int i = 0; i < 6; ++i) events.push_back(MakeEvent(kT0 + i, "user" + std::to_string(i), i));
  // 0, 1: document missing; 2, 3: metadata missing; 4, 5: both missing.
  for (int i = 0; i < 6; ++i) Queue(events[i], /*metadata_done=*/i < 2, /*document_done=*/i == 2 || i == 3, kT0);

  Round();
  const auto metadata_calls = metadata_.backend.calls();
  const auto document_calls = documents_.backend.calls();
  ASSERT_EQ(metadata_calls.size(), 1u);
  ASSERT_EQ(document_calls.size(), 1u);
  EXPECT_EQ(std::set<std::string>(metadata_calls[0].begin(), metadata_calls[0].end()),
            (std::set<std::string>{events[2].event_id, events[3].event_id, events[4].event_id, events[5].event_id}));
  EXPECT_EQ(std::set<std::string>(document_calls[0].begin(), document_calls[0].end()),
            (std::set<std::string>{events[0].event_id, events[1].event_id, events[4].event_id, events[5].event_id}));
  EXPECT_EQ(metadata_calls[0].size(), 4u) << "no event twice in a batch";
  EXPECT_EQ(document_calls[0].size(), 4u);
  for (const Event& e : events) EXPECT_FALSE(Find(e.event_id).has_value());
  EXPECT_EQ(Worker().counters().attempts, 6);
  EXPECT_EQ(Worker().counters().recovered, 6);
}

TEST_F(RetryWorkerTest, BatchLimitCapsTheEntriesTakenPerRound) {
  options_.batch_limit = 2;
  std::vector<Event> events;
  for (int i = 0; i < 5; ++i) events.push_back(MakeEvent(kT0 + i, "u", i));
  for (const Event& e : events) Queue(e, true, false, kT0);
  Round();
  ASSERT_EQ(documents_.backend.call_count(), 1u);
  EXPECT_EQ(documents_.backend.calls()[0].size(), 2u);
  Round();
  Round();
  const auto calls = documents_.backend.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[1].size(), 2u);
  EXPECT_EQ(calls[2].size(), 1u);
  EXPECT_EQ(documents_.backend.stored_count(), 5u);
}

TEST_F(RetryWorkerTest, EntriesNotYetDueAreLeftAlone) {
  const Event event = MakeEvent(kT0, "alice", 1);
  Queue(event, true, false, kT0 + 10'000);
  Round();
  EXPECT_EQ(documents_.backend.call_count(), 0u);
  EXPECT_EQ(Worker().counters().attempts, 0);
  clock_.Advance(10'000);
  Round();
  EXPECT_EQ(documents_.backend.call_count(), 1u);
  EXPECT_FALSE(Find(event.event_id).has_value());
}

TEST_F(RetryWorkerTest, AfterMaxAttemptsTheWholeEventBecomesADeadLetter) {
  options_.policy.max_attempts = 3;
  const Event event = MakeEvent(kT0, "alice", 7);
  Queue(event, /*metadata_done=*/true, /*document_done=*/false, kT0);
  documents_.backend.SetFailing(true);

  Round();
  RoundAfterBackoff();
  ASSERT_EQ(Find(event.event_id)->state, OutboxState::kPending);
  EXPECT_EQ(Worker().counters().dead_lettered, 0);
  RoundAfterBackoff();  // the 3rd attempt fails: give up

  const std::optional<OutboxEntry> dead = Find(event.event_id);
  ASSERT_TRUE(dead.has_value());
  EXPECT_EQ(dead->state, OutboxState::kDead);
  EXPECT_EQ(dead->attempts, 3);
  EXPECT_TRUE(dead->metadata_done);
  EXPECT_FALSE(dead->document_done);
  EXPECT_NE(dead->last_error.find("injected failure"), std::string::npos);
  EXPECT_EQ(dead->event.event_id, event.event_id);
  EXPECT_EQ(dead->event.user_id, event.user_id);
  EXPECT_EQ(dead->event.event_type, event.event_type);
  EXPECT_EQ(dead->event.timestamp, event.timestamp);
  EXPECT_EQ(dead->event.details_json, event.details_json);
  EXPECT_EQ(dead->event.idempotency_key, event.idempotency_key);
  EXPECT_EQ(dead->event.request_hash, event.request_hash);

  RetryCounters counters = Worker().counters();
  EXPECT_EQ(counters.attempts, 3);
  EXPECT_EQ(counters.dead_lettered, 1);
  EXPECT_EQ(counters.recovered, 0);
  Result<OutboxStats> stats = outbox_->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->pending, 0);
  EXPECT_EQ(stats->dead, 1);

  // A dead letter is not retried any more.
  RoundAfterBackoff();
  RoundAfterBackoff();
  EXPECT_EQ(documents_.backend.call_count(), 3u);
  EXPECT_EQ(Worker().counters().attempts, 3);
}

TEST_F(RetryWorkerTest, EventsOlderThanMaxAgeBecomeDeadLettersAtTheirNextFailure) {
  options_.policy.max_age = milliseconds(60'000);
  const Event event = MakeEvent(kT0, "alice", 1);
  Queue(event, true, false, kT0);
  documents_.backend.SetFailing(true);
  clock_.Advance(60'000);
  Round();
  const std::optional<OutboxEntry> entry = Find(event.event_id);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->state, OutboxState::kDead);
  EXPECT_EQ(entry->attempts, 1);
  EXPECT_EQ(Worker().counters().dead_lettered, 1);
}

TEST_F(RetryWorkerTest, ReplayedDeadLetterIsWrittenOnceTheStoreRecovers) {
  options_.policy.max_attempts = 1;
  const Event event = MakeEvent(kT0, "alice", 3);
  Queue(event, /*metadata_done=*/true, /*document_done=*/false, kT0);
  documents_.backend.SetFailing(true);
  Round();
  ASSERT_EQ(Find(event.event_id)->state, OutboxState::kDead);

  documents_.backend.SetFailing(false);
  clock_.Advance(5000);
  Result<int64_t> replayed = outbox_->Replay(event.event_id, clock_.NowUnixMillis());
  ASSERT_TRUE(replayed.ok());
  ASSERT_EQ(*replayed, 1);
  Round();
  EXPECT_FALSE(Find(event.event_id).has_value());
  const std::optional<Event> stored = documents_.backend.stored(event.event_id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->details_json, event.details_json);
  EXPECT_EQ(metadata_.backend.call_count(), 0u);
  const RetryCounters counters = Worker().counters();
  EXPECT_EQ(counters.attempts, 2);
  EXPECT_EQ(counters.dead_lettered, 1);
  EXPECT_EQ(counters.recovered, 1);
}

TEST_F(RetryWorkerTest, ReplayedDeadLetterGetsAFreshAttemptBudget) {
  options_.policy.max_attempts = 2;
  const Event event = MakeEvent(kT0, "alice", 3);
  Queue(event, true, false, kT0);
  documents_.backend.SetFailing(true);
  Round();
  RoundAfterBackoff();
  ASSERT_EQ(Find(event.event_id)->state, OutboxState::kDead);
  ASSERT_TRUE(outbox_->Replay(event.event_id, clock_.NowUnixMillis()).ok());
  Round();  // one failure after the replay: still within the fresh budget of 2
  EXPECT_EQ(Find(event.event_id)->state, OutboxState::kPending);
  EXPECT_EQ(Find(event.event_id)->attempts, 1);
  RoundAfterBackoff();
  EXPECT_EQ(Find(event.event_id)->state, OutboxState::kDead);
}

TEST_F(RetryWorkerTest, WorkerResultsFeedTheBreakers) {
  breaker_options_.failure_threshold = 2;
  Worker();
  const Event a = MakeEvent(kT0, "alice", 1);
  const Event b = MakeEvent(kT0 + 1, "bob", 2);
  Queue(a, /*metadata_done=*/false, /*document_done=*/true, kT0);
  Queue(b, /*metadata_done=*/true, /*document_done=*/false, kT0);
  metadata_.backend.SetFailing(true);

  Round();  // metadata fails, documents succeed
  EXPECT_EQ(metadata_breaker_->state(), CircuitBreaker::State::kClosed) << "one failure, threshold 2";
  RoundAfterBackoff();
  EXPECT_EQ(metadata_breaker_->state(), CircuitBreaker::State::kOpen);
  EXPECT_EQ(document_breaker_->state(), CircuitBreaker::State::kClosed);
  EXPECT_FALSE(metadata_breaker_->Allow());

  // The worker writes without asking the breaker; its success closes it, so
  // a recovered store is noticed before any request dares to probe it.
  metadata_.backend.SetFailing(false);
  RoundAfterBackoff();
  EXPECT_EQ(metadata_breaker_->state(), CircuitBreaker::State::kClosed);
  EXPECT_TRUE(metadata_breaker_->Allow());
  EXPECT_FALSE(Find(a.event_id).has_value());
}

TEST_F(RetryWorkerTest, ASuccessfulWorkerWriteClosesAnOpenBreaker) {
  Worker();
  for (int i = 0; i < breaker_options_.failure_threshold; ++i) document_breaker_->RecordFailure();
  ASSERT_EQ(document_breaker_->state(), CircuitBreaker::State::kOpen);
  const Event event = MakeEvent(kT0, "alice", 1);
  Queue(event, true, false, kT0);
  Round();
  EXPECT_EQ(documents_.backend.call_count(), 1u) << "the worker writes even while the breaker is open";
  EXPECT_EQ(document_breaker_->state(), CircuitBreaker::State::kClosed);
  EXPECT_EQ(metadata_breaker_->state(), CircuitBreaker::State::kClosed);
}

TEST_F(RetryWorkerTest, AStoreWithNothingToWriteDoesNotTouchItsBreaker) {
  Worker();
  for (int i = 0; i < breaker_options_.failure_threshold; ++i) metadata_breaker_->RecordFailure();
  const Event event = MakeEvent(kT0, "alice", 1);
  Queue(event, /*metadata_done=*/true, /*document_done=*/false, kT0);
  Round();
  EXPECT_EQ(metadata_.backend.call_count(), 0u);
  EXPECT_EQ(metadata_breaker_->state(), CircuitBreaker::State::kOpen)
      << "no metadata write happened, so nothing proves the metadata store is back";
}

TEST_F(RetryWorkerTest, EnqueuedResolutionsAreAppliedByTheNextRound) {
  const Event done = MakeEvent(kT0, "alice", 1);
  const Event partial = MakeEvent(kT0 + 1, "bob", 2);
  const Event* batch[] = {&done, &partial};
  ASSERT_TRUE(outbox_->RecordIntents(EventBatch(batch), kT0 + 10'000).ok());
  Worker().Enqueue({.event_id = done.event_id, .metadata_done = true, .document_done = true});
  Worker().Enqueue({.event_id = partial.event_id, .metadata_done = true, .document_done = false,
                    .error = "Unavailable: document store down", .next_attempt_ms = kT0 + 500});
  // Enqueue alone writes nothing.
  ASSERT_TRUE(Find(done.event_id).has_value());

  Round();  // applies the resolutions; the partial one is not due yet
  EXPECT_FALSE(Find(done.event_id).has_value());
  std::optional<OutboxEntry> entry = Find(partial.event_id);
  ASSERT_TRUE(entry.has_value());
  EXPECT_TRUE(entry->metadata_done);
  EXPECT_EQ(entry->next_attempt_ms, kT0 + 500);
  EXPECT_EQ(entry->attempts, 0);
  EXPECT_EQ(documents_.backend.call_count(), 0u);

  clock_.Advance(500);
  Round();
  EXPECT_FALSE(Find(partial.event_id).has_value());
  EXPECT_EQ(metadata_.backend.call_count(), 0u);
  EXPECT_EQ(documents_.backend.call_count(), 1u);
}

TEST_F(RetryWorkerTest, StopAppliesQueuedResolutions) {
  const Event event = MakeEvent(kT0, "alice", 1);
  const Event* batch[] = {&event};
  ASSERT_TRUE(outbox_->RecordIntents(EventBatch(batch), kT0 + 10'000).ok());
  Worker().Enqueue({.event_id = event.event_id, .metadata_done = true, .document_done = true});
  Worker().Stop();
  EXPECT_FALSE(Find(event.event_id).has_value());
  Worker().Stop();  // idempotent
}

TEST_F(RetryWorkerTest, StartMakesEveryPendingEntryDue) {
  // After a restart nothing is in flight: an entry scheduled far ahead (for
  // instance an intent whose request died with the process) is due at once.
  const Event event = MakeEvent(kT0, "alice", 1);
  Queue(event, true, false, kT0 + 3'600'000);
  ASSERT_TRUE(Worker().Start().ok());
  Round();
  Worker().Stop();
  EXPECT_FALSE(Find(event.event_id).has_value());
  EXPECT_EQ(documents_.backend.call_count(), 1u);
}

TEST_F(RetryWorkerTest, BackgroundThreadRetriesOnItsOwn) {
  options_.poll_interval = milliseconds(10);
  const Event event = MakeEvent(kT0, "alice", 1);
  Queue(event, true, false, kT0);
  ASSERT_TRUE(Worker().Start().ok());
  // Bounded polling: the worker runs on its own beat.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (Find(event.event_id).has_value() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  Worker().Stop();
  EXPECT_FALSE(Find(event.event_id).has_value());
  EXPECT_TRUE(documents_.backend.stored(event.event_id).has_value());
}

}  // namespace
}  // namespace eventlogger
