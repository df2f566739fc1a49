// Authenticator: turns a request's Authorization header into a Principal,
// from an API key (ApiKeyRegistry) or an end-user JWT (JwtVerifier).
//
// With no key in the store and no JWT configured, nothing is enforced and
// every request is the anonymous principal (the loopback quick start);
// Service refuses to bind anything but loopback in that state unless told
// --insecure.
//
// Thread safety: Authenticate may run on any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>
#include <string_view>

#include "auth/api_key_registry.h"
#include "auth/jwt_verifier.h"
#include "auth/scopes.h"

namespace eventlogger::auth {

struct Principal {
  enum class Kind { kAnonymous, kApiKey, kEndUser };
  Kind kind = Kind::kAnonymous;
  Scopes scopes;
  // The key's id (kApiKey) or the token's subject, a userId (kEndUser).
  std::string id;

  // What a request may do when nothing is enforced: read and write, not admin.
  static Principal Anonymous() {
    return Principal{Kind::kAnonymous, Scopes::Of(Scope::kEventsWrite).With(Scope::kEventsRead), {}};
  }
  // May this principal act on `user_id`'s events? End users only on their own.
  bool MayActFor(std::string_view user_id) const { return kind != Kind::kEndUser || id == user_id; }
};

// Why a request was not authenticated: the metric label, and the sentence
// for the problem's detail and the WWW-Authenticate error_description.
inline constexpr std::array<std::string_view, 5> kAuthFailureReasons = {"missing", "malformed", "unknown_key",
                                                                         "revoked", "invalid_token"};
struct AuthFailure {
  std::string_view reason;  // one of kAuthFailureReasons
  std::string description;
};

struct AuthOutcome {
  bool ok = false;
  Principal principal;  // when ok
  AuthFailure failure;  // when !ok
};

class Authenticator {
 public:
  // Either may be null: no keys (test fakes), no JWT configured.
  Authenticator(const ApiKeyRegistry* keys, const JwtVerifier* jwt) : keys_(keys), jwt_(jwt) {}

  // True when requests must carry a credential.
  bool enforced() const { return jwt_ != nullptr || (keys_ != nullptr && keys_->enforced()); }
  bool has_jwt() const { return jwt_ != nullptr; }

  // `authorization`: the header's value, empty when absent. Counts failures.
  AuthOutcome Authenticate(std::string_view authorization, int64_t now_unix_seconds) const;

  // Refusals so far, by reason, in kAuthFailureReasons order.
  std::vector<std::pair<std::string_view, int64_t>> failures() const;

 private:
  AuthOutcome Decide(std::string_view authorization, int64_t now_unix_seconds) const;

  const ApiKeyRegistry* keys_;
  const JwtVerifier* jwt_;
  mutable std::array<std::atomic<int64_t>, kAuthFailureReasons.size()> failures_{};
};

}  // namespace eventlogger::auth
