// The HTTP message types handlers work with. They are plain values (Beast's
// message containers), independent of sockets, so the same handlers can
// serve the Beast server and, later, the Lambda runtime loop.
#pragma once

#include <utility>  // Boost 1.74 asio/awaitable.hpp uses std::exchange without it
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace eventlogger::http {

namespace beast_http = boost::beast::http;
using Request = beast_http::request<beast_http::string_body>;
using Response = beast_http::response<beast_http::string_body>;
using HttpStatus = beast_http::status;
using Verb = beast_http::verb;

// What the transport knows of a request beyond its message (the client's
// address), and what the handler reports back to it (for logging, and a
// body it shares rather than copies).
struct RequestInfo {
  std::string_view client_address;  // the peer's IP address; empty if unknown
  // When the transport must have answered (a Lambda invocation's deadline,
  // less the time to deliver the answer): a write waits for the stores no
  // longer than this. max(): no deadline but the store timeout.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::string_view route = "unmatched";  // the route template, never the raw path
  // When set, the response's body: bytes shared with a cache, sent as they
  // are instead of copied into the response (whose own body is then empty).
  // A cached 30 KB page was copied once per hit before.
  std::shared_ptr<const std::string> shared_body;
};

}  // namespace eventlogger::http
