// The HTTP message types handlers work with. They are plain values (Beast's
// message containers), independent of sockets, so the same handlers can
// serve the Beast server and, later, the Lambda runtime loop.
#pragma once

#include <utility>  // Boost 1.74 asio/awaitable.hpp uses std::exchange without it
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string_view>

namespace eventlogger::http {

namespace beast_http = boost::beast::http;
using Request = beast_http::request<beast_http::string_body>;
using Response = beast_http::response<beast_http::string_body>;
using HttpStatus = beast_http::status;
using Verb = beast_http::verb;

// Facts a handler reports back to the transport for logging.
struct RequestInfo {
  std::string_view route = "unmatched";  // the route template, never the raw path
};

}  // namespace eventlogger::http
