// WriteTicket: one event on its way to the stores, and the rendezvous where
// the store writers report back.
//
// Each writer (metadata, document; later the outbox) reports exactly once
// into its own slot. When the last slot is filled the ticket calls its
// completion callback on the reporting writer's thread; the callback must
// only hand off (e.g. post to an io thread), never block.
//
// A waiter that gives up (timeout) calls Expire(): slots not yet reported
// read as DeadlineExceeded from then on, while late reports are still
// counted so that admission control knows when the writers are done with it.
//
// Thread safety: all methods may be called from any thread.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <mutex>

#include "core/event.h"
#include "core/status.h"

namespace eventlogger {

enum class StoreSlot : int { kMetadata = 0, kDocument = 1 };
inline constexpr int kStoreSlotCount = 2;

struct WriteOutcome {
  Status metadata;
  Status document;
  bool all_ok() const { return metadata.ok() && document.ok(); }
};

class WriteTicket {
 public:
  explicit WriteTicket(std::shared_ptr<const Event> event) : event_(std::move(event)) {}
  WriteTicket(const WriteTicket&) = delete;
  WriteTicket& operator=(const WriteTicket&) = delete;

  const Event& event() const { return *event_; }

  // Called once before the ticket is submitted. `on_complete` runs when every
  // slot has reported (not when the ticket expires).
  void SetOnComplete(std::function<void()> on_complete) { on_complete_ = std::move(on_complete); }
  // Called once before the ticket is submitted, by admission control: runs
  // after the last writer has reported, whether or not the waiter expired.
  void SetOnReleased(std::function<void()> on_released) { on_released_ = std::move(on_released); }

  void Report(StoreSlot slot, Status status);

  // True once every slot has reported.
  bool complete() const;
  // Marks the waiter as gone; unreported slots read as DeadlineExceeded.
  void Expire();
  // The outcome as of now (or as of Expire(), for an expired ticket).
  WriteOutcome Outcome() const;

 private:
  const std::shared_ptr<const Event> event_;
  std::function<void()> on_complete_;
  std::function<void()> on_released_;
  mutable std::mutex mutex_;
  std::array<Status, kStoreSlotCount> results_;
  std::array<bool, kStoreSlotCount> reported_{};
  int outstanding_ = kStoreSlotCount;
  bool expired_ = false;
};

}  // namespace eventlogger
