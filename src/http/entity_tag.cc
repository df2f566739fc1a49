#include "http/entity_tag.h"

// Inlined from Debian's header rather than called in libxxhash: compiled
// here, XXH3 uses the SSE2 every x86-64 has (the shared library's build
// hashed a 30 KB page at one instruction per byte, a tenth of an uncached
// page). The test checks the tags against the library's own functions.
#define XXH_INLINE_ALL
#include <xxhash.h>

namespace eventlogger::http {
namespace {

// The opaque part of a tag without its W/ prefix, e.g. "\"abc\"".
std::string_view Opaque(std::string_view tag) {
  if (tag.starts_with("W/")) tag.remove_prefix(2);
  return tag;
}

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

std::string StrongEntityTag(std::string_view body) {
  static constexpr char kHex[] = "0123456789abcdef";
  const XXH128_hash_t digest = XXH3_128bits(body.data(), body.size());
  std::string tag;
  tag.reserve(34);
  tag.push_back('"');
  for (const uint64_t half : {digest.high64, digest.low64}) {
    for (int shift = 60; shift >= 0; shift -= 4) tag.push_back(kHex[(half >> shift) & 0xF]);
  }
  tag.push_back('"');
  return tag;
}

bool IfNoneMatchMatches(std::string_view field_value, std::string_view tag) {
  const std::string_view wanted = Opaque(tag);
  size_t pos = 0;
  const size_t size = field_value.size();
  while (pos < size) {
    while (pos < size && (IsBlank(field_value[pos]) || field_value[pos] == ',')) ++pos;
    if (pos == size) break;
    if (field_value[pos] == '*') {
      // "*" stands alone: it matches any current representation.
      ++pos;
      while (pos < size && IsBlank(field_value[pos])) ++pos;
      return pos == size;
    }
    const size_t start = pos;
    if (field_value.substr(pos, 2) == "W/") pos += 2;
    if (pos >= size || field_value[pos] != '"') return false;
    const size_t close = field_value.find('"', pos + 1);
    if (close == std::string_view::npos) return false;
    pos = close + 1;
    if (Opaque(field_value.substr(start, pos - start)) == wanted) return true;
    while (pos < size && IsBlank(field_value[pos])) ++pos;
    if (pos < size && field_value[pos] != ',') return false;
  }
  return false;
}

}  // namespace eventlogger::http
