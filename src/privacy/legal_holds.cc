#include "privacy/legal_holds.h"

#include "core/log.h"
#include "core/timestamp.h"

namespace eventlogger {

Result<LegalHoldRow> LegalHolds::Place(std::string_view user_id, std::string_view reason) {
  LegalHoldRow row{std::string(user_id), std::string(reason), FormatTimestamp(clock_.NowUnixMillis())};
  if (Status stored = metadata_.PutLegalHold(row); !stored.ok()) return stored;
  registry_.NoteHold(user_id);
  // After the hold is stored: a write racing this sees the hold and stamps
  // no expiry, or is stripped here.
  Result<int64_t> cleared = documents_.ClearExpiry(user_id);
  if (!cleared.ok()) {
    // The hold stands (reads, sweeps and erasures honour it); only the
    // store's own TTL could still act, so say so loudly and let the
    // operator place it again.
    log::Error("a legal hold is placed but the document store's expiry could not be cleared; place it again",
               {{"error", cleared.status().ToString()}});
    return cleared.status();
  }
  return row;
}

Status LegalHolds::Release(std::string_view user_id) {
  if (Status deleted = metadata_.DeleteLegalHold(user_id); !deleted.ok()) return deleted;
  registry_.NoteRelease(user_id);
  return Status::Ok();
}

Result<std::optional<LegalHoldRow>> LegalHolds::Find(std::string_view user_id) {
  Result<std::vector<LegalHoldRow>> holds = metadata_.ListLegalHolds();
  if (!holds.ok()) return holds.status();
  for (LegalHoldRow& hold : *holds) {
    if (hold.user_id == user_id) return std::optional<LegalHoldRow>(std::move(hold));
  }
  return std::optional<LegalHoldRow>();
}

}  // namespace eventlogger
