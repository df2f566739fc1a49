// Tests for PageCursors: a sealed cursor opens to its key for exactly its
// binding and secret; anything altered, truncated or foreign does not.
#include "http/page_cursor.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

namespace eventlogger::http {
namespace {

using namespace std::string_literals;

const DocumentKey kKey{"2025-06-29T14:32:45.123Z", "0197bc4e-2a43-7c1d-9e2f-0123456789ab"};
const std::string kBinding = "user-1\0a\0\0\0"s;

TEST(PageCursorsTest, OpensToTheKeyItSealed) {
  const PageCursors cursors("a secret of sixteen+ bytes");
  const std::string cursor = cursors.Seal(kKey, kBinding);
  ASSERT_EQ(cursor.size(), 55u);
  for (char c : cursor) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << cursor;
  }
  const std::optional<DocumentKey> opened = cursors.Open(cursor, kBinding);
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, kKey);
  // Deterministic: the same key and binding seal to the same text.
  EXPECT_EQ(cursors.Seal(kKey, kBinding), cursor);
  // Another instance with the same secret opens it too.
  EXPECT_EQ(PageCursors("a secret of sixteen+ bytes").Open(cursor, kBinding), kKey);
}

TEST(PageCursorsTest, TagIsHmacSha256OverDomainPayloadAndBinding) {
  // The layout, checked with OpenSSL's one-shot HMAC() as the reference:
  // version 1, big-endian milliseconds, the UUID's bytes, then the first 16
  // bytes of HMAC-SHA-256(secret, "eventlogger page cursor\0" payload binding).
  const std::string secret = "a secret of sixteen+ bytes";
  const std::string cursor = PageCursors(secret).Seal(kKey, kBinding);
  std::string standard = cursor;
  for (char& c : standard) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (standard.size() % 4 != 0) standard.push_back('=');
  std::string bytes(standard.size() / 4 * 3, '\0');
  ASSERT_GT(EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                            reinterpret_cast<const unsigned char*>(standard.data()), static_cast<int>(standard.size())),
            0);
  bytes.resize(41);
  EXPECT_EQ(bytes[0], 1);
  int64_t millis = 0;
  for (int i = 1; i <= 8; ++i) millis = (millis << 8) | static_cast<unsigned char>(bytes[i]);
  EXPECT_EQ(millis, 1751207565123);  // 2025-06-29T14:32:45.123Z
  EXPECT_EQ(static_cast<unsigned char>(bytes[9]), 0x01);
  EXPECT_EQ(static_cast<unsigned char>(bytes[10]), 0x97);
  const std::string message = "eventlogger page cursor"s + '\0' + bytes.substr(0, 25) + kBinding;
  unsigned char digest[32];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  ASSERT_EQ(length, 32u);
  EXPECT_EQ(bytes.substr(25), std::string(reinterpret_cast<const char*>(digest), 16));
}

TEST(PageCursorsTest, OpensFromManyThreadsAtOnce) {
  const PageCursors cursors("a secret of sixteen+ bytes");
  const std::string cursor = cursors.Seal(kKey, kBinding);
  std::vector<std::thread> threads;
  std::atomic<int> opened{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        if (cursors.Open(cursor, kBinding) == kKey && cursors.Seal(kKey, kBinding) == cursor) ++opened;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(opened.load(), 2000);
}

TEST(PageCursorsTest, RefusesAnotherBindingOrSecret) {
  const PageCursors cursors("a secret of sixteen+ bytes");
  const std::string cursor = cursors.Seal(kKey, kBinding);
  EXPECT_FALSE(cursors.Open(cursor, "user-2\0a\0\0\0"s));
  EXPECT_FALSE(cursors.Open(cursor, "user-1\0d\0\0\0"s));
  EXPECT_FALSE(cursors.Open(cursor, "user-1\0a\0\0\0click,"s));
  EXPECT_FALSE(cursors.Open(cursor, ""));
  EXPECT_FALSE(PageCursors("another secret, also long").Open(cursor, kBinding));
}

TEST(PageCursorsTest, RefusesEveryAlteredTruncatedOrGarbageText) {
  const PageCursors cursors("a secret of sixteen+ bytes");
  const std::string cursor = cursors.Seal(kKey, kBinding);
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  // Every single-character change, at every position.
  for (size_t i = 0; i < cursor.size(); ++i) {
    for (const char c : std::string_view(kAlphabet)) {
      if (c == cursor[i]) continue;
      std::string altered = cursor;
      altered[i] = c;
      ASSERT_FALSE(cursors.Open(altered, kBinding)) << "position " << i << " changed to " << c;
    }
  }
  for (size_t length = 0; length < cursor.size(); ++length) {
    EXPECT_FALSE(cursors.Open(cursor.substr(0, length), kBinding)) << length;
  }
  EXPECT_FALSE(cursors.Open(cursor + "A", kBinding));
  EXPECT_FALSE(cursors.Open(std::string(55, 'A'), kBinding));
  EXPECT_FALSE(cursors.Open(std::string(55, '='), kBinding));
  std::string standard = cursor;  // standard base64 instead of base64url
  for (char& c : standard) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  if (standard != cursor) {
    EXPECT_FALSE(cursors.Open(standard, kBinding));
  }
}

TEST(PageCursorsTest, DifferentKeysSealDifferently) {
  const PageCursors cursors("a secret of sixteen+ bytes");
  std::set<std::string> seen;
  DocumentKey key = kKey;
  for (char last : std::string_view("0123456789abcdef")) {
    key.event_id.back() = last;
    const std::string cursor = cursors.Seal(key, kBinding);
    EXPECT_TRUE(seen.insert(cursor).second);
    EXPECT_EQ(cursors.Open(cursor, kBinding), key);
  }
  key = kKey;
  key.timestamp = "1970-01-01T00:00:00.000Z";
  EXPECT_EQ(cursors.Open(cursors.Seal(key, kBinding), kBinding), key);
  key.timestamp = "9999-12-31T23:59:59.999Z";
  EXPECT_EQ(cursors.Open(cursors.Seal(key, kBinding), kBinding), key);
}

TEST(PageCursorsTest, SealsOnlyKeysThisServiceWrites) {
  const PageCursors cursors("a secret of sixteen+ bytes");
  EXPECT_EQ(cursors.Seal({"yesterday", kKey.event_id}, kBinding), "");
  EXPECT_EQ(cursors.Seal({kKey.timestamp, "not-a-uuid"}, kBinding), "");
  EXPECT_EQ(cursors.Seal({kKey.timestamp, "0197BC4E-2A43-7C1D-9E2F-0123456789AB"}, kBinding), "")
      << "stored ids are lowercase; an uppercase one would open to another key";
}

TEST(PageCursorsTest, RandomSecretsDiffer) {
  const std::string a = RandomCursorSecret(), b = RandomCursorSecret();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace eventlogger::http
