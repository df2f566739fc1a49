// The query component of a request target, split into its parameters.
// Pure functions, no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eventlogger::http {

struct QueryParameter {
  std::string name;   // percent-decoded
  std::string value;  // percent-decoded; empty for "name=" and for a bare "name"
};

// Splits "a=1&b=2" on '&' and the first '=' of each pair and decodes %XX
// escapes; empty pairs ("a=1&&b=2") are skipped. '+' stays '+' (RFC 3986
// gives it no meaning, so an offset such as +02:00 needs no escape). nullopt
// when an escape is malformed.
std::optional<std::vector<QueryParameter>> ParseQueryString(std::string_view query);

// The query of a request target: what follows the first '?', up to a '#'.
std::string_view QueryOf(std::string_view target);

}  // namespace eventlogger::http
