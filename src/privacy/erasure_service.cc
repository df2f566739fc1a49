#include "privacy/erasure_service.h"

#include <algorithm>

#include "core/log.h"
#include "core/timestamp.h"

namespace eventlogger {
namespace {

constexpr std::string_view kPending = "pending";
constexpr std::string_view kRunning = "running";
constexpr std::string_view kDone = "done";
constexpr std::string_view kFailed = "failed";

// No job is created after this instant, so listing the jobs created since
// it lists only the unfinished ones (ListErasureJobs adds those always).
constexpr std::string_view kOnlyUnfinished = "9999-12-31T23:59:59.999Z";

bool Unfinished(const ErasureJobRow& job) { return job.state == kPending || job.state == kRunning; }

int64_t MillisOr(std::string_view timestamp, int64_t fallback) {
  return ParseTimestamp(timestamp).value_or(fallback);
}

}  // namespace

std::string ErasureOptions::Validate() const {
  if (batch_size < 1 || batch_size > 100000) return "the erasure batch size must be 1-100000";
  if (settle.count() < 0) return "the erasure settle time must not be negative";
  if (poll_interval.count() < 1) return "the erasure poll interval must be positive";
  return {};
}

ErasureService::ErasureService(ErasureOptions options, MetadataStore& metadata, DocumentStore& documents,
                               Outbox* outbox, PrivacyRegistry& registry, const ReceiptSigner& signer,
                               Uuid7Generator& ids, const Clock& clock)
    : options_(options),
      metadata_(metadata),
      documents_(documents),
      outbox_(outbox),
      registry_(registry),
      signer_(signer),
      ids_(ids),
      clock_(clock) {}

ErasureService::~ErasureService() { Stop(); }

void ErasureService::Start() {
  std::lock_guard lock(mutex_);
  if (worker_.joinable()) return;
  stopping_ = false;
  worker_ = std::thread([this] { WorkerLoop(); });
}

void ErasureService::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

Result<ErasureJobRow> ErasureService::Request(std::string_view user_id, ErasureRefusal* refusal) {
  // The hold is read from the store, not the registry's snapshot: a hold
  // placed a moment ago through another instance must already count.
  Result<std::vector<LegalHoldRow>> holds = metadata_.ListLegalHolds();
  if (!holds.ok()) return holds.status();
  for (const LegalHoldRow& hold : *holds) {
    if (hold.user_id != user_id) continue;
    if (refusal != nullptr) refusal->reason = hold.reason;
    return Status::FailedPrecondition("the user is under a legal hold");
  }
  // The job's id is drawn from the generator that names events: every event
  // named before it has a time at or before the cutoff.
  const Uuid7 id = ids_.Next();
  ErasureJobRow job;
  job.id = FormatUuid(id.bytes);
  job.user_id = std::string(user_id);
  job.state = std::string(kPending);
  job.received_cutoff = FormatTimestamp(id.unix_millis);
  job.created_at = FormatTimestamp(clock_.NowUnixMillis());
  if (Status inserted = metadata_.InsertErasureJob(job); !inserted.ok()) return inserted;
  registry_.NoteErasure(user_id, id.unix_millis);
  // Answer only once the generator has moved past the cutoff's millisecond,
  // so an event accepted after the answer is never erased by this job.
  while (ids_.Next().unix_millis <= id.unix_millis) std::this_thread::sleep_for(std::chrono::microseconds(200));
  {
    std::lock_guard lock(mutex_);
    const int64_t due = id.unix_millis + options_.settle.count();
    next_due_ms_ = next_due_ms_ == 0 ? due : std::min(next_due_ms_, due);
    poke_ = true;
  }
  wake_.notify_all();
  return job;
}

Result<ErasureJobRow> ErasureService::Find(std::string_view job_id) { return metadata_.FindErasureJob(job_id); }

Status ErasureService::RunDueJobs() {
  Result<std::vector<ErasureJobRow>> jobs = metadata_.ListErasureJobs(kOnlyUnfinished);
  if (!jobs.ok()) return jobs.status();
  Status first;
  const int64_t now = clock_.NowUnixMillis();
  for (ErasureJobRow& job : *jobs) {
    if (!Unfinished(job)) continue;
    if (MillisOr(job.received_cutoff, 0) + options_.settle.count() > now) continue;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
    }
    Status status = Run(job);
    if (!status.ok() && first.ok()) first = status;
  }
  return first;
}

Result<ErasureJobRow> ErasureService::RunJob(std::string_view job_id) {
  Result<ErasureJobRow> job = metadata_.FindErasureJob(job_id);
  if (!job.ok()) return job.status();
  if (Unfinished(*job)) {
    if (Status status = Run(*job); !status.ok()) return status;
  }
  return job;
}

Status ErasureService::Drain(ErasureJobRow& job, int64_t* counter,
                             const std::function<Result<int64_t>(int)>& erase) {
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return Status::Unavailable("stopping; the job resumes at the next start");
    }
    if (registry_.IsHeld(job.user_id)) {
      return Status::FailedPrecondition("the user was placed under a legal hold while the job ran");
    }
    Result<int64_t> erased = erase(options_.batch_size);
    if (!erased.ok()) return erased.status();
    *counter += *erased;
    if (*erased > 0) {
      if (Status saved = metadata_.UpdateErasureJob(job); !saved.ok()) return saved;
    }
    if (*erased < options_.batch_size) return Status::Ok();
  }
}

Status ErasureService::Run(ErasureJobRow& job) {
  std::lock_guard run(run_mutex_);
  // Another instance (or an earlier pass) may have finished it meanwhile.
  if (Result<ErasureJobRow> latest = metadata_.FindErasureJob(job.id); latest.ok()) {
    job = std::move(*latest);
    if (!Unfinished(job)) return Status::Ok();
  }
  const std::optional<int64_t> cutoff_ms = ParseTimestamp(job.received_cutoff);
  const auto fail = [&](const std::string& why) {
    job.state = std::string(kFailed);
    job.error = why;
    job.finished_at = FormatTimestamp(clock_.NowUnixMillis());
    Status saved = metadata_.UpdateErasureJob(job);
    failed_.fetch_add(1);
    log::Error("erasure job failed", {{"job", job.id}, {"error", why}});
    return saved.ok() ? Status::FailedPrecondition(why) : saved;
  };
  if (!cutoff_ms) return fail("the job's receivedCutoff is not a timestamp");
  // A hold placed after the job was accepted wins: nothing more is erased.
  Result<std::vector<LegalHoldRow>> holds = metadata_.ListLegalHolds();
  if (!holds.ok()) return holds.status();
  for (const LegalHoldRow& hold : *holds) {
    if (hold.user_id == job.user_id) return fail("the user was placed under a legal hold: " + hold.reason);
  }
  if (job.state == kPending) {
    job.state = std::string(kRunning);
    job.started_at = FormatTimestamp(clock_.NowUnixMillis());
    if (Status saved = metadata_.UpdateErasureJob(job); !saved.ok()) return saved;
    log::Info("erasure job started", {{"job", job.id}});
  }
  const UserErasure erasure{job.user_id, job.received_cutoff, *cutoff_ms};
  // The outbox first: its worker would otherwise write an entry back while
  // the stores are being emptied (the registry stops it too; this is the
  // belt to those braces, and it counts what it removed).
  if (outbox_ != nullptr) {
    Result<OutboxErasure> erased = outbox_->EraseUserEvents(job.user_id, *cutoff_ms);
    if (!erased.ok()) return erased.status();
    job.outbox_erased += erased->pending;
    job.dead_letters_erased += erased->dead;
  }
  for (auto [counter, store] : {std::pair<int64_t*, int>{&job.metadata_erased, 0}, {&job.documents_erased, 1}}) {
    Status drained = Drain(job, counter, [&, store = store](int limit) {
      return store == 0 ? metadata_.EraseUserEvents(erasure, limit) : documents_.EraseUserEvents(erasure, limit);
    });
    if (drained.code() == StatusCode::kFailedPrecondition) return fail(drained.message());
    if (!drained.ok()) return drained;
  }
  const int64_t finished_ms = clock_.NowUnixMillis();
  ErasureReceipt receipt;
  receipt.job_id = job.id;
  receipt.subject = ReceiptSubject::For(
      job.user_id, options_.hash_subject_in_receipts ? SubjectForm::kSha256 : SubjectForm::kUserId);
  receipt.received_cutoff_ms = *cutoff_ms;
  receipt.started_at_ms = MillisOr(job.started_at, finished_ms);
  receipt.finished_at_ms = finished_ms;
  receipt.counts = {job.metadata_erased, job.documents_erased, job.outbox_erased, job.dead_letters_erased};
  receipt.issued_at_ms = finished_ms;
  Result<std::string> signed_receipt = signer_.Sign(receipt);
  if (!signed_receipt.ok()) return fail("signing the receipt failed: " + signed_receipt.status().ToString());
  job.receipt = std::move(*signed_receipt);
  job.state = std::string(kDone);
  job.finished_at = FormatTimestamp(finished_ms);
  if (Status saved = metadata_.UpdateErasureJob(job); !saved.ok()) return saved;
  done_.fetch_add(1);
  log::Info("erasure job done", {{"job", job.id},
                                 {"metadata", std::to_string(job.metadata_erased)},
                                 {"documents", std::to_string(job.documents_erased)},
                                 {"outbox", std::to_string(job.outbox_erased)},
                                 {"deadLetters", std::to_string(job.dead_letters_erased)}});
  return Status::Ok();
}

void ErasureService::ClearRecentHoldsExpiry() {
  // A hold placed on another instance reaches this one's writers only at
  // its next refresh, and a write in flight meanwhile may stamp a held
  // user's document with an expiry (DynamoDB's TTL would then delete it).
  // So each instance clears the expiry of recently held users once more,
  // after it has learned of them. Stores without expiry of their own do
  // nothing.
  Result<std::vector<LegalHoldRow>> holds = metadata_.ListLegalHolds();
  if (!holds.ok()) return;
  const int64_t recent = clock_.NowUnixMillis() - 2 * options_.poll_interval.count() - options_.settle.count();
  for (const LegalHoldRow& hold : *holds) {
    if (ParseTimestamp(hold.placed_at).value_or(0) < recent) continue;
    if (Result<int64_t> cleared = documents_.ClearExpiry(hold.user_id); !cleared.ok()) {
      log::Warn("clearing a held user's expiry failed; retried on the next beat", {{"error", cleared.status().ToString()}});
    }
  }
}

void ErasureService::WorkerLoop() {
  while (true) {
    if (Status refreshed = registry_.Refresh(); !refreshed.ok()) {
      log::Warn("refreshing holds and erasures failed", {{"error", refreshed.ToString()}});
    }
    ClearRecentHoldsExpiry();
    if (Status ran = RunDueJobs(); !ran.ok() && ran.code() != StatusCode::kFailedPrecondition) {
      log::Warn("an erasure job stopped; it is retried", {{"error", ran.ToString()}});
    }
    std::unique_lock lock(mutex_);
    if (stopping_) return;
    // Back when the next job this process accepted is due, or on the poll
    // beat for jobs it learns of from the store.
    auto wait = options_.poll_interval;
    const int64_t now = clock_.NowUnixMillis();
    if (next_due_ms_ > now) {
      wait = std::min(wait, std::chrono::milliseconds(next_due_ms_ - now + 10));
    } else if (next_due_ms_ != 0) {
      next_due_ms_ = 0;  // that job ran in this pass
    }
    if (!poke_) wake_.wait_for(lock, wait, [this] { return stopping_ || poke_; });
    poke_ = false;
    if (stopping_) return;
  }
}

}  // namespace eventlogger
