#include "auth/scopes.h"

#include <array>

namespace eventlogger::auth {
namespace {

constexpr std::array<Scope, 3> kAll = {Scope::kEventsWrite, Scope::kEventsRead, Scope::kAdmin};

}  // namespace

std::string_view ScopeName(Scope scope) {
  switch (scope) {
    case Scope::kEventsWrite:
      return "events:write";
    case Scope::kEventsRead:
      return "events:read";
    case Scope::kAdmin:
      return "admin";
  }
  return "";
}

std::optional<Scopes> ParseScopes(std::string_view text, std::string* unknown) {
  Scopes scopes;
  size_t at = 0;
  while (at < text.size()) {
    if (text[at] == ',' || text[at] == ' ') {
      ++at;
      continue;
    }
    const size_t end = text.find_first_of(", ", at);
    const std::string_view name = text.substr(at, end == std::string_view::npos ? end : end - at);
    at = end == std::string_view::npos ? text.size() : end;
    bool known = false;
    for (Scope scope : kAll) {
      if (ScopeName(scope) == name) {
        scopes = scopes.With(scope);
        known = true;
      }
    }
    if (!known) {
      if (unknown != nullptr) *unknown = std::string(name.substr(0, 64));
      return std::nullopt;
    }
  }
  if (scopes.empty()) {
    if (unknown != nullptr) unknown->clear();
    return std::nullopt;
  }
  return scopes;
}

std::string FormatScopes(Scopes scopes) {
  std::string text;
  for (Scope scope : kAll) {
    if (!scopes.Has(scope)) continue;
    if (!text.empty()) text += ' ';
    text += ScopeName(scope);
  }
  return text;
}

}  // namespace eventlogger::auth
