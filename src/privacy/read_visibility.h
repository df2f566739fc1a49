// ReadVisibility: which stored documents one read must not show, although
// the stores may still hold them: those an erasure covers (its job may still
// be deleting them) and those past their retention (a sweep or DynamoDB's
// TTL removes them later). PrivacyRegistry::VisibilityFor makes one per
// read; the default hides nothing and costs nothing.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "storage/document_store.h"

namespace eventlogger {

class RetentionPolicy;

struct ReadVisibility {
  // Documents received at or before this (Unix ms) are erased.
  std::optional<int64_t> erased_through_ms;
  // Retention at the read's time; empty when nothing of this user expires
  // (no rules, or a legal hold).
  std::vector<ExpiryRule> expiry;
  const RetentionPolicy* retention = nullptr;  // set with `expiry`

  bool HidesNothing() const { return !erased_through_ms && expiry.empty(); }
  bool Hides(const DocumentView& document) const;
  // When the document stops being visible (Unix ms): the end of its
  // retention; kNever when it does not expire. A cached answer must not
  // outlive the first of its events to go.
  int64_t VisibleUntilMs(const DocumentView& document) const;

  static constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
};

}  // namespace eventlogger
