// ApiKeyRegistry and Authenticator over a real SQLite metadata store.
#include "auth/authenticator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "auth/api_key_registry.h"
#include "core/clock.h"
#include "core/timestamp.h"
#include "storage/sqlite_metadata_store.h"
#include "support/temp_dir.h"

namespace eventlogger::auth {
namespace {

using ::testing::HasSubstr;
using testing_support::TempDir;

constexpr int64_t kStart = 1'800'000'000'000;

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<MetadataStore>> store = OpenSqliteMetadataStore({.path = dir_.File("m.db")});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }

  // A key stored the way `eventlogger keys create` stores it.
  NewApiKey Create(Scopes scopes, const std::string& name = "app") {
    Result<NewApiKey> key = MakeApiKey(name, scopes, FormatTimestamp(clock_.NowUnixMillis()));
    EXPECT_TRUE(key.ok());
    EXPECT_TRUE(store_->InsertApiKey(key->row).ok());
    return *key;
  }

  AuthOutcome Present(const Authenticator& auth, const std::string& key) {
    return auth.Authenticate("Bearer " + key, clock_.NowUnixMillis() / 1000);
  }

  TempDir dir_;
  ManualClock clock_{kStart};
  std::unique_ptr<MetadataStore> store_;
};

TEST_F(AuthenticatorTest, NothingIsEnforcedUntilAKeyExistsAndRevokingTheLastKeepsItEnforced) {
  ApiKeyRegistry registry(*store_, clock_, {});
  EXPECT_TRUE(registry.enforced());  // not read yet: fail closed
  ASSERT_TRUE(registry.Refresh().ok());
  EXPECT_FALSE(registry.enforced());
  Authenticator auth(&registry, nullptr);
  EXPECT_FALSE(auth.enforced());

  const NewApiKey key = Create(Scopes::Of(Scope::kEventsRead));
  ASSERT_TRUE(registry.Refresh().ok());
  EXPECT_TRUE(auth.enforced());
  ASSERT_TRUE(store_->RevokeApiKey(key.row.id, FormatTimestamp(kStart + 1)).ok());
  ASSERT_TRUE(registry.Refresh().ok());
  EXPECT_TRUE(auth.enforced());  // a revoked key still counts: revoking must not open the service up
}

TEST_F(AuthenticatorTest, AcceptsAStoredKeyWithItsScopesAndRefusesEverythingElse) {
  const NewApiKey writer = Create(Scopes::Of(Scope::kEventsWrite));
  ApiKeyRegistry registry(*store_, clock_, {});
  ASSERT_TRUE(registry.Refresh().ok());
  Authenticator auth(&registry, nullptr);

  AuthOutcome ok = Present(auth, writer.key);
  ASSERT_TRUE(ok.ok) << ok.failure.description;
  EXPECT_EQ(ok.principal.kind, Principal::Kind::kApiKey);
  EXPECT_EQ(ok.principal.id, writer.row.id);
  EXPECT_TRUE(ok.principal.scopes.Allow(Scope::kEventsWrite));
  EXPECT_FALSE(ok.principal.scopes.Allow(Scope::kEventsRead));
  EXPECT_TRUE(ok.principal.MayActFor("anyone"));
  // The scheme is case-insensitive (RFC 6750 §2.1 via RFC 9110).
  EXPECT_TRUE(auth.Authenticate("bearer  " + writer.key, kStart / 1000).ok);

  EXPECT_EQ(auth.Authenticate("", kStart / 1000).failure.reason, "missing");
  EXPECT_EQ(auth.Authenticate("Basic dXNlcjpwYXNz", kStart / 1000).failure.reason, "malformed");
  EXPECT_EQ(auth.Authenticate("Bearer", kStart / 1000).failure.reason, "malformed");
  EXPECT_EQ(auth.Authenticate(writer.key, kStart / 1000).failure.reason, "malformed");  // no scheme
  // No JWT configured: a token is not a credential here.
  EXPECT_EQ(Present(auth, "eyJhbGciOiJIUzI1NiJ9.e30.c2ln").failure.reason, "malformed");
  // Another secret under a real id, and an id that does not exist, look the same.
  std::string wrong = writer.key;
  wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
  const AuthOutcome wrong_secret = Present(auth, wrong);
  EXPECT_EQ(wrong_secret.failure.reason, "unknown_key");
  std::string other_id = writer.key;
  other_id[4] = other_id[4] == '0' ? '1' : '0';
  const AuthOutcome unknown = Present(auth, other_id);
  EXPECT_EQ(unknown.failure.reason, "unknown_key");
  EXPECT_EQ(unknown.failure.description, wrong_secret.failure.description);

  const auto failures = auth.failures();
  ASSERT_EQ(failures.size(), kAuthFailureReasons.size());
  EXPECT_EQ(failures[0], (std::pair<std::string_view, int64_t>{"missing", 1}));
  EXPECT_EQ(failures[1], (std::pair<std::string_view, int64_t>{"malformed", 4}));
  EXPECT_EQ(failures[2], (std::pair<std::string_view, int64_t>{"unknown_key", 2}));
}

TEST_F(AuthenticatorTest, ARevocationByAnotherProcessTakesEffectWithinTheRefreshInterval) {
  const NewApiKey key = Create(Scopes::Of(Scope::kAdmin));
  ApiKeyRegistry registry(*store_, SystemClock::Instance(), {.refresh_interval = std::chrono::milliseconds(50)});
  ASSERT_TRUE(registry.Refresh().ok());
  registry.Start();
  Authenticator auth(&registry, nullptr);
  ASSERT_TRUE(Present(auth, key.key).ok);

  // `eventlogger keys revoke` beside the service: its own store on the file.
  Result<std::unique_ptr<MetadataStore>> other = OpenSqliteMetadataStore({.path = dir_.File("m.db")});
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->RevokeApiKey(key.row.id, FormatTimestamp(kStart)).ok());
  const auto revoked_at = std::chrono::steady_clock::now();
  while (Present(auth, key.key).ok) {
    ASSERT_LT(std::chrono::steady_clock::now() - revoked_at, std::chrono::seconds(1)) << "still accepted";
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(Present(auth, key.key).failure.reason, "revoked");

  // And a key created elsewhere starts working just as soon.
  Result<NewApiKey> fresh = MakeApiKey("new", Scopes::Of(Scope::kEventsRead), FormatTimestamp(kStart));
  ASSERT_TRUE((*other)->InsertApiKey(fresh->row).ok());
  const auto created_at = std::chrono::steady_clock::now();
  while (!Present(auth, fresh->key).ok) {
    ASSERT_LT(std::chrono::steady_clock::now() - created_at, std::chrono::seconds(1)) << "not accepted yet";
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  registry.Stop();
}

TEST_F(AuthenticatorTest, UsesAreWrittenBackAtMostOncePerIntervalAndAtStop) {
  const NewApiKey key = Create(Scopes::Of(Scope::kEventsRead));
  const auto last_used = [&] {
    Result<std::vector<ApiKeyRow>> rows = store_->ListApiKeys();
    EXPECT_TRUE(rows.ok());
    return rows.ok() && !rows->empty() ? (*rows)[0].last_used_at : std::string("?");
  };
  {
    ApiKeyRegistry registry(*store_, clock_,
                            {.refresh_interval = std::chrono::milliseconds(10),
                             .use_record_interval = std::chrono::milliseconds(60'000)});
    ASSERT_TRUE(registry.Refresh().ok());
    registry.Start();
    Authenticator auth(&registry, nullptr);
    const auto wait_for = [&](const std::string& expected) {
      const auto start = std::chrono::steady_clock::now();
      while (last_used() != expected && std::chrono::steady_clock::now() - start < std::chrono::seconds(2)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      return last_used();
    };
    // The first use is written at once.
    clock_.Advance(5'000);
    ASSERT_TRUE(Present(auth, key.key).ok);
    EXPECT_EQ(wait_for(FormatTimestamp(kStart + 5'000)), FormatTimestamp(kStart + 5'000));
    // Later ones within the interval are not.
    clock_.Advance(30'000);
    ASSERT_TRUE(Present(auth, key.key).ok);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // several refreshes
    EXPECT_EQ(last_used(), FormatTimestamp(kStart + 5'000));
    // Once the interval has passed, the latest use is.
    clock_.Advance(31'000);
    ASSERT_TRUE(Present(auth, key.key).ok);
    EXPECT_EQ(wait_for(FormatTimestamp(kStart + 66'000)), FormatTimestamp(kStart + 66'000));
    clock_.Advance(2'000);
    ASSERT_TRUE(Present(auth, key.key).ok);
  }  // Stop writes back the last use
  EXPECT_EQ(last_used(), FormatTimestamp(kStart + 68'000));
}

TEST_F(AuthenticatorTest, KeysOfScopesThisBuildDoesNotKnowGrantNothing) {
  NewApiKey key = *MakeApiKey("future", Scopes::Of(Scope::kEventsRead), FormatTimestamp(kStart));
  key.row.scopes = "events:read events:teleport";
  ASSERT_TRUE(store_->InsertApiKey(key.row).ok());
  ApiKeyRegistry registry(*store_, clock_, {});
  ASSERT_TRUE(registry.Refresh().ok());
  Authenticator auth(&registry, nullptr);
  const AuthOutcome outcome = Present(auth, key.key);
  ASSERT_TRUE(outcome.ok);
  EXPECT_TRUE(outcome.principal.scopes.empty());
}

TEST_F(AuthenticatorTest, EndUserTokensBecomeASubjectBoundPrincipal) {
  JwtOptions options;
  options.hs256_secret = "an HS256 secret of at least 32 bytes, for tests";
  Result<std::unique_ptr<JwtVerifier>> jwt = JwtVerifier::FromText(options, "", "");
  ASSERT_TRUE(jwt.ok());
  ApiKeyRegistry registry(*store_, clock_, {});
  ASSERT_TRUE(registry.Refresh().ok());
  Authenticator auth(&registry, jwt->get());
  EXPECT_TRUE(auth.enforced());  // a JWT key alone enforces credentials
  // {"alg":"HS256"} {"sub":"user-1"} with a signature that is just "sig";
  // verified tokens are covered in jwt_verifier_test and over HTTP.
  const AuthOutcome bad = Present(auth, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2ln");
  EXPECT_EQ(bad.failure.reason, "invalid_token");
  EXPECT_THAT(bad.failure.description, HasSubstr("signature"));
}

}  // namespace
}  // namespace eventlogger::auth
