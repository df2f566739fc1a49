// API keys: what a key looks like on the wire, and how its secret is kept.
//
// A key is "elk_" + a 16-hex-digit id + "_" + 43 base64url characters of
// secret (32 random bytes). The id is public: it names the key in the
// store, in `keys list`, in logs and in rate-limit buckets. The secret is
// shown once, when the key is created, and stored only as a SHA-256 digest.
// A slow password hash would buy nothing here: the secret has 256 bits of
// entropy, so a stolen digest cannot be brute-forced, and a fast digest
// keeps checking a key well under a microsecond on the request path.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "auth/scopes.h"
#include "core/status.h"
#include "storage/metadata_store.h"  // ApiKeyRow

namespace eventlogger::auth {

inline constexpr std::string_view kApiKeyPrefix = "elk_";
inline constexpr size_t kApiKeyIdLength = 16;
inline constexpr size_t kMaxApiKeyNameBytes = 100;

// A key as a client presents it, split into its parts.
struct PresentedKey {
  std::string_view id;
  std::string_view secret;
};

// nullopt unless `token` has exactly the shape of a key (so a JWT or a
// stray string is never mistaken for one).
std::optional<PresentedKey> SplitApiKey(std::string_view token);

// The digest stored for a key's secret (hex SHA-256, bound to the id so a
// digest copied to another row does not match there).
std::string DigestSecret(std::string_view id, std::string_view secret);

// True when `secret` is the one `stored_digest` was made from. Constant
// time in the secret: the comparison does not stop at the first mismatch.
bool SecretMatches(std::string_view id, std::string_view secret, std::string_view stored_digest);

// A name for `keys create --name`: 1-100 bytes of UTF-8, no control
// characters. Empty when valid, else what is wrong.
std::string CheckApiKeyName(std::string_view name);

// A new key: the row to store and the full key to show once.
struct NewApiKey {
  ApiKeyRow row;
  std::string key;  // "elk_<id>_<secret>"
};
// REQUIRES: CheckApiKeyName(name) is empty and !scopes.empty().
Result<NewApiKey> MakeApiKey(std::string_view name, Scopes scopes, std::string_view created_at);

}  // namespace eventlogger::auth
