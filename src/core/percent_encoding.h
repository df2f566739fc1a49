// Percent-decoding (RFC 3986) shared by everything that reads URLs: request
// paths, store URLs, AWS query strings. '+' stays '+': these are URIs, not
// HTML form data.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace eventlogger {

// Decodes %XX escapes; nullopt on a malformed escape.
std::optional<std::string> PercentDecode(std::string_view in);

}  // namespace eventlogger
