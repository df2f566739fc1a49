#include "core/timestamp.h"

#include <chrono>

namespace eventlogger {
namespace {

void PutDigits(char* out, int64_t value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

std::optional<int> ReadDigits(std::string_view text, size_t pos, int width) {
  int value = 0;
  for (int i = 0; i < width; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

}  // namespace

std::string FormatTimestamp(int64_t unix_millis) {
  using namespace std::chrono;
  const sys_days day = floor<days>(sys_time<milliseconds>(milliseconds(unix_millis)));
  const year_month_day ymd(day);
  int64_t ms_of_day = unix_millis - duration_cast<milliseconds>(day.time_since_epoch()).count();
  std::string out(kTimestampLength, '\0');
  char* p = out.data();
  PutDigits(p, static_cast<int>(ymd.year()), 4);
  p[4] = '-';
  PutDigits(p + 5, static_cast<unsigned>(ymd.month()), 2);
  p[7] = '-';
  PutDigits(p + 8, static_cast<unsigned>(ymd.day()), 2);
  p[10] = 'T';
  PutDigits(p + 11, ms_of_day / 3'600'000, 2);
  p[13] = ':';
  PutDigits(p + 14, ms_of_day / 60'000 % 60, 2);
  p[16] = ':';
  PutDigits(p + 17, ms_of_day / 1000 % 60, 2);
  p[19] = '.';
  PutDigits(p + 20, ms_of_day % 1000, 3);
  p[23] = 'Z';
  return out;
}

std::optional<int64_t> ParseTimestamp(std::string_view text) {
  using namespace std::chrono;
  if (text.size() != kTimestampLength || text[4] != '-' || text[7] != '-' ||
      text[10] != 'T' || text[13] != ':' || text[16] != ':' || text[19] != '.' ||
      text[23] != 'Z') {
    return std::nullopt;
  }
  auto y = ReadDigits(text, 0, 4), mo = ReadDigits(text, 5, 2), d = ReadDigits(text, 8, 2);
  auto h = ReadDigits(text, 11, 2), mi = ReadDigits(text, 14, 2), s = ReadDigits(text, 17, 2);
  auto ms = ReadDigits(text, 20, 3);
  if (!y || !mo || !d || !h || !mi || !s || !ms) return std::nullopt;
  if (*h > 23 || *mi > 59 || *s > 59) return std::nullopt;
  const year_month_day ymd{year(*y), month(static_cast<unsigned>(*mo)),
                           day(static_cast<unsigned>(*d))};
  if (!ymd.ok()) return std::nullopt;
  const int64_t day_millis =
      duration_cast<milliseconds>(sys_days(ymd).time_since_epoch()).count();
  return day_millis + ((*h * 60 + *mi) * 60 + *s) * 1000LL + *ms;
}

std::optional<Instant> ParseInstant(std::string_view text) {
  using namespace std::chrono;
  // YYYY-MM-DDThh:mm:ss is 19 characters; then an optional fraction, then
  // the zone.
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') ||
      text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  auto y = ReadDigits(text, 0, 4), mo = ReadDigits(text, 5, 2), d = ReadDigits(text, 8, 2);
  auto h = ReadDigits(text, 11, 2), mi = ReadDigits(text, 14, 2), s = ReadDigits(text, 17, 2);
  if (!y || !mo || !d || !h || !mi || !s) return std::nullopt;
  if (*h > 23 || *mi > 59 || *s > 59) return std::nullopt;
  const year_month_day ymd{year(*y), month(static_cast<unsigned>(*mo)), day(static_cast<unsigned>(*d))};
  if (!ymd.ok()) return std::nullopt;
  size_t pos = 19;
  int64_t millis = 0;
  bool sub_millisecond = false;
  if (text[pos] == '.') {
    ++pos;
    const size_t first = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      const int digit = text[pos] - '0';
      const size_t place = pos - first;
      if (place < 3) {
        millis = millis * 10 + digit;
      } else if (digit != 0) {
        sub_millisecond = true;
      }
      ++pos;
    }
    const size_t count = pos - first;
    if (count == 0 || count > 9) return std::nullopt;
    for (size_t i = count; i < 3; ++i) millis *= 10;
  }
  if (pos >= text.size()) return std::nullopt;
  int64_t offset_minutes = 0;
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    if (text.size() - pos != 6 || text[pos + 3] != ':') return std::nullopt;
    auto oh = ReadDigits(text, pos + 1, 2), om = ReadDigits(text, pos + 4, 2);
    if (!oh || !om || *oh > 23 || *om > 59) return std::nullopt;
    offset_minutes = (static_cast<int64_t>(*oh) * 60 + *om) * (text[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  const int64_t day_millis = duration_cast<milliseconds>(sys_days(ymd).time_since_epoch()).count();
  const int64_t unix_millis =
      day_millis + ((*h * 60 + *mi) * 60 + *s) * 1000LL + millis - offset_minutes * 60'000;
  // The range FormatTimestamp can write: 0000-01-01T00:00:00.000Z to
  // 9999-12-31T23:59:59.999Z.
  constexpr int64_t kMinMillis = -62167219200000;
  constexpr int64_t kMaxMillis = 253402300799999;
  if (unix_millis < kMinMillis || unix_millis > kMaxMillis) return std::nullopt;
  return Instant{unix_millis, sub_millisecond};
}

}  // namespace eventlogger
