// What a credential may do. API keys carry any of the three scopes; an
// end-user token at most events:read and events:write, and only for the
// user it names.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eventlogger::auth {

enum class Scope : uint8_t {
  kEventsWrite = 1,  // "events:write": POST /events
  kEventsRead = 2,   // "events:read": GET /events/{userId}[/{eventId}]
  kAdmin = 4,        // "admin": everything, including what later admin routes add
};

// A set of scopes.
class Scopes {
 public:
  Scopes() = default;
  static Scopes Of(Scope scope) { return Scopes(static_cast<uint8_t>(scope)); }

  Scopes With(Scope scope) const { return Scopes(bits_ | static_cast<uint8_t>(scope)); }
  bool empty() const { return bits_ == 0; }
  // True when these scopes allow what `needed` guards; admin allows all.
  bool Allow(Scope needed) const {
    return (bits_ & (static_cast<uint8_t>(needed) | static_cast<uint8_t>(Scope::kAdmin))) != 0;
  }
  bool Has(Scope scope) const { return (bits_ & static_cast<uint8_t>(scope)) != 0; }
  bool operator==(const Scopes&) const = default;

 private:
  explicit Scopes(uint8_t bits) : bits_(bits) {}
  uint8_t bits_ = 0;
};

std::string_view ScopeName(Scope scope);

// "events:write,events:read" (commas and/or spaces between names, at least
// one name). nullopt names the first unknown scope in *unknown.
std::optional<Scopes> ParseScopes(std::string_view text, std::string* unknown);

// Names in a fixed order, space-separated: "events:write events:read admin".
std::string FormatScopes(Scopes scopes);

}  // namespace eventlogger::auth
