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
    results_[index] = std::move(status);
    last = --outstanding_ == 0;
    notify_waiter = last && !expired_;
  }
  // Released first: the admission slot is free and the event settled (or
  // handed on) before the waiter can answer, so a client's next request
  // never finds its own finished write still counted as in flight.
  if (last && on_released_) on_released_(*this);
  if (notify_waiter && on_complete_) on_complete_();
}

bool WriteTicket::reported(StoreSlot slot) const {
  std::lock_guard lock(mutex_);
  return reported_[static_cast<int>(slot)];
}

bool WriteTicket::complete() const {
  std::lock_guard lock(mutex_);
  return outstanding_ == 0;
}

void WriteTicket::Expire() {
  std::lock_guard lock(mutex_);
  if (outstanding_ == 0 || expired_) return;
  expired_ = true;
  frozen_ = Snapshot();
}

WriteOutcome WriteTicket::Outcome() const {
  std::lock_guard lock(mutex_);
  return expired_ ? frozen_ : Snapshot();
}

WriteOutcome WriteTicket::Results() const {
  std::lock_guard lock(mutex_);
  return Snapshot();
}

WriteOutcome WriteTicket::Snapshot() const {
  const auto slot = [this](StoreSlot s) {
    const int i = static_cast<int>(s);
    return reported_[i] ? results_[i] : Status::DeadlineExceeded("store write timed out");
  };
  return WriteOutcome{slot(StoreSlot::kOutbox), slot(StoreSlot::kMetadata), slot(StoreSlot::kDocument)};
}

}  // namespace eventlogger
