#include "pipeline/write_ticket.h"

namespace eventlogger {

void WriteTicket::Report(StoreSlot slot, Status status) {
  const int index = static_cast<int>(slot);
  bool last;
  bool notify_waiter;
  {
    std::lock_guard lock(mutex_);
    if (reported_[index]) return;  // a writer reports once; ignore a repeat
    reported_[index] = true;
    if (!expired_) results_[index] = std::move(status);
    last = --outstanding_ == 0;
    notify_waiter = last && !expired_;
  }
  if (notify_waiter && on_complete_) on_complete_();
  if (last && on_released_) on_released_();
}

bool WriteTicket::complete() const {
  std::lock_guard lock(mutex_);
  return outstanding_ == 0;
}

void WriteTicket::Expire() {
  std::lock_guard lock(mutex_);
  if (outstanding_ == 0 || expired_) return;
  expired_ = true;
  for (int i = 0; i < kStoreSlotCount; ++i) {
    if (!reported_[i]) results_[i] = Status::DeadlineExceeded("store write timed out");
  }
}

WriteOutcome WriteTicket::Outcome() const {
  std::lock_guard lock(mutex_);
  WriteOutcome outcome;
  outcome.metadata = results_[static_cast<int>(StoreSlot::kMetadata)];
  outcome.document = results_[static_cast<int>(StoreSlot::kDocument)];
  if (!expired_) {
    // Not yet reported and not expired: the write is still pending.
    if (!reported_[0]) outcome.metadata = Status::Unavailable("pending");
    if (!reported_[1]) outcome.document = Status::Unavailable("pending");
  }
  return outcome;
}

}  // namespace eventlogger
