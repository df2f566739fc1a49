// The contract of MetadataStore's privacy-lifecycle methods (erasure,
// retention, legal holds, erasure jobs), checked the same way on every
// metadata store (SQLite, PostgreSQL through libpq and through ODBC).
//
// Each Check* function wants a store holding no events, holds or jobs yet.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/timestamp.h"
#include "storage/metadata_store.h"
#include "support/events.h"

namespace eventlogger::testing_support {

// 2025-06-29T14:32:45.000Z, the instant the scenarios below revolve around.
inline constexpr int64_t kPrivacyNow = 1751207565000;
inline constexpr int64_t kDayMillis = int64_t{24} * 60 * 60 * 1000;

inline Status WritePrivacyEvents(MetadataStore& store, const std::vector<Event>& events) {
  std::vector<const Event*> pointers;
  pointers.reserve(events.size());
  for (const Event& event : events) pointers.push_back(&event);
  return store.WriteBatch(EventBatch(pointers));
}

// An event the service received at `received_millis` whose client said it
// happened at `occurred_millis` (its timestamp, with no skew correction).
inline Event EventOccurredAt(int64_t received_millis, int64_t occurred_millis, std::string user_id,
                             std::string event_type = "click") {
  Event event = EventAt(received_millis, std::move(user_id), std::move(event_type));
  event.unix_millis = occurred_millis;
  event.timestamp = FormatTimestamp(occurred_millis);
  event.occurred_at = event.timestamp;
  return event;
}

// The eventIds of every stored event.
inline std::set<std::string> StoredEventIds(MetadataStore& store) {
  std::set<std::string> ids;
  const Status status = store.Scan({}, [&ids](const EventMetadata& row) {
    ids.insert(row.event_id);
    return true;
  });
  EXPECT_TRUE(status.ok()) << status.ToString();
  return ids;
}

inline std::set<std::string> IdsOf(const std::vector<Event>& events) {
  std::set<std::string> ids;
  for (const Event& event : events) ids.insert(event.event_id);
  return ids;
}

inline UserErasure ErasureUpTo(std::string user_id, int64_t cutoff_millis) {
  return UserErasure{std::move(user_id), FormatTimestamp(cutoff_millis), cutoff_millis};
}

// EraseUserEvents removes the user's events received at or before the
// cutoff, whatever their timestamp, in calls of at most `limit` rows.
inline void CheckUserErasureContract(MetadataStore& store) {
  const int64_t cutoff = kPrivacyNow;
  std::vector<Event> erased;
  // Received before the cutoff, and exactly at it (inclusive).
  for (int64_t received : {cutoff - 4000, cutoff - 3000, cutoff - 2000, cutoff - 1000, cutoff}) {
    erased.push_back(EventAt(received, "alice"));
  }
  // Received before the cutoff, though the client dates it later (a clock
  // running fast): receipt decides, not the timestamp.
  erased.push_back(EventOccurredAt(cutoff - 500, cutoff + 60000, "alice"));
  std::vector<Event> kept = {
      // Received after the cutoff: kept, even when it happened long before.
      EventAt(cutoff + 1, "alice"),
      EventOccurredAt(cutoff + 2000, cutoff - 30 * kDayMillis, "alice"),
      // Other users, one differing only in case.
      EventAt(cutoff - 4000, "bob"),
      EventAt(cutoff - 4000, "Alice"),
  };
  std::vector<Event> all = erased;
  all.insert(all.end(), kept.begin(), kept.end());
  ASSERT_TRUE(WritePrivacyEvents(store, all).ok());

  // Six to erase, four at a time: a full call, then a short one that says
  // nothing is left, then nothing.
  const UserErasure erasure = ErasureUpTo("alice", cutoff);
  Result<int64_t> first = store.EraseUserEvents(erasure, 4);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, 4);
  Result<int64_t> second = store.EraseUserEvents(erasure, 4);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(*second, 2);
  Result<int64_t> third = store.EraseUserEvents(erasure, 4);
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ(*third, 0);
  EXPECT_EQ(StoredEventIds(store), IdsOf(kept));

  // A later cutoff reaches the later events; a user without events is no error.
  Result<int64_t> later = store.EraseUserEvents(ErasureUpTo("alice", cutoff + 2000), 100);
  ASSERT_TRUE(later.ok()) << later.status().ToString();
  EXPECT_EQ(*later, 2);
  Result<int64_t> nobody = store.EraseUserEvents(ErasureUpTo("nobody", cutoff), 100);
  ASSERT_TRUE(nobody.ok()) << nobody.status().ToString();
  EXPECT_EQ(*nobody, 0);
  EXPECT_EQ(StoredEventIds(store), IdsOf({kept[2], kept[3]}));

  // No limit is no licence to delete everything.
  EXPECT_EQ(store.EraseUserEvents(ErasureUpTo("bob", cutoff), 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.EraseUserEvents(ErasureUpTo("bob", cutoff), -1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(StoredEventIds(store), IdsOf({kept[2], kept[3]}));
}

inline ExpiryRule ExpireTypes(std::vector<std::string> types, int64_t before_millis) {
  ExpiryRule rule;
  rule.event_types = std::move(types);
  rule.before = FormatTimestamp(before_millis);
  rule.before_ms = before_millis;
  return rule;
}

inline ExpiryRule ExpireAllExcept(std::vector<std::string> except_types, int64_t before_millis) {
  ExpiryRule rule;
  rule.except_types = std::move(except_types);
  rule.before = FormatTimestamp(before_millis);
  rule.before_ms = before_millis;
  return rule;
}

inline int64_t DeleteExpiredOrFail(MetadataStore& store, const ExpiryRule& rule, int limit) {
  Result<int64_t> deleted = store.DeleteExpired(rule, limit);
  EXPECT_TRUE(deleted.ok()) << deleted.status().ToString();
  return deleted.ok() ? *deleted : -1;
}

// DeleteExpired removes events older than the rule's time (by timestamp)
// of its types, or of every type but the excepted ones, never a held user's.
inline void CheckRetentionContract(MetadataStore& store) {
  const int64_t before = kPrivacyNow;
  const int64_t old = before - 40 * kDayMillis;
  const Event old_click = EventAt(old, "u1", "click");
  const Event old_login = EventAt(old + 1, "u1", "login");
  const Event old_purchase = EventAt(old + 2, "u1", "purchase");
  const Event odd_type = EventAt(old + 3, "u1", "a,b\"c{}");  // quoted in any list encoding
  const Event recent_click = EventAt(before + 1000, "u1", "click");
  const Event click_at_bound = EventAt(before, "u1", "click");  // not older than `before`
  // Received recently but dated long ago by the client: its timestamp counts.
  const Event backdated_click = EventOccurredAt(before + 2000, old, "u2", "click");
  const Event u2_click = EventAt(old + 10, "u2", "click");
  const Event u3_click = EventAt(old + 11, "u3", "click");
  const Event held_click = EventAt(old, "held", "click");
  const Event held_login = EventAt(old, "held", "login");
  ASSERT_TRUE(WritePrivacyEvents(store, {old_click, old_login, old_purchase, odd_type, recent_click,
                                         click_at_bound, backdated_click, u2_click, u3_click, held_click,
                                         held_login})
                  .ok());
  ASSERT_TRUE(store.PutLegalHold({"held", "case 7", "2025-06-01T00:00:00.000Z"}).ok());

  // One type, three at a time: four old clicks not held (the held user's,
  // the recent one and the one at the bound stay).
  const ExpiryRule clicks = ExpireTypes({"click"}, before);
  EXPECT_EQ(DeleteExpiredOrFail(store, clicks, 3), 3);
  EXPECT_EQ(DeleteExpiredOrFail(store, clicks, 3), 1);
  EXPECT_EQ(DeleteExpiredOrFail(store, clicks, 3), 0);
  EXPECT_EQ(StoredEventIds(store), IdsOf({old_login, old_purchase, odd_type, recent_click, click_at_bound,
                                          held_click, held_login}));

  // Several types at once, one of them needing quotes.
  EXPECT_EQ(DeleteExpiredOrFail(store, ExpireTypes({"login", "a,b\"c{}", "no-such-type"}, before), 100), 2);
  EXPECT_EQ(StoredEventIds(store),
            IdsOf({old_purchase, recent_click, click_at_bound, held_click, held_login}));

  // The default rule: every type except those with rules of their own.
  EXPECT_EQ(DeleteExpiredOrFail(store, ExpireAllExcept({"purchase", "click"}, before), 100), 0);
  // No exceptions: every type; still not the held user's.
  EXPECT_EQ(DeleteExpiredOrFail(store, ExpireAllExcept({}, before), 100), 1);
  EXPECT_EQ(StoredEventIds(store), IdsOf({recent_click, click_at_bound, held_click, held_login}));

  // Once the hold is lifted the held user's events expire too.
  ASSERT_TRUE(store.DeleteLegalHold("held").ok());
  EXPECT_EQ(DeleteExpiredOrFail(store, ExpireAllExcept({"login"}, before), 100), 1);
  EXPECT_EQ(DeleteExpiredOrFail(store, ExpireAllExcept({}, before), 100), 1);
  EXPECT_EQ(StoredEventIds(store), IdsOf({recent_click, click_at_bound}));
  EXPECT_EQ(store.DeleteExpired(ExpireAllExcept({}, before + kDayMillis), 0).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(StoredEventIds(store), IdsOf({recent_click, click_at_bound}));
}

// Holds are upserted, deleted once, and listed by user id byte for byte.
// Leaves two holds: "Zed" with a reason and "alice" without one.
inline void CheckLegalHoldContract(MetadataStore& store) {
  Result<std::vector<LegalHoldRow>> listed = store.ListLegalHolds();
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_TRUE(listed->empty());

  const LegalHoldRow bob{"bob", "case 1", "2026-01-01T00:00:00.001Z"};
  const LegalHoldRow alice{"alice", "", "2026-01-02T00:00:00.000Z"};  // no reason given
  const LegalHoldRow zed{"Zed", "Fall Nº 42 — \"Müller\"", "2026-01-03T12:34:56.789Z"};
  for (const LegalHoldRow& row : {bob, alice, zed}) ASSERT_TRUE(store.PutLegalHold(row).ok());
  listed = store.ListLegalHolds();
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(*listed, (std::vector<LegalHoldRow>{zed, alice, bob}));  // 'Z' < 'a' < 'b'

  // Placing a hold again replaces its reason and time.
  const LegalHoldRow bob_again{"bob", "case 2", "2026-02-01T00:00:00.000Z"};
  ASSERT_TRUE(store.PutLegalHold(bob_again).ok());
  listed = store.ListLegalHolds();
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(*listed, (std::vector<LegalHoldRow>{zed, alice, bob_again}));

  ASSERT_TRUE(store.DeleteLegalHold("bob").ok());
  EXPECT_EQ(store.DeleteLegalHold("bob").code(), StatusCode::kNotFound);
  EXPECT_EQ(store.DeleteLegalHold("Alice").code(), StatusCode::kNotFound);
  EXPECT_EQ(store.DeleteLegalHold("nobody").code(), StatusCode::kNotFound);
  listed = store.ListLegalHolds();
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(*listed, (std::vector<LegalHoldRow>{zed, alice}));
}

inline ErasureJobRow PendingJob(std::string id, std::string user_id, std::string created_at) {
  ErasureJobRow row;
  row.id = std::move(id);
  row.user_id = std::move(user_id);
  row.state = "pending";
  row.received_cutoff = created_at;
  row.created_at = std::move(created_at);
  return row;
}

inline constexpr const char* kJobA = "0197b4a1-0000-7000-8000-0000000000a2";
inline constexpr const char* kJobB = "0197b4a1-0000-7000-8000-0000000000b1";
inline constexpr const char* kJobC = "0197b4a1-0000-7000-8000-0000000000a1";

// Jobs round-trip every field, empty ones included, and are listed oldest
// first. Leaves three jobs; kJobB stays pending with every optional field
// empty.
inline void CheckErasureJobContract(MetadataStore& store) {
  Result<std::vector<ErasureJobRow>> listed = store.ListErasureJobs();
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_TRUE(listed->empty());
  EXPECT_EQ(store.FindErasureJob(kJobA).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store.FindErasureJob("not-a-job-id").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store.UpdateErasureJob(PendingJob(kJobA, "u", "2026-01-01T00:00:00.000Z")).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store.UpdateErasureJob(PendingJob("not-a-job-id", "u", "2026-01-01T00:00:00.000Z")).code(),
            StatusCode::kNotFound);

  // Listed by creation time, ties by id, whatever the insertion order.
  ErasureJobRow a = PendingJob(kJobA, "alice", "2026-01-02T00:00:00.500Z");
  a.received_cutoff = "2026-01-02T00:00:00.499Z";
  const ErasureJobRow b = PendingJob(kJobB, "bob", "2026-01-01T00:00:00.000Z");
  const ErasureJobRow c = PendingJob(kJobC, "carol", "2026-01-02T00:00:00.500Z");
  for (const ErasureJobRow& row : {a, b, c}) ASSERT_TRUE(store.InsertErasureJob(row).ok()) << row.id;
  listed = store.ListErasureJobs();
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(*listed, (std::vector<ErasureJobRow>{b, c, a}));

  // An id is taken once.
  const Status again = store.InsertErasureJob(PendingJob(kJobA, "mallory", "2026-01-05T00:00:00.000Z"));
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists) << again.ToString();
  Result<ErasureJobRow> found = store.FindErasureJob(kJobA);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(*found, a);

  // Every field is replaced, counters past 32 bits and a receipt with
  // quotes and non-ASCII text included.
  ErasureJobRow done = a;
  done.state = "done";
  done.started_at = "2026-01-02T00:00:01.000Z";
  done.finished_at = "2026-01-02T00:05:00.999Z";
  done.metadata_erased = 5'000'000'123;
  done.documents_erased = 42;
  done.outbox_erased = 3;
  done.dead_letters_erased = 1;
  done.receipt = R"({"user":"alice","signature":"x\"y","note":"gelöscht — erased"})";
  ASSERT_TRUE(store.UpdateErasureJob(done).ok());
  found = store.FindErasureJob(kJobA);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(*found, done);

  // Fields emptied again read back empty; the other jobs are untouched.
  ErasureJobRow failed = done;
  failed.state = "failed";
  failed.finished_at = "";
  failed.receipt = "";
  failed.error = "document store unavailable";
  failed.metadata_erased = 0;
  ASSERT_TRUE(store.UpdateErasureJob(failed).ok());
  listed = store.ListErasureJobs();
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(*listed, (std::vector<ErasureJobRow>{b, c, failed}));
}

// With a bound, ListErasureJobs returns the jobs created at or after it
// (inclusive, to the millisecond) and every pending or running job however
// old, oldest first; without one, every job.
inline void CheckRecentErasureJobContract(MetadataStore& store) {
  const std::string cutoff = "2026-01-02T00:00:00.000Z";
  const auto job = [](const char* id, const char* state, const char* created_at) {
    ErasureJobRow row = PendingJob(id, "user-" + std::string(id).substr(33), created_at);
    row.state = state;
    return row;
  };
  // Before the cutoff: only the unfinished ones are listed.
  const ErasureJobRow old_done = job("0197b4a1-0000-7000-8000-000000000101", "done", "2026-01-01T00:00:00.000Z");
  const ErasureJobRow old_pending =
      job("0197b4a1-0000-7000-8000-000000000102", "pending", "2026-01-01T00:00:00.001Z");
  const ErasureJobRow old_failed = job("0197b4a1-0000-7000-8000-000000000103", "failed", "2026-01-01T06:00:00.000Z");
  const ErasureJobRow old_running =
      job("0197b4a1-0000-7000-8000-000000000104", "running", "2026-01-01T12:00:00.000Z");
  const ErasureJobRow just_before = job("0197b4a1-0000-7000-8000-000000000105", "done", "2026-01-01T23:59:59.999Z");
  // At the cutoff (two, to check the tie order) and after it: all listed.
  const ErasureJobRow at_cutoff_b = job("0197b4a1-0000-7000-8000-0000000001b6", "done", cutoff.c_str());
  const ErasureJobRow at_cutoff_a = job("0197b4a1-0000-7000-8000-0000000001a7", "failed", cutoff.c_str());
  const ErasureJobRow later = job("0197b4a1-0000-7000-8000-000000000108", "pending", "2026-01-02T00:00:00.001Z");
  const ErasureJobRow much_later = job("0197b4a1-0000-7000-8000-000000000109", "done", "2026-03-01T00:00:00.000Z");
  for (const ErasureJobRow& row :
       {much_later, at_cutoff_b, old_running, later, old_done, just_before, at_cutoff_a, old_failed, old_pending}) {
    ASSERT_TRUE(store.InsertErasureJob(row).ok()) << row.id;
  }

  Result<std::vector<ErasureJobRow>> listed = store.ListErasureJobs(cutoff);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(*listed, (std::vector<ErasureJobRow>{old_pending, old_running, at_cutoff_a, at_cutoff_b, later,
                                                 much_later}));

  // A bound one millisecond later drops the jobs at the cutoff; one past
  // every job leaves only the unfinished ones.
  listed = store.ListErasureJobs("2026-01-02T00:00:00.001Z");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(*listed, (std::vector<ErasureJobRow>{old_pending, old_running, later, much_later}));
  listed = store.ListErasureJobs("2027-01-01T00:00:00.000Z");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(*listed, (std::vector<ErasureJobRow>{old_pending, old_running, later}));

  // A job that finishes drops out of a bounded listing once it is older
  // than the bound.
  ErasureJobRow finished = old_running;
  finished.state = "done";
  finished.finished_at = "2026-03-02T00:00:00.000Z";
  ASSERT_TRUE(store.UpdateErasureJob(finished).ok());
  listed = store.ListErasureJobs(cutoff);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(*listed, (std::vector<ErasureJobRow>{old_pending, at_cutoff_a, at_cutoff_b, later, much_later}));

  // No bound, explicitly or by default: every job.
  const std::vector<ErasureJobRow> all = {old_done,    old_pending, old_failed, finished, just_before,
                                          at_cutoff_a, at_cutoff_b, later,      much_later};
  listed = store.ListErasureJobs("");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(*listed, all);
  listed = store.ListErasureJobs();
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(*listed, all);
}

}  // namespace eventlogger::testing_support
