#include "auth/api_key.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "auth/scopes.h"

namespace eventlogger::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

TEST(ScopesTest, ParsesCommaOrSpaceSeparatedNamesAndFormatsThemInOrder) {
  std::string unknown;
  const std::optional<Scopes> scopes = ParseScopes("events:read, events:write", &unknown);
  ASSERT_TRUE(scopes.has_value());
  EXPECT_EQ(FormatScopes(*scopes), "events:write events:read");
  EXPECT_TRUE(scopes->Allow(Scope::kEventsRead));
  EXPECT_TRUE(scopes->Allow(Scope::kEventsWrite));
  EXPECT_FALSE(scopes->Allow(Scope::kAdmin));
  EXPECT_EQ(ParseScopes(FormatScopes(*scopes), nullptr), scopes);
}

TEST(ScopesTest, AdminAllowsEverything) {
  const Scopes admin = *ParseScopes("admin", nullptr);
  EXPECT_TRUE(admin.Allow(Scope::kEventsRead));
  EXPECT_TRUE(admin.Allow(Scope::kEventsWrite));
  EXPECT_TRUE(admin.Allow(Scope::kAdmin));
  EXPECT_FALSE(Scopes::Of(Scope::kEventsRead).Allow(Scope::kEventsWrite));
}

TEST(ScopesTest, RefusesUnknownAndEmpty) {
  std::string unknown;
  EXPECT_FALSE(ParseScopes("events:read,events:delete", &unknown).has_value());
  EXPECT_EQ(unknown, "events:delete");
  EXPECT_FALSE(ParseScopes(" , ", &unknown).has_value());
  EXPECT_EQ(unknown, "");
  EXPECT_FALSE(ParseScopes("Events:Read", &unknown).has_value());  // names are exact
}

TEST(ApiKeyTest, NewKeysHaveTheDocumentedShapeAndOnlyTheirDigestIsStored) {
  Result<NewApiKey> key = MakeApiKey("checkout", Scopes::Of(Scope::kEventsWrite), "2026-01-01T00:00:00.000Z");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_THAT(key->key, MatchesRegex("elk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}"));
  EXPECT_EQ(key->key.substr(4, 16), key->row.id);
  EXPECT_EQ(key->row.name, "checkout");
  EXPECT_EQ(key->row.scopes, "events:write");
  EXPECT_THAT(key->row.secret_digest, MatchesRegex("[0-9a-f]{64}"));
  EXPECT_EQ(key->row.secret_digest.find(key->key.substr(21)), std::string::npos);
  const std::optional<PresentedKey> presented = SplitApiKey(key->key);
  ASSERT_TRUE(presented.has_value());
  EXPECT_EQ(presented->id, key->row.id);
  EXPECT_TRUE(SecretMatches(presented->id, presented->secret, key->row.secret_digest));
}

TEST(ApiKeyTest, KeysAreUnique) {
  std::set<std::string> ids, keys;
  for (int i = 0; i < 200; ++i) {
    Result<NewApiKey> key = MakeApiKey("k", Scopes::Of(Scope::kAdmin), "2026-01-01T00:00:00.000Z");
    ASSERT_TRUE(key.ok());
    ids.insert(key->row.id);
    keys.insert(key->key);
  }
  EXPECT_EQ(ids.size(), 200u);
  EXPECT_EQ(keys.size(), 200u);
}

TEST(ApiKeyTest, AWrongSecretOrAnotherIdDoesNotMatch) {
  Result<NewApiKey> key = MakeApiKey("k", Scopes::Of(Scope::kAdmin), "2026-01-01T00:00:00.000Z");
  ASSERT_TRUE(key.ok());
  const PresentedKey presented = *SplitApiKey(key->key);
  std::string secret(presented.secret);
  secret[10] = secret[10] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(SecretMatches(presented.id, secret, key->row.secret_digest));
  // The digest is bound to the id: copied into another row, it matches nothing.
  EXPECT_FALSE(SecretMatches("0000000000000000", presented.secret, key->row.secret_digest));
  EXPECT_FALSE(SecretMatches(presented.id, presented.secret, ""));
  EXPECT_FALSE(SecretMatches(presented.id, presented.secret, key->row.secret_digest.substr(1)));
}

TEST(ApiKeyTest, SplitRefusesAnythingNotShapedLikeAKey) {
  Result<NewApiKey> key = MakeApiKey("k", Scopes::Of(Scope::kAdmin), "2026-01-01T00:00:00.000Z");
  ASSERT_TRUE(key.ok());
  const std::string good = key->key;
  std::string upper_id = good;
  upper_id[5] = 'A';
  std::string bad_separator = good;
  bad_separator[20] = '-';
  std::string bad_secret_char = good;
  bad_secret_char.back() = '+';
  for (const std::string& bad : {std::string(), std::string("elk_"), good.substr(1), good + "x", good.substr(0, good.size() - 1),
                                 "xlk_" + good.substr(4), upper_id, bad_separator, bad_secret_char,
                                 std::string("eyJhbGciOiJIUzI1NiJ9.e30.c2ln")}) {
    EXPECT_FALSE(SplitApiKey(bad).has_value()) << bad;
  }
}

TEST(ApiKeyTest, NamesAreBoundedPrintableUtf8) {
  EXPECT_EQ(CheckApiKeyName("reporting — nightly"), "");
  EXPECT_THAT(CheckApiKeyName(""), HasSubstr("empty"));
  EXPECT_THAT(CheckApiKeyName(std::string(101, 'a')), HasSubstr("100"));
  EXPECT_EQ(CheckApiKeyName(std::string(100, 'a')), "");
  EXPECT_THAT(CheckApiKeyName("a\nb"), HasSubstr("control"));
  EXPECT_THAT(CheckApiKeyName("a\xc2\x85" "b"), HasSubstr("control"));  // NEL, a C1 control
  EXPECT_THAT(CheckApiKeyName("\xff"), HasSubstr("UTF-8"));
}

}  // namespace
}  // namespace eventlogger::auth
