// Tests for RenderResponseHead against Beast's own serializer.
//
// The server writes response heads itself; Beast's serializer is the
// independent reference, so every response shape the service sends must
// come out byte for byte as Beast would have written it.
#include "http/response_head.h"

#include <gtest/gtest.h>

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <sstream>
#include <string>

#include "http/problem.h"

namespace eventlogger::http {
namespace {

// The whole message as Beast writes it.
std::string BeastWire(Response response) {
  std::ostringstream out;
  out << response;
  return out.str();
}

std::string OurWire(const Response& response) {
  std::string head = "stale text from the previous response";
  RenderResponseHead(response, head);
  return head + response.body();
}

Response Prepared(Response response, bool keep_alive) {
  response.keep_alive(keep_alive);
  response.prepare_payload();
  return response;
}

TEST(RenderResponseHeadTest, CreatedWithJsonBodyMatchesBeast) {
  Response response(HttpStatus::created, 11);
  response.set(beast_http::field::content_type, "application/json");
  response.set(beast_http::field::location, "/events/u%2F1/0190aa");
  response.set("X-Request-Id", "abc123");
  response.body() = R"({"eventId": "0190aa", "sqlSuccess": true})";
  const Response prepared = Prepared(response, true);
  EXPECT_EQ(OurWire(prepared), BeastWire(prepared));
  EXPECT_EQ(OurWire(prepared).substr(0, 22), "HTTP/1.1 201 Created\r\n");
}

TEST(RenderResponseHeadTest, ConnectionCloseAndProblemMatchBeast) {
  Response problem = MakeProblem(HttpStatus::service_unavailable, "Retry shortly.");
  problem.set(beast_http::field::retry_after, "1");
  const Response prepared = Prepared(problem, false);
  const std::string wire = OurWire(prepared);
  EXPECT_EQ(wire, BeastWire(prepared));
  EXPECT_NE(wire.find("\r\nConnection: close\r\n"), std::string::npos);
}

TEST(RenderResponseHeadTest, EmptyBodyAndCustomReasonMatchBeast) {
  Response response(HttpStatus::ok, 11);
  response.reason("Fine");
  const Response prepared = Prepared(response, true);
  EXPECT_EQ(OurWire(prepared), BeastWire(prepared));
  EXPECT_EQ(OurWire(prepared), "HTTP/1.1 200 Fine\r\nContent-Length: 0\r\n\r\n");
}

TEST(RenderResponseHeadTest, RepeatedFieldsKeepTheirOrder) {
  Response response(HttpStatus::method_not_allowed, 10);
  response.insert("Vary", "Accept");
  response.insert("Vary", "Origin");
  response.set(beast_http::field::allow, "POST");
  const Response prepared = Prepared(response, false);
  EXPECT_EQ(OurWire(prepared), BeastWire(prepared));
  EXPECT_EQ(OurWire(prepared).substr(0, 9), "HTTP/1.0 ");
}

TEST(RenderResponseHeadTest, EveryStatusTheServiceSendsMatchesBeast) {
  for (const HttpStatus status :
       {HttpStatus::ok, HttpStatus::created, HttpStatus::accepted, HttpStatus::bad_request,
        HttpStatus::not_found, HttpStatus::method_not_allowed, HttpStatus::conflict,
        HttpStatus::payload_too_large, HttpStatus::unsupported_media_type,
        HttpStatus::unprocessable_entity, HttpStatus::too_many_requests,
        HttpStatus::request_header_fields_too_large, HttpStatus::internal_server_error,
        HttpStatus::service_unavailable}) {
    const Response prepared = Prepared(MakeProblem(status, "detail"), true);
    EXPECT_EQ(OurWire(prepared), BeastWire(prepared)) << static_cast<int>(status);
  }
}

}  // namespace
}  // namespace eventlogger::http
