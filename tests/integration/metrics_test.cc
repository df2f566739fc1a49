// GET /metrics over real HTTP, on every backend: the exposition passes
// Prometheus's own linter (`promtool check metrics`, Debian's prometheus
// package), and the per-route request counters and duration histograms
// count what was actually sent.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "core/version.h"
#include "integration/service_fixture.h"
#include "integration/test_client.h"

namespace eventlogger::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class MetricsTest : public ServiceFixture {
 protected:
  std::string Scrape() {
    const TestResponse response = HttpRequest(port_, "GET", "/metrics");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.Header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    return response.body;
  }
  // A response is counted right after it is written, so a scrape that
  // follows it at once may not see it yet: wait (bounded) until it does.
  std::string ScrapeUntil(const std::string& series, double expected) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    std::string text = Scrape();
    while (MetricValue(text, series) != expected && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      text = Scrape();
    }
    return text;
  }
};

TEST_F(MetricsTest, RequestsAreCountedByRouteAndStatusWithADurationHistogram) {
  const std::string body = R"({"userId":"m1","eventType":"login","jsonDetails":{}})";
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(HttpRequest(port_, "POST", "/events", body, {{"Content-Type", "application/json"}}).status, 201);
  }
  ASSERT_EQ(HttpRequest(port_, "POST", "/events", "{}", {{"Content-Type", "application/json"}}).status, 400);
  ASSERT_EQ(HttpRequest(port_, "GET", "/events/m1").status, 200);
  ASSERT_EQ(HttpRequest(port_, "GET", "/nowhere/at/all").status, 404);

  const std::string text = ScrapeUntil("eventlogger_http_requests_total{route=\"unmatched\",status=\"404\"}", 1);
  EXPECT_EQ(MetricValue(text, "eventlogger_http_requests_total{route=\"/events\",status=\"201\"}"), 3);
  EXPECT_EQ(MetricValue(text, "eventlogger_http_requests_total{route=\"/events\",status=\"400\"}"), 1);
  EXPECT_EQ(MetricValue(text, "eventlogger_http_requests_total{route=\"/events/{userId}\",status=\"200\"}"), 1);
  // The raw path never becomes a label: only route templates do.
  EXPECT_THAT(text, Not(HasSubstr("nowhere")));
  EXPECT_EQ(MetricValue(text, "eventlogger_http_request_duration_seconds_count{route=\"/events\"}"), 4);
  EXPECT_EQ(MetricValue(text, "eventlogger_http_request_duration_seconds_bucket{route=\"/events\",le=\"+Inf\"}"), 4);
  EXPECT_GT(MetricValue(text, "eventlogger_http_request_duration_seconds_sum{route=\"/events\"}"), 0);
  // Buckets are cumulative.
  EXPECT_LE(MetricValue(text, "eventlogger_http_request_duration_seconds_bucket{route=\"/events\",le=\"0.001\"}"),
            MetricValue(text, "eventlogger_http_request_duration_seconds_bucket{route=\"/events\",le=\"10\"}"));
  EXPECT_THAT(text, HasSubstr("eventlogger_build_info{version=\"" + std::string(kVersion) + "\",metadata_store=\""));
  // Both stores wrote the three events, in one to three batches, and none failed.
  for (const std::string store : {"metadata", "documents"}) {
    const std::string labels = "{store=\"" + store + "\"}";
    EXPECT_EQ(MetricValue(text, "eventlogger_store_write_batch_events_sum" + labels), 3) << store;
    const double batches = MetricValue(text, "eventlogger_store_write_duration_seconds_count" + labels);
    EXPECT_GE(batches, 1) << store;
    EXPECT_LE(batches, 3) << store;
    EXPECT_EQ(MetricValue(text, "eventlogger_store_write_failures_total" + labels), 0) << store;
  }
}

TEST_F(MetricsTest, TheExpositionPassesPromtool) {
  // Something in every family first: series with labels appear once counted.
  ASSERT_EQ(HttpRequest(port_, "POST", "/events", R"({"userId":"m2","eventType":"t","jsonDetails":{}})",
                        {{"Content-Type", "application/json"}})
                .status,
            201);
  ASSERT_EQ(HttpRequest(port_, "GET", "/events/m2").status, 200);
  const std::string text = ScrapeUntil("eventlogger_http_requests_total{route=\"/events/{userId}\",status=\"200\"}", 1);
  const std::string file = (dir_.path() / "metrics.txt").string();
  std::ofstream(file) << text;
  const std::string command = "promtool check metrics < '" + file + "' 2>&1";
  std::string output;
  int status = -1;
  if (FILE* pipe = ::popen(command.c_str(), "r"); pipe != nullptr) {
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
    status = ::pclose(pipe);
  }
  EXPECT_EQ(status, 0) << "promtool (Debian's prometheus package) said:\n" << output;
  EXPECT_EQ(output, "");
}

}  // namespace
}  // namespace eventlogger::testing
