// --jwt-jwks files: the JWK Set parser and OpenSSL key construction from
// arbitrary JSON; a set that loads must be usable to check a token.
#include <cstdint>
#include <string_view>

#include "auth/jwt_verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto verifier = eventlogger::auth::JwtVerifier::FromText({}, "", text);
  if (verifier.ok()) {
    (void)(*verifier)->Verify("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln", 0);
    (void)(*verifier)->Verify("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln", 0);
  }
  auto pem = eventlogger::auth::JwtVerifier::FromText({}, text, "");
  (void)pem;
  return 0;
}
