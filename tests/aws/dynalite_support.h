// Helpers for tests that run against dynalite (tests/support/test-servers.sh):
// the endpoint (a missing one fails the test, never skips it), unique table
// names, and a proxy handler for FakeHttpServer that forwards to dynalite so
// faults can be injected around real behaviour.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <string>

#include "aws/dynamodb_client.h"
#include "aws/fake_http_server.h"
#include "aws/http_client.h"

namespace eventlogger::testing {

inline constexpr const char* kDynamoEndpointVariable = "EVENTLOGGER_TEST_DYNAMODB_ENDPOINT";

// The dynalite endpoint, or "" after recording a failure that says how to
// start it.
inline std::string DynaliteEndpoint() {
  const char* endpoint = std::getenv(kDynamoEndpointVariable);
  if (endpoint == nullptr || *endpoint == '\0') {
    ADD_FAILURE() << kDynamoEndpointVariable
                  << " is not set. Start dynalite with\n"
                     "  eval \"$(tests/support/test-servers.sh start /tmp/some-state-dir)\"\n"
                     "and run the tests in that shell.";
    return "";
  }
  return endpoint;
}

// "eventlogger-test-<what>-<12 hex digits>": unique per test, recognisable
// if one is ever left behind.
inline std::string UniqueTableName(const std::string& what) {
  static std::mt19937_64 random(std::random_device{}());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name = "eventlogger-test-" + what + "-";
  uint64_t bits = random();
  for (int i = 0; i < 12; ++i, bits >>= 4) name.push_back(kHex[bits & 0xF]);
  return name;
}

// Dummy credentials: dynalite never checks signatures, but every request is
// signed all the same.
inline aws::Credentials TestCredentials() { return {"AKIDEVENTLOGGERTEST", "dynalite-ignores-this-secret", ""}; }

inline std::unique_ptr<aws::DynamoDbClient> MakeDynamoClient(const std::string& endpoint,
                                                             aws::DynamoDbClientOptions options = {}) {
  options.endpoint = endpoint;
  if (options.region.empty()) options.region = "eu-west-1";
  if (options.credentials.access_key_id.empty()) options.credentials = TestCredentials();
  Result<std::unique_ptr<aws::DynamoDbClient>> client = aws::DynamoDbClient::Create(std::move(options));
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return client.ok() ? std::move(client).value() : nullptr;
}

// Forwards a request to `endpoint` and returns its answer, for handlers
// that inject faults around the real server.
inline FakeResponse Proxy(aws::HttpClient& http, const std::string& endpoint, const FakeRequest& request) {
  aws::HttpRequest forward;
  forward.method = request.method;
  forward.url = endpoint + request.target;
  for (const auto& [name, value] : request.headers) {
    const std::string lower = [&name] {
      std::string out = name;
      for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return out;
    }();
    if (lower == "host" || lower == "content-length" || lower == "connection") continue;
    forward.headers.emplace_back(name, value);
  }
  forward.body = request.body;
  FakeResponse response;
  Result<aws::HttpResponse> answer = http.Send(forward);
  if (!answer.ok()) {
    response.status = 599;
    response.body = "proxy: " + answer.status().ToString();
    return response;
  }
  response.status = answer->status;
  for (const auto& [name, value] : answer->headers) {
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "content-length" || lower == "connection" || lower == "transfer-encoding") continue;
    response.headers.emplace_back(name, value);
  }
  response.body = std::move(answer->body);
  return response;
}

// A DynamoDB error response as the service sends it.
inline FakeResponse DynamoError(int status, const std::string& name, const std::string& message) {
  FakeResponse response;
  response.status = status;
  response.headers = {{"Content-Type", "application/x-amz-json-1.0"}};
  response.body = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#" + name + "\",\"message\":\"" + message + "\"}";
  return response;
}

}  // namespace eventlogger::testing
