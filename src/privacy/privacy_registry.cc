#include "privacy/privacy_registry.h"

#include <mutex>

#include "core/event_time.h"
#include "core/timestamp.h"

namespace eventlogger {

PrivacyRegistry::PrivacyRegistry(MetadataStore& metadata, std::shared_ptr<const RetentionPolicy> retention)
    : metadata_(metadata),
      retention_(retention ? std::move(retention) : std::make_shared<const RetentionPolicy>()) {}

Status PrivacyRegistry::Refresh() {
  const std::lock_guard refreshing(refresh_mutex_);
  uint64_t notes_read_through = 0;
  {
    std::shared_lock lock(mutex_);
    notes_read_through = hold_note_seq_;
  }
  Result<std::vector<LegalHoldRow>> holds = metadata_.ListLegalHolds();
  if (!holds.ok()) return holds.status();
  // Jobs are never deleted and their cutoffs never change, so after the
  // first load only the recent ones are read again: what the store lists
  // stays small however many erasures the years bring. The margin covers
  // instances whose clocks (which stamp created_at) run behind this one's.
  std::string since;
  {
    std::shared_lock lock(mutex_);
    since = jobs_seen_through_ms_ <= 0 ? std::string() : FormatTimestamp(jobs_seen_through_ms_ - kJobClockMarginMs);
  }
  Result<std::vector<ErasureJobRow>> jobs = metadata_.ListErasureJobs(since);
  if (!jobs.ok()) return jobs.status();
  std::unordered_set<std::string, Hash, std::equal_to<>> held;
  for (LegalHoldRow& hold : *holds) held.insert(std::move(hold.user_id));
  std::unique_lock lock(mutex_);
  held_ = std::move(held);
  // A hold placed or released here after the list was read (its note is
  // newer) may be missing from it: it stands. Older notes are in the list.
  std::erase_if(hold_notes_, [&](const HoldNote& note) {
    if (note.seq <= notes_read_through) return true;
    if (note.held) {
      held_.insert(note.user_id);
    } else if (auto it = held_.find(note.user_id); it != held_.end()) {
      held_.erase(it);
    }
    return false;
  });
  for (const ErasureJobRow& job : *jobs) {
    jobs_seen_through_ms_ = std::max(jobs_seen_through_ms_, ParseTimestamp(job.created_at).value_or(0));
    // A job refused before it deleted anything (a hold came first) hides
    // nothing; one that failed midway may have erased part of the range,
    // and hiding the rest keeps reads coherent until it is run again.
    if (job.state == "failed" && job.metadata_erased == 0 && job.documents_erased == 0) continue;
    const std::optional<int64_t> cutoff = ParseTimestamp(job.received_cutoff);
    if (!cutoff) continue;
    auto [it, inserted] = erased_through_.try_emplace(job.user_id, *cutoff);
    if (!inserted) it->second = std::max(it->second, *cutoff);
  }
  if (jobs_seen_through_ms_ < 0) jobs_seen_through_ms_ = 0;
  UpdateEmpty();
  return Status::Ok();
}

bool PrivacyRegistry::IsHeld(std::string_view user_id) const {
  if (empty_.load(std::memory_order_acquire)) return false;
  std::shared_lock lock(mutex_);
  return held_.find(user_id) != held_.end();
}

std::optional<int64_t> PrivacyRegistry::ErasedThrough(std::string_view user_id) const {
  if (empty_.load(std::memory_order_acquire)) return std::nullopt;
  std::shared_lock lock(mutex_);
  auto it = erased_through_.find(user_id);
  if (it == erased_through_.end()) return std::nullopt;
  return it->second;
}

bool PrivacyRegistry::IsErased(const Event& event) const {
  const std::optional<int64_t> through = ErasedThrough(event.user_id);
  return through && ReceivedMillisOf(event.event_id, event.unix_millis) <= *through;
}

ReadVisibility PrivacyRegistry::VisibilityFor(std::string_view user_id, int64_t now_ms) const {
  ReadVisibility visibility;
  bool held = false;
  if (!empty_.load(std::memory_order_acquire)) {
    std::shared_lock lock(mutex_);
    if (auto it = erased_through_.find(user_id); it != erased_through_.end()) {
      visibility.erased_through_ms = it->second;
    }
    held = held_.find(user_id) != held_.end();
  }
  if (!held && retention_->enabled()) {
    visibility.expiry = retention_->RulesAt(now_ms);
    visibility.retention = retention_.get();
  }
  return visibility;
}

void PrivacyRegistry::NoteHold(std::string_view user_id) { NoteHeld(user_id, true); }

void PrivacyRegistry::NoteRelease(std::string_view user_id) { NoteHeld(user_id, false); }

void PrivacyRegistry::NoteHeld(std::string_view user_id, bool held) {
  std::unique_lock lock(mutex_);
  if (held) {
    held_.emplace(user_id);
  } else if (auto it = held_.find(user_id); it != held_.end()) {
    held_.erase(it);
  }
  hold_notes_.push_back({++hold_note_seq_, std::string(user_id), held});
  UpdateEmpty();
}

void PrivacyRegistry::NoteErasure(std::string_view user_id, int64_t received_cutoff_ms) {
  std::unique_lock lock(mutex_);
  auto [it, inserted] = erased_through_.try_emplace(std::string(user_id), received_cutoff_ms);
  if (!inserted) it->second = std::max(it->second, received_cutoff_ms);
  UpdateEmpty();
}

void PrivacyRegistry::UpdateEmpty() {
  empty_.store(held_.empty() && erased_through_.empty(), std::memory_order_release);
}

}  // namespace eventlogger
