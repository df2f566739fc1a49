// PrivacyRegistry: holds placed or released through this instance stand
// against a Refresh that read the store before them, and the store stays
// the authority for everything older.
#include "privacy/privacy_registry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "support/keyless_metadata_store.h"

namespace eventlogger {
namespace {

// Holds in memory; `after_list` runs once the list is copied and before it
// is returned: a change made there is one the Refresh reading it missed.
class HoldsStore final : public testing_support::KeylessMetadataStore {
 public:
  Status WriteBatch(EventBatch) override { return Status::Internal("holds only"); }
  Status ScanUser(std::string_view, const std::function<bool(const EventMetadata&)>&) override {
    return Status::Internal("holds only");
  }
  Status Scan(const ScanFilter&, const std::function<bool(const EventMetadata&)>&) override {
    return Status::Internal("holds only");
  }
  Result<EventMetadata> FindByIdempotencyKey(std::string_view, std::string_view) override {
    return Status::Internal("holds only");
  }
  Result<EventMetadata> FindEvent(std::string_view, std::string_view) override {
    return Status::Internal("holds only");
  }
  Status Migrate() override { return Status::Ok(); }
  Status CheckSchema() override { return Status::Ok(); }
  Status Ping() override { return Status::Ok(); }
  std::string_view Kind() const override { return "holds-only"; }

  Status PutLegalHold(const LegalHoldRow& row) override {
    holds_.push_back(row);
    return Status::Ok();
  }
  Status DeleteLegalHold(std::string_view user_id) override {
    const auto erased = std::erase_if(holds_, [&](const LegalHoldRow& row) { return row.user_id == user_id; });
    return erased > 0 ? Status::Ok() : Status::NotFound("no hold");
  }
  Result<std::vector<LegalHoldRow>> ListLegalHolds() override {
    std::vector<LegalHoldRow> listed = holds_;
    if (std::function<void()> hook = std::exchange(after_list, nullptr)) hook();
    return listed;
  }

  std::function<void()> after_list;

 private:
  std::vector<LegalHoldRow> holds_;
};

class PrivacyRegistryTest : public ::testing::Test {
 protected:
  void Place(const std::string& user) {
    ASSERT_TRUE(store_.PutLegalHold({user, "audit", "2026-12-06T00:00:00.000Z"}).ok());
    registry_.NoteHold(user);
  }
  void Release(const std::string& user) {
    ASSERT_TRUE(store_.DeleteLegalHold(user).ok());
    registry_.NoteRelease(user);
  }

  HoldsStore store_;
  PrivacyRegistry registry_{store_, std::make_shared<const RetentionPolicy>(*RetentionPolicy::Parse("login=7", 0))};
};

TEST_F(PrivacyRegistryTest, AHoldPlacedWhileARefreshReadsStands) {
  ASSERT_TRUE(registry_.Refresh().ok());
  store_.after_list = [this] { Place("held"); };
  ASSERT_TRUE(registry_.Refresh().ok());
  EXPECT_TRUE(registry_.IsHeld("held"));
  // Reads keep the held user's expired events.
  EXPECT_TRUE(registry_.VisibilityFor("held", 0).expiry.empty());
  EXPECT_FALSE(registry_.VisibilityFor("other", 0).expiry.empty());
  // The next Refresh reads it from the store.
  ASSERT_TRUE(registry_.Refresh().ok());
  EXPECT_TRUE(registry_.IsHeld("held"));
}

TEST_F(PrivacyRegistryTest, AHoldReleasedWhileARefreshReadsStaysReleased) {
  Place("held");
  ASSERT_TRUE(registry_.Refresh().ok());
  store_.after_list = [this] { Release("held"); };
  ASSERT_TRUE(registry_.Refresh().ok());
  EXPECT_FALSE(registry_.IsHeld("held"));
  ASSERT_TRUE(registry_.Refresh().ok());
  EXPECT_FALSE(registry_.IsHeld("held"));
}

TEST_F(PrivacyRegistryTest, TheStoreDecidesOnceARefreshHasReadAChange) {
  Place("a");
  Place("b");
  ASSERT_TRUE(registry_.Refresh().ok());
  EXPECT_TRUE(registry_.IsHeld("a"));
  EXPECT_TRUE(registry_.IsHeld("b"));
  // Released by another instance: this one's old note does not keep it.
  ASSERT_TRUE(store_.DeleteLegalHold("a").ok());
  ASSERT_TRUE(registry_.Refresh().ok());
  EXPECT_FALSE(registry_.IsHeld("a"));
  EXPECT_TRUE(registry_.IsHeld("b"));
  // Placed by another instance: seen at the next Refresh.
  ASSERT_TRUE(store_.PutLegalHold({"c", "audit", "2026-12-06T00:00:00.000Z"}).ok());
  EXPECT_FALSE(registry_.IsHeld("c"));
  ASSERT_TRUE(registry_.Refresh().ok());
  EXPECT_TRUE(registry_.IsHeld("c"));
}

}  // namespace
}  // namespace eventlogger
