// Base64url (RFC 4648 §5) without padding, as cursors, API keys and JWTs
// (RFC 7515 §2) write it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace eventlogger {

std::string Base64UrlEncode(std::string_view bytes);

// The bytes of canonical unpadded base64url text; nullopt for anything
// else: padding, '+' or '/', whitespace, a length no encoding has, or
// nonzero unused bits in the last character (so each byte string has one
// text, and no two texts decode to the same bytes).
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace eventlogger
