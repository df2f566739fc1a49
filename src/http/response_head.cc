#include "http/response_head.h"

#include <charconv>

namespace eventlogger::http {
namespace {

void AppendNumber(uint64_t value, std::string& out) {
  char digits[24];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, end);
}

void AppendField(std::string_view name, std::string_view value, std::string& out) {
  out.append(name);
  out += ": ";
  out.append(value);
  out += "\r\n";
}

}  // namespace

void RenderResponseHead(const Response& response, const ResponseFraming& framing, std::string& out) {
  out.clear();
  const unsigned version = response.version();
  out += "HTTP/";
  out += static_cast<char>('0' + version / 10 % 10);
  out += '.';
  out += static_cast<char>('0' + version % 10);
  out += ' ';
  AppendNumber(response.result_int(), out);
  out += ' ';
  const auto reason = response.reason();
  out.append(reason.data(), reason.size());
  out += "\r\n";
  for (const auto& field : response) {
    const auto name = field.name_string();
    const auto value = field.value();
    AppendField(std::string_view(name.data(), name.size()), std::string_view(value.data(), value.size()), out);
  }
  // Every answer is JSON (or Prometheus text): a browser must never sniff
  // one into something it would run.
  out += "X-Content-Type-Options: nosniff\r\n";
  AppendField("X-Request-Id", framing.request_id, out);
  // HTTP/1.1 keeps the connection unless told; HTTP/1.0 closes it unless told.
  if (version >= 11 && !framing.keep_alive) AppendField("Connection", "close", out);
  if (version < 11 && framing.keep_alive) AppendField("Connection", "keep-alive", out);
  // A 304 says "what you hold is current": a Content-Length there would
  // claim the representation's length is the empty body's, 0 (RFC 9110
  // §8.6), which is why this is the one place the head differs from
  // Beast's. A 304 has no body, so nothing else needs it.
  if (response.result() != HttpStatus::not_modified) {
    out += "Content-Length: ";
    AppendNumber(framing.body != nullptr ? framing.body->size() : response.body().size(), out);
    out += "\r\n";
  }
  out += "\r\n";
}

}  // namespace eventlogger::http
