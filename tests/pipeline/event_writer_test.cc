// Tests for EventWriter (intent-log append first, then fan-out to both
// stores, with admission control and circuit breakers; failures handed to
// the outbox) and for the WriteTicket rendezvous it relies on.
//
// The stores are small fakes: they record what they are given, can be held
// at a gate the test opens, and can be told to fail. The intent log and the
// outbox are the real ones in a temporary directory, because "the intent is
// durable before any store sees the event" and "a failed event is released
// from the log only once the outbox has it" are properties of how they
// interact. The clock is manual and the retry worker is never started, so
// nothing is retried behind the test's back; RetryWorker::RunOnce records
// the request-path failures when a test wants to see them in the outbox.
#include "pipeline/event_writer.h"
#include "support/keyless_metadata_store.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace eventlogger {
namespace {

using testing_support::TempDir;

// What both fakes share: a record of writes, a gate, an injected status, and
// an optional hook run (outside the fake's lock) for each event written.
class FakeBackend {
 public:
  Status Write(EventBatch batch) {
    for (const Event* event : batch) {
      if (on_event) on_event(*event);
    }
    std::unique_lock lock(mutex_);
    for (const Event* event : batch) ids_.push_back(event->event_id);
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_; });
    return status_;
  }
  void Hold() {
    std::lock_guard lock(mutex_);
    open_ = false;
  }
  void Release() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    changed_.notify_all();
  }
  void FailWith(Status status) {
    std::lock_guard lock(mutex_);
    status_ = std::move(status);
  }
  // Blocks until `n` events have reached WriteBatch (held or not).
  void WaitForEvents(size_t n) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return ids_.size() >= n; });
  }
  std::vector<std::string> ids() {
    std::lock_guard lock(mutex_);
    return ids_;
  }

  std::function<void(const Event&)> on_event;  // set before any write

  Status Sync() {
    std::lock_guard lock(mutex_);
    ++syncs_;
    return sync_status_;
  }
  void FailSyncWith(Status status) {
    std::lock_guard lock(mutex_);
    sync_status_ = std::move(status);
  }
  int syncs() {
    std::lock_guard lock(mutex_);
    return syncs_;
  }

 private:
  int syncs_ = 0;
  Status sync_status_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = true;
  Status status_;
  std::vector<std::string> ids_;
};

class FakeMetadataStore final : public testing_support::KeylessMetadataStore {
 public:
  Status WriteBatch(EventBatch events) override { return backend.Write(events); }
  Status SyncWrites() override { return backend.Sync(); }
  Status ScanUser(std::string_view, const std::function<bool(const EventMetadata&)>&) override {
    return Status::Internal("not used by EventWriter");
  }
  Status Scan(const ScanFilter&, const std::function<bool(const EventMetadata&)>&) override {
    return Status::Internal("not used by EventWriter");
  }
  Result<EventMetadata> FindByIdempotencyKey(std::string_view, std::string_view) override {
    return Status::Internal("not used by EventWriter");
  }
  Result<EventMetadata> FindEvent(std::string_view, std::string_view) override {
    return Status::Internal("not used by EventWriter");
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
  Status SyncWrites() override { return backend.Sync(); }
  Status ReadUserRange(std::string_view, const UserRangeQuery&,
                       const std::function<bool(const DocumentView&)>&) override {
    return Status::Internal("not used by EventWriter");
  }
  Status FindEvent(std::string_view, std::string_view,
                   const std::function<void(const DocumentView&)>&) override {
    return Status::Internal("not used by EventWriter");
  }
  Status FindEventAt(std::string_view, const DocumentKey&, const std::function<void(const DocumentView&)>&) override {
    return Status::Internal("not used by EventWriter");
  }
  Status Scan(const ScanFilter&, const std::function<bool(const DocumentView&)>&) override {
    return Status::Internal("not used by EventWriter");
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

constexpr int64_t kNow = 1751207565123;

// Everything an EventWriter needs, in an order that makes teardown safe
// even after a failed assertion: the destructor opens both gates before the
// writer stops, and every part outlives the writer's threads.
class Harness {
 public:
  explicit Harness(EventWriterOptions options = {}, CircuitBreakerOptions breaker = {}) {
    // No background syncer unless a test asks for one: tests flush releases
    // by hand (FlushReleases), so what the log holds never races a timer.
    if (options.sync_interval == EventWriterOptions{}.sync_interval) options.sync_interval = std::chrono::hours(1);
    Result<std::unique_ptr<Outbox>> opened = Outbox::Open({.path = dir.File("outbox.db")});
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    if (!opened.ok()) std::abort();  // nothing below can work without it
    outbox = std::move(opened).value();
    std::vector<Event> replayed;
    Result<std::unique_ptr<IntentLog>> log =
        IntentLog::Open({.directory = dir.File("intents"), .segment_bytes = 1 << 16}, &replayed);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    if (!log.ok()) std::abort();
    intent_log = std::move(log).value();
    metadata_breaker.emplace(clock, breaker);
    document_breaker.emplace(clock, breaker);
    worker.emplace(*outbox, metadata, documents, *metadata_breaker, *document_breaker, clock,
                   RetryWorkerOptions{});
    writer.emplace(EventWriterParts{*intent_log, metadata, documents, *metadata_breaker,
                                    *document_breaker, *worker, clock},
                   options);
  }
  ~Harness() {
    metadata.backend.Release();
    documents.backend.Release();
    writer.reset();
    worker.reset();
  }

  int64_t Unreleased() const { return intent_log->Stats().unreleased_events; }

  // The outbox entry for `event_id`, if any.
  std::optional<OutboxEntry> Intent(const std::string& event_id) {
    Result<std::optional<OutboxEntry>> found = outbox->Find(event_id);
    EXPECT_TRUE(found.ok()) << found.status().ToString();
    return found.ok() ? *found : std::nullopt;
  }

  TempDir dir;
  ManualClock clock{kNow};
  FakeMetadataStore metadata;
  FakeDocumentStore documents;
  std::unique_ptr<Outbox> outbox;
  std::unique_ptr<IntentLog> intent_log;
  std::optional<CircuitBreaker> metadata_breaker;
  std::optional<CircuitBreaker> document_breaker;
  std::optional<RetryWorker> worker;
  std::optional<EventWriter> writer;
};

struct Tracked {
  std::shared_ptr<WriteTicket> ticket;
  std::shared_ptr<std::atomic<int>> completions = std::make_shared<std::atomic<int>>(0);
};

// A ticket whose completion callback counts, and counts `done` down once.
Tracked MakeTicket(const std::string& id, std::latch* done = nullptr) {
  auto event = std::make_shared<Event>();
  event->event_id = id;
  event->user_id = "u";
  event->event_type = "t";
  event->timestamp = "2025-06-29T14:32:45.123Z";
  event->unix_millis = kNow;
  event->details_json = "{}";
  Tracked t{std::make_shared<WriteTicket>(std::move(event))};
  t.ticket->SetOnComplete([completions = t.completions, done] {
    if (completions->fetch_add(1) == 0 && done != nullptr) done->count_down();
  });
  return t;
}

// Spins until `condition` holds. Used only where the awaited step (the
// on_released callback, a slot being filled) runs on a writer thread right
// after something the test can see, with nothing to block on in between; a
// bug shows as a ctest timeout, never as a flaky pass.
template <typename Condition>
void SpinUntil(Condition condition) {
  while (!condition()) std::this_thread::yield();
}

// Every pipeline test runs with both placements of the store writes: a
// writer thread per store, and both stores written by the intent writer.
class EventWriterTest : public ::testing::TestWithParam<StoreWriters> {
 protected:
  EventWriterOptions Mode(EventWriterOptions options = {}) const {
    options.store_writers = GetParam();
    return options;
  }
};

INSTANTIATE_TEST_SUITE_P(StoreWriters, EventWriterTest,
                         ::testing::Values(StoreWriters::kPerStore, StoreWriters::kIntentWriter),
                         [](const ::testing::TestParamInfo<StoreWriters>& info) {
                           return info.param == StoreWriters::kPerStore ? "PerStore" : "IntentWriter";
                         });

TEST_P(EventWriterTest, BothStoresReceiveEveryEvent) {
  constexpr int kEvents = 200;
  std::latch done(kEvents);
  std::vector<Tracked> tickets;
  Harness h(Mode({.max_in_flight = 1000, .max_batch_size = 16}));
  std::set<std::string> expected;
  for (int i = 0; i < kEvents; ++i) {
    tickets.push_back(MakeTicket("e" + std::to_string(i), &done));
    expected.insert("e" + std::to_string(i));
    ASSERT_TRUE(h.writer->Submit(tickets.back().ticket).ok());
  }
  done.wait();
  const std::vector<std::string> metadata_ids = h.metadata.backend.ids();
  const std::vector<std::string> document_ids = h.documents.backend.ids();
  // Each store got each event exactly once.
  EXPECT_EQ(metadata_ids.size(), static_cast<size_t>(kEvents));
  EXPECT_EQ(document_ids.size(), static_cast<size_t>(kEvents));
  EXPECT_EQ(std::set<std::string>(metadata_ids.begin(), metadata_ids.end()), expected);
  EXPECT_EQ(std::set<std::string>(document_ids.begin(), document_ids.end()), expected);
  for (const auto& t : tickets) {
    EXPECT_TRUE(t.ticket->Outcome().all_ok());
    EXPECT_EQ(t.completions->load(), 1);
  }
}

TEST_P(EventWriterTest, StoreWritesRunOnTheThreadsTheModeNames) {
  // kIntentWriter: one thread writes both stores, documents first.
  // kPerStore: each store has its own thread.
  constexpr int kEvents = 40;
  std::latch done(kEvents);
  std::vector<Tracked> tickets;
  Harness h(Mode({.max_in_flight = 100, .max_batch_size = 8}));
  std::mutex mutex;
  std::set<std::thread::id> metadata_threads, document_threads;
  std::map<std::string, int> order;  // per event: 1 = documents first, 2 = metadata first
  h.metadata.backend.on_event = [&](const Event& event) {
    std::lock_guard lock(mutex);
    metadata_threads.insert(std::this_thread::get_id());
    order.emplace(event.event_id, 2);
  };
  h.documents.backend.on_event = [&](const Event& event) {
    std::lock_guard lock(mutex);
    document_threads.insert(std::this_thread::get_id());
    order.emplace(event.event_id, 1);
  };
  for (int i = 0; i < kEvents; ++i) {
    tickets.push_back(MakeTicket("e" + std::to_string(i), &done));
    ASSERT_TRUE(h.writer->Submit(tickets.back().ticket).ok());
  }
  done.wait();
  ASSERT_EQ(metadata_threads.size(), 1u);
  ASSERT_EQ(document_threads.size(), 1u);
  if (GetParam() == StoreWriters::kIntentWriter) {
    EXPECT_EQ(*metadata_threads.begin(), *document_threads.begin());
    for (const auto& [id, first] : order) EXPECT_EQ(first, 1) << id << ": metadata was written first";
  } else {
    EXPECT_NE(*metadata_threads.begin(), *document_threads.begin());
  }
  EXPECT_EQ(order.size(), static_cast<size_t>(kEvents));
  for (const auto& t : tickets) EXPECT_TRUE(t.ticket->Outcome().all_ok());
}

// kIntentWriter hands a large append (a batch request's) to the per-store
// threads, so the next append does not wait behind its store writes.
TEST(EventWriterHandOverTest, ALargeAppendIsWrittenByThePerStoreThreads) {
  std::latch done(6);
  Harness h({.max_in_flight = 100, .max_batch_size = 1024, .store_writers = StoreWriters::kIntentWriter,
             .hand_over_batch_events = 4});
  std::mutex mutex;
  std::set<std::thread::id> metadata_threads, document_threads;
  h.metadata.backend.on_event = [&](const Event&) {
    std::lock_guard lock(mutex);
    metadata_threads.insert(std::this_thread::get_id());
  };
  h.documents.backend.on_event = [&](const Event&) {
    std::lock_guard lock(mutex);
    document_threads.insert(std::this_thread::get_id());
  };
  std::vector<Tracked> batch;
  std::vector<std::shared_ptr<WriteTicket>> tickets;
  for (int i = 0; i < 5; ++i) {
    batch.push_back(MakeTicket("b" + std::to_string(i), &done));
    tickets.push_back(batch.back().ticket);
  }
  ASSERT_TRUE(h.writer->SubmitAll(tickets).ok());
  // Wait for the batch, so the single event below is an append of its own.
  for (const Tracked& t : batch) SpinUntil([&] { return t.ticket->complete(); });
  {
    std::lock_guard lock(mutex);
    ASSERT_EQ(metadata_threads.size(), 1u);
    ASSERT_EQ(document_threads.size(), 1u);
    EXPECT_NE(*metadata_threads.begin(), *document_threads.begin());
  }
  Tracked single = MakeTicket("single", &done);
  ASSERT_TRUE(h.writer->Submit(single.ticket).ok());
  done.wait();
  // The small append stayed on the intent writer: a third thread wrote both.
  EXPECT_EQ(metadata_threads.size(), 2u);
  EXPECT_EQ(document_threads.size(), 2u);
  for (const Tracked& t : batch) EXPECT_TRUE(t.ticket->Outcome().all_ok());
  EXPECT_TRUE(single.ticket->Outcome().all_ok());
}

TEST_P(EventWriterTest, IntentIsDurableBeforeAnyStoreSeesTheEvent) {
  // The durability promise: a crash at any instant leaves either nothing or
  // an intent-log record. So whenever a store is handed an event, its
  // append must have returned (the slot reported OK) and not been released.
  std::latch done(20);
  std::vector<Tracked> tickets;
  std::map<std::string, std::shared_ptr<WriteTicket>> by_id;
  Harness h(Mode({.max_in_flight = 100, .max_batch_size = 4}));
  std::mutex mutex;
  std::vector<std::string> written_without_intent;
  const auto check = [&](const Event& event) {
    std::shared_ptr<WriteTicket> ticket;
    {
      std::lock_guard lock(mutex);
      ticket = by_id.at(event.event_id);
    }
    if (!ticket->reported(StoreSlot::kOutbox) || !ticket->Results().outbox.ok() || h.Unreleased() < 1) {
      std::lock_guard lock(mutex);
      written_without_intent.push_back(event.event_id);
    }
  };
  h.metadata.backend.on_event = check;
  h.documents.backend.on_event = check;
  for (int i = 0; i < 20; ++i) {
    tickets.push_back(MakeTicket("e" + std::to_string(i), &done));
    {
      std::lock_guard lock(mutex);
      by_id["e" + std::to_string(i)] = tickets.back().ticket;
    }
    ASSERT_TRUE(h.writer->Submit(tickets.back().ticket).ok());
  }
  done.wait();
  EXPECT_TRUE(written_without_intent.empty())
      << written_without_intent.size() << " store writes came before their intent";
  EXPECT_EQ(h.metadata.backend.ids().size(), 20u);
  for (const auto& t : tickets) EXPECT_TRUE(t.ticket->Outcome().outbox.ok());
  // Both stores have every event: the log releases them all, and nothing
  // ever enters the outbox on the happy path.
  SpinUntil([&] { return h.writer->in_flight() == 0; });
  h.writer->FlushReleases();
  EXPECT_EQ(h.Unreleased(), 0);
  ASSERT_TRUE(h.worker->RunOnce().ok());
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(h.Intent("e" + std::to_string(i)).has_value());
}

TEST_P(EventWriterTest, IntentsSurviveInTheLogUntilReleased) {
  // What a crash would find: the log written by one writer, reopened while
  // a store still holds an event, replays it.
  TempDir dir;
  std::vector<Event> replayed;
  {
    Harness h(Mode({.max_in_flight = 10, .max_batch_size = 4}));
    Tracked t = MakeTicket("held");
    h.metadata.backend.Hold();
    ASSERT_TRUE(h.writer->Submit(t.ticket).ok());
    h.metadata.backend.WaitForEvents(1);
    // Copy the log's directory as a crash at this instant would leave it.
    std::filesystem::copy(h.dir.File("intents"), dir.File("intents"));
  }
  std::filesystem::remove(dir.File("intents") + "/LOCK");
  Result<std::unique_ptr<IntentLog>> log = IntentLog::Open({.directory = dir.File("intents")}, &replayed);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_EQ(replayed.size(), 1u);
  EXPECT_EQ(replayed[0].event_id, "held");
  EXPECT_EQ(replayed[0].details_json, "{}");
}

TEST_P(EventWriterTest, CompletionFiresOnceAfterEverySlotReported) {
  std::latch done(1);
  Tracked t = MakeTicket("e1", &done);
  Harness h(Mode());
  h.metadata.backend.Hold();
  ASSERT_TRUE(h.writer->Submit(t.ticket).ok());

  // The outbox and the document store answer; the metadata store is held.
  SpinUntil([&] { return t.ticket->reported(StoreSlot::kDocument); });
  h.metadata.backend.WaitForEvents(1);
  EXPECT_TRUE(t.ticket->reported(StoreSlot::kOutbox));
  EXPECT_FALSE(t.ticket->reported(StoreSlot::kMetadata));
  EXPECT_TRUE(t.ticket->Outcome().document.ok());
  EXPECT_FALSE(t.ticket->complete());
  EXPECT_EQ(t.completions->load(), 0);

  h.metadata.backend.Release();
  done.wait();
  h.writer->Stop();  // joins the writer threads: every report has happened
  EXPECT_TRUE(t.ticket->complete());
  EXPECT_TRUE(t.ticket->Outcome().all_ok());
  EXPECT_EQ(t.completions->load(), 1);
}

TEST_P(EventWriterTest, AdmissionIsBoundedAndReopensWhenWritesFinish) {
  // A slow store must turn into fast ResourceExhausted, not a growing queue.
  std::latch done(3);
  std::latch later_done(1);
  std::vector<Tracked> tickets;
  Harness h(Mode({.max_in_flight = 3, .max_batch_size = 1024}));
  h.metadata.backend.Hold();
  h.documents.backend.Hold();
  for (int i = 0; i < 3; ++i) {
    tickets.push_back(MakeTicket("e" + std::to_string(i), &done));
    ASSERT_TRUE(h.writer->Submit(tickets.back().ticket).ok()) << i;
  }
  EXPECT_EQ(h.writer->in_flight(), 3u);

  Tracked rejected = MakeTicket("rejected");
  const Status status = h.writer->Submit(rejected.ticket);
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted) << status.ToString();
  EXPECT_EQ(h.writer->in_flight(), 3u);  // the refusal is not counted

  h.metadata.backend.Release();
  h.documents.backend.Release();
  done.wait();
  // on_released runs on the writer thread just after on_complete.
  SpinUntil([&] { return h.writer->in_flight() == 0; });

  Tracked later = MakeTicket("later", &later_done);
  EXPECT_TRUE(h.writer->Submit(later.ticket).ok());
  later_done.wait();
  EXPECT_TRUE(later.ticket->Outcome().all_ok());
  h.writer->Stop();

  // The refused ticket was never queued anywhere, not even in the outbox.
  for (const auto& ids : {h.metadata.backend.ids(), h.documents.backend.ids()}) {
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()),
              (std::set<std::string>{"e0", "e1", "e2", "later"}));
  }
  EXPECT_FALSE(h.Intent("rejected").has_value());
  h.writer->FlushReleases();
  EXPECT_EQ(h.Unreleased(), 0);
  EXPECT_FALSE(rejected.ticket->complete());
  EXPECT_EQ(rejected.completions->load(), 0);
}

TEST_P(EventWriterTest, SubmitAllAdmitsAllOrNoneAndAppendsThemTogether) {
  // A batch request's events: admitted as one, and one intent-log append
  // (one fdatasync) for all of them.
  std::latch done(4);
  Harness h(Mode({.max_in_flight = 6, .max_batch_size = 1024}));
  h.metadata.backend.Hold();
  h.documents.backend.Hold();
  std::vector<Tracked> batch;
  std::vector<std::shared_ptr<WriteTicket>> tickets;
  for (int i = 0; i < 4; ++i) {
    batch.push_back(MakeTicket("b" + std::to_string(i), &done));
    tickets.push_back(batch.back().ticket);
  }
  ASSERT_TRUE(h.writer->SubmitAll(tickets).ok());
  EXPECT_EQ(h.writer->in_flight(), 4u);
  for (const Tracked& t : batch) SpinUntil([&] { return t.ticket->reported(StoreSlot::kOutbox); });
  EXPECT_EQ(h.intent_log->Stats().appends, 1);
  EXPECT_EQ(h.intent_log->Stats().appended_events, 4);

  // Three more would pass max_in_flight: none is admitted, none counted.
  std::vector<Tracked> refused;
  std::vector<std::shared_ptr<WriteTicket>> refused_tickets;
  for (int i = 0; i < 3; ++i) {
    refused.push_back(MakeTicket("r" + std::to_string(i)));
    refused_tickets.push_back(refused.back().ticket);
  }
  EXPECT_EQ(h.writer->SubmitAll(refused_tickets).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(h.writer->in_flight(), 4u);
  EXPECT_TRUE(h.writer->SubmitAll({}).ok());

  h.metadata.backend.Release();
  h.documents.backend.Release();
  done.wait();
  for (const Tracked& t : batch) EXPECT_TRUE(t.ticket->Outcome().all_ok());
  h.writer->Stop();
  for (const auto& ids : {h.metadata.backend.ids(), h.documents.backend.ids()}) {
    EXPECT_EQ(ids, (std::vector<std::string>{"b0", "b1", "b2", "b3"}));
  }
  for (const Tracked& t : refused) {
    EXPECT_FALSE(t.ticket->reported(StoreSlot::kOutbox));
    EXPECT_FALSE(h.Intent(t.ticket->event().event_id).has_value());
  }
}

TEST_P(EventWriterTest, ExpiredTicketKeepsItsAnswerWhileLateReportsAreCounted) {
  Tracked t = MakeTicket("e1");
  Harness h(Mode({.max_in_flight = 1, .max_batch_size = 1024}));
  h.metadata.backend.Hold();
  ASSERT_TRUE(h.writer->Submit(t.ticket).ok());
  h.metadata.backend.WaitForEvents(1);
  SpinUntil([&] { return t.ticket->reported(StoreSlot::kDocument); });

  // The HTTP side gives up waiting: the answer freezes as of now.
  t.ticket->Expire();
  EXPECT_TRUE(t.ticket->Outcome().outbox.ok());
  EXPECT_TRUE(t.ticket->Outcome().document.ok());  // it did answer in time
  EXPECT_EQ(t.ticket->Outcome().metadata.code(), StatusCode::kDeadlineExceeded);
  // The event still occupies its admission slot until the store answers.
  EXPECT_EQ(h.writer->Submit(MakeTicket("blocked").ticket).code(), StatusCode::kResourceExhausted);

  h.metadata.backend.Release();
  // The late report releases the slot (on_released fires)...
  SpinUntil([&] { return h.writer->in_flight() == 0; });
  h.writer->Stop();
  EXPECT_TRUE(t.ticket->complete());
  // ...without waking the departed waiter or changing what it was told,
  EXPECT_EQ(t.completions->load(), 0);
  EXPECT_EQ(t.ticket->Outcome().metadata.code(), StatusCode::kDeadlineExceeded);
  // while the real result is known for the outbox.
  EXPECT_TRUE(t.ticket->Results().metadata.ok());
  EXPECT_TRUE(t.ticket->Results().all_ok());
  // Both stores have it: its log record is released, the outbox never sees it.
  h.writer->FlushReleases();
  EXPECT_EQ(h.Unreleased(), 0);
  ASSERT_TRUE(h.worker->RunOnce().ok());
  EXPECT_FALSE(h.Intent("e1").has_value());
}

TEST_P(EventWriterTest, OutcomeNamesTheStoreThatFailedAndTheIntentRemains) {
  std::latch done(2);
  Tracked doc_fails = MakeTicket("d", &done);
  Tracked meta_fails = MakeTicket("m", &done);
  const Status failure = Status::Unavailable("rocksdb: disk full");
  Harness h(Mode());
  h.documents.backend.FailWith(failure);
  ASSERT_TRUE(h.writer->Submit(doc_fails.ticket).ok());
  // Let the first event finish everywhere before flipping the injected
  // faults, so each batch sees exactly one configuration.
  SpinUntil([&] { return doc_fails.ticket->complete(); });

  const WriteOutcome outcome = doc_fails.ticket->Outcome();
  EXPECT_TRUE(outcome.outbox.ok());
  EXPECT_TRUE(outcome.metadata.ok());
  EXPECT_EQ(outcome.document, failure);
  EXPECT_FALSE(outcome.all_ok());

  h.documents.backend.FailWith(Status::Ok());
  h.metadata.backend.FailWith(Status::Internal("sqlite: constraint"));
  ASSERT_TRUE(h.writer->Submit(meta_fails.ticket).ok());
  done.wait();
  const WriteOutcome second = meta_fails.ticket->Outcome();
  EXPECT_TRUE(second.outbox.ok());
  EXPECT_EQ(second.metadata, Status::Internal("sqlite: constraint"));
  EXPECT_TRUE(second.document.ok());
  EXPECT_FALSE(second.all_ok());
  // A failed write still completes the ticket, once.
  EXPECT_EQ(doc_fails.completions->load(), 1);
  EXPECT_EQ(meta_fails.completions->load(), 1);

  // The outbox learns which store still owes each event; until it has them
  // durably, the intent log keeps them.
  SpinUntil([&] { return h.writer->in_flight() == 0; });
  EXPECT_EQ(h.Unreleased(), 2);
  EXPECT_FALSE(h.Intent("d").has_value());
  ASSERT_TRUE(h.worker->RunOnce().ok());
  EXPECT_EQ(h.Unreleased(), 2);  // in the outbox now, but one store of each wrote unsynced
  h.writer->FlushReleases();
  EXPECT_EQ(h.Unreleased(), 0);
  const std::optional<OutboxEntry> d = h.Intent("d");
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(d->metadata_done);
  EXPECT_FALSE(d->document_done);
  const std::optional<OutboxEntry> m = h.Intent("m");
  ASSERT_TRUE(m.has_value());
  EXPECT_FALSE(m->metadata_done);
  EXPECT_TRUE(m->document_done);
}

TEST_P(EventWriterTest, OpenBreakerSkipsTheStoreAndSaysSo) {
  // After failure_threshold failures the store is not even called: the
  // request answers at once and the outbox keeps the event for later.
  std::latch first(1), second(1);
  Tracked failing = MakeTicket("f", &first);
  Tracked skipped = MakeTicket("s", &second);
  Harness h(Mode(), {.failure_threshold = 1, .open_duration = std::chrono::milliseconds(60'000)});
  h.documents.backend.FailWith(Status::Unavailable("down"));
  ASSERT_TRUE(h.writer->Submit(failing.ticket).ok());
  first.wait();
  ASSERT_EQ(h.document_breaker->state(), CircuitBreaker::State::kOpen);

  ASSERT_TRUE(h.writer->Submit(skipped.ticket).ok());
  second.wait();
  EXPECT_EQ(h.documents.backend.ids(), (std::vector<std::string>{"f"}));
  EXPECT_EQ(skipped.ticket->Outcome().document.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(skipped.ticket->Outcome().metadata.ok());
  EXPECT_TRUE(skipped.ticket->Outcome().outbox.ok());
  SpinUntil([&] { return h.writer->in_flight() == 0; });
  ASSERT_TRUE(h.worker->RunOnce().ok());
  EXPECT_TRUE(h.Intent("s").has_value());
}

TEST_P(EventWriterTest, SettledRunsOnceWhenTheEventIsFindable) {
  // On success: as soon as both stores have it. On failure: only once the
  // outbox holds it (an Idempotency-Key lookup reads the outbox).
  std::latch done(2);
  Tracked ok = MakeTicket("ok", &done);
  Tracked failed = MakeTicket("failed", &done);
  std::atomic<int> ok_settled{0}, failed_settled{0};
  ok.ticket->SetOnSettled([&] { ok_settled.fetch_add(1); });
  failed.ticket->SetOnSettled([&] { failed_settled.fetch_add(1); });
  Harness h(Mode());
  ASSERT_TRUE(h.writer->Submit(ok.ticket).ok());
  SpinUntil([&] { return h.writer->in_flight() == 0; });
  EXPECT_EQ(ok_settled.load(), 1);

  h.documents.backend.FailWith(Status::Unavailable("down"));
  ASSERT_TRUE(h.writer->Submit(failed.ticket).ok());
  done.wait();
  SpinUntil([&] { return h.writer->in_flight() == 0; });
  EXPECT_EQ(failed_settled.load(), 0);  // answered, but not yet findable by key
  ASSERT_TRUE(h.worker->RunOnce().ok());
  EXPECT_EQ(failed_settled.load(), 1);
  ASSERT_TRUE(h.Intent("failed").has_value());
  ASSERT_TRUE(h.worker->RunOnce().ok());
  EXPECT_EQ(failed_settled.load(), 1);
  EXPECT_EQ(ok_settled.load(), 1);
}

TEST_P(EventWriterTest, IntentRecordsAreReleasedOnlyAfterBothStoresSynced) {
  // The stores write without a sync; the log must keep each event until a
  // sync of both stores has covered it, or a power loss could lose it.
  std::latch done(5);
  std::vector<Tracked> tickets;
  Harness h(Mode({.sync_interval = std::chrono::hours(1)}));  // the test flushes by hand
  for (int i = 0; i < 5; ++i) {
    tickets.push_back(MakeTicket("e" + std::to_string(i), &done));
    ASSERT_TRUE(h.writer->Submit(tickets.back().ticket).ok());
  }
  done.wait();
  SpinUntil([&] { return h.writer->in_flight() == 0; });
  EXPECT_EQ(h.Unreleased(), 5);  // answered, in both stores, not yet synced
  EXPECT_EQ(h.metadata.backend.syncs(), 0);

  // A failed sync keeps them.
  h.documents.backend.FailSyncWith(Status::Unavailable("fsync: EIO"));
  h.writer->FlushReleases();
  EXPECT_EQ(h.Unreleased(), 5);
  EXPECT_EQ(h.documents.backend.syncs(), 1);

  h.documents.backend.FailSyncWith(Status::Ok());
  h.writer->FlushReleases();
  EXPECT_EQ(h.Unreleased(), 0);
  EXPECT_EQ(h.metadata.backend.syncs(), 2);
  EXPECT_EQ(h.documents.backend.syncs(), 2);
  for (const auto& t : tickets) EXPECT_TRUE(t.ticket->Outcome().all_ok());
}

TEST_P(EventWriterTest, StoresThatNeverSyncStopNewWritesAtTheBound) {
  std::latch done(2);
  Tracked a = MakeTicket("a", &done), b = MakeTicket("b", &done);
  Harness h(Mode({.max_unsynced = 2}));
  h.metadata.backend.FailSyncWith(Status::Unavailable("fsync: EIO"));
  ASSERT_TRUE(h.writer->Submit(a.ticket).ok());
  ASSERT_TRUE(h.writer->Submit(b.ticket).ok());
  done.wait();
  SpinUntil([&] { return h.writer->in_flight() == 0; });
  h.writer->FlushReleases();  // fails: both stay unsynced
  const Status refused = h.writer->Submit(MakeTicket("c").ticket);
  EXPECT_EQ(refused.code(), StatusCode::kResourceExhausted) << refused.ToString();
  h.metadata.backend.FailSyncWith(Status::Ok());
  h.writer->FlushReleases();
  std::latch later(1);
  Tracked d = MakeTicket("d", &later);
  EXPECT_TRUE(h.writer->Submit(d.ticket).ok());
  later.wait();
}

TEST_P(EventWriterTest, TheSyncerReleasesOnItsOwn) {
  std::latch done(3);
  std::vector<Tracked> tickets;
  Harness h(Mode({.sync_interval = std::chrono::milliseconds(5)}));
  for (int i = 0; i < 3; ++i) {
    tickets.push_back(MakeTicket("e" + std::to_string(i), &done));
    ASSERT_TRUE(h.writer->Submit(tickets.back().ticket).ok());
  }
  done.wait();
  SpinUntil([&] { return h.Unreleased() == 0; });
  EXPECT_GE(h.metadata.backend.syncs(), 1);
  EXPECT_GE(h.documents.backend.syncs(), 1);
}

TEST_P(EventWriterTest, StopFinishesEveryAdmittedWrite) {
  std::vector<Tracked> tickets;
  Harness h(Mode());
  for (int i = 0; i < 50; ++i) {
    tickets.push_back(MakeTicket("e" + std::to_string(i)));
    ASSERT_TRUE(h.writer->Submit(tickets.back().ticket).ok());
  }
  h.writer->Stop();
  for (const auto& t : tickets) {
    EXPECT_TRUE(t.ticket->complete());
    EXPECT_TRUE(t.ticket->Outcome().all_ok());
    EXPECT_EQ(t.completions->load(), 1);
  }
  EXPECT_EQ(h.writer->in_flight(), 0u);
  EXPECT_EQ(h.metadata.backend.ids().size(), 50u);
  EXPECT_EQ(h.documents.backend.ids().size(), 50u);
}

// WriteTicket on its own, where each report can be placed by hand.

TEST(WriteTicketTest, CompletesOnceWhenTheLastSlotReports) {
  int completions = 0, releases = 0;
  WriteTicket ticket(std::make_shared<Event>());
  ticket.SetOnComplete([&] { ++completions; });
  ticket.SetOnReleased([&](const WriteTicket&) { ++releases; });

  ticket.Report(StoreSlot::kOutbox, Status::Ok());
  ticket.Report(StoreSlot::kDocument, Status::Ok());
  EXPECT_FALSE(ticket.complete());
  EXPECT_TRUE(ticket.reported(StoreSlot::kDocument));
  EXPECT_FALSE(ticket.reported(StoreSlot::kMetadata));
  EXPECT_EQ(completions, 0);
  EXPECT_EQ(releases, 0);

  ticket.Report(StoreSlot::kMetadata, Status::Ok());
  EXPECT_TRUE(ticket.complete());
  EXPECT_EQ(completions, 1);
  EXPECT_EQ(releases, 1);

  // A repeated report is ignored: no second callback, no overwrite.
  ticket.Report(StoreSlot::kMetadata, Status::Internal("late duplicate"));
  EXPECT_EQ(completions, 1);
  EXPECT_EQ(releases, 1);
  EXPECT_TRUE(ticket.Outcome().all_ok());
  EXPECT_TRUE(ticket.Results().all_ok());
}

TEST(WriteTicketTest, ExpireFreezesTheAnswerAndLateReportsStillRelease) {
  int completions = 0, releases = 0;
  WriteTicket ticket(std::make_shared<Event>());
  ticket.SetOnComplete([&] { ++completions; });
  ticket.SetOnReleased([&](const WriteTicket& released) {
    ++releases;
    // The releaser sees the real results, late ones included.
    EXPECT_TRUE(released.Results().metadata.ok());
  });

  ticket.Report(StoreSlot::kOutbox, Status::Ok());
  ticket.Report(StoreSlot::kDocument, Status::Unavailable("down"));
  ticket.Expire();
  EXPECT_TRUE(ticket.Outcome().outbox.ok());
  EXPECT_EQ(ticket.Outcome().document, Status::Unavailable("down"));
  EXPECT_EQ(ticket.Outcome().metadata.code(), StatusCode::kDeadlineExceeded);
  EXPECT_FALSE(ticket.complete());

  ticket.Report(StoreSlot::kMetadata, Status::Ok());  // late
  EXPECT_TRUE(ticket.complete());
  EXPECT_EQ(releases, 1);     // admission learns the writers are done
  EXPECT_EQ(completions, 0);  // the waiter is gone
  EXPECT_EQ(ticket.Outcome().metadata.code(), StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(ticket.Results().metadata.ok());
}

TEST(WriteTicketTest, ExpireAfterCompletionChangesNothing) {
  WriteTicket ticket(std::make_shared<Event>());
  ticket.Report(StoreSlot::kOutbox, Status::Ok());
  ticket.Report(StoreSlot::kMetadata, Status::Ok());
  ticket.Report(StoreSlot::kDocument, Status::Unavailable("down"));
  ticket.Expire();
  EXPECT_TRUE(ticket.Outcome().metadata.ok());
  EXPECT_EQ(ticket.Outcome().document, Status::Unavailable("down"));
}

}  // namespace
}  // namespace eventlogger
