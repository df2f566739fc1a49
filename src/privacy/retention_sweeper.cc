#include "privacy/retention_sweeper.h"

#include "core/log.h"

namespace eventlogger {

std::string RetentionSweepOptions::Validate() const {
  if (interval.count() < 1) return "the retention sweep interval must be positive";
  if (batch_size < 1 || batch_size > 100000) return "the retention sweep batch size must be 1-100000";
  return {};
}

RetentionSweeper::RetentionSweeper(RetentionSweepOptions options, MetadataStore& metadata,
                                   DocumentStore& documents, PrivacyRegistry& registry, const Clock& clock)
    : options_(options), metadata_(metadata), documents_(documents), registry_(registry), clock_(clock) {}

RetentionSweeper::~RetentionSweeper() { Stop(); }

void RetentionSweeper::Start() {
  if (!registry_.retention().enabled()) return;
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void RetentionSweeper::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status RetentionSweeper::SweepOnce() {
  std::lock_guard sweep(sweep_mutex_);
  const int64_t now = clock_.NowUnixMillis();
  const auto is_held = [this](std::string_view user_id) { return registry_.IsHeld(user_id); };
  for (const ExpiryRule& rule : registry_.retention().RulesAt(now)) {
    // Each batch is its own statement, so a sweep never holds locks for
    // long; a batch shorter than asked means the rule is done.
    while (true) {
      Result<int64_t> deleted = metadata_.DeleteExpired(rule, options_.batch_size);
      if (!deleted.ok()) {
        failures_.fetch_add(1, std::memory_order_relaxed);
        return deleted.status();
      }
      metadata_deleted_.fetch_add(*deleted, std::memory_order_relaxed);
      if (*deleted < options_.batch_size) break;
    }
    while (true) {
      Result<int64_t> deleted = documents_.DeleteExpired(rule, is_held, options_.batch_size);
      if (!deleted.ok()) {
        failures_.fetch_add(1, std::memory_order_relaxed);
        return deleted.status();
      }
      documents_deleted_.fetch_add(*deleted, std::memory_order_relaxed);
      if (*deleted < options_.batch_size) break;
    }
  }
  sweeps_.fetch_add(1, std::memory_order_relaxed);
  return Status::Ok();
}

RetentionSweepStats RetentionSweeper::Stats() const {
  return {sweeps_.load(std::memory_order_relaxed), metadata_deleted_.load(std::memory_order_relaxed),
          documents_deleted_.load(std::memory_order_relaxed), failures_.load(std::memory_order_relaxed)};
}

void RetentionSweeper::Loop() {
  while (true) {
    if (Status swept = SweepOnce(); !swept.ok()) {
      log::Warn("a retention sweep failed; the next one retries", {{"error", swept.ToString()}});
    }
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, options_.interval, [this] { return stopping_; });
    if (stopping_) return;
  }
}

}  // namespace eventlogger
