// JwtVerifier: checks end-user bearer tokens (RFC 7519 JWTs in JWS compact
// form, RFC 7515) signed by the deployment's identity provider.
//
// Accepted algorithms follow from the keys configured, never from the
// token: HS256 only with --jwt-hs256-secret, RS256 only with an RSA public
// key, ES256 only with a P-256 key. So "alg": "none" and the classic
// confusion (an HS256 token "signed" with the RSA public key as its secret)
// are refused: no key exists for them.
//
// A token must carry `exp` and a `sub` that is a valid userId; `nbf` is
// honoured; `iss` and `aud` must match when configured. Times allow
// `leeway` of clock skew.
//
// Thread safety: immutable after Create; Verify may run on any thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/scopes.h"
#include "core/status.h"

namespace eventlogger::auth {

struct JwtOptions {
  std::string hs256_secret;     // --jwt-hs256-secret: the shared HMAC secret (at least 32 bytes)
  std::string public_key_file;  // --jwt-public-key: a PEM public key, RSA (RS256) or P-256 (ES256)
  std::string jwks_file;        // --jwt-jwks: an RFC 7517 JWK Set of RSA and P-256 public keys
  std::string issuer;           // --jwt-issuer: required `iss`, if set
  std::string audience;         // --jwt-audience: required in `aud`, if set
  std::chrono::seconds leeway{30};

  bool configured() const { return !hs256_secret.empty() || !public_key_file.empty() || !jwks_file.empty(); }
};

// What a verified token says.
struct JwtClaims {
  std::string subject;  // `sub`: the userId whose events the token may reach
  // events:read always (a user may read their own events); events:write
  // too when the `scope` claim names it.
  Scopes scopes;
};

class JwtVerifier {
 public:
  // Loads the keys the options name. InvalidArgument names what is wrong
  // (an unreadable file, a key of another type, a short secret).
  static Result<std::unique_ptr<JwtVerifier>> Create(const JwtOptions& options);
  // The same with the key files' contents given (tests; Create reads the
  // files and calls this). `pem` and `jwks` may be empty.
  static Result<std::unique_ptr<JwtVerifier>> FromText(const JwtOptions& options, std::string_view pem,
                                                       std::string_view jwks);
  ~JwtVerifier();
  JwtVerifier(const JwtVerifier&) = delete;
  JwtVerifier& operator=(const JwtVerifier&) = delete;

  // The token's claims, or InvalidArgument saying why it is refused (fit
  // for the client: it names no key material).
  Result<JwtClaims> Verify(std::string_view token, int64_t now_unix_seconds) const;

  // Exposed for tests with published vectors (RFC 7515 appendix A), whose
  // claims are not ours: the signature check alone. The decoded payload.
  Result<std::string> VerifySignature(std::string_view token) const;

  struct Key;

 private:
  JwtVerifier(JwtOptions options, std::vector<Key> keys);
  JwtOptions options_;
  std::vector<Key> keys_;
};

}  // namespace eventlogger::auth
