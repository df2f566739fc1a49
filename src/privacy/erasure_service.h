// ErasureService: erases a user's events on request (GDPR Art. 17, CCPA
// deletion) from every place this service keeps them: the metadata store,
// the document store (and its read cache), the local outbox, pending and
// dead, and, through the idempotency index's sources, the user's
// Idempotency-Keys. Answers with a job at once; a worker thread does the
// deleting in bounded batches and signs a receipt at the end.
//
// Which events: every one whose eventId's time (its receipt by the service)
// is at or before the job's receivedCutoff, the moment the job was
// accepted. Request() returns only once the id generator has moved past
// that millisecond, so an event accepted after the answer is always kept,
// and one accepted before is always erased, whatever its occurredAt.
//
// Jobs are rows in the metadata store: they survive restarts (a job that
// was running resumes; deletions are idempotent) and every instance sharing
// the store hides the erased events from reads and drops them from retries
// (PrivacyRegistry) from the moment it learns of the job. A job waits
// `settle` before deleting, so that writes still in flight when it was
// accepted (bounded by the request path's store timeout) have landed, or
// reached the outbox, first.
//
// Its worker thread is also this process's privacy beat: it refreshes the
// PrivacyRegistry, and clears the store's own expiry (DynamoDB TTL) of users
// held moments ago, once every instance's writers know of the hold.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "core/clock.h"
#include "core/status.h"
#include "core/uuid.h"
#include "durability/outbox.h"
#include "privacy/erasure_receipt.h"
#include "privacy/privacy_registry.h"
#include "storage/document_store.h"
#include "storage/metadata_store.h"

namespace eventlogger {

struct ErasureOptions {
  // Rows or documents deleted per statement or round trip.
  int batch_size = 1000;
  // How long a job waits after its cutoff before deleting; longer than the
  // request path's store timeout.
  std::chrono::milliseconds settle{6000};
  // How often the worker looks for jobs it did not create (resumed, or
  // accepted by another instance) and refreshes the PrivacyRegistry.
  std::chrono::milliseconds poll_interval{5000};
  // Receipts name the user by SHA-256 of the userId (default) or in clear.
  bool hash_subject_in_receipts = true;

  std::string Validate() const;
};

// A refusal of Request: the user is under a legal hold.
struct ErasureRefusal {
  std::string reason;
};

struct ErasureStats {
  int64_t done = 0;    // jobs this process finished
  int64_t failed = 0;  // jobs this process ended as failed
};

class ErasureService {
 public:
  // `outbox` may be null (no local outbox: a Lambda). `signer` signs receipts.
  ErasureService(ErasureOptions options, MetadataStore& metadata, DocumentStore& documents, Outbox* outbox,
                 PrivacyRegistry& registry, const ReceiptSigner& signer, Uuid7Generator& ids,
                 const Clock& clock);
  ~ErasureService();
  ErasureService(const ErasureService&) = delete;
  ErasureService& operator=(const ErasureService&) = delete;

  // Starts the worker thread; it resumes unfinished jobs first.
  void Start();
  // Stops it between batches (a job under way resumes at the next start).
  void Stop();

  // Accepts an erasure of the user's events: the new job, pending; or, when
  // the user is under a legal hold, *refusal set and FailedPrecondition.
  Result<ErasureJobRow> Request(std::string_view user_id, ErasureRefusal* refusal = nullptr);

  // NotFound when no job has the id.
  Result<ErasureJobRow> Find(std::string_view job_id);

  // Runs every unfinished job whose settle time has passed, on the calling
  // thread (the worker's beat; the CLI). Returns the first failure.
  Status RunDueJobs();

  // Runs one job to its end now, settle or not (the CLI's `erase`, which
  // runs where no write is in flight... or an operator who knows better).
  Result<ErasureJobRow> RunJob(std::string_view job_id);

  ErasureStats Stats() const { return {done_.load(), failed_.load()}; }

 private:
  Status Run(ErasureJobRow& job);
  // Deletes in batches until `erase` reports fewer than a batch, adding to
  // *counter and saving the job after each batch (so a resumed job's counts
  // stay right to within one batch).
  Status Drain(ErasureJobRow& job, int64_t* counter, const std::function<Result<int64_t>(int)>& erase);
  void WorkerLoop();
  void ClearRecentHoldsExpiry();

  const ErasureOptions options_;
  MetadataStore& metadata_;
  DocumentStore& documents_;
  Outbox* outbox_;
  PrivacyRegistry& registry_;
  const ReceiptSigner& signer_;
  Uuid7Generator& ids_;
  const Clock& clock_;

  std::mutex run_mutex_;  // one job runs at a time in this process
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool poke_ = false;
  int64_t next_due_ms_ = 0;  // when the earliest job accepted here may run; 0: none
  std::thread worker_;
  std::atomic<int64_t> done_{0}, failed_{0};
};

}  // namespace eventlogger
