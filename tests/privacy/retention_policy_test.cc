// RetentionPolicy: parsing the flags, the expiry of each type, and the
// sweeps' rules; ReadVisibility: what a read hides with them.
#include "privacy/retention_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/timestamp.h"
#include "privacy/read_visibility.h"

namespace eventlogger {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kDay = 86'400'000;

TEST(RetentionPolicyTest, KeepsEverythingByDefault) {
  const RetentionPolicy policy;
  EXPECT_FALSE(policy.enabled());
  EXPECT_EQ(policy.DaysFor("login"), std::nullopt);
  EXPECT_FALSE(policy.IsExpired("login", 0, int64_t{1} << 50));
  EXPECT_TRUE(policy.RulesAt(1000 * kDay).empty());
  Result<RetentionPolicy> parsed = RetentionPolicy::Parse("", 0);
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE(parsed->enabled());
}

TEST(RetentionPolicyTest, TypesHaveTheirOwnDaysAndTheRestTheDefault) {
  Result<RetentionPolicy> policy = RetentionPolicy::Parse(" login=7, purchase=3653 ", 30);
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_TRUE(policy->enabled());
  EXPECT_EQ(policy->DaysFor("login"), 7);
  EXPECT_EQ(policy->DaysFor("purchase"), 3653);
  EXPECT_EQ(policy->DaysFor("click"), 30);
  EXPECT_EQ(policy->ExpiryMillisOf("login", 5), 5 + 7 * kDay);
  // Expired exactly at its expiry, not a millisecond before.
  EXPECT_FALSE(policy->IsExpired("login", 0, 7 * kDay - 1));
  EXPECT_TRUE(policy->IsExpired("login", 0, 7 * kDay));
  EXPECT_EQ(policy->Describe(), "login=7,purchase=3653; other types 30 days");
}

TEST(RetentionPolicyTest, RulesCoverEachTypeThenTheOthers) {
  Result<RetentionPolicy> policy = RetentionPolicy::Parse("login=7,purchase=10", 30);
  ASSERT_TRUE(policy.ok());
  const int64_t now = 100 * kDay + 123;
  const std::vector<ExpiryRule> rules = policy->RulesAt(now);
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_THAT(rules[0].event_types, ElementsAre("login"));
  EXPECT_EQ(rules[0].before_ms, now - 7 * kDay);
  EXPECT_EQ(rules[0].before, FormatTimestamp(now - 7 * kDay));
  EXPECT_THAT(rules[1].event_types, ElementsAre("purchase"));
  EXPECT_TRUE(rules[2].event_types.empty());
  EXPECT_THAT(rules[2].except_types, ElementsAre("login", "purchase"));
  EXPECT_EQ(rules[2].before_ms, now - 30 * kDay);
  // Without a default, only the named types expire.
  EXPECT_EQ(RetentionPolicy::Parse("login=7", 0)->RulesAt(now).size(), 1u);
}

TEST(RetentionPolicyTest, RefusesBadFlagsNamingTheEntry) {
  for (const auto& [rules, days, needle] : std::vector<std::tuple<std::string, int64_t, std::string>>{
           {"login", 0, "'login' is not eventType=days"},
           {"login=", 0, "days must be"},
           {"login=6", 0, "days must be"},
           {"login=3654", 0, "days must be"},
           {"login=7x", 0, "days must be"},
           {"login=-7", 0, "days must be"},
           {"=7", 0, "'=7'"},
           {"bad type=7", 0, "'bad type=7'"},
           {"login=7,login=8", 0, "names 'login' twice"},
           {"login=7,", 0, "is not eventType=days"},
           {"", 6, "--retention-default-days"},
           {"", 4000, "--retention-default-days"},
       }) {
    Result<RetentionPolicy> policy = RetentionPolicy::Parse(rules, days);
    ASSERT_FALSE(policy.ok()) << rules << " " << days;
    EXPECT_EQ(policy.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(policy.status().message(), HasSubstr(needle)) << rules;
  }
}

DocumentView Doc(std::string_view type, std::string_view timestamp, std::string_view event_id) {
  DocumentView view;
  view.user_id = "u";
  view.event_type = type;
  view.timestamp = timestamp;
  view.event_id = event_id;
  return view;
}

TEST(ReadVisibilityTest, HidesExpiredTypesAndErasedReceipts) {
  Result<RetentionPolicy> policy = RetentionPolicy::Parse("login=7", 0);
  ASSERT_TRUE(policy.ok());
  const int64_t now = *ParseTimestamp("2026-12-10T00:00:00.000Z");
  ReadVisibility visibility;
  EXPECT_TRUE(visibility.HidesNothing());
  visibility.expiry = policy->RulesAt(now);
  visibility.retention = &*policy;
  // A UUIDv7 whose millisecond is 2026-12-01T00:00:00.000Z (0x01a22ee6b000).
  const std::string id = "01a22ee6-b000-7000-8000-000000000000";
  ASSERT_EQ(*ParseTimestamp("2026-12-01T00:00:00.000Z"), 0x01a22ee6b000);
  EXPECT_TRUE(visibility.Hides(Doc("login", "2026-12-02T23:59:59.999Z", id)));
  EXPECT_FALSE(visibility.Hides(Doc("login", "2026-12-03T00:00:00.000Z", id)));
  EXPECT_FALSE(visibility.Hides(Doc("purchase", "2000-01-01T00:00:00.000Z", id)));
  EXPECT_EQ(visibility.VisibleUntilMs(Doc("login", "2026-12-03T00:00:00.000Z", id)),
            *ParseTimestamp("2026-12-10T00:00:00.000Z"));
  EXPECT_EQ(visibility.VisibleUntilMs(Doc("purchase", "2026-12-03T00:00:00.000Z", id)), ReadVisibility::kNever);
  // An erasure hides what was received at or before its cutoff.
  visibility.erased_through_ms = 0x01a22ee6b000;
  EXPECT_TRUE(visibility.Hides(Doc("purchase", "2030-01-01T00:00:00.000Z", id)));
  visibility.erased_through_ms = 0x01a22ee6b000 - 1;
  EXPECT_FALSE(visibility.Hides(Doc("purchase", "2030-01-01T00:00:00.000Z", id)));
}

}  // namespace
}  // namespace eventlogger
