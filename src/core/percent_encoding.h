// Percent-decoding (RFC 3986) shared by everything that reads URLs: request
// paths, store URLs, AWS query strings. '+' stays '+': these are URIs, not
// HTML form data.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace eventlogger {

// Encodes every byte outside RFC 3986's unreserved set (A-Z a-z 0-9 - . _ ~)
// as %XX with upper-case hex: the form AWS query-protocol bodies are signed in.
std::string PercentEncode(std::string_view in);

// Decodes %XX escapes; nullopt on a malformed escape.
std::optional<std::string> PercentDecode(std::string_view in);

}  // namespace eventlogger
