// Outbox: the local, durable record of every write intent, independent of
// both stores. It is what lets the service promise that an acknowledged
// event reaches both stores, across failures and crashes.
//
// Lifecycle of an entry:
//   RecordIntents  before any store write, group-committed with fsync
//                  (a request is acknowledged only after this);
//   Resolve        once both store writes have reported: removed when both
//                  succeeded, otherwise kept "pending" with what is left to do;
//   Due/Attempted  the retry worker takes pending entries whose time has come,
//                  writes the missing store(s), and records the outcome;
//   dead           after too many attempts or too long, an entry becomes a
//                  dead letter that keeps the whole event until an operator
//                  replays or purges it.
//
// Stored in SQLite (WAL) under the data dir, so the `eventlogger retry`
// commands can inspect and change it while `serve` runs on it (SQLite
// arbitrates between processes). Intents are written with synchronous=FULL;
// resolutions with synchronous=NORMAL, because losing one merely replays an
// idempotent write.
//
// Thread safety: every method may be called from any thread (an internal
// mutex serialises use of the connection).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/status.h"

namespace eventlogger {

enum class OutboxState { kPending, kDead };

struct OutboxEntry {
  Event event;
  bool metadata_done = false;
  bool document_done = false;
  OutboxState state = OutboxState::kPending;
  int attempts = 0;
  int64_t created_at_ms = 0;   // when queued (the event's receipt; reset by a replay)
  int64_t next_attempt_ms = 0;
  std::string last_error;
};

// The outcome of the request-path writes of one event that did not reach
// both stores.
struct OutboxResolution {
  std::string event_id;
  // The event itself, when it is not in the outbox yet (the request path
  // keeps intents in the IntentLog; a failed event enters the outbox here).
  std::shared_ptr<const Event> event;
  // Runs once the outcome is durable in the outbox: the event no longer
  // needs its intent-log record, and its Idempotency-Key is findable.
  std::function<void()> on_recorded;
  bool metadata_done = false;
  bool document_done = false;
  std::string error;          // why a store failed, for operators
  int64_t next_attempt_ms = 0;  // when the worker should first retry
};

// The outcome of one retry-worker attempt on an entry.
struct OutboxAttempt {
  std::string event_id;
  bool metadata_done = false;  // the metadata store now has the event
  bool document_done = false;  // the document store now has the event
  std::string error;
  std::optional<int64_t> next_attempt_ms;  // nullopt: give up (dead letter)
};

struct OutboxStats {
  int64_t pending = 0;
  int64_t dead = 0;
  int64_t oldest_pending_created_ms = 0;  // 0 when nothing is pending
};

// What an erasure removed from the outbox.
struct OutboxErasure {
  int64_t pending = 0;
  int64_t dead = 0;
};

struct OutboxOptions {
  std::string path;            // SQLite file; its directory must exist
  int busy_timeout_ms = 10000; // wait this long for another process's lock
};

class Outbox {
 public:
  static Result<std::unique_ptr<Outbox>> Open(const OutboxOptions& options);
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Durably records the events as pending (fsync before returning). An event
  // already present is left as it is. `next_attempt_ms` leaves the request
  // path time to finish before the worker would retry.
  Status RecordIntents(EventBatch events, int64_t next_attempt_ms);

  // Applies request-path outcomes: entries done in both stores are removed;
  // others keep their progress and wait for the worker.
  Status Resolve(const std::vector<OutboxResolution>& resolutions);

  // Pending entries due at `now_ms`, oldest first, at most `limit`.
  Result<std::vector<OutboxEntry>> Due(int64_t now_ms, int limit);

  // Records worker attempts in one transaction: progress made, and for each
  // entry either removal (both done), the next attempt time, or the move to
  // the dead letters.
  Status RecordAttempts(const std::vector<OutboxAttempt>& attempts);

  // Copies the write-ahead log back into the database file without blocking
  // writers. Commits never do this themselves; the retry worker calls it on
  // its beat, so the WAL stays small without stalling the request path.
  Status Checkpoint();

  // Makes every pending entry due now (on start: no write is in flight).
  Status MakeAllPendingDue(int64_t now_ms);

  Result<OutboxStats> Stats();
  // Entries in `state`, oldest first, at most `limit`.
  Result<std::vector<OutboxEntry>> List(OutboxState state, int limit);
  Result<std::optional<OutboxEntry>> Find(const std::string& event_id);
  // The entry (pending or dead) holding this user's Idempotency-Key.
  Result<std::optional<OutboxEntry>> FindByIdempotencyKey(std::string_view user_id,
                                                          std::string_view key);

  // Dead letter(s) back to pending, due now, attempts and age reset. Returns how many.
  Result<int64_t> Replay(const std::string& event_id, int64_t now_ms);
  Result<int64_t> ReplayAllDead(int64_t now_ms);
  // Deletes dead letters created before `created_before_ms`. Returns how many.
  Result<int64_t> PurgeDead(int64_t created_before_ms);
  // Deletes the user's entries, pending and dead, whose events the server
  // received at or before `received_cutoff_ms` (their eventIds' time): an
  // erasure must leave nothing the worker would write back.
  Result<OutboxErasure> EraseUserEvents(std::string_view user_id, int64_t received_cutoff_ms);

 private:
  struct Impl;
  explicit Outbox(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace eventlogger
