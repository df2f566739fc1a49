#include "http/response_head.h"

#include <charconv>

namespace eventlogger::http {

void RenderResponseHead(const Response& response, std::string& out) {
  out.clear();
  const unsigned version = response.version();
  out += "HTTP/";
  out += static_cast<char>('0' + version / 10 % 10);
  out += '.';
  out += static_cast<char>('0' + version % 10);
  out += ' ';
  char code[8];
  const auto [end, ec] = std::to_chars(code, code + sizeof code, response.result_int());
  out.append(code, end);
  out += ' ';
  const auto reason = response.reason();
  out.append(reason.data(), reason.size());
  out += "\r\n";
  for (const auto& field : response) {
    const auto name = field.name_string();
    const auto value = field.value();
    out.append(name.data(), name.size());
    out += ": ";
    out.append(value.data(), value.size());
    out += "\r\n";
  }
  out += "\r\n";
}

}  // namespace eventlogger::http
