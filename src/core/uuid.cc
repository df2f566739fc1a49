#include "core/uuid.h"

#include <openssl/rand.h>

#include <cstring>

namespace eventlogger {
namespace {

constexpr char kHex[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

uint64_t SecureSeed() {
  uint64_t seed = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed) != 1) {
    seed = std::random_device{}();
    seed = (seed << 32) ^ std::random_device{}();
  }
  return seed;
}

}  // namespace

std::string FormatUuid(const UuidBytes& bytes) {
  std::string out(36, '-');
  size_t pos = 0;
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) ++pos;  // skip the dash
    out[pos++] = kHex[bytes[i] >> 4];
    out[pos++] = kHex[bytes[i] & 0xF];
  }
  return out;
}

std::optional<UuidBytes> ParseUuid(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  UuidBytes bytes{};
  size_t pos = 0;
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      if (text[pos] != '-') return std::nullopt;
      ++pos;
    }
    int hi = HexValue(text[pos]), lo = HexValue(text[pos + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
    pos += 2;
  }
  return bytes;
}

int64_t Uuid7UnixMillis(const UuidBytes& bytes) {
  int64_t millis = 0;
  for (int i = 0; i < 6; ++i) millis = millis << 8 | bytes[i];
  return millis;
}

Uuid7Generator::Uuid7Generator(const Clock& clock) : clock_(clock), random_(SecureSeed()) {}

Uuid7 Uuid7Generator::Next() {
  const int64_t wall = clock_.NowUnixMillis();
  uint64_t tail;
  int64_t millis;
  uint32_t counter;
  {
    std::lock_guard lock(mutex_);
    if (wall > last_millis_) {
      last_millis_ = wall;
      // Start low in the 12-bit space so a burst has room before overflowing.
      counter_ = static_cast<uint32_t>(random_() & 0x3FF);
    } else if (++counter_ > 0xFFF) {
      ++last_millis_;  // borrow the next millisecond rather than repeat an id
      counter_ = static_cast<uint32_t>(random_() & 0x3FF);
    }
    millis = last_millis_;
    counter = counter_;
    tail = random_();
  }
  UuidBytes b{};
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(millis >> (8 * (5 - i)));
  b[6] = static_cast<uint8_t>(0x70 | (counter >> 8));
  b[7] = static_cast<uint8_t>(counter & 0xFF);
  for (int i = 0; i < 8; ++i) b[8 + i] = static_cast<uint8_t>(tail >> (8 * i));
  b[8] = static_cast<uint8_t>(0x80 | (b[8] & 0x3F));  // RFC 9562 variant
  return Uuid7{b, millis};
}

}  // namespace eventlogger
