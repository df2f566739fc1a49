// API Gateway proxy events in both payload formats, as AWS documents them,
// to requests; and responses back to proxy responses, read with RapidJSON.
#include "lambda/api_gateway.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>

namespace eventlogger::lambda {
namespace {

// An HTTP API (payload 2.0) event, trimmed to what a real one carries.
constexpr const char* kV2Get = R"({
  "version": "2.0",
  "routeKey": "$default",
  "rawPath": "/events/user%2F1",
  "rawQueryString": "limit=2&eventType=a%2Cb&from=2025-01-01T00:00:00+02:00",
  "cookies": ["session=abc", "theme=dark"],
  "headers": {"accept": "application/json", "x-forwarded-for": "203.0.113.9", "IF-NONE-MATCH": "\"x\", \"y\""},
  "queryStringParameters": {"limit": "2", "eventType": "a,b"},
  "requestContext": {
    "accountId": "123456789012", "apiId": "api-id", "domainName": "id.execute-api.us-east-1.amazonaws.com",
    "http": {"method": "GET", "path": "/events/user%2F1", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9",
             "userAgent": "agent"},
    "requestId": "JKJaXmPLvHcESHA=", "routeKey": "$default", "stage": "$default", "timeEpoch": 1583348638390
  },
  "isBase64Encoded": false
})";

// A REST API (payload 1.0) event with a base64 body.
constexpr const char* kV1Post = R"({
  "version": "1.0",
  "resource": "/{proxy+}",
  "path": "/events",
  "httpMethod": "POST",
  "headers": {"content-type": "application/json", "Authorization": "Bearer only-in-headers"},
  "multiValueHeaders": {"content-type": ["application/json"], "Authorization": ["Bearer k"], "X-Multi": ["1", "2"]},
  "queryStringParameters": {"a": "last"},
  "multiValueQueryStringParameters": {"a": ["1", "two words"], "b": ["x&y"]},
  "pathParameters": {"proxy": "events"},
  "requestContext": {"requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "stage": "prod",
                     "identity": {"sourceIp": "198.51.100.7"}},
  "body": "eyJ1c2VySWQiOiJ1MSJ9",
  "isBase64Encoded": true
})";

TEST(ApiGatewayTest, APayload2EventKeepsItsRawPathQueryAndHeaders) {
  const auto proxy = ParseProxyEvent(kV2Get);
  ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();
  EXPECT_EQ(proxy->version, PayloadVersion::kV2);
  const http::Request& request = proxy->request;
  EXPECT_EQ(request.method(), http::Verb::get);
  EXPECT_EQ(request.target(), "/events/user%2F1?limit=2&eventType=a%2Cb&from=2025-01-01T00:00:00+02:00");
  // Field names in any case.
  EXPECT_EQ(request["If-None-Match"], "\"x\", \"y\"");
  EXPECT_EQ(request["Accept"], "application/json");
  EXPECT_EQ(request["Cookie"], "session=abc; theme=dark");
  EXPECT_EQ(proxy->source_ip, "203.0.113.9");
  EXPECT_EQ(proxy->gateway_request_id, "JKJaXmPLvHcESHA=");
  EXPECT_TRUE(request.body().empty());
}

TEST(ApiGatewayTest, APayload1EventTakesEveryValueOfMultiValueFieldsAndDecodesItsBody) {
  const auto proxy = ParseProxyEvent(kV1Post);
  ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();
  EXPECT_EQ(proxy->version, PayloadVersion::kV1);
  const http::Request& request = proxy->request;
  EXPECT_EQ(request.method(), http::Verb::post);
  // Decoded by API Gateway, encoded again, every value kept.
  EXPECT_EQ(request.target(), "/events?a=1&a=two%20words&b=x%26y");
  EXPECT_EQ(request["Authorization"], "Bearer k");
  EXPECT_EQ(std::distance(request.equal_range("X-Multi").first, request.equal_range("X-Multi").second), 2);
  EXPECT_EQ(request.body(), R"({"userId":"u1"})");
  EXPECT_EQ(request[boost::beast::http::field::content_length], "15");
  EXPECT_EQ(proxy->source_ip, "198.51.100.7");
}

TEST(ApiGatewayTest, APayload1EventWithoutMultiValueFieldsUsesTheSingleOnes) {
  const auto proxy = ParseProxyEvent(
      R"({"httpMethod":"GET","path":"/healthz","headers":{"X-A":"1"},"queryStringParameters":{"q":"a b"},"body":null})");
  ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();
  EXPECT_EQ(proxy->request.target(), "/healthz?q=a%20b");
  EXPECT_EQ(proxy->request["x-a"], "1");
}

TEST(ApiGatewayTest, EventsThatAreNotProxyEventsAreRefused) {
  for (const char* event : {
           "", "[]", "{}", R"({"Records":[{"eventSource":"aws:sqs"}]})",                      // not API Gateway
           R"({"version":"2.0","rawPath":"/x"})",                                              // no requestContext.http
           R"({"httpMethod":"BREW","path":"/"})",                                              // no such method
           R"({"httpMethod":"GET","path":"relative"})",                                        // not a path
           R"({"httpMethod":"GET","path":"/a b"})",                                            // not a target
           R"({"httpMethod":"POST","path":"/events","body":"!!!","isBase64Encoded":true})",   // not base64
           R"({"httpMethod":"GET","path":"/","headers":{"X-Bad":"a\r\nInjected: 1"}})",       // a split header
       }) {
    const auto proxy = ParseProxyEvent(event);
    EXPECT_FALSE(proxy.ok()) << event;
    if (!proxy.ok()) {
      EXPECT_EQ(proxy.status().code(), StatusCode::kInvalidArgument) << event;
    }
  }
}

rapidjson::Document Parse(const std::string& json) {
  rapidjson::Document document;
  document.Parse(json.data(), json.size());
  EXPECT_FALSE(document.HasParseError()) << json;
  return document;
}

http::Response SampleResponse() {
  http::Response response(http::HttpStatus::created, 11);
  response.set("Content-Type", "application/json");
  response.insert("Link", "<a>; rel=\"next\"");
  response.insert("Link", "<b>; rel=\"prev\"");
  response.insert("Set-Cookie", "a=1");
  response.body() = R"({"eventId":"e1"})";
  return response;
}

TEST(ApiGatewayTest, APayload1ResponseHasEveryFieldAsMultiValueHeaders) {
  const auto answer = Parse(RenderProxyResponse(PayloadVersion::kV1, SampleResponse()));
  EXPECT_EQ(answer["statusCode"].GetInt(), 201);
  const auto& headers = answer["multiValueHeaders"];
  ASSERT_TRUE(headers.IsObject());
  ASSERT_EQ(headers["Link"].Size(), 2u);
  EXPECT_STREQ(headers["Link"][1].GetString(), "<b>; rel=\"prev\"");
  EXPECT_STREQ(headers["Set-Cookie"][0].GetString(), "a=1");
  EXPECT_STREQ(answer["body"].GetString(), R"({"eventId":"e1"})");
  EXPECT_FALSE(answer["isBase64Encoded"].GetBool());
}

TEST(ApiGatewayTest, APayload2ResponseJoinsRepeatedFieldsAndMovesCookiesOut) {
  const auto answer = Parse(RenderProxyResponse(PayloadVersion::kV2, SampleResponse()));
  EXPECT_EQ(answer["statusCode"].GetInt(), 201);
  EXPECT_STREQ(answer["headers"]["Link"].GetString(), "<a>; rel=\"next\",<b>; rel=\"prev\"");
  EXPECT_FALSE(answer["headers"].HasMember("Set-Cookie"));
  ASSERT_EQ(answer["cookies"].Size(), 1u);
  EXPECT_STREQ(answer["cookies"][0].GetString(), "a=1");
}

TEST(ApiGatewayTest, ASharedBodyIsSentAndBytesThatAreNotUtf8GoAsBase64) {
  http::Response response(http::HttpStatus::ok, 11);
  const std::string shared = "[1,2,3]";
  EXPECT_STREQ(Parse(RenderProxyResponse(PayloadVersion::kV2, response, &shared))["body"].GetString(), "[1,2,3]");
  response.body() = std::string("\xff\x00\x01", 3);
  const auto answer = Parse(RenderProxyResponse(PayloadVersion::kV2, response));
  EXPECT_TRUE(answer["isBase64Encoded"].GetBool());
  EXPECT_STREQ(answer["body"].GetString(), "/wAB");
}

}  // namespace
}  // namespace eventlogger::lambda
