// The rate limit seen over HTTP: a burst per client address, then 429 with
// Retry-After and the RateLimit fields; probes and scrapes are never
// limited; /metrics counts the refusals.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "integration/service_fixture.h"
#include "integration/test_client.h"

namespace eventlogger::testing {
namespace {

class RateLimitTest : public ServiceFixture {
  void Configure(ServiceOptions& options) override {
    options.rate_limit.rate = 2;   // a token every 500 ms
    options.rate_limit.burst = 3;
  }
};

TEST_F(RateLimitTest, BurstThen429ThenRefill) {
  TestClient client(port_);
  for (int i = 0; i < 3; ++i) {
    const TestResponse ok = i == 1 ? client.PostEvent(R"({"userId":"rl","eventType":"t","jsonDetails":{}})")
                                   : client.Get("/events/rl");
    EXPECT_LT(ok.status, 300) << ok.body;
    EXPECT_EQ(ok.Header("ratelimit-limit"), "3");
    EXPECT_EQ(ok.Header("ratelimit-remaining"), std::to_string(2 - i));
    EXPECT_FALSE(ok.Header("ratelimit-reset").empty());
  }
  const TestResponse refused = client.Get("/events/rl");
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.Header("content-type"), "application/problem+json");
  EXPECT_THAT(refused.body, ::testing::HasSubstr("/problems/rate-limited"));
  EXPECT_EQ(refused.Header("retry-after"), "1");
  EXPECT_EQ(refused.Header("ratelimit-remaining"), "0");
  // A write is refused alike, and nothing is stored.
  EXPECT_EQ(client.PostEvent(R"({"userId":"rl","eventType":"t","jsonDetails":{"no":1}})").status, 429);
  // Probes and scrapes pass, without the fields.
  for (const char* path : {"/healthz", "/readyz", "/metrics"}) {
    const TestResponse probe = client.Get(path);
    EXPECT_EQ(probe.status, 200) << path;
    EXPECT_EQ(probe.Header("ratelimit-limit"), "") << path;
  }
  EXPECT_EQ(MetricValue(client.Get("/metrics").body, "eventlogger_rate_limited_total"), 2);
  // Tokens come back at the rate: after 600 ms at least one, and (however
  // slowly this test ran) never more than the burst.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  int allowed = 0;
  for (TestResponse r = client.Get("/events/rl"); r.status == 200; r = client.Get("/events/rl")) {
    EXPECT_THAT(r.body, ::testing::Not(::testing::HasSubstr(R"("no":1)")));
    ASSERT_LE(++allowed, 3);
  }
  EXPECT_GE(allowed, 1);
}

}  // namespace
}  // namespace eventlogger::testing
