// What every DocumentStore must do for privacy: erase a user's events up to
// a receipt cutoff (EraseUserEvents) and sweep expired events
// (DeleteExpired), each bounded per call and resumable by calling again.
//
// The hard cases are client-timed events: one received after the cutoff
// may carry an old timestamp and so lie among erased documents in the
// user's range, where it must survive; one received before it with an old
// timestamp must go.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/event.h"
#include "core/timestamp.h"
#include "storage/document_store.h"
#include "support/events.h"

namespace eventlogger::testing_support {

inline constexpr int64_t kPrivacyT0 = 1751207565123;  // 2025-06-29T14:32:45.123Z
inline constexpr int64_t kPrivacyDay = int64_t{24} * 3600 * 1000;

// The details of the user's documents, in read order (the tests put a
// distinct name in each event's details).
inline std::vector<std::string> DetailsOf(DocumentStore& store, std::string_view user,
                                          ReadOrder order = ReadOrder::kOldestFirst) {
  std::vector<std::string> details;
  UserRangeQuery query;
  query.order = order;
  const Status status = store.ReadUserRange(user, query, [&](const DocumentView& document) {
    details.emplace_back(document.details_json);
    return true;
  });
  EXPECT_TRUE(status.ok()) << status.ToString();
  return details;
}

// {"n":"<name>"}: the details the tests identify events by.
inline std::string Named(std::string_view name) {
  return R"({"n":")" + std::string(name) + R"("})";
}

// An event the server received at `received_ms` that happened at
// `timestamp_ms` (the client gave occurredAt), so that its key sorts by the
// latter.
inline Event ClientTimedEvent(EventFactory& factory, const std::string& user, int64_t received_ms,
                              int64_t timestamp_ms, std::string_view name,
                              std::string type = "view") {
  Event event = factory.Make(user, received_ms, std::move(type), Named(name));
  event.unix_millis = timestamp_ms;
  event.timestamp = FormatTimestamp(timestamp_ms);
  event.occurred_at = event.timestamp;  // the client's clock is right
  return event;
}

inline Status WriteEvents(DocumentStore& store, const std::vector<Event>& events) {
  std::vector<const Event*> pointers;
  for (const Event& event : events) pointers.push_back(&event);
  return store.WriteBatch(EventBatch(pointers));
}

inline UserErasure ErasureUntil(const std::string& user, int64_t cutoff_ms) {
  return UserErasure{user, FormatTimestamp(cutoff_ms), cutoff_ms};
}

// Calls `step` until it returns fewer than `limit` (or fails): one count
// per call.
inline std::vector<int64_t> CallsUntilShort(const std::function<Result<int64_t>()>& step,
                                            int limit) {
  std::vector<int64_t> counts;
  for (int call = 0; call < 1000; ++call) {
    Result<int64_t> count = step();
    EXPECT_TRUE(count.ok()) << count.status().ToString();
    if (!count.ok()) break;
    counts.push_back(*count);
    if (*count < limit) break;
  }
  return counts;
}

// One erasure with room to spare: exactly the user's events received up to
// the cutoff go, whatever their timestamps.
inline void CheckErasureKeepsWhatWasReceivedLater(DocumentStore& store) {
  const std::string user = "erase-me";
  const std::string other = "erase-me-not";  // the erased id is its prefix
  const int64_t cutoff = kPrivacyT0;
  EventFactory factory;
  std::vector<Event> events;
  events.push_back(factory.Make(user, cutoff - 3 * kPrivacyDay, "view", Named("old1")));
  events.push_back(factory.Make(user, cutoff - 2 * kPrivacyDay, "buy", Named("old2")));
  events.push_back(factory.Make(user, cutoff - kPrivacyDay, "view", Named("old3")));
  // Received before the cutoff, happened before everything else.
  events.push_back(ClientTimedEvent(factory, user, cutoff - 10, cutoff - 4 * kPrivacyDay, "early"));
  // The cutoff is inclusive.
  events.push_back(factory.Make(user, cutoff, "view", Named("at-cutoff")));
  events.push_back(factory.Make(user, cutoff + 1, "view", Named("after")));
  // Received an hour after the cutoff, happened between old2 and old3: in
  // the middle of what is erased, and kept.
  events.push_back(
      ClientTimedEvent(factory, user, cutoff + 3600 * 1000, cutoff - 2 * kPrivacyDay + 1, "late"));
  const Event late = events.back();
  const Event old1 = events.front();
  ASSERT_TRUE(WriteEvents(store, events).ok());
  EventFactory other_factory;
  std::vector<Event> others;
  for (int i = 0; i < 3; ++i) {
    others.push_back(other_factory.Make(other, cutoff - 2 * kPrivacyDay + i, "view",
                                        Named("other" + std::to_string(i))));
  }
  ASSERT_TRUE(WriteEvents(store, others).ok());

  Result<int64_t> erased = store.EraseUserEvents(ErasureUntil(user, cutoff), 100);
  ASSERT_TRUE(erased.ok()) << erased.status().ToString();
  EXPECT_EQ(*erased, 5);  // old1, old2, old3, early, at-cutoff
  EXPECT_EQ(DetailsOf(store, user), (std::vector<std::string>{Named("late"), Named("after")}));
  EXPECT_EQ(DetailsOf(store, user, ReadOrder::kNewestFirst),
            (std::vector<std::string>{Named("after"), Named("late")}));
  EXPECT_EQ(DetailsOf(store, other).size(), 3u);

  const auto ignore = [](const DocumentView&) {};
  EXPECT_EQ(store.FindEvent(user, old1.event_id, ignore).code(), StatusCode::kNotFound);
  EXPECT_TRUE(store.FindEventAt(user, DocumentKey{late.timestamp, late.event_id}, ignore).ok());
  ScanFilter filter;
  filter.user_id = user;
  int scanned = 0;
  ASSERT_TRUE(store
                  .Scan(filter,
                        [&](const DocumentView&) {
                          ++scanned;
                          return true;
                        })
                  .ok());
  EXPECT_EQ(scanned, 2);

  // Nothing is left to erase; a user without documents has none either.
  Result<int64_t> again = store.EraseUserEvents(ErasureUntil(user, cutoff), 100);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
  Result<int64_t> nobody = store.EraseUserEvents(ErasureUntil("nobody", cutoff), 100);
  ASSERT_TRUE(nobody.ok());
  EXPECT_EQ(*nobody, 0);
  EXPECT_EQ(store.EraseUserEvents(ErasureUntil(user, cutoff), 0).status().code(),
            StatusCode::kInvalidArgument);
}

// 40 erasable events with 6 kept ones among them, erased `limit` at a time:
// each call but the last erases exactly `limit`, and the last fewer.
inline void CheckErasureInSteps(DocumentStore& store, const std::string& user, int limit) {
  constexpr int kErasable = 40, kKept = 6;
  const int64_t cutoff = kPrivacyT0 + kErasable * 1000;
  EventFactory factory;
  std::vector<Event> events;
  for (int i = 0; i < kErasable; ++i) {
    events.push_back(
        factory.Make(user, kPrivacyT0 + i * 1000, "view", Named("erased" + std::to_string(i))));
  }
  std::vector<std::string> kept;
  for (int j = 0; j < kKept; ++j) {
    // Between erasable events 6j+2 and 6j+3: each splits a run.
    const int64_t timestamp = kPrivacyT0 + (6 * j + 2) * 1000 + 500;
    events.push_back(
        ClientTimedEvent(factory, user, cutoff + 1 + j, timestamp, "kept" + std::to_string(j)));
    kept.push_back(Named("kept" + std::to_string(j)));
  }
  ASSERT_TRUE(WriteEvents(store, events).ok());

  const std::vector<int64_t> counts = CallsUntilShort(
      [&] { return store.EraseUserEvents(ErasureUntil(user, cutoff), limit); }, limit);
  std::vector<int64_t> expected(kErasable / limit, limit);
  expected.push_back(kErasable % limit);
  EXPECT_EQ(counts, expected);
  EXPECT_EQ(DetailsOf(store, user), kept);
}

// Retention sweeps by type, by default-with-exceptions and for every type;
// held users keep everything; a sweep interrupted by `limit` resumes where
// it stopped, even when another rule's sweep ran in between.
inline void CheckDeleteExpired(DocumentStore& store) {
  const std::vector<std::string> users = {"alice", "bob", "carol"};
  const auto bob_is_held = [](std::string_view user) { return user == "bob"; };
  const int64_t old = kPrivacyT0 - 100 * kPrivacyDay;
  EventFactory factory;
  std::vector<Event> events;
  // Per user, oldest first: 3 old logins, 2 old purchases, 2 old views;
  // a recent login and a recent view.
  const std::vector<std::pair<std::string, int64_t>> plan = {
      {"login", old},      {"purchase", old + 10}, {"view", old + 20},
      {"login", old + 30}, {"purchase", old + 40}, {"view", old + 50},
      {"login", old + 60}, {"login", kPrivacyT0},  {"view", kPrivacyT0 + 10}};
  for (const auto& [type, when] : plan) {
    for (size_t u = 0; u < users.size(); ++u) {
      const int64_t at = when + static_cast<int64_t>(u);
      events.push_back(
          factory.Make(users[u], at, type, Named(type + "@" + std::to_string(when - old))));
    }
  }
  ASSERT_TRUE(WriteEvents(store, events).ok());
  const int64_t fifty_days_ago = kPrivacyT0 - 50 * kPrivacyDay;
  const auto rule = [](std::vector<std::string> types, std::vector<std::string> except,
                       int64_t before_ms) {
    return ExpiryRule{std::move(types), std::move(except), FormatTimestamp(before_ms), before_ms};
  };

  // Old logins of alice and carol: 6, four per call.
  const ExpiryRule logins = rule({"login"}, {}, fifty_days_ago);
  Result<int64_t> first = store.DeleteExpired(logins, bob_is_held, 4);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, 4);
  // Meanwhile the default rule (every type but logins and purchases): the
  // old views, 4, three per call, from the beginning of the store.
  const ExpiryRule others = rule({}, {"login", "purchase"}, fifty_days_ago);
  EXPECT_EQ(CallsUntilShort([&] { return store.DeleteExpired(others, bob_is_held, 3); }, 3),
            (std::vector<int64_t>{3, 1}));
  // The login sweep goes on where it stopped.
  Result<int64_t> rest = store.DeleteExpired(logins, bob_is_held, 4);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(*rest, 2);
  // `before` is exclusive: only the first purchase is older than the second.
  const ExpiryRule purchases = rule({"purchase"}, {}, old + 40);  // alice's second purchase
  Result<int64_t> purchased = store.DeleteExpired(purchases, bob_is_held, 100);
  ASSERT_TRUE(purchased.ok());
  EXPECT_EQ(*purchased, 2);

  const std::vector<std::string> survivors = {
      Named("purchase@40"), Named("login@" + std::to_string(kPrivacyT0 - old)),
      Named("view@" + std::to_string(kPrivacyT0 + 10 - old))};
  EXPECT_EQ(DetailsOf(store, "alice"), survivors);
  EXPECT_EQ(DetailsOf(store, "carol"), survivors);
  EXPECT_EQ(DetailsOf(store, "bob").size(), plan.size());  // held: untouched

  // Every type, nobody held: bob's 7 old events and the other purchases.
  const ExpiryRule everything = rule({}, {}, fifty_days_ago);
  Result<int64_t> swept = store.DeleteExpired(everything, nullptr, 100);
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(*swept, 9);
  for (const std::string& user : users) EXPECT_EQ(DetailsOf(store, user).size(), 2u) << user;

  // A finished sweep starts over: an expired event written later (at the
  // very start of the store's order) is found by the next one.
  const Event straggler = EventAt(old, "aaron", "view", Named("straggler"));
  ASSERT_TRUE(WriteEvents(store, {straggler}).ok());
  Result<int64_t> again = store.DeleteExpired(others, bob_is_held, 3);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 1);
  EXPECT_TRUE(DetailsOf(store, "aaron").empty());
  EXPECT_EQ(store.DeleteExpired(everything, nullptr, 0).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace eventlogger::testing_support
