#include "http/page_cursor.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

#include "core/base64url.h"
#include "core/timestamp.h"
#include "core/uuid.h"

namespace eventlogger::http {
namespace {

constexpr char kVersion = 1;
constexpr size_t kTagBytes = 16;
constexpr size_t kPayloadBytes = 1 + 8 + 16;  // version, millis, UUID
constexpr size_t kCursorBytes = kPayloadBytes + kTagBytes;
constexpr size_t kCursorChars = (kCursorBytes * 8 + 5) / 6;  // base64url, unpadded
// Separates cursors from any other use of the same secret.
constexpr std::string_view kDomain = "eventlogger page cursor";

}  // namespace

void PageCursors::FreeMac::operator()(EVP_MAC_CTX* context) const { EVP_MAC_CTX_free(context); }

PageCursors::PageCursors(std::string secret) {
  if (secret.empty()) throw std::invalid_argument("PageCursors needs a secret");
  EVP_MAC* hmac = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr);
  if (hmac == nullptr) throw std::runtime_error("OpenSSL has no HMAC");
  keyed_.reset(EVP_MAC_CTX_new(hmac));
  EVP_MAC_free(hmac);  // the context holds its own reference
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  if (!keyed_ || EVP_MAC_init(keyed_.get(), reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
                              params) != 1) {
    throw std::runtime_error("OpenSSL could not key HMAC-SHA-256");
  }
}

std::string PageCursors::Tag(std::string_view payload, std::string_view binding) const {
  const std::unique_ptr<EVP_MAC_CTX, FreeMac> mac(EVP_MAC_CTX_dup(keyed_.get()));
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  size_t length = 0;
  const auto update = [&mac](std::string_view part) {
    return EVP_MAC_update(mac.get(), reinterpret_cast<const unsigned char*>(part.data()), part.size()) == 1;
  };
  const bool ok = mac && update(kDomain) && update(std::string_view("\0", 1)) && update(payload) &&
                  update(binding) && EVP_MAC_final(mac.get(), digest.data(), &length, digest.size()) == 1;
  if (!ok || length < kTagBytes) throw std::runtime_error("OpenSSL failed computing HMAC-SHA-256");
  return std::string(reinterpret_cast<const char*>(digest.data()), kTagBytes);
}

std::string PageCursors::Seal(const DocumentKey& last, std::string_view binding) const {
  const std::optional<int64_t> millis = ParseTimestamp(last.timestamp);
  const std::optional<UuidBytes> uuid = ParseUuid(last.event_id);
  if (!millis || !uuid || FormatUuid(*uuid) != last.event_id) return {};
  std::string payload;
  payload.reserve(kCursorBytes);
  payload.push_back(kVersion);
  for (int shift = 56; shift >= 0; shift -= 8) payload.push_back(static_cast<char>((*millis >> shift) & 0xFF));
  payload.append(reinterpret_cast<const char*>(uuid->data()), uuid->size());
  payload += Tag(payload, binding);
  return Base64UrlEncode(payload);
}

std::optional<DocumentKey> PageCursors::Open(std::string_view cursor, std::string_view binding) const {
  if (cursor.size() != kCursorChars) return std::nullopt;
  const std::optional<std::string> bytes = Base64UrlDecode(cursor);
  if (!bytes || bytes->size() != kCursorBytes) return std::nullopt;
  const std::string_view payload = std::string_view(*bytes).substr(0, kPayloadBytes);
  const std::string expected = Tag(payload, binding);
  if (CRYPTO_memcmp(expected.data(), bytes->data() + kPayloadBytes, kTagBytes) != 0) return std::nullopt;
  if (payload[0] != kVersion) return std::nullopt;
  int64_t millis = 0;
  for (size_t i = 1; i <= 8; ++i) millis = (millis << 8) | static_cast<unsigned char>(payload[i]);
  UuidBytes uuid{};
  for (size_t i = 0; i < uuid.size(); ++i) uuid[i] = static_cast<uint8_t>(payload[9 + i]);
  constexpr int64_t kMaxMillis = 253402300799999;  // FormatTimestamp's range
  if (millis < 0 || millis > kMaxMillis) return std::nullopt;
  return DocumentKey{FormatTimestamp(millis), FormatUuid(uuid)};
}

std::string RandomCursorSecret() {
  std::string secret(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()), static_cast<int>(secret.size())) != 1) {
    throw std::runtime_error("OpenSSL could not produce random bytes for the cursor secret");
  }
  return secret;
}

}  // namespace eventlogger::http
