// UUID version 7 (RFC 9562): 48-bit Unix milliseconds, then random bits.
//
// Event ids are UUIDv7 so they sort by creation time: storage keys stay
// append-mostly (SQLite and RocksDB insert about twice as fast as with random
// keys) and the id alone tells the event's timestamp.
//
// Thread safety: Uuid7Generator::Next is safe to call from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace eventlogger {

using UuidBytes = std::array<uint8_t, 16>;

// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", lowercase hex.
std::string FormatUuid(const UuidBytes& bytes);
// Accepts the canonical 36-character form, either case.
std::optional<UuidBytes> ParseUuid(std::string_view text);
// The version nibble (7 for ours).
inline int UuidVersion(const UuidBytes& bytes) { return bytes[6] >> 4; }
// The Unix milliseconds carried by a UUIDv7.
int64_t Uuid7UnixMillis(const UuidBytes& bytes);

struct Uuid7 {
  UuidBytes bytes;
  int64_t unix_millis;  // the time embedded in `bytes`; use it as the event time
};

// Generates UUIDv7s that are strictly increasing across calls, even when many
// are made in one millisecond or the wall clock steps back: the 12-bit
// rand_a field is a counter seeded randomly each millisecond (RFC 9562 method
// 1), and when it overflows or the clock regresses, the embedded time moves
// ahead of the wall clock by the minimum needed instead of repeating.
class Uuid7Generator {
 public:
  explicit Uuid7Generator(const Clock& clock);
  Uuid7 Next();

 private:
  const Clock& clock_;
  std::mutex mutex_;
  std::mt19937_64 random_;
  int64_t last_millis_ = -1;
  uint32_t counter_ = 0;  // 12 bits used
};

}  // namespace eventlogger
