// PrivacyRegistry: this instance's view of the legal holds and erasures
// recorded in the metadata store, which every instance sharing that store
// obeys. Kept in memory so the request path asks "is this user held / being
// erased?" with no I/O, refreshed from the store on a beat (as API keys
// are), and updated at once for changes made through this instance.
//
// It is how an erased event never comes back: the retry worker and the
// intent-log replay drop events an erasure covers instead of writing them
// again, and reads hide them while the job is still deleting.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/event.h"
#include "core/status.h"
#include "privacy/read_visibility.h"
#include "privacy/retention_policy.h"
#include "storage/metadata_store.h"

namespace eventlogger {

class PrivacyRegistry {
 public:
  PrivacyRegistry(MetadataStore& metadata, std::shared_ptr<const RetentionPolicy> retention);

  // Reloads holds and erasures from the store. The view before stays in
  // place when the store fails.
  Status Refresh();

  bool IsHeld(std::string_view user_id) const;
  // The latest cutoff of the user's erasures (Unix ms), if any.
  std::optional<int64_t> ErasedThrough(std::string_view user_id) const;
  // True when an erasure covers the event: it must not be written again.
  bool IsErased(const Event& event) const;

  // What a read of the user at `now_ms` must hide.
  ReadVisibility VisibilityFor(std::string_view user_id, int64_t now_ms) const;

  const RetentionPolicy& retention() const { return *retention_; }
  std::shared_ptr<const RetentionPolicy> shared_retention() const { return retention_; }

  // Changes made through this instance, seen before the next Refresh. Call
  // each after the store has the change: a Refresh that read the store
  // before it does not undo it.
  void NoteHold(std::string_view user_id);
  void NoteRelease(std::string_view user_id);
  void NoteErasure(std::string_view user_id, int64_t received_cutoff_ms);

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  void UpdateEmpty();  // REQUIRES: mutex_ held exclusively
  void NoteHeld(std::string_view user_id, bool held);

  MetadataStore& metadata_;
  const std::shared_ptr<const RetentionPolicy> retention_;
  std::mutex refresh_mutex_;  // one Refresh at a time: each trims hold_notes_ by what it read
  mutable std::shared_mutex mutex_;
  std::unordered_set<std::string, Hash, std::equal_to<>> held_;
  // Holds placed or released here, numbered, since the oldest Refresh in
  // flight began: a Refresh replaces held_ with what it read, so it applies
  // again those newer than its read (the store may not have shown them).
  struct HoldNote {
    uint64_t seq;
    std::string user_id;
    bool held;
  };
  std::vector<HoldNote> hold_notes_;
  uint64_t hold_note_seq_ = 0;
  std::unordered_map<std::string, int64_t, Hash, std::equal_to<>> erased_through_;
  // The newest job's created_at seen (Unix ms); -1 before the first load.
  int64_t jobs_seen_through_ms_ = -1;
  static constexpr int64_t kJobClockMarginMs = int64_t{10} * 60 * 1000;
  // True while there is neither a hold nor an erasure: the common case
  // costs reads one atomic load, no lock.
  std::atomic<bool> empty_{true};
};

}  // namespace eventlogger
