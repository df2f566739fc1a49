// Requests as the server reads them: Beast's parser with the server's
// limits, fed the way a socket read loop feeds it (bytes it did not consume
// are presented again with the next ones), then the router on whatever
// target it accepted.
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/router.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace http = boost::beast::http;
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(64 * 1024);
  boost::beast::error_code error;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string pending;
  // Two arrivals: the first half, then the rest.
  for (const std::string_view arrival : {input.substr(0, size / 2), input.substr(size / 2)}) {
    pending.append(arrival);
    while (!pending.empty() && !parser.is_done()) {
      const size_t used = parser.put(boost::asio::buffer(pending.data(), pending.size()), error);
      pending.erase(0, used);
      if (error == http::error::need_more) {
        error = {};
        break;  // wait for the next arrival, keeping what was not consumed
      }
      if (error || used == 0) break;
    }
    if (error || parser.is_done()) break;
  }
  if (!error && parser.is_header_done()) {
    const auto target = parser.get().target();
    (void)eventlogger::http::MatchRoute(std::string_view(target.data(), target.size()));
  }
  return 0;
}
