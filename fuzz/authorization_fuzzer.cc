// Authorization header values, through the Authenticator: API-key parsing
// and the whole JWT path (compact form, base64url, header and claims JSON,
// HMAC). Nothing may crash, and garbage must never authenticate.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "auth/authenticator.h"
#include "auth/jwt_verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::unique_ptr<eventlogger::auth::JwtVerifier> jwt = [] {
    eventlogger::auth::JwtOptions options;
    options.hs256_secret = "a fuzzing secret of at least thirty-two bytes";
    return std::move(eventlogger::auth::JwtVerifier::FromText(options, "", "")).value();
  }();
  static const eventlogger::auth::Authenticator authenticator(nullptr, jwt.get());
  const std::string_view header(reinterpret_cast<const char*>(data), size);
  const eventlogger::auth::AuthOutcome outcome = authenticator.Authenticate(header, 1'800'000'000);
  // Forging an HMAC by chance is not something a fuzzer does.
  if (outcome.ok) std::abort();
  (void)jwt->VerifySignature(header);
  return 0;
}
