#include "core/validation.h"

#include <cstdint>
#include <cstring>

namespace eventlogger {
namespace {

bool IsTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '.' || c == ':' || c == '-';
}

// Decodes one code point starting at text[i]; returns its byte length, or 0
// when the sequence is malformed.
size_t DecodeUtf8(std::string_view text, size_t i, uint32_t* code_point) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  const uint8_t lead = byte(i);
  size_t length;
  uint32_t cp;
  if (lead < 0x80) {
    *code_point = lead;
    return 1;
  } else if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    cp = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    cp = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    cp = lead & 0x07;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (byte(i + k) & 0x3F);
  }
  if ((length == 3 && cp < 0x800) || (length == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  *code_point = cp;
  return length;
}

}  // namespace

size_t FindInvalidUtf8(std::string_view text) {
  uint32_t cp;
  for (size_t i = 0; i < text.size();) {
    // ASCII, the common case, eight bytes at a time.
    while (i + 8 <= text.size()) {
      uint64_t chunk;
      std::memcpy(&chunk, text.data() + i, sizeof chunk);
      if ((chunk & 0x8080808080808080ULL) != 0) break;
      i += 8;
    }
    if (i == text.size()) break;
    const size_t n = DecodeUtf8(text, i, &cp);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

bool IsValidUtf8(std::string_view text) { return FindInvalidUtf8(text) == std::string_view::npos; }

std::string CheckUserId(std::string_view user_id) {
  if (user_id.empty()) return "must not be empty";
  if (user_id.size() > kMaxUserIdBytes) return "must be at most 128 bytes of UTF-8";
  uint32_t cp;
  for (size_t i = 0; i < user_id.size();) {
    const size_t n = DecodeUtf8(user_id, i, &cp);
    if (n == 0) return "must be valid UTF-8";
    // C0, DEL and C1 controls: they break logs, keys and terminals.
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return "must not contain control characters";
    i += n;
  }
  return {};
}

std::string CheckEventType(std::string_view event_type) {
  if (event_type.empty()) return "must not be empty";
  if (event_type.size() > kMaxEventTypeLength) return "must be at most 64 characters";
  for (char c : event_type) {
    if (!IsTokenChar(c)) return "must contain only letters, digits and _ . : -";
  }
  return {};
}

bool IsAcceptableRequestId(std::string_view request_id) {
  if (request_id.empty() || request_id.size() > kMaxRequestIdLength) return false;
  for (char c : request_id) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

}  // namespace eventlogger
