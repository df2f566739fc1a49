// Signed erasure receipts: when the service erases a user's events (a GDPR
// erasure), it hands out a receipt that an auditor can check later, offline,
// with nothing but the service's public key (Ed25519) or the shared secret
// (HS256).
//
// A receipt is a JSON envelope
//   {"payload": "<base64url of the receipt JSON>", "alg": "Ed25519" | "HS256",
//    "kid": "<key id>", "signature": "<base64url>"}
// whose signature covers the payload's exact bytes, so checking it needs no
// canonical re-serialisation: any JSON library, or the openssl command line,
// can verify a receipt. The payload says what was erased (a job id, whose
// events, up to which receipt time, how many records of each kind) and
// never holds an event.
//
// By default the subject is "sha256:<hex SHA-256 of the user id>": the
// receipt does not keep the id it attests was erased, yet whoever holds the
// id can still match it (ReceiptSubject::Names).
//
// Thread safety: ReceiptSigner and ReceiptVerifier are immutable once made;
// Sign and VerifyReceipt may run on any thread at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace eventlogger {

inline constexpr int kErasureReceiptVersion = 1;

// The two signature algorithms, as the envelope's "alg" names them.
inline constexpr std::string_view kReceiptAlgorithmEd25519 = "Ed25519";
inline constexpr std::string_view kReceiptAlgorithmHs256 = "HS256";

// How a receipt names the user whose events were erased.
enum class SubjectForm {
  kSha256,  // "sha256:<64 lowercase hex>": the default, keeps no user id
  kUserId,  // the user id itself, for deployments whose auditors need it
};

struct ReceiptSubject {
  SubjectForm form = SubjectForm::kSha256;
  std::string text;  // what the payload's "subject" says

  // The subject naming `user_id` in `form`.
  static ReceiptSubject For(std::string_view user_id, SubjectForm form = SubjectForm::kSha256);

  // True when this subject names `user_id` (hashing it first for kSha256).
  bool Names(std::string_view user_id) const;
};

// Records erased from each place events live.
struct ErasureCounts {
  int64_t metadata = 0;      // rows in the metadata store
  int64_t documents = 0;     // documents in the document store
  int64_t outbox = 0;        // pending writes in the retry outbox
  int64_t dead_letters = 0;  // messages in the dead-letter queue
};

// What a receipt attests. Times are Unix milliseconds, written as ISO 8601
// ("2025-06-29T14:32:45.123Z") in the payload.
struct ErasureReceipt {
  int version = kErasureReceiptVersion;
  std::string job_id;  // the erasure job, as the API reported it
  ReceiptSubject subject;
  int64_t received_cutoff_ms = 0;  // events received before this instant were erased
  int64_t started_at_ms = 0;
  int64_t finished_at_ms = 0;
  ErasureCounts counts;
  int64_t issued_at_ms = 0;
  // Set by VerifyReceipt from the signed payload. Sign ignores them and
  // writes its own key's id and algorithm.
  std::string key_id;
  std::string algorithm;
};

// Key material, shared by a signer and the verifiers made from it; defined
// in the .cc.
class ReceiptKey;

class ReceiptSigner {
 public:
  // A PEM Ed25519 private key, as `openssl genpkey -algorithm ed25519`
  // writes it (PKCS #8, unencrypted). InvalidArgument names the problem: an
  // unreadable file, an encrypted key, a key of another type.
  static Result<std::unique_ptr<ReceiptSigner>> FromEd25519KeyFile(const std::string& path);
  // An HS256 secret of at least 32 bytes (RFC 7518 §3.2: a key at least as
  // long as the hash); InvalidArgument otherwise.
  static Result<std::unique_ptr<ReceiptSigner>> FromHmacSecret(std::string secret);

  ~ReceiptSigner();
  ReceiptSigner(const ReceiptSigner&) = delete;
  ReceiptSigner& operator=(const ReceiptSigner&) = delete;

  // The envelope JSON for `receipt`. InvalidArgument when the receipt cannot
  // be written as the format requires: an empty job id, text that is not
  // UTF-8, a malformed sha256 subject, a negative count, or a time outside
  // the years 1970-9999. Internal when OpenSSL fails.
  Result<std::string> Sign(const ErasureReceipt& receipt) const;

  // "Ed25519" or "HS256".
  std::string_view algorithm() const;
  // 16 lowercase hex digits: the start of SHA-256 of the raw public key
  // (Ed25519) or of "hmac:" + secret (HS256). Never reveals the secret.
  const std::string& key_id() const;
  // The public key as PEM (SubjectPublicKeyInfo), to publish for auditors;
  // empty for HS256.
  std::string PublicKeyPem() const;

 private:
  friend class ReceiptVerifier;  // For(signer) takes the public half of key_
  explicit ReceiptSigner(std::shared_ptr<const ReceiptKey> key);
  std::shared_ptr<const ReceiptKey> key_;
};

// Creates a new Ed25519 private key in a new file at `path` (PEM PKCS #8,
// mode 0600), as the service does in its data directory when an operator
// gave it no key. The file appears complete or not at all, so processes
// racing to create it can each load whichever key won. AlreadyExists when
// `path` exists: replacing a key would orphan every receipt signed with it.
// Unavailable on I/O errors (e.g. a missing directory).
Status GenerateEd25519KeyFile(const std::string& path);

// The key a receipt must be signed with. Cheap to copy.
class ReceiptVerifier {
 public:
  // A PEM Ed25519 public key (SubjectPublicKeyInfo, as PublicKeyPem or
  // `openssl pkey -pubout` write it).
  static Result<ReceiptVerifier> FromEd25519PublicKeyFile(const std::string& path);
  static Result<ReceiptVerifier> FromEd25519PublicKeyPem(std::string_view pem);
  // A PEM Ed25519 private key file; only its public half is kept.
  static Result<ReceiptVerifier> FromEd25519PrivateKeyFile(const std::string& path);
  // The HS256 secret the receipts were signed with (at least 32 bytes).
  static Result<ReceiptVerifier> FromHmacSecret(std::string secret);
  // Checks what `signer` signs (the public half for Ed25519).
  static Result<ReceiptVerifier> For(const ReceiptSigner& signer);

  std::string_view algorithm() const;
  const std::string& key_id() const;

 private:
  explicit ReceiptVerifier(std::shared_ptr<const ReceiptKey> key);
  std::shared_ptr<const ReceiptKey> key_;
  friend Result<ErasureReceipt> VerifyReceipt(std::string_view, const ReceiptVerifier&);
};

// The receipt `receipt_json` (an envelope as Sign writes) attests, once its
// signature checks out against `verifier`. InvalidArgument saying what
// failed otherwise: malformed JSON or base64url, an algorithm or key id
// other than the verifier's, a signature that does not match, or a signed
// payload that is not a version 1 receipt.
Result<ErasureReceipt> VerifyReceipt(std::string_view receipt_json,
                                     const ReceiptVerifier& verifier);

}  // namespace eventlogger
