// Authentication and authorization over real HTTP, on every backend: API
// keys (stored in the metadata store, as `eventlogger keys` stores them),
// end-user JWTs, 401/403 and their challenges, scopes × endpoints, a
// revocation reaching the running service, rate limits per key, the
// loopback-only default, and the `keys` commands of the real binary.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/hmac.h>

#include <chrono>
#include <cstring>
#include <map>
#include <thread>

#include "auth/api_key.h"
#include "core/base64url.h"
#include "core/timestamp.h"
#include "integration/child_process.h"
#include "integration/service_fixture.h"
#include "integration/test_client.h"

namespace eventlogger::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr const char* kJwtSecret = "integration-test-jwt-secret-of-32-bytes-or-more";

std::string Body(const std::string& user) {
  return R"({"userId":")" + user + R"(","eventType":"login","jsonDetails":{"ip":"10.0.0.1"}})";
}

// An HS256 token over `claims` (JwtVerifier's own tests check it against
// tokens Node's crypto signed; here it only needs to be a valid token).
std::string Hs256(const std::string& claims, const std::string& header = R"({"alg":"HS256","typ":"JWT"})") {
  const std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(claims);
  unsigned char mac[32];
  unsigned int size = 0;
  HMAC(EVP_sha256(), kJwtSecret, static_cast<int>(std::strlen(kJwtSecret)),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &size);
  return input + "." + Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(mac), size));
}

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string UserToken(const std::string& user, const std::string& extra = "") {
  return Hs256(R"({"sub":")" + user + R"(","iss":"https://id.test","aud":"eventlogger","exp":)" +
               std::to_string(NowSeconds() + 300) + extra + "}");
}

using Headers = std::vector<std::pair<std::string, std::string>>;
Headers Bearer(const std::string& credential) { return {{"Authorization", "Bearer " + credential}}; }

class AuthTest : public ServiceFixture {
 protected:
  void Configure(ServiceOptions& options) override {
    options.api_keys.refresh_interval = std::chrono::milliseconds(50);
    options.jwt.hs256_secret = kJwtSecret;
    options.jwt.issuer = "https://id.test";
    options.jwt.audience = "eventlogger";
    options.rate_limit = rate_limit_;
    store_ = OpenStore(options);
    writer_ = CreateKey("writer", "events:write");
    reader_ = CreateKey("reader", "events:read");
    admin_ = CreateKey("admin", "admin");
  }

  std::unique_ptr<MetadataStore> OpenStore(const ServiceOptions& options) {
    Result<std::unique_ptr<MetadataStore>> store =
        OpenMetadataStore(ResolveStoreUrls(options.stores, options.data_dir).metadata);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  std::string CreateKey(const std::string& name, const std::string& scopes) {
    Result<auth::NewApiKey> key = auth::MakeApiKey(
        name, *auth::ParseScopes(scopes, nullptr), FormatTimestamp(SystemClock::Instance().NowUnixMillis()));
    EXPECT_TRUE(key.ok());
    EXPECT_TRUE(store_->InsertApiKey(key->row).ok());
    ids_[key->key] = key->row.id;
    return key->key;
  }

  TestResponse Post(const std::string& user, const Headers& headers) {
    Headers all = headers;
    all.emplace_back("Content-Type", "application/json");
    return HttpRequest(port_, "POST", "/events", Body(user), all);
  }
  TestResponse Get(const std::string& target, const Headers& headers) {
    return HttpRequest(port_, "GET", target, "", headers);
  }

  http::RateLimitOptions rate_limit_;
  std::unique_ptr<MetadataStore> store_;
  std::map<std::string, std::string> ids_;
  std::string writer_, reader_, admin_;
};

TEST_F(AuthTest, NoOrBadCredentialsAre401WithABearerChallenge) {
  for (const Headers& headers :
       {Headers{}, Bearer("elk_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), Bearer("nonsense"),
        Headers{{"Authorization", "Basic dXNlcjpwYXNz"}}, Bearer(writer_ + "x")}) {
    const TestResponse response = Get("/events/u1", headers);
    EXPECT_EQ(response.status, 401) << response.body;
    EXPECT_THAT(response.Header("www-authenticate"), StartsWith("Bearer realm=\"eventlogger\""));
    EXPECT_EQ(response.Header("content-type"), "application/problem+json");
    EXPECT_THAT(response.body, HasSubstr("\"status\":401"));
  }
  // Only a request that sent credentials is told they are invalid (RFC 6750 §3.1).
  EXPECT_THAT(Get("/events/u1", {}).Header("www-authenticate"), Not(HasSubstr("invalid_token")));
  EXPECT_THAT(Get("/events/u1", Bearer("nonsense")).Header("www-authenticate"), HasSubstr("error=\"invalid_token\""));
  EXPECT_EQ(Post("u1", {}).status, 401);
  EXPECT_EQ(Get("/events/u1/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", {}).status, 401);
  // Nothing was written by the refused POST.
  EXPECT_EQ(Get("/events/u1", Bearer(reader_)).body, "[]");
  const TestResponse metrics = Get("/metrics", {});
  EXPECT_THAT(metrics.body, HasSubstr("eventlogger_auth_failures_total{reason=\"missing\"} 4"));
  EXPECT_THAT(metrics.body, HasSubstr("eventlogger_auth_failures_total{reason=\"unknown_key\"} 1"));
  // Not shaped like a key, so tried as a JWT: "nonsense" (twice) and the key with a byte more.
  EXPECT_THAT(metrics.body, HasSubstr("eventlogger_auth_failures_total{reason=\"invalid_token\"} 3"));
}

TEST_F(AuthTest, ProbesAndMetricsNeedNoCredentials) {
  EXPECT_EQ(Get("/healthz", {}).status, 200);
  EXPECT_EQ(Get("/readyz", {}).status, 200);
  EXPECT_EQ(Get("/metrics", {}).status, 200);
}

TEST_F(AuthTest, EachScopeReachesExactlyItsEndpoints) {
  const TestResponse posted = Post("u1", Bearer(writer_));
  ASSERT_EQ(posted.status, 201) << posted.body;
  const std::string location = posted.Header("location");
  struct Case {
    std::string name, key;
    int post, list, one;
  };
  for (const Case& c : {Case{"writer", writer_, 201, 403, 403}, Case{"reader", reader_, 403, 200, 200},
                        Case{"admin", admin_, 201, 200, 200}}) {
    EXPECT_EQ(Post("u1", Bearer(c.key)).status, c.post) << c.name;
    const TestResponse list = Get("/events/u1", Bearer(c.key));
    EXPECT_EQ(list.status, c.list) << c.name << ": " << list.body;
    EXPECT_EQ(Get(location, Bearer(c.key)).status, c.one) << c.name;
    if (list.status == 403) {
      EXPECT_EQ(list.Header("www-authenticate"), "Bearer error=\"insufficient_scope\", scope=\"events:read\"");
      EXPECT_EQ(list.Header("content-type"), "application/problem+json");
    }
  }
  const TestResponse refused = Post("u1", Bearer(reader_));
  EXPECT_EQ(refused.Header("www-authenticate"), "Bearer error=\"insufficient_scope\", scope=\"events:write\"");
}

TEST_F(AuthTest, AnswersWithoutAValidatorAreNotStoredByCaches) {
  const TestResponse posted = Post("u1", Bearer(writer_));
  ASSERT_EQ(posted.status, 201);
  EXPECT_EQ(posted.Header("cache-control"), "no-store");
  EXPECT_EQ(Get("/events/u1", Bearer(writer_)).Header("cache-control"), "no-store");  // 403
  // A page carries an ETag: revalidation is the client's choice.
  const TestResponse page = Get("/events/u1", Bearer(reader_));
  ASSERT_EQ(page.status, 200);
  EXPECT_FALSE(page.Header("etag").empty());
  EXPECT_EQ(page.Header("cache-control"), "");
}

TEST_F(AuthTest, ARevokedKeyStopsWorkingWithinOneSecond) {
  ASSERT_EQ(Get("/events/u1", Bearer(reader_)).status, 200);
  // Revoked through a store of its own, as another instance or the CLI would.
  auto other = OpenStore(options_);
  ASSERT_TRUE(other->RevokeApiKey(ids_[reader_], FormatTimestamp(SystemClock::Instance().NowUnixMillis())).ok());
  const auto revoked = std::chrono::steady_clock::now();
  int status = 200;
  while ((status = Get("/events/u1", Bearer(reader_)).status) == 200) {
    ASSERT_LT(std::chrono::steady_clock::now() - revoked, std::chrono::seconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(status, 401);
  EXPECT_THAT(Get("/events/u1", Bearer(reader_)).body, HasSubstr("revoked"));
  EXPECT_EQ(Get("/events/u1", Bearer(admin_)).status, 200);  // the others still work
}

TEST_F(AuthTest, AnEndUserTokenReachesOnlyItsOwnEvents) {
  ASSERT_EQ(Post("alice", Bearer(writer_)).status, 201);
  ASSERT_EQ(Post("bob", Bearer(writer_)).status, 201);
  const std::string alice = UserToken("alice");
  const TestResponse own = Get("/events/alice", Bearer(alice));
  ASSERT_EQ(own.status, 200) << own.body;
  EXPECT_THAT(own.body, HasSubstr("\"userId\":\"alice\""));
  const TestResponse other = Get("/events/bob", Bearer(alice));
  EXPECT_EQ(other.status, 403);
  EXPECT_THAT(other.body, HasSubstr("sub"));
  // Reading is all a token does unless its scope says events:write, and
  // then only for its own user.
  EXPECT_EQ(Post("alice", Bearer(alice)).status, 403);
  const std::string writer = UserToken("alice", R"(,"scope":"openid events:write")");
  EXPECT_EQ(Post("alice", Bearer(writer)).status, 201);
  EXPECT_EQ(Post("bob", Bearer(writer)).status, 403);
}

TEST_F(AuthTest, BadEndUserTokensAre401) {
  const int64_t now = NowSeconds();
  const auto claims = [&](const std::string& changes) {
    return R"({"sub":"alice","iss":"https://id.test","aud":"eventlogger")" + changes + "}";
  };
  const std::string none = Base64UrlEncode(R"({"alg":"none"})") + "." +
                           Base64UrlEncode(claims(",\"exp\":" + std::to_string(now + 300))) + ".";
  for (const std::string& token :
       {Hs256(claims(",\"exp\":" + std::to_string(now - 3600))),                      // expired
        Hs256(claims(",\"exp\":" + std::to_string(now + 300) + ",\"nbf\":" + std::to_string(now + 3600))),
        Hs256(R"({"sub":"alice","iss":"https://other","aud":"eventlogger","exp":)" + std::to_string(now + 300) + "}"),
        Hs256(R"({"sub":"alice","iss":"https://id.test","aud":"other","exp":)" + std::to_string(now + 300) + "}"),
        Hs256(claims("")),  // no exp
        none}) {
    const TestResponse response = Get("/events/alice", Bearer(token));
    EXPECT_EQ(response.status, 401) << token << ": " << response.body;
    EXPECT_THAT(response.Header("www-authenticate"), HasSubstr("invalid_token"));
  }
}

class AuthRateLimitTest : public AuthTest {
 protected:
  void Configure(ServiceOptions& options) override {
    rate_limit_.rate = 0.5;
    rate_limit_.burst = 2;
    AuthTest::Configure(options);
  }
};

TEST_F(AuthRateLimitTest, EachKeyHasItsOwnBucket) {
  EXPECT_EQ(Get("/events/u1", Bearer(reader_)).status, 200);
  const TestResponse second = Get("/events/u1", Bearer(reader_));
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.Header("ratelimit-remaining"), "0");
  const TestResponse third = Get("/events/u1", Bearer(reader_));
  EXPECT_EQ(third.status, 429);
  EXPECT_FALSE(third.Header("retry-after").empty());
  // Same client address, another key: a full bucket of its own.
  EXPECT_EQ(Get("/events/u1", Bearer(admin_)).status, 200);
  EXPECT_EQ(Get("/events/u1", Bearer(admin_)).status, 200);
  EXPECT_EQ(Get("/events/u1", Bearer(admin_)).status, 429);
}

// ---- Secure by default --------------------------------------------------------

TEST(SecureDefaultTest, ServingBeyondLoopbackWithoutCredentialsNeedsInsecure) {
  EVENTLOGGER_EMBEDDED_ONLY();
  TempDir dir;
  ServiceOptions options;
  options.data_dir = dir.path().string();
  options.http.host = "0.0.0.0";
  options.http.port = 0;
  options.http.access_log = false;
  log::SetMinimumLevel(log::Level::kError);
  Result<std::unique_ptr<Service>> refused = Service::Start(options);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("--insecure"));
  options.insecure = true;
  Result<std::unique_ptr<Service>> open = Service::Start(options);
  ASSERT_TRUE(open.ok()) << open.status().ToString();
  (*open)->Stop();
  // With a JWT key configured it is not open, so no --insecure is needed.
  options.insecure = false;
  options.jwt.hs256_secret = kJwtSecret;
  Result<std::unique_ptr<Service>> guarded = Service::Start(options);
  ASSERT_TRUE(guarded.ok()) << guarded.status().ToString();
  (*guarded)->Stop();
}

TEST(SecureDefaultTest, TheLoopbackQuickStartNeedsNoCredentials) {
  EVENTLOGGER_EMBEDDED_ONLY();
  TempDir dir;
  ServiceOptions options;
  options.data_dir = dir.path().string();
  options.http.host = "127.0.0.1";
  options.http.port = 0;
  options.http.access_log = false;
  Result<std::unique_ptr<Service>> service = Service::Start(options);
  ASSERT_TRUE(service.ok()) << service.status().ToString();
  const uint16_t port = (*service)->endpoint().port();
  EXPECT_EQ(HttpRequest(port, "POST", "/events", Body("u1"), {{"Content-Type", "application/json"}}).status, 201);
  const TestResponse page = HttpRequest(port, "GET", "/events/u1");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.Header("cache-control"), "");  // nothing authenticated, nothing to keep private
  (*service)->Stop();
}

// ---- The `keys` commands --------------------------------------------------------

struct KeysRun {
  int exit_code;
  std::string output;
};
KeysRun Keys(std::vector<std::string> args) {
  args.insert(args.begin(), "keys");
  ChildProcess child(std::move(args));
  KeysRun run;
  run.exit_code = child.WaitForExit(std::chrono::seconds(60));
  run.output = child.Output();
  return run;
}

TEST(KeysCommandTest, CreateListRevokeAgainstARunningService) {
  EVENTLOGGER_EMBEDDED_ONLY();
  TempDir dir;
  const std::string data_dir = dir.path().string();
  ServiceOptions options;
  options.data_dir = data_dir;
  options.http.port = 0;
  options.http.access_log = false;
  options.api_keys.refresh_interval = std::chrono::milliseconds(50);
  Result<std::unique_ptr<Service>> service = Service::Start(options);
  ASSERT_TRUE(service.ok()) << service.status().ToString();
  const uint16_t port = (*service)->endpoint().port();
  ASSERT_EQ(HttpRequest(port, "GET", "/events/u1").status, 200);  // open: no key yet

  const KeysRun created = Keys({"create", "--name", "ci", "--scopes", "events:read", "--data-dir", data_dir});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  EXPECT_THAT(created.output, HasSubstr("only time the key is shown"));
  const size_t at = created.output.find("\"key\":\"");
  ASSERT_NE(at, std::string::npos) << created.output;
  const std::string key = created.output.substr(at + 7, created.output.find('"', at + 7) - at - 7);
  const std::string id = key.substr(4, 16);

  // The service now enforces keys: anonymous reads stop, the new key works.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (HttpRequest(port, "GET", "/events/u1").status == 200) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(HttpRequest(port, "GET", "/events/u1", "", Bearer(key)).status, 200);

  const KeysRun listed = Keys({"list", "--data-dir", data_dir});
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_THAT(listed.output, HasSubstr("\"id\":\"" + id + "\",\"name\":\"ci\",\"scopes\":\"events:read\""));
  EXPECT_THAT(listed.output, HasSubstr("\"revokedAt\":null"));
  EXPECT_EQ(listed.output.find(key.substr(21)), std::string::npos) << "the secret must never be listed";

  const KeysRun revoked = Keys({"revoke", id, "--data-dir", data_dir});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.output;
  const auto revoke_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (HttpRequest(port, "GET", "/events/u1", "", Bearer(key)).status == 200) {
    ASSERT_LT(std::chrono::steady_clock::now(), revoke_deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  (*service)->Stop();
  EXPECT_THAT(Keys({"list", "--data-dir", data_dir}).output, Not(HasSubstr("\"revokedAt\":null")));
  EXPECT_THAT(Keys({"list", "--data-dir", data_dir}).output, Not(HasSubstr("\"lastUsedAt\":null")));
}

TEST(KeysCommandTest, BadArgumentsExitWith2AndAnUnknownKeyWith1) {
  EVENTLOGGER_EMBEDDED_ONLY();
  TempDir dir;
  const std::string data_dir = dir.path().string();
  EXPECT_EQ(Keys({"create", "--name", "x", "--scopes", "events:delete", "--data-dir", data_dir}).exit_code, 2);
  EXPECT_EQ(Keys({"create", "--name", "", "--scopes", "admin", "--data-dir", data_dir}).exit_code, 2);
  EXPECT_EQ(Keys({"create", "--name", "x", "--data-dir", data_dir}).exit_code, 2);
  EXPECT_EQ(Keys({"rotate", "--data-dir", data_dir}).exit_code, 2);
  EXPECT_EQ(Keys({"revoke", "--data-dir", data_dir}).exit_code, 2);
  const KeysRun unknown = Keys({"revoke", "0123456789abcdef", "--data-dir", data_dir});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.output, HasSubstr("no key has id"));
}

}  // namespace
}  // namespace eventlogger::testing
