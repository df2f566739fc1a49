// The contract of DocumentStore::ReadUserRange, checked the same way on
// every store: a known set of documents is written, and each range read (and
// each page-by-page walk resuming after the last key, as the HTTP cursor
// does) must return exactly what a plain filter and sort of that set gives.
//
// The set has many documents per millisecond (so eventId breaks ties), three
// event types (one rare), and users whose ids are prefixes of one another.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "core/event.h"
#include "storage/document_store.h"
#include "support/events.h"

namespace eventlogger::testing_support {

struct RangeContractKey {
  std::string timestamp, event_id, event_type;
  bool operator<(const RangeContractKey& o) const {
    return std::tie(timestamp, event_id) < std::tie(o.timestamp, o.event_id);
  }
  bool operator==(const RangeContractKey& o) const { return timestamp == o.timestamp && event_id == o.event_id; }
};

inline std::ostream& operator<<(std::ostream& out, const RangeContractKey& key) {
  return out << key.timestamp << "/" << key.event_id << "/" << key.event_type;
}

class UserRangeContract {
 public:
  static constexpr int64_t kStart = 1751207565123;  // 2025-06-29T14:32:45.123Z
  static constexpr int kEvents = 60;

  // Writes the set through `store`.
  void WriteTo(DocumentStore& store) {
    EventFactory factory;
    std::vector<Event> events;
    for (int i = 0; i < kEvents; ++i) {
      const int64_t millis = kStart + i / 4;  // four documents per millisecond
      const std::string type = i % 10 == 7 ? "buy" : (i % 2 == 0 ? "click" : "view");
      events.push_back(factory.Make("u", millis, type, "{\"i\":" + std::to_string(i) + "}"));
      if (i % 6 == 0) events.push_back(factory.Make("uu", millis, type));   // "u" is a prefix of it
      if (i % 9 == 0) events.push_back(factory.Make("u u", millis, type));
    }
    std::vector<const Event*> pointers;
    for (const Event& event : events) {
      pointers.push_back(&event);
      if (event.user_id == "u") all_.push_back({event.timestamp, event.event_id, event.event_type});
    }
    const Status written = store.WriteBatch(EventBatch(pointers));
    ASSERT_TRUE(written.ok()) << written.ToString();
    std::sort(all_.begin(), all_.end());
  }

  // What the range holds, by a plain filter and sort.
  std::vector<RangeContractKey> Expected(const UserRangeQuery& query) const {
    std::vector<RangeContractKey> out;
    for (const RangeContractKey& key : all_) {
      if (!query.from.empty() && key.timestamp < query.from) continue;
      if (!query.to.empty() && key.timestamp >= query.to) continue;
      if (!query.event_types.empty() &&
          std::find(query.event_types.begin(), query.event_types.end(), key.event_type) == query.event_types.end()) {
        continue;
      }
      out.push_back(key);
    }
    if (query.order == ReadOrder::kNewestFirst) std::reverse(out.begin(), out.end());
    return out;
  }

  // Walks the range `page` documents at a time, each read resuming after
  // the previous page's last key.
  static std::vector<RangeContractKey> Walk(DocumentStore& store, UserRangeQuery query, size_t page) {
    std::vector<RangeContractKey> out;
    for (int reads = 0; reads < 1000; ++reads) {
      query.expected = page + 1;
      std::vector<RangeContractKey> got;
      const Status status = store.ReadUserRange("u", query, [&](const DocumentView& view) {
        EXPECT_EQ(view.user_id, "u");
        got.push_back({std::string(view.timestamp), std::string(view.event_id), std::string(view.event_type)});
        return got.size() < page + 1;  // one past the page: are there more?
      });
      EXPECT_TRUE(status.ok()) << status.ToString();
      const bool more = got.size() > page;
      if (more) got.pop_back();
      out.insert(out.end(), got.begin(), got.end());
      if (!more) return out;
      query.after = DocumentKey{got.back().timestamp, got.back().event_id};
    }
    ADD_FAILURE() << "the walk did not end";
    return out;
  }

  // Every combination of order, types and bounds, walked with `page`-sized
  // reads, against the expectation.
  void CheckWalks(DocumentStore& store, size_t page) const {
    const std::string mid_from = FormatTimestamp(kStart + 3);   // inside a millisecond's group
    const std::string mid_to = FormatTimestamp(kStart + 12);
    const std::vector<std::vector<std::string>> type_sets = {{}, {"buy"}, {"click", "view"}, {"none"}};
    for (const ReadOrder order : {ReadOrder::kOldestFirst, ReadOrder::kNewestFirst}) {
      for (const auto& types : type_sets) {
        for (const std::string& from : {std::string(), mid_from}) {
          for (const std::string& to : {std::string(), mid_to}) {
            UserRangeQuery query;
            query.order = order;
            query.event_types = types;
            query.from = from;
            query.to = to;
            const auto expected = Expected(query);
            EXPECT_EQ(Walk(store, query, page), expected)
                << "order " << (order == ReadOrder::kOldestFirst ? "asc" : "desc") << " types "
                << types.size() << " from '" << from << "' to '" << to << "' page " << page;
          }
        }
      }
    }
  }

  // Empty ranges, resuming at either end, and resuming after a key that
  // no document has (one erased meanwhile, say): the read goes on from its
  // place in the order.
  void CheckEdges(DocumentStore& store) const {
    const auto read = [&store](std::string_view user, const UserRangeQuery& query) {
      std::vector<RangeContractKey> got;
      const Status status = store.ReadUserRange(user, query, [&](const DocumentView& view) {
        got.push_back({std::string(view.timestamp), std::string(view.event_id), std::string(view.event_type)});
        return true;
      });
      EXPECT_TRUE(status.ok()) << status.ToString();
      return got;
    };
    EXPECT_TRUE(read("nobody", {}).empty());
    EXPECT_TRUE(read("", {}).empty());
    EXPECT_EQ(read("u", {}).size(), all_.size());
    UserRangeQuery query;
    query.from = query.to = FormatTimestamp(kStart + 2);
    EXPECT_TRUE(read("u", query).empty()) << "from == to is empty";
    query.to = FormatTimestamp(kStart + 1);
    EXPECT_TRUE(read("u", query).empty()) << "from > to is empty";

    UserRangeQuery after_last;
    after_last.after = DocumentKey{all_.back().timestamp, all_.back().event_id};
    EXPECT_TRUE(read("u", after_last).empty());
    UserRangeQuery before_first;
    before_first.order = ReadOrder::kNewestFirst;
    before_first.after = DocumentKey{all_.front().timestamp, all_.front().event_id};
    EXPECT_TRUE(read("u", before_first).empty());

    // A key before every document of millisecond 2 (documents 8-11): an
    // eventId of zeros sorts before any UUIDv7 of that millisecond.
    UserRangeQuery gap;
    gap.after = DocumentKey{FormatTimestamp(kStart + 2), "00000000-0000-7000-8000-000000000000"};
    std::vector<RangeContractKey> expected(all_.begin() + 8, all_.end());  // 4 per millisecond
    EXPECT_EQ(read("u", gap), expected);
    gap.order = ReadOrder::kNewestFirst;
    expected.assign(all_.begin(), all_.begin() + 8);
    std::reverse(expected.begin(), expected.end());
    EXPECT_EQ(read("u", gap), expected);
  }

  const std::vector<RangeContractKey>& all() const { return all_; }

 private:
  std::vector<RangeContractKey> all_;  // user "u", sorted
};

}  // namespace eventlogger::testing_support
