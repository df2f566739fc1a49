// SigV4Signer: signs outgoing HTTP requests with AWS Signature Version 4.
//
// The service talks to AWS (DynamoDB, S3, ...) through its own HTTP client
// rather than an AWS SDK, so it needs a signer of its own. The signer only
// computes: it never sends anything and never modifies the caller's request.
// Given the parts of a request that are covered by the signature, it returns
// the headers the caller must add (Authorization, X-Amz-Date, and when
// applicable X-Amz-Security-Token and x-amz-content-sha256) together with the
// intermediate artefacts (canonical request, string to sign), which are handy
// when a service answers "SignatureDoesNotMatch" and in tests.
//
// Only the header-based form is implemented; presigned URLs (signature in the
// query string) are not needed by this project.
//
// Thread safety: a SigV4Signer is immutable apart from an internal cache of
// the derived signing key, which is guarded by a mutex. One instance may be
// shared by any number of threads and Sign() called concurrently.
#pragma once

#include <array>
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace eventlogger::aws {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  // Empty for long-term credentials; set for temporary (STS) credentials.
  std::string session_token;
};

// The parts of an HTTP request that the signature covers.
struct SigningRequest {
  std::string method;  // e.g. "POST"
  // The path exactly as it will be sent: starts with '/', already
  // percent-encoded once by the caller.
  std::string path = "/";
  // The query string as it will be sent, without the leading '?'.
  std::string query;
  // Every header that will be sent, in order; must include "host". Names are
  // case-insensitive. Authorization, X-Amz-Date and X-Amz-Security-Token
  // (and x-amz-content-sha256 with sign_body_hash_header) are ignored because
  // Sign() supplies them; the caller must send the returned values instead.
  // User-Agent, Expect and X-Amzn-Trace-Id are left unsigned because proxies
  // and HTTP stacks rewrite them in transit.
  HeaderList headers;
  std::string_view body;
};

struct SigningOptions {
  // Remove "." / ".." segments and empty segments from the path before
  // signing. Every service except S3 expects this.
  bool normalize_path = true;
  // Percent-encode the (already encoded) path once more. Every service except
  // S3 expects this.
  bool double_uri_encode = true;
  // Add a signed x-amz-content-sha256 header carrying the body hash (S3
  // requires it). Without it, a caller-supplied x-amz-content-sha256 header
  // is signed as given and its value replaces the body hash, which is how
  // S3's UNSIGNED-PAYLOAD is requested.
  bool sign_body_hash_header = false;
  // Send X-Amz-Security-Token but leave it out of the signature; a few
  // services (IoT) require this.
  bool omit_session_token_from_signature = false;
};

struct SignedRequest {
  // Headers to add to the request, in this order: X-Amz-Security-Token (when
  // there is a session token), X-Amz-Date, x-amz-content-sha256 (when
  // sign_body_hash_header), Authorization.
  HeaderList headers_to_add;
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;  // lowercase hex
};

class SigV4Signer {
 public:
  // region: e.g. "eu-west-1"; service: the signing name, e.g. "dynamodb".
  SigV4Signer(std::string region, std::string service);

  SigV4Signer(const SigV4Signer&) = delete;
  SigV4Signer& operator=(const SigV4Signer&) = delete;

  // Fails with InvalidArgument when the request or credentials cannot be
  // signed (no host header, empty key, malformed query escape, header value
  // containing CR/LF, ...) and with Internal if OpenSSL fails.
  Result<SignedRequest> Sign(const SigningRequest& request,
                             const Credentials& credentials,
                             std::chrono::system_clock::time_point now,
                             const SigningOptions& options = {}) const;

  const std::string& region() const { return region_; }
  const std::string& service() const { return service_; }

 private:
  using Key = std::array<unsigned char, 32>;

  // The signing key depends only on the secret, the UTC date, the region and
  // the service, so it can be reused for a whole day; deriving it costs four
  // HMACs per request otherwise.
  Result<Key> SigningKey(const std::string& secret,
                         const std::string& date) const;

  const std::string region_;
  const std::string service_;

  mutable std::mutex cache_mu_;
  mutable std::string cached_date_;    // guarded by cache_mu_
  mutable std::string cached_secret_;  // guarded by cache_mu_
  mutable Key cached_key_{};           // guarded by cache_mu_
};

}  // namespace eventlogger::aws
