#include "core/json_output.h"

#include <array>
#include <cstdint>
#include <cstring>

namespace eventlogger {
namespace {

// The bytes a JSON string may not hold as they are: '"', '\\' and controls.
constexpr std::array<bool, 256> kNeedsEscape = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = true;
  table['"'] = table['\\'] = true;
  return table;
}();

// Whether any of the eight bytes in `word` needs escaping (SWAR: each test
// sets a byte's high bit when that byte matches; bytes >= 0x80, UTF-8, never
// do). Exact as a yes/no answer, which is all the scan needs.
bool WordNeedsEscape(uint64_t word) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  const uint64_t control = (word - kOnes * 0x20) & ~word & kHigh;  // a byte < 0x20
  const uint64_t quote = word ^ (kOnes * '"');
  const uint64_t backslash = word ^ (kOnes * '\\');
  return (control | ((quote - kOnes) & ~quote & kHigh) | ((backslash - kOnes) & ~backslash & kHigh)) != 0;
}

// The index of the first byte to escape, or value.size().
size_t FirstToEscape(std::string_view value) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(value.data());
  size_t first = 0;
  for (uint64_t word; first + 8 <= value.size(); first += 8) {
    std::memcpy(&word, bytes + first, 8);
    if (WordNeedsEscape(word)) break;
  }
  while (first < value.size() && !kNeedsEscape[bytes[first]]) ++first;
  return first;
}

}  // namespace

bool JsonStringNeedsEscape(std::string_view value) { return FirstToEscape(value) != value.size(); }

void AppendJsonString(std::string& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Nearly every string has nothing to escape (ids, timestamps, types):
  // find the first byte that needs it, eight bytes at a time and then by
  // table, and copy a clean string whole.
  const auto* bytes = reinterpret_cast<const unsigned char*>(value.data());
  const size_t first = FirstToEscape(value);
  out.push_back('"');
  if (first == value.size()) {
    out.append(value);
    out.push_back('"');
    return;
  }
  out.append(value.data(), first);
  size_t clean_from = first;
  for (size_t i = first; i < value.size(); ++i) {
    const unsigned char c = bytes[i];
    if (!kNeedsEscape[c]) continue;
    out.append(value.data() + clean_from, i - clean_from);  // copy runs, not bytes
    clean_from = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
  }
  out.append(value.data() + clean_from, value.size() - clean_from);
  out.push_back('"');
}

}  // namespace eventlogger
