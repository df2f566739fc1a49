// WriteTicket: one event on its way through the write pipeline, and the
// rendezvous where the writers report back.
//
// Three writers report, each exactly once, into their own slot: the outbox
// slot (the durable intent, appended to the intent log first), then the
// metadata and document stores (written in parallel once the intent is
// durable). When the last slot is
// filled the ticket calls its completion callback on the reporting thread;
// the callback must only hand off (e.g. post to an io thread), never block.
//
// A waiter that gives up (timeout) calls Expire(): from then on Outcome()
// shows the slots not yet reported as DeadlineExceeded, while the real
// results keep arriving (Results()) so that the outbox learns what actually
// happened and admission control knows when the writers are done with it.
//
// Thread safety: all methods may be called from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "core/event.h"
#include "core/status.h"

namespace eventlogger {

enum class StoreSlot : int { kOutbox = 0, kMetadata = 1, kDocument = 2 };
inline constexpr int kStoreSlotCount = 3;

struct WriteOutcome {
  Status outbox;
  Status metadata;
  Status document;
  bool all_ok() const { return outbox.ok() && metadata.ok() && document.ok(); }
};

class WriteTicket {
 public:
  explicit WriteTicket(std::shared_ptr<const Event> event) : event_(std::move(event)) {}
  WriteTicket(const WriteTicket&) = delete;
  WriteTicket& operator=(const WriteTicket&) = delete;

  const Event& event() const { return *event_; }
  const std::shared_ptr<const Event>& shared_event() const { return event_; }

  // Set once before the ticket is submitted: runs when every slot has
  // reported, unless the waiter expired first.
  void SetOnComplete(std::function<void()> on_complete) { on_complete_ = std::move(on_complete); }
  // Set once before submission, by the pipeline: runs after the last slot
  // has reported, whether or not the waiter expired.
  void SetOnReleased(std::function<void(const WriteTicket&)> on_released) {
    on_released_ = std::move(on_released);
  }
  // Set once before submission, by the caller: runs once the event is
  // settled, meaning findable where an Idempotency-Key lookup looks (both
  // stores, or the outbox after a failure), or known never to be stored.
  // Until then a retry of the same key must be told "in progress".
  void SetOnSettled(std::function<void()> on_settled) { on_settled_ = std::move(on_settled); }
  const std::function<void()>& on_settled() const { return on_settled_; }

  // The intent-log segment holding this event; set by the intent writer
  // before it reports the outbox slot (whose lock publishes it).
  void set_intent_segment(uint64_t segment) { intent_segment_ = segment; }
  uint64_t intent_segment() const { return intent_segment_; }

  void Report(StoreSlot slot, Status status);
  bool reported(StoreSlot slot) const;

  // True once every slot has reported.
  bool complete() const;
  // Marks the waiter as gone; Outcome() freezes, unreported slots read as
  // DeadlineExceeded.
  void Expire();
  // What the waiter answers with: the results so far, frozen at Expire().
  WriteOutcome Outcome() const;
  // The actual results, including reports that arrived after Expire().
  WriteOutcome Results() const;

 private:
  WriteOutcome Snapshot() const;  // REQUIRES: mutex_ held

  const std::shared_ptr<const Event> event_;
  std::function<void()> on_complete_;
  std::function<void(const WriteTicket&)> on_released_;
  std::function<void()> on_settled_;
  uint64_t intent_segment_ = 0;
  mutable std::mutex mutex_;
  std::array<Status, kStoreSlotCount> results_;
  std::array<bool, kStoreSlotCount> reported_{};
  int outstanding_ = kStoreSlotCount;
  bool expired_ = false;
  WriteOutcome frozen_;  // Outcome() after Expire()
};

}  // namespace eventlogger
