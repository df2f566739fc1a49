// Tests for BatchingWriter (group commit for one store).
//
// The store is replaced by a WriteBatchFn lambda that records each batch and
// can be held (a gate the test opens) or made to fail: fault injection that
// makes group commit observable without timing. While the first batch is
// held, everything submitted queues up, and must then be written as one
// batch (split only at max_batch_size).
//
// Each ticket's other slots (outbox, document) are reported up front, so a
// ticket is complete exactly when this writer has reported its slot; the
// completion callback then counts completions per ticket. The second
// constructor (a TicketDoneFn instead of a slot) lets a test count the
// writer's reports per ticket directly, repeats included.
#include "pipeline/batching_writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace eventlogger {
namespace {

constexpr StoreSlot kSlot = StoreSlot::kMetadata;

// A gate the write function waits at until the test opens it, and which
// tells the test when the writer has arrived.
class Gate {
 public:
  void Close() {
    std::lock_guard lock(mutex_);
    open_ = false;
  }
  void Open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    changed_.notify_all();
  }
  // Called by the writer thread.
  void Pass() {
    std::unique_lock lock(mutex_);
    ++arrivals_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_; });
  }
  // Blocks until the writer has arrived `n` times in total.
  void WaitForArrivals(int n) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return arrivals_ >= n; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = true;
  int arrivals_ = 0;
};

// Opens the gate when the test scope ends, before the writer (declared
// earlier) is destroyed, so a failed assertion cannot leave the writer
// thread blocked and the test hanging in ~BatchingWriter.
struct OpenOnExit {
  Gate& gate;
  ~OpenOnExit() { gate.Open(); }
};

// The fake store: records each batch's event ids, passes the gate, and
// returns whatever status the test has set for that call.
class FakeStore {
 public:
  BatchingWriter::WriteBatchFn Fn() {
    return [this](EventBatch batch) {
      std::vector<std::string> ids;
      for (const Event* event : batch) ids.push_back(event->event_id);
      size_t call;
      {
        std::lock_guard lock(mutex_);
        call = batches_.size();
        batches_.push_back(std::move(ids));
      }
      gate.Pass();
      std::lock_guard lock(mutex_);
      return call < statuses_.size() ? statuses_[call] : Status::Ok();
    };
  }
  // The status the `call`-th write (0-based) returns; OK if never set.
  void FailCall(size_t call, Status status) {
    std::lock_guard lock(mutex_);
    if (statuses_.size() <= call) statuses_.resize(call + 1);
    statuses_[call] = std::move(status);
  }
  std::vector<std::vector<std::string>> batches() {
    std::lock_guard lock(mutex_);
    return batches_;
  }
  std::vector<size_t> batch_sizes() {
    std::vector<size_t> sizes;
    for (const auto& b : batches()) sizes.push_back(b.size());
    return sizes;
  }

  Gate gate;

 private:
  std::mutex mutex_;
  std::vector<std::vector<std::string>> batches_;
  std::vector<Status> statuses_;
};

// A ticket for event "e<i>" whose completion callback counts into
// `reports` and counts down `done` (if given).
struct Tracked {
  std::shared_ptr<WriteTicket> ticket;
  std::shared_ptr<std::atomic<int>> reports = std::make_shared<std::atomic<int>>(0);
};

Tracked MakeTicket(int i, std::latch* done = nullptr) {
  auto event = std::make_shared<Event>();
  event->event_id = "e" + std::to_string(i);
  Tracked t{std::make_shared<WriteTicket>(std::move(event))};
  t.ticket->SetOnComplete([reports = t.reports, done] {
    if (reports->fetch_add(1) == 0 && done != nullptr) done->count_down();
  });
  // Only this writer's slot is left to report.
  t.ticket->Report(StoreSlot::kOutbox, Status::Ok());
  t.ticket->Report(StoreSlot::kDocument, Status::Ok());
  return t;
}

std::vector<std::string> Ids(int from, int to) {
  std::vector<std::string> ids;
  for (int i = from; i < to; ++i) ids.push_back("e" + std::to_string(i));
  return ids;
}

TEST(BatchingWriterTest, EveryTicketIsReportedExactlyOnce) {
  constexpr int kTickets = 1000;
  FakeStore store;
  std::latch done(kTickets);
  std::vector<Tracked> tickets;
  {
    BatchingWriter writer({"test", 64}, kSlot, store.Fn());
    for (int i = 0; i < kTickets; ++i) {
      tickets.push_back(MakeTicket(i, &done));
      writer.Submit(tickets.back().ticket);
    }
    done.wait();
  }  // ~BatchingWriter joins: no report can still be in flight below.
  std::vector<std::string> written;
  for (const auto& batch : store.batches()) {
    EXPECT_LE(batch.size(), 64u);
    EXPECT_FALSE(batch.empty());
    written.insert(written.end(), batch.begin(), batch.end());
  }
  // Each event written once, in submission order (one submitter: FIFO).
  EXPECT_EQ(written, Ids(0, kTickets));
  for (int i = 0; i < kTickets; ++i) {
    ASSERT_TRUE(tickets[i].ticket->complete()) << i;
    ASSERT_EQ(tickets[i].reports->load(), 1) << i;
    ASSERT_TRUE(tickets[i].ticket->Outcome().metadata.ok()) << i;
  }
}

TEST(BatchingWriterTest, TicketDoneFnIsCalledExactlyOncePerTicketWithItsBatchStatus) {
  // WriteTicket ignores repeated reports, so only a TicketDoneFn can see a
  // writer that reports a ticket twice (or skips one).
  constexpr int kTickets = 500;
  FakeStore store;
  store.FailCall(0, Status::Unavailable("first batch fails"));
  std::mutex mutex;
  std::map<const WriteTicket*, std::vector<Status>> calls;
  std::latch done(kTickets);
  std::vector<std::shared_ptr<WriteTicket>> tickets;
  {
    BatchingWriter writer({"test", 32}, store.Fn(),
                          [&](const std::shared_ptr<WriteTicket>& ticket, const Status& status) {
                            std::lock_guard lock(mutex);
                            calls[ticket.get()].push_back(status);
                            if (calls[ticket.get()].size() == 1) done.count_down();
                          });
    for (int i = 0; i < kTickets; ++i) {
      tickets.push_back(MakeTicket(i).ticket);
      writer.Submit(tickets.back());
    }
    done.wait();
  }  // joined: any extra call would have happened by now
  const std::vector<std::vector<std::string>> batches = store.batches();
  ASSERT_FALSE(batches.empty());
  std::set<std::string> in_first_batch(batches[0].begin(), batches[0].end());
  ASSERT_EQ(calls.size(), static_cast<size_t>(kTickets));
  for (const auto& ticket : tickets) {
    const std::vector<Status>& statuses = calls[ticket.get()];
    ASSERT_EQ(statuses.size(), 1u) << ticket->event().event_id;
    const bool failed = in_first_batch.count(ticket->event().event_id) > 0;
    EXPECT_EQ(statuses[0].ok(), !failed) << ticket->event().event_id;
  }
}

TEST(BatchingWriterTest, QueuedTicketsAreWrittenTogetherAsOneBatch) {
  // Group commit: while batch 1 is being written, 50 more arrive; they must
  // go to the store as one batch, not 50.
  FakeStore store;
  std::latch done(51);
  BatchingWriter writer({"test", 1024}, kSlot, store.Fn());
  OpenOnExit open_on_exit{store.gate};
  store.gate.Close();
  std::vector<Tracked> tickets;
  tickets.push_back(MakeTicket(0, &done));
  writer.Submit(tickets[0].ticket);
  store.gate.WaitForArrivals(1);  // the writer is inside write #1
  for (int i = 1; i <= 50; ++i) {
    tickets.push_back(MakeTicket(i, &done));
    writer.Submit(tickets.back().ticket);
  }
  EXPECT_FALSE(tickets[1].ticket->complete());  // nothing reported while held
  store.gate.Open();
  done.wait();
  EXPECT_EQ(store.batches(), (std::vector<std::vector<std::string>>{Ids(0, 1), Ids(1, 51)}));
  for (const auto& t : tickets) EXPECT_EQ(t.reports->load(), 1);
}

TEST(BatchingWriterTest, SplitsQueuedTicketsAtMaxBatchSize) {
  FakeStore store;
  std::latch done(11);
  BatchingWriter writer({"test", 4}, kSlot, store.Fn());
  OpenOnExit open_on_exit{store.gate};
  store.gate.Close();
  std::vector<Tracked> tickets;
  tickets.push_back(MakeTicket(0, &done));
  writer.Submit(tickets[0].ticket);
  store.gate.WaitForArrivals(1);
  for (int i = 1; i <= 10; ++i) {
    tickets.push_back(MakeTicket(i, &done));
    writer.Submit(tickets.back().ticket);
  }
  store.gate.Open();
  done.wait();
  EXPECT_EQ(store.batches(),
            (std::vector<std::vector<std::string>>{Ids(0, 1), Ids(1, 5), Ids(5, 9), Ids(9, 11)}));
}

TEST(BatchingWriterTest, FailedWriteReportsItsStatusIntoEveryTicketOfThatBatch) {
  FakeStore store;
  const Status failure = Status::Unavailable("disk gone");
  store.FailCall(1, failure);  // the second write fails; others succeed
  // Latches outlive the writer: its thread may still be inside count_down().
  std::latch first_two(6);
  std::latch third(1);
  BatchingWriter writer({"test", 1024}, kSlot, store.Fn());
  OpenOnExit open_on_exit{store.gate};
  store.gate.Close();
  std::vector<Tracked> tickets;
  tickets.push_back(MakeTicket(0, &first_two));
  writer.Submit(tickets[0].ticket);
  store.gate.WaitForArrivals(1);
  for (int i = 1; i <= 5; ++i) {
    tickets.push_back(MakeTicket(i, &first_two));
    writer.Submit(tickets.back().ticket);
  }
  store.gate.Open();
  first_two.wait();
  ASSERT_EQ(store.batch_sizes(), (std::vector<size_t>{1, 5}));
  EXPECT_TRUE(tickets[0].ticket->Outcome().metadata.ok());
  for (int i = 1; i <= 5; ++i) {
    EXPECT_EQ(tickets[i].ticket->Outcome().metadata, failure) << i;
    EXPECT_FALSE(tickets[i].ticket->Outcome().all_ok());
    EXPECT_EQ(tickets[i].reports->load(), 1) << i;
  }
  // The writer carries on after a failure.
  Tracked later = MakeTicket(6, &third);
  writer.Submit(later.ticket);
  third.wait();
  EXPECT_TRUE(later.ticket->Outcome().metadata.ok());
}

TEST(BatchingWriterTest, StopDrainsQueuedTickets) {
  FakeStore store;
  auto writer =
      std::make_unique<BatchingWriter>(BatchingWriterOptions{"test", 1024}, kSlot, store.Fn());
  OpenOnExit open_on_exit{store.gate};
  store.gate.Close();
  std::vector<Tracked> tickets;
  tickets.push_back(MakeTicket(0));
  writer->Submit(tickets[0].ticket);
  store.gate.WaitForArrivals(1);
  for (int i = 1; i <= 20; ++i) {
    tickets.push_back(MakeTicket(i));
    writer->Submit(tickets.back().ticket);
  }

  // Stop() blocks until drained, so it runs on its own thread while this one
  // waits until Stop() has taken effect (a probe Submit is then refused at
  // once) and only then lets the held write finish. The queued 20 are thus
  // still queued when the writer is told to stop.
  std::thread stopper([&] { writer->Stop(); });
  std::vector<Tracked> accepted_probes;
  Tracked refused;
  for (int probe = 100;; ++probe) {
    Tracked t = MakeTicket(probe);
    writer->Submit(t.ticket);
    if (t.ticket->complete()) {  // reported synchronously: refused
      refused = t;
      break;
    }
    accepted_probes.push_back(t);  // queued before Stop() took effect
    std::this_thread::yield();
  }
  store.gate.Open();
  stopper.join();

  EXPECT_EQ(refused.ticket->Outcome().metadata.code(), StatusCode::kUnavailable);
  size_t written = 0;
  for (const auto& b : store.batches()) written += b.size();
  EXPECT_EQ(written, tickets.size() + accepted_probes.size());
  for (const auto& t : tickets) {
    EXPECT_TRUE(t.ticket->complete()) << t.ticket->event().event_id;
    EXPECT_TRUE(t.ticket->Outcome().metadata.ok()) << t.ticket->event().event_id;
    EXPECT_EQ(t.reports->load(), 1);
  }
  for (const auto& t : accepted_probes) EXPECT_TRUE(t.ticket->Outcome().metadata.ok());
}

TEST(BatchingWriterTest, SubmitAfterStopReportsUnavailableAtOnce) {
  FakeStore store;
  BatchingWriter writer({"metadata", 1024}, kSlot, store.Fn());
  writer.Stop();
  writer.Stop();  // idempotent
  Tracked t = MakeTicket(0);
  writer.Submit(t.ticket);
  // Reported before Submit returned, on this thread.
  EXPECT_TRUE(t.ticket->complete());
  EXPECT_EQ(t.reports->load(), 1);
  EXPECT_EQ(t.ticket->Outcome().metadata.code(), StatusCode::kUnavailable);
  EXPECT_NE(t.ticket->Outcome().metadata.message().find("metadata"), std::string::npos)
      << t.ticket->Outcome().metadata.message();
  EXPECT_TRUE(store.batches().empty());
}

TEST(BatchingWriterTest, SubmitAllQueuesTheTicketsAsOneBatch) {
  FakeStore store;
  std::latch done(11);
  BatchingWriter writer({"test", 1024}, kSlot, store.Fn());
  OpenOnExit open_on_exit{store.gate};
  store.gate.Close();
  std::vector<Tracked> tickets;
  tickets.push_back(MakeTicket(0, &done));
  writer.Submit(tickets[0].ticket);
  store.gate.WaitForArrivals(1);
  std::vector<std::shared_ptr<WriteTicket>> handed;
  for (int i = 1; i <= 10; ++i) {
    tickets.push_back(MakeTicket(i, &done));
    handed.push_back(tickets.back().ticket);
  }
  writer.SubmitAll(handed);
  writer.SubmitAll({});  // nothing to queue, nothing written
  store.gate.Open();
  done.wait();
  EXPECT_EQ(store.batches(), (std::vector<std::vector<std::string>>{Ids(0, 1), Ids(1, 11)}));
  for (const auto& t : tickets) EXPECT_EQ(t.reports->load(), 1);
}

TEST(BatchingWriterTest, SubmitAllAfterStopReportsEveryTicketUnavailable) {
  FakeStore store;
  BatchingWriter writer({"metadata", 1024}, kSlot, store.Fn());
  writer.Stop();
  std::vector<Tracked> tickets = {MakeTicket(0), MakeTicket(1)};
  writer.SubmitAll(std::vector<std::shared_ptr<WriteTicket>>{tickets[0].ticket, tickets[1].ticket});
  for (const auto& t : tickets) {
    EXPECT_TRUE(t.ticket->complete());
    EXPECT_EQ(t.reports->load(), 1);
    EXPECT_EQ(t.ticket->Outcome().metadata.code(), StatusCode::kUnavailable);
  }
  EXPECT_TRUE(store.batches().empty());
}

TEST(BatchingWriterTest, StopWithNothingQueuedReturns) {
  FakeStore store;
  BatchingWriter writer({"test", 1024}, kSlot, store.Fn());
  writer.Stop();
  EXPECT_TRUE(store.batches().empty());
}

}  // namespace
}  // namespace eventlogger
