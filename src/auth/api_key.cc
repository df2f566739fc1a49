#include "auth/api_key.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/base64url.h"
#include "core/hex.h"
#include "core/validation.h"

namespace eventlogger::auth {
namespace {

constexpr size_t kSecretBytes = 32;
constexpr size_t kSecretLength = (kSecretBytes * 8 + 5) / 6;  // unpadded base64url
// Separates these digests from any other SHA-256 of the same bytes.
constexpr std::string_view kDigestDomain = "eventlogger api key v1";

bool IsLowerHex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool RandomBytes(unsigned char* out, size_t size) {
  return RAND_bytes(out, static_cast<int>(size)) == 1;
}

}  // namespace

std::optional<PresentedKey> SplitApiKey(std::string_view token) {
  constexpr size_t kLength = kApiKeyPrefix.size() + kApiKeyIdLength + 1 + kSecretLength;
  if (token.size() != kLength || token.substr(0, kApiKeyPrefix.size()) != kApiKeyPrefix) return std::nullopt;
  const std::string_view id = token.substr(kApiKeyPrefix.size(), kApiKeyIdLength);
  if (!IsLowerHex(id) || token[kApiKeyPrefix.size() + kApiKeyIdLength] != '_') return std::nullopt;
  const std::string_view secret = token.substr(kLength - kSecretLength);
  for (char c : secret) {
    const bool base64url = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                           c == '-' || c == '_';
    if (!base64url) return std::nullopt;
  }
  return PresentedKey{id, secret};
}

std::string DigestSecret(std::string_view id, std::string_view secret) {
  std::string input;
  input.reserve(kDigestDomain.size() + id.size() + secret.size() + 2);
  input.append(kDigestDomain).push_back('\0');
  input.append(id).push_back('\0');
  input.append(secret);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &size, EVP_sha256(), nullptr) != 1) return {};
  OPENSSL_cleanse(input.data(), input.size());
  return LowerHex(digest, size);
}

bool SecretMatches(std::string_view id, std::string_view secret, std::string_view stored_digest) {
  const std::string digest = DigestSecret(id, secret);
  if (digest.empty() || digest.size() != stored_digest.size()) return false;
  return CRYPTO_memcmp(digest.data(), stored_digest.data(), digest.size()) == 0;
}

std::string CheckApiKeyName(std::string_view name) {
  if (name.empty()) return "must not be empty";
  if (name.size() > kMaxApiKeyNameBytes) return "must be at most 100 bytes";
  if (!IsValidUtf8(name)) return "must be valid UTF-8";
  for (size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    const bool c1 = c == 0xC2 && i + 1 < name.size() && static_cast<unsigned char>(name[i + 1]) >= 0x80 &&
                    static_cast<unsigned char>(name[i + 1]) <= 0x9F;
    if (c < 0x20 || c == 0x7F || c1) return "must not contain control characters";
  }
  return {};
}

Result<NewApiKey> MakeApiKey(std::string_view name, Scopes scopes, std::string_view created_at) {
  unsigned char id_bytes[kApiKeyIdLength / 2];
  unsigned char secret_bytes[kSecretBytes];
  if (!RandomBytes(id_bytes, sizeof id_bytes) || !RandomBytes(secret_bytes, sizeof secret_bytes)) {
    return Status::Internal("OpenSSL could not produce random bytes for an API key");
  }
  NewApiKey out;
  out.row.id = LowerHex(id_bytes, sizeof id_bytes);
  const std::string secret =
      Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(secret_bytes), sizeof secret_bytes));
  OPENSSL_cleanse(secret_bytes, sizeof secret_bytes);
  out.row.name = std::string(name);
  out.row.scopes = FormatScopes(scopes);
  out.row.secret_digest = DigestSecret(out.row.id, secret);
  out.row.created_at = std::string(created_at);
  out.key.append(kApiKeyPrefix).append(out.row.id).append("_").append(secret);
  if (out.row.secret_digest.empty()) return Status::Internal("OpenSSL could not hash the API key");
  return out;
}

}  // namespace eventlogger::auth
