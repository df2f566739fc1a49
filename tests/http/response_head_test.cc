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

// The whole message as Beast writes it, after the calls the server used to
// make before handing a response to Beast's serializer.
std::string BeastWire(Response response, const ResponseFraming& framing) {
  response.set("X-Content-Type-Options", "nosniff");
  response.set("X-Request-Id", std::string(framing.request_id));
  response.keep_alive(framing.keep_alive);
  response.prepare_payload();
  std::ostringstream out;
  out << response;
  return out.str();
}

std::string OurWire(const Response& response, const ResponseFraming& framing) {
  std::string head = "stale text from the previous response";
  RenderResponseHead(response, framing, head);
  return head + response.body();
}

TEST(RenderResponseHeadTest, CreatedWithJsonBodyMatchesBeast) {
  Response response(HttpStatus::created, 11);
  response.set(beast_http::field::content_type, "application/json");
  response.set(beast_http::field::location, "/events/u%2F1/0190aa");
  response.body() = R"({"eventId": "0190aa", "sqlSuccess": true})";
  const ResponseFraming framing{"abc123", true};
  EXPECT_EQ(OurWire(response, framing), BeastWire(response, framing));
  EXPECT_EQ(OurWire(response, framing),
            "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nLocation: /events/u%2F1/0190aa\r\n"
            "X-Content-Type-Options: nosniff\r\nX-Request-Id: abc123\r\nContent-Length: 41\r\n\r\n" + response.body());
}

TEST(RenderResponseHeadTest, ConnectionCloseAndProblemMatchBeast) {
  Response problem = MakeProblem(HttpStatus::service_unavailable, "Retry shortly.");
  problem.set(beast_http::field::retry_after, "1");
  const ResponseFraming framing{"r1", false};
  const std::string wire = OurWire(problem, framing);
  EXPECT_EQ(wire, BeastWire(problem, framing));
  EXPECT_NE(wire.find("\r\nConnection: close\r\n"), std::string::npos);
}

TEST(RenderResponseHeadTest, EmptyBodyAndCustomReasonMatchBeast) {
  Response response(HttpStatus::ok, 11);
  response.reason("Fine");
  const ResponseFraming framing{"r2", true};
  EXPECT_EQ(OurWire(response, framing), BeastWire(response, framing));
  EXPECT_EQ(OurWire(response, framing), "HTTP/1.1 200 Fine\r\nX-Content-Type-Options: nosniff\r\nX-Request-Id: r2\r\nContent-Length: 0\r\n\r\n");
}

TEST(RenderResponseHeadTest, RepeatedFieldsKeepTheirOrder) {
  Response response(HttpStatus::method_not_allowed, 10);
  response.insert("Vary", "Accept");
  response.insert("Vary", "Origin");
  response.set(beast_http::field::allow, "POST");
  for (const bool keep_alive : {false, true}) {
    const ResponseFraming framing{"r3", keep_alive};
    EXPECT_EQ(OurWire(response, framing), BeastWire(response, framing)) << keep_alive;
    EXPECT_EQ(OurWire(response, framing).substr(0, 9), "HTTP/1.0 ");
    EXPECT_EQ(OurWire(response, framing).find("Connection: keep-alive") != std::string::npos, keep_alive);
  }
}

TEST(RenderResponseHeadTest, EveryStatusTheServiceSendsMatchesBeast) {
  for (const HttpStatus status :
       {HttpStatus::ok, HttpStatus::created, HttpStatus::accepted, HttpStatus::bad_request,
        HttpStatus::not_found, HttpStatus::method_not_allowed, HttpStatus::conflict,
        HttpStatus::payload_too_large, HttpStatus::unsupported_media_type,
        HttpStatus::unprocessable_entity, HttpStatus::too_many_requests,
        HttpStatus::request_header_fields_too_large, HttpStatus::internal_server_error,
        HttpStatus::service_unavailable}) {
    for (const bool keep_alive : {true, false}) {
      const Response problem = MakeProblem(status, "detail");
      const ResponseFraming framing{"0123456789abcdef0001", keep_alive};
      EXPECT_EQ(OurWire(problem, framing), BeastWire(problem, framing)) << static_cast<int>(status);
    }
  }
}

TEST(RenderResponseHeadTest, ASharedBodyIsFramedAsIfItWereTheResponses) {
  // The head for an empty response plus a shared body must be the head
  // Beast writes for the response holding that body.
  const std::string shared = R"([{"userId":"u","eventId":"e"}])";
  Response with_body(HttpStatus::ok, 11);
  with_body.set(beast_http::field::content_type, "application/json");
  with_body.set(beast_http::field::etag, "\"abc\"");
  Response without_body = with_body;
  with_body.body() = shared;
  for (const bool keep_alive : {true, false}) {
    ResponseFraming framing{"0123456789abcdef0003", keep_alive, &shared};
    std::string head;
    RenderResponseHead(without_body, framing, head);
    framing.body = nullptr;
    EXPECT_EQ(head + shared, BeastWire(with_body, framing));
  }
}

TEST(RenderResponseHeadTest, NotModifiedCarriesNoContentLength) {
  // Beast writes "Content-Length: 0" for a 304; RFC 9110 §8.6 lets a 304
  // carry one only if it is the 200's length, so ours has none.
  Response response(HttpStatus::not_modified, 11);
  response.set(beast_http::field::etag, "\"abc\"");
  const ResponseFraming framing{"0123456789abcdef0002", true};
  std::string beast = BeastWire(response, framing);
  const std::string length_field = "Content-Length: 0\r\n";
  ASSERT_NE(beast.find(length_field), std::string::npos) << beast;
  beast.erase(beast.find(length_field), length_field.size());
  EXPECT_EQ(OurWire(response, framing), beast);
}

}  // namespace
}  // namespace eventlogger::http
