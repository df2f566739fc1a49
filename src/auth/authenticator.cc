#include "auth/authenticator.h"

#include <cctype>

namespace eventlogger::auth {
namespace {

AuthOutcome Fail(std::string_view reason, std::string description) {
  AuthOutcome outcome;
  outcome.failure = AuthFailure{reason, std::move(description)};
  return outcome;
}

// The credentials of "Bearer <token>" (RFC 6750 §2.1: the scheme is
// case-insensitive; one or more spaces before the token).
std::optional<std::string_view> BearerToken(std::string_view value) {
  constexpr std::string_view kScheme = "bearer";
  if (value.size() <= kScheme.size() || value[kScheme.size()] != ' ') return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != kScheme[i]) return std::nullopt;
  }
  std::string_view token = value.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
  if (token.empty()) return std::nullopt;
  return token;
}

}  // namespace

AuthOutcome Authenticator::Authenticate(std::string_view authorization, int64_t now_unix_seconds) const {
  AuthOutcome outcome = Decide(authorization, now_unix_seconds);
  if (!outcome.ok) {
    for (size_t i = 0; i < kAuthFailureReasons.size(); ++i) {
      if (kAuthFailureReasons[i] == outcome.failure.reason) failures_[i].fetch_add(1, std::memory_order_relaxed);
    }
  }
  return outcome;
}

std::vector<std::pair<std::string_view, int64_t>> Authenticator::failures() const {
  std::vector<std::pair<std::string_view, int64_t>> out;
  for (size_t i = 0; i < kAuthFailureReasons.size(); ++i) {
    out.emplace_back(kAuthFailureReasons[i], failures_[i].load(std::memory_order_relaxed));
  }
  return out;
}

AuthOutcome Authenticator::Decide(std::string_view authorization, int64_t now_unix_seconds) const {
  if (authorization.empty()) return Fail("missing", "This request needs credentials: Authorization: Bearer <key or token>.");
  const std::optional<std::string_view> token = BearerToken(authorization);
  if (!token) return Fail("malformed", "The Authorization header must be \"Bearer <key or token>\".");
  if (const std::optional<PresentedKey> key = SplitApiKey(*token)) {
    KeyIdentity identity;
    const KeyVerdict verdict = keys_ != nullptr ? keys_->Check(*key, &identity) : KeyVerdict::kUnknown;
    switch (verdict) {
      case KeyVerdict::kAccepted:
        return AuthOutcome{true, Principal{Principal::Kind::kApiKey, identity.scopes, std::move(identity.id)}, {}};
      case KeyVerdict::kRevoked:
        return Fail("revoked", "This API key has been revoked.");
      case KeyVerdict::kUnknown:
      case KeyVerdict::kWrongSecret:
        // One answer for both: which key ids exist is not the caller's business.
        return Fail("unknown_key", "This API key is not valid.");
    }
  }
  if (jwt_ == nullptr) {
    return Fail("malformed", "The credentials are not an API key, and this service takes no end-user tokens.");
  }
  Result<JwtClaims> claims = jwt_->Verify(*token, now_unix_seconds);
  if (!claims.ok()) return Fail("invalid_token", "The token is not valid: " + claims.status().message() + ".");
  return AuthOutcome{true, Principal{Principal::Kind::kEndUser, claims->scopes, std::move(claims->subject)}, {}};
}

}  // namespace eventlogger::auth
