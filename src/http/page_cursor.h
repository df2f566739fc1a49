// The opaque `cursor` of GET /events/{userId}: the key of the last event a
// page returned, sealed so that clients can hand it back but not make one.
//
// A cursor is 41 bytes in base64url (55 characters): a version, the key
// (timestamp milliseconds and eventId bytes) and a 128-bit HMAC-SHA-256 tag
// over the version, the key and a binding (the user, the order and the
// filters the page was read with). The binding is not carried, only
// verified: a cursor presented with any other user or filters fails the
// check exactly as a forged one does, so it can never read outside the
// range its first page named.
//
// Thread safety: immutable after construction; any thread may call.
#pragma once

#include <openssl/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "storage/document_store.h"

namespace eventlogger::http {

class PageCursors {
 public:
  // Cursors sealed with one secret open only with that secret: instances
  // behind one load balancer need the same one. REQUIRES: secret not empty.
  explicit PageCursors(std::string secret);

  // A cursor resuming after `last`. Empty if `last` is not a key this
  // service writes (a UUIDv7 eventId and a stored timestamp), which no page
  // of stored events can produce.
  std::string Seal(const DocumentKey& last, std::string_view binding) const;

  // The key a cursor resumes after; nullopt if it is not one this secret
  // sealed for exactly this binding (forged, altered, truncated, garbage,
  // or issued for another user or other filters).
  std::optional<DocumentKey> Open(std::string_view cursor, std::string_view binding) const;

 private:
  std::string Tag(std::string_view payload, std::string_view binding) const;
  // HMAC-SHA-256 keyed once; each tag works on a copy. The one-shot HMAC()
  // looked the algorithm up and set the key again on every call: 19k
  // instructions a tag, a tenth of an uncached page.
  struct FreeMac {
    void operator()(EVP_MAC_CTX* context) const;
  };
  std::unique_ptr<EVP_MAC_CTX, FreeMac> keyed_;
};

// A secret for a process that was given none: 32 random bytes (OpenSSL's
// CSPRNG). Its cursors die with the process.
std::string RandomCursorSecret();

}  // namespace eventlogger::http
