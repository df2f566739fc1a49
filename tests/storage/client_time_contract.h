// What every DocumentStore must do with client-timed events (a client's
// occurredAt): store them under their timestamp, which is not their
// eventId's millisecond, so they sort into the user's history where they
// happened; keep the occurredAt; find them by their full key.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/event.h"
#include "core/timestamp.h"
#include "storage/document_store.h"
#include "support/events.h"

namespace eventlogger::testing_support {

inline void CheckClientTimedDocuments(DocumentStore& store, const std::string& user) {
  constexpr int64_t kReceived = 1751207565123;  // 2025-06-29T14:32:45.123Z
  constexpr int64_t kDay = 24 * 3600 * 1000LL;
  EventFactory factory;
  const Event first = factory.Make(user, kReceived - 2 * kDay, "view", R"({"n":1})");
  const Event last = factory.Make(user, kReceived, "view", R"({"n":3})");
  // Received with `last`'s millisecond, but it happened a day earlier.
  Event late = factory.Make(user, kReceived, "buy", R"({"n":2})");
  late.occurred_at = "2025-06-28T16:32:45.000Z";  // the client's clock, two hours fast
  late.unix_millis = kReceived - kDay;
  late.timestamp = FormatTimestamp(late.unix_millis);
  const Event* batch[] = {&first, &last, &late};
  ASSERT_TRUE(store.WriteBatch(EventBatch(batch)).ok());

  // In the history where it happened, with its occurredAt; the others
  // carry none.
  std::vector<std::string> order, occurred;
  ASSERT_TRUE(store
                  .ReadUserRange(user, UserRangeQuery{},
                                 [&](const DocumentView& document) {
                                   order.emplace_back(document.details_json);
                                   occurred.emplace_back(document.occurred_at);
                                   return true;
                                 })
                  .ok());
  EXPECT_EQ(order, (std::vector<std::string>{R"({"n":1})", R"({"n":2})", R"({"n":3})"}));
  EXPECT_EQ(occurred, (std::vector<std::string>{"", "2025-06-28T16:32:45.000Z", ""}));

  // Its eventId alone does not locate it; its full key does.
  const auto ignore = [](const DocumentView&) {};
  EXPECT_EQ(store.FindEvent(user, late.event_id, ignore).code(), StatusCode::kNotFound);
  std::string found_timestamp, found_occurred, found_details;
  ASSERT_TRUE(store
                  .FindEventAt(user, DocumentKey{late.timestamp, late.event_id},
                               [&](const DocumentView& document) {
                                 found_timestamp = document.timestamp;
                                 found_occurred = document.occurred_at;
                                 found_details = document.details_json;
                               })
                  .ok());
  EXPECT_EQ(found_timestamp, "2025-06-28T14:32:45.123Z");
  EXPECT_EQ(found_occurred, late.occurred_at);
  EXPECT_EQ(found_details, R"({"n":2})");
  // A server-timed event is found both ways.
  EXPECT_TRUE(store.FindEvent(user, last.event_id, ignore).ok());
  EXPECT_TRUE(store.FindEventAt(user, DocumentKey{last.timestamp, last.event_id}, ignore).ok());
  // Misses: another user, another time, a malformed key.
  EXPECT_EQ(store.FindEventAt(user + "-other", DocumentKey{late.timestamp, late.event_id}, ignore).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store.FindEventAt(user, DocumentKey{last.timestamp, late.event_id}, ignore).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store.FindEventAt(user, DocumentKey{"2025-06-28", late.event_id}, ignore).code(), StatusCode::kNotFound);

  // Scans (reconciliation) see the occurredAt too.
  ScanFilter filter;
  filter.user_id = user;
  int with_occurred = 0;
  ASSERT_TRUE(store
                  .Scan(filter,
                        [&](const DocumentView& document) {
                          if (document.occurred_at == late.occurred_at) ++with_occurred;
                          return true;
                        })
                  .ok());
  EXPECT_EQ(with_occurred, 1);
}

}  // namespace eventlogger::testing_support
