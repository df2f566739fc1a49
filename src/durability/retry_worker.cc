#include "durability/retry_worker.h"

#include <pthread.h>

#include "core/log.h"

namespace eventlogger {

RetryWorker::RetryWorker(Outbox& outbox, MetadataStore& metadata, DocumentStore& documents,
                         CircuitBreaker& metadata_breaker, CircuitBreaker& document_breaker,
                         const Clock& clock, RetryWorkerOptions options)
    : outbox_(outbox),
      metadata_(metadata),
      documents_(documents),
      metadata_breaker_(metadata_breaker),
      document_breaker_(document_breaker),
      clock_(clock),
      options_(std::move(options)) {}

RetryWorker::~RetryWorker() { Stop(); }

Status RetryWorker::Start() {
  if (Status s = outbox_.MakeAllPendingDue(clock_.NowUnixMillis()); !s.ok()) return s;
  thread_ = std::thread([this] { Run(); });
  pthread_setname_np(thread_.native_handle(), "retry-worker");
  return Status::Ok();
}

void RetryWorker::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Whatever arrived after the thread's last round.
  if (Status s = ApplyResolutions(); !s.ok()) {
    log::Error("outbox resolutions not applied at shutdown; they will be retried on start",
               {{"error", s.ToString()}});
  }
}

void RetryWorker::Enqueue(OutboxResolution resolution) {
  {
    std::lock_guard lock(mutex_);
    resolutions_.push_back(std::move(resolution));
  }
  // Record failures promptly rather than on the next beat: until then the
  // event's Idempotency-Key is held and its intent-log segment pinned.
  wake_.notify_all();
}

RetryCounters RetryWorker::counters() const {
  return RetryCounters{attempts_.load(), recovered_.load(), dead_lettered_.load()};
}

void RetryWorker::Run() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, options_.poll_interval, [&] { return stopping_ || !resolutions_.empty(); });
      if (stopping_) return;
    }
    if (Status s = RunOnce(); !s.ok()) {
      log::Warn("retry round failed", {{"error", s.ToString()}});
    }
  }
}

Status RetryWorker::RunOnce() {
  std::lock_guard round(round_mutex_);
  if (Status s = ApplyResolutions(); !s.ok()) return s;
  if (Status s = outbox_.Checkpoint(); !s.ok()) return s;
  return RetryDue();
}

Status RetryWorker::ApplyResolutions() {
  std::vector<OutboxResolution> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(resolutions_);
  }
  if (batch.empty()) return Status::Ok();
  // Events the outbox does not hold yet enter it first, durably; the
  // resolutions then give them their progress and first retry time.
  std::vector<const Event*> new_entries;
  for (const OutboxResolution& resolution : batch) {
    if (resolution.event != nullptr) new_entries.push_back(resolution.event.get());
  }
  Status status = new_entries.empty()
                      ? Status::Ok()
                      : outbox_.RecordIntents(EventBatch(new_entries), clock_.NowUnixMillis());
  if (status.ok()) status = outbox_.Resolve(batch);
  if (status.ok()) {
    for (const OutboxResolution& resolution : batch) {
      if (resolution.on_recorded) resolution.on_recorded();
    }
  } else {
    // Keep them: a later round applies them (and until then the entries stay
    // pending, so at worst an event is written twice, idempotently).
    std::lock_guard lock(mutex_);
    resolutions_.insert(resolutions_.begin(), std::make_move_iterator(batch.begin()),
                        std::make_move_iterator(batch.end()));
  }
  return status;
}

Status RetryWorker::RetryDue() {
  const int64_t now = clock_.NowUnixMillis();
  Result<std::vector<OutboxEntry>> due = outbox_.Due(now, options_.batch_limit);
  if (!due.ok()) return due.status();
  if (due->empty()) return Status::Ok();

  // One batch per store with exactly the entries that store still lacks.
  std::vector<const Event*> metadata_batch, document_batch;
  std::vector<bool> erased(due->size(), false);
  for (size_t i = 0; i < due->size(); ++i) {
    const OutboxEntry& entry = (*due)[i];
    if (options_.is_erased && options_.is_erased(entry.event)) {
      erased[i] = true;
      continue;
    }
    if (!entry.metadata_done) metadata_batch.push_back(&entry.event);
    if (!entry.document_done) document_batch.push_back(&entry.event);
  }
  const auto write = [](auto& store, CircuitBreaker& breaker, const std::vector<const Event*>& batch) {
    if (batch.empty()) return Status::Ok();
    Status status = store.WriteBatch(EventBatch(batch));
    status.ok() ? breaker.RecordSuccess() : breaker.RecordFailure();
    if (!status.ok()) {
      // One line per retry, naming its events (never their payloads).
      log::Warn("retry of a store write failed; the events stay in the outbox",
                {{"store", store.Kind()}, {"events", static_cast<int64_t>(batch.size())},
                 {"eventIds", EventIdList(EventBatch(batch))}, {"error", status.ToString()}});
    } else {
      log::Info("retry brought events into a store",
                {{"store", store.Kind()}, {"events", static_cast<int64_t>(batch.size())},
                 {"eventIds", EventIdList(EventBatch(batch))}});
    }
    return status;
  };
  const Status metadata_status = write(metadata_, metadata_breaker_, metadata_batch);
  const Status document_status = write(documents_, document_breaker_, document_batch);

  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<OutboxAttempt> attempts;
  attempts.reserve(due->size());
  for (size_t i = 0; i < due->size(); ++i) {
    const OutboxEntry& entry = (*due)[i];
    OutboxAttempt attempt;
    attempt.event_id = entry.event.event_id;
    if (erased[i]) {
      // Done in both stores as far as the outbox is concerned: removed.
      attempt.metadata_done = attempt.document_done = true;
      log::Info("an erased event's retry was dropped", {{"eventId", entry.event.event_id}});
      attempts.push_back(std::move(attempt));
      continue;
    }
    attempt.metadata_done = entry.metadata_done || metadata_status.ok();
    attempt.document_done = entry.document_done || document_status.ok();
    if (attempt.metadata_done && attempt.document_done) {
      ++recovered_;
    } else {
      attempt.error = !attempt.metadata_done ? metadata_status.ToString() : document_status.ToString();
      attempt.next_attempt_ms =
          NextAttemptMillis(options_.policy, entry.attempts + 1, now, entry.created_at_ms, unit(random_));
      if (!attempt.next_attempt_ms) {
        ++dead_lettered_;
        log::Error("event moved to the dead letters",
                   {{"eventId", entry.event.event_id}, {"attempts", entry.attempts + 1},
                    {"error", attempt.error}});
      }
    }
    ++attempts_;
    attempts.push_back(std::move(attempt));
  }
  return outbox_.RecordAttempts(attempts);
}

}  // namespace eventlogger
