#include "privacy/erasure_receipt.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <unordered_set>
#include <utility>

#include "core/base64url.h"
#include "core/hex.h"
#include "core/timestamp.h"

namespace eventlogger {
namespace {

constexpr size_t kMinHmacSecretBytes = 32;  // RFC 7518 §3.2: at least the hash's size
constexpr size_t kEd25519KeyBytes = 32;
constexpr size_t kEd25519SignatureBytes = 64;
constexpr size_t kSha256Bytes = 32;
constexpr size_t kKeyIdHexDigits = 16;
// A receipt is a few hundred bytes and a PEM key under one KiB; the bounds
// keep a wrong file or a hostile input from being read whole.
constexpr size_t kMaxReceiptBytes = size_t{64} * 1024;
constexpr size_t kMaxKeyFileBytes = size_t{64} * 1024;
// Longest attacker-supplied text echoed back in an error message.
constexpr size_t kMaxEchoBytes = 64;
// The latest instant FormatTimestamp can write: 9999-12-31T23:59:59.999Z.
constexpr int64_t kMaxTimestampMillis = 253402300799999;
constexpr std::string_view kSha256SubjectPrefix = "sha256:";

struct OpenSslFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
  void operator()(BIO* bio) const { BIO_free(bio); }
};
template <typename T>
using OpenSslPtr = std::unique_ptr<T, OpenSslFree>;

const unsigned char* Bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

std::string Sha256Hex(std::string_view bytes, size_t hex_digits) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  // SHA-256 in the default provider cannot fail short of memory exhaustion;
  // an all-zero digest then is as good as any other sentinel, and never
  // matches a real key id.
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1) {
    ERR_clear_error();
  }
  return LowerHex(digest.data(), kSha256Bytes).substr(0, hex_digits);
}

bool IsLowerHex(std::string_view text) {
  for (const char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string Truncated(std::string_view text) {
  if (text.size() <= kMaxEchoBytes) return std::string(text);
  return std::string(text.substr(0, kMaxEchoBytes)) + "...";
}

Result<std::string> ReadKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument("cannot read the key file " + path);
  std::string text;
  text.resize(kMaxKeyFileBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return Status::InvalidArgument("cannot read the key file " + path);
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxKeyFileBytes) {
    return Status::InvalidArgument("the key file " + path + " is too large to be a PEM key");
  }
  return text;
}

// An encrypted key would otherwise make OpenSSL prompt on the terminal for a
// passphrase; the service has no one to answer it.
int RefusePassphrase(char* /*buffer*/, int /*size*/, int /*writing*/, void* /*user_data*/) {
  return -1;
}

Result<OpenSslPtr<BIO>> MemoryBio(std::string_view pem) {
  if (pem.size() > static_cast<size_t>(INT_MAX))
    return Status::InvalidArgument("the PEM text is too large");
  OpenSslPtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Status::Internal("OpenSSL could not allocate a BIO");
  return bio;
}

Status RequireEd25519(const EVP_PKEY* key, std::string_view what) {
  if (EVP_PKEY_is_a(key, "ED25519") != 1) {
    return Status::InvalidArgument(std::string(what) + " holds a key of type " +
                                   EVP_PKEY_get0_type_name(key) + ", not Ed25519");
  }
  return Status::Ok();
}

Result<OpenSslPtr<EVP_PKEY>> Ed25519PrivateKeyFromPem(std::string_view pem, std::string_view what) {
  Result<OpenSslPtr<BIO>> bio = MemoryBio(pem);
  if (!bio.ok()) return bio.status();
  OpenSslPtr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio->get(), nullptr, RefusePassphrase, nullptr));
  if (!key) {
    ERR_clear_error();
    return Status::InvalidArgument(std::string(what) +
                                   " holds no unencrypted PEM private key (expected the output of "
                                   "`openssl genpkey -algorithm ed25519`)");
  }
  if (Status status = RequireEd25519(key.get(), what); !status.ok()) return status;
  return key;
}

Result<OpenSslPtr<EVP_PKEY>> Ed25519PublicKeyFromPem(std::string_view pem, std::string_view what) {
  Result<OpenSslPtr<BIO>> bio = MemoryBio(pem);
  if (!bio.ok()) return bio.status();
  OpenSslPtr<EVP_PKEY> key(PEM_read_bio_PUBKEY(bio->get(), nullptr, nullptr, nullptr));
  if (!key) {
    ERR_clear_error();
    return Status::InvalidArgument(std::string(what) +
                                   " holds no PEM public key (BEGIN PUBLIC KEY)");
  }
  if (Status status = RequireEd25519(key.get(), what); !status.ok()) return status;
  return key;
}

Result<std::string> RawPublicKey(const EVP_PKEY* key) {
  std::string raw(kEd25519KeyBytes, '\0');
  size_t size = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(raw.data()), &size) != 1 ||
      size != kEd25519KeyBytes) {
    ERR_clear_error();
    return Status::Internal("OpenSSL could not export the Ed25519 public key");
  }
  return raw;
}

Status ValidateHmacSecret(const std::string& secret) {
  if (secret.size() < kMinHmacSecretBytes) {
    return Status::InvalidArgument("the HS256 receipt secret must be at least 32 bytes, not " +
                                   std::to_string(secret.size()));
  }
  if (secret.size() > static_cast<size_t>(INT_MAX)) {
    return Status::InvalidArgument("the HS256 receipt secret is too long");
  }
  return Status::Ok();
}

}  // namespace

// Holds either an Ed25519 key (private in a signer, public only in a
// verifier made from a key file or PEM) or an HS256 secret.
class ReceiptKey {
 public:
  static Result<std::shared_ptr<const ReceiptKey>> FromEd25519(OpenSslPtr<EVP_PKEY> key) {
    Result<std::string> raw = RawPublicKey(key.get());
    if (!raw.ok()) return raw.status();
    return std::make_shared<const ReceiptKey>(
        kReceiptAlgorithmEd25519, Sha256Hex(*raw, kKeyIdHexDigits), std::move(key), std::string());
  }

  static Result<std::shared_ptr<const ReceiptKey>> FromHmacSecret(std::string secret) {
    if (Status status = ValidateHmacSecret(secret); !status.ok()) {
      OPENSSL_cleanse(secret.data(), secret.size());
      return status;
    }
    // The prefix keeps the id from being a plain hash of the secret, which
    // someone might also publish or reuse elsewhere.
    std::string prefixed = "hmac:" + secret;
    std::string id = Sha256Hex(prefixed, kKeyIdHexDigits);
    OPENSSL_cleanse(prefixed.data(), prefixed.size());
    return std::make_shared<const ReceiptKey>(kReceiptAlgorithmHs256, std::move(id), nullptr,
                                              std::move(secret));
  }

  ReceiptKey(std::string_view algorithm, std::string key_id, OpenSslPtr<EVP_PKEY> ed25519,
             std::string hmac_secret)
      : algorithm_(algorithm),
        key_id_(std::move(key_id)),
        ed25519_(std::move(ed25519)),
        hmac_secret_(std::move(hmac_secret)) {}
  ~ReceiptKey() { OPENSSL_cleanse(hmac_secret_.data(), hmac_secret_.size()); }
  ReceiptKey(const ReceiptKey&) = delete;
  ReceiptKey& operator=(const ReceiptKey&) = delete;

  std::string_view algorithm() const { return algorithm_; }
  const std::string& key_id() const { return key_id_; }
  bool is_ed25519() const { return ed25519_ != nullptr; }
  const EVP_PKEY* ed25519_key() const { return ed25519_.get(); }

  // The signature over `message`. REQUIRES: an Ed25519 private key or a secret.
  Result<std::string> Sign(std::string_view message) const {
    if (is_ed25519()) {
      OpenSslPtr<EVP_MD_CTX> context(EVP_MD_CTX_new());
      std::string signature(kEd25519SignatureBytes, '\0');
      size_t size = signature.size();
      // Ed25519 hashes internally and only signs in one shot: no digest
      // here, and EVP_DigestSign rather than Update/Final.
      if (!context ||
          EVP_DigestSignInit(context.get(), nullptr, nullptr, nullptr, ed25519_.get()) != 1 ||
          EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                         Bytes(message), message.size()) != 1) {
        ERR_clear_error();
        return Status::Internal("OpenSSL could not sign the erasure receipt with Ed25519");
      }
      signature.resize(size);
      return signature;
    }
    return HmacSha256(message);
  }

  // Whether `signature` is this key's signature over `message`.
  bool Verifies(std::string_view message, std::string_view signature) const {
    if (is_ed25519()) {
      if (signature.size() != kEd25519SignatureBytes) return false;
      OpenSslPtr<EVP_MD_CTX> context(EVP_MD_CTX_new());
      const bool verified =
          context &&
          EVP_DigestVerifyInit(context.get(), nullptr, nullptr, nullptr, ed25519_.get()) == 1 &&
          EVP_DigestVerify(context.get(), Bytes(signature), signature.size(), Bytes(message),
                           message.size()) == 1;
      ERR_clear_error();
      return verified;
    }
    Result<std::string> expected = HmacSha256(message);
    // Constant time: an early exit would tell a forger how many leading
    // bytes of a guess were right.
    return expected.ok() && expected->size() == signature.size() &&
           CRYPTO_memcmp(expected->data(), signature.data(), signature.size()) == 0;
  }

  // A key holding only the public half of this one (itself for HS256,
  // whose secret both sides need).
  Result<std::shared_ptr<const ReceiptKey>> PublicHalf(
      const std::shared_ptr<const ReceiptKey>& self) const {
    if (!is_ed25519()) return self;
    Result<std::string> raw = RawPublicKey(ed25519_.get());
    if (!raw.ok()) return raw.status();
    OpenSslPtr<EVP_PKEY> public_key(
        EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, Bytes(*raw), raw->size()));
    if (!public_key) {
      ERR_clear_error();
      return Status::Internal("OpenSSL could not build the Ed25519 public key");
    }
    return FromEd25519(std::move(public_key));
  }

 private:
  Result<std::string> HmacSha256(std::string_view message) const {
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int size = 0;
    if (HMAC(EVP_sha256(), hmac_secret_.data(), static_cast<int>(hmac_secret_.size()),
             Bytes(message), message.size(), mac.data(), &size) == nullptr) {
      ERR_clear_error();
      return Status::Internal("OpenSSL could not compute the HS256 receipt signature");
    }
    return std::string(reinterpret_cast<const char*>(mac.data()), size);
  }

  std::string_view algorithm_;
  std::string key_id_;
  OpenSslPtr<EVP_PKEY> ed25519_;
  std::string hmac_secret_;
};

// ---- ReceiptSubject --------------------------------------------------------

ReceiptSubject ReceiptSubject::For(std::string_view user_id, SubjectForm form) {
  if (form == SubjectForm::kUserId) return ReceiptSubject{form, std::string(user_id)};
  return ReceiptSubject{form,
                        std::string(kSha256SubjectPrefix) + Sha256Hex(user_id, 2 * kSha256Bytes)};
}

bool ReceiptSubject::Names(std::string_view user_id) const {
  return text == For(user_id, form).text;
}

namespace {

// ---- The payload: writing ----------------------------------------------------

constexpr std::string_view kSubjectFormSha256 = "sha256";
constexpr std::string_view kSubjectFormUserId = "userId";

// kWriteValidateEncodingFlag: String() fails on text that is not UTF-8,
// instead of writing JSON no parser would take back.
using ReceiptWriter =
    rapidjson::Writer<rapidjson::StringBuffer, rapidjson::UTF8<>, rapidjson::UTF8<>,
                      rapidjson::CrtAllocator, rapidjson::kWriteValidateEncodingFlag>;

bool WriteString(ReceiptWriter& writer, const char* name, std::string_view value) {
  return writer.Key(name) &&
         writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

bool WriteCount(ReceiptWriter& writer, const char* name, int64_t value) {
  return writer.Key(name) && writer.Int64(value);
}

Status CheckSubject(const ReceiptSubject& subject) {
  if (subject.form == SubjectForm::kSha256) {
    const std::string_view text = subject.text;
    if (text.size() != kSha256SubjectPrefix.size() + 2 * kSha256Bytes ||
        text.substr(0, kSha256SubjectPrefix.size()) != kSha256SubjectPrefix ||
        !IsLowerHex(text.substr(kSha256SubjectPrefix.size()))) {
      return Status::InvalidArgument(
          "a sha256 subject must be \"sha256:\" and 64 lowercase hex digits");
    }
    return Status::Ok();
  }
  if (subject.text.empty()) return Status::InvalidArgument("the subject's user id is empty");
  return Status::Ok();
}

Status CheckReceipt(const ErasureReceipt& receipt) {
  if (receipt.version != kErasureReceiptVersion) {
    return Status::InvalidArgument("only version 1 erasure receipts can be signed, not version " +
                                   std::to_string(receipt.version));
  }
  if (receipt.job_id.empty()) return Status::InvalidArgument("the erasure receipt has no job id");
  if (Status status = CheckSubject(receipt.subject); !status.ok()) return status;
  const std::array<std::pair<const char*, int64_t>, 4> times = {{
      {"receivedCutoff", receipt.received_cutoff_ms},
      {"startedAt", receipt.started_at_ms},
      {"finishedAt", receipt.finished_at_ms},
      {"issuedAt", receipt.issued_at_ms},
  }};
  for (const auto& [name, millis] : times) {
    if (millis < 0 || millis > kMaxTimestampMillis) {
      return Status::InvalidArgument(std::string(name) + " is outside the years 1970-9999");
    }
  }
  const ErasureCounts& counts = receipt.counts;
  if (counts.metadata < 0 || counts.documents < 0 || counts.outbox < 0 || counts.dead_letters < 0) {
    return Status::InvalidArgument("erasure counts cannot be negative");
  }
  return Status::Ok();
}

Result<std::string> PayloadJson(const ErasureReceipt& receipt, const ReceiptKey& key) {
  if (Status status = CheckReceipt(receipt); !status.ok()) return status;
  rapidjson::StringBuffer buffer;
  ReceiptWriter writer(buffer);
  const bool written =
      writer.StartObject() && writer.Key("version") && writer.Int(receipt.version) &&
      WriteString(writer, "jobId", receipt.job_id) &&
      WriteString(writer, "subject", receipt.subject.text) &&
      WriteString(
          writer, "subjectForm",
          receipt.subject.form == SubjectForm::kSha256 ? kSubjectFormSha256 : kSubjectFormUserId) &&
      WriteString(writer, "receivedCutoff", FormatTimestamp(receipt.received_cutoff_ms)) &&
      WriteString(writer, "startedAt", FormatTimestamp(receipt.started_at_ms)) &&
      WriteString(writer, "finishedAt", FormatTimestamp(receipt.finished_at_ms)) &&
      writer.Key("counts") && writer.StartObject() &&
      WriteCount(writer, "metadata", receipt.counts.metadata) &&
      WriteCount(writer, "documents", receipt.counts.documents) &&
      WriteCount(writer, "outbox", receipt.counts.outbox) &&
      WriteCount(writer, "deadLetters", receipt.counts.dead_letters) && writer.EndObject() &&
      WriteString(writer, "issuedAt", FormatTimestamp(receipt.issued_at_ms)) &&
      WriteString(writer, "kid", key.key_id()) && WriteString(writer, "alg", key.algorithm()) &&
      writer.EndObject();
  if (!written)
    return Status::InvalidArgument("the erasure receipt's job id or subject is not UTF-8");
  return std::string(buffer.GetString(), buffer.GetSize());
}

// ---- The payload and envelope: reading ---------------------------------------

Status Malformed(std::string why) {
  return Status::InvalidArgument("erasure receipt: " + std::move(why));
}

// A JSON object with exactly the members `names`, each once: with a member
// twice, which one counts would be up to the parser, and two parsers
// disagreeing is how checks get bypassed; an unknown member would be
// signed text the receipt does not account for.
template <size_t N>
Status CheckMembers(const rapidjson::Value& object, const std::array<const char*, N>& names,
                    std::string_view what) {
  if (!object.IsObject()) return Malformed(std::string(what) + " is not a JSON object");
  std::unordered_set<std::string_view> seen;
  for (const auto& member : object.GetObject()) {
    const std::string_view name(member.name.GetString(), member.name.GetStringLength());
    if (!seen.insert(name).second) {
      return Malformed(std::string(what) + " repeats the member \"" + Truncated(name) + "\"");
    }
    bool known = false;
    for (const char* expected : names) known = known || name == expected;
    if (!known)
      return Malformed(std::string(what) + " has an unknown member \"" + Truncated(name) + "\"");
  }
  for (const char* expected : names) {
    if (!seen.contains(expected))
      return Malformed(std::string(what) + " has no \"" + expected + "\"");
  }
  return Status::Ok();
}

// REQUIRES: CheckMembers passed, so the member exists.
Result<std::string_view> StringMember(const rapidjson::Value& object, const char* name,
                                      std::string_view what) {
  const rapidjson::Value& value = object.FindMember(name)->value;
  if (!value.IsString())
    return Malformed(std::string(what) + "'s \"" + name + "\" is not a string");
  return std::string_view(value.GetString(), value.GetStringLength());
}

Result<int64_t> TimeMember(const rapidjson::Value& object, const char* name) {
  Result<std::string_view> text = StringMember(object, name, "the signed payload");
  if (!text.ok()) return text.status();
  const std::optional<int64_t> millis = ParseTimestamp(*text);
  if (!millis || *millis < 0) {
    return Malformed(std::string("the signed payload's \"") + name +
                     "\" is not a time like 2025-06-29T14:32:45.123Z");
  }
  return *millis;
}

Result<int64_t> CountMember(const rapidjson::Value& counts, const char* name) {
  const rapidjson::Value& value = counts.FindMember(name)->value;
  if (!value.IsInt64() || value.GetInt64() < 0) {
    return Malformed(std::string("the signed count \"") + name +
                     "\" is not a non-negative integer");
  }
  return value.GetInt64();
}

Result<rapidjson::Document> ParseJson(std::string_view text, std::string_view what) {
  rapidjson::Document document;
  // With a length, never NUL-terminated: RapidJSON's SSE2 scanning may read
  // past a terminator (see CMakeLists.txt).
  document.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  if (document.HasParseError()) return Malformed(std::string(what) + " is not valid JSON");
  return document;
}

Result<ErasureReceipt> ParsePayload(std::string_view payload) {
  constexpr std::string_view kWhat = "the signed payload";
  Result<rapidjson::Document> parsed = ParseJson(payload, kWhat);
  if (!parsed.ok()) return parsed.status();
  const rapidjson::Document& document = *parsed;
  // The version first, so a newer receipt is reported as such rather than
  // as one with unknown members.
  if (document.IsObject()) {
    const auto version = document.FindMember("version");
    if (version != document.MemberEnd() &&
        !(version->value.IsInt() && version->value.GetInt() == kErasureReceiptVersion)) {
      return Malformed("the signed payload is not a version 1 receipt");
    }
  }
  constexpr std::array<const char*, 11> kMembers = {
      "version", "jobId",    "subject", "subjectForm", "receivedCutoff", "startedAt", "finishedAt",
      "counts",  "issuedAt", "kid",     "alg"};
  if (Status status = CheckMembers(document, kMembers, kWhat); !status.ok()) return status;
  constexpr std::array<const char*, 4> kCountMembers = {"metadata", "documents", "outbox",
                                                        "deadLetters"};
  const rapidjson::Value& counts = document["counts"];
  if (Status status = CheckMembers(counts, kCountMembers, "the signed counts"); !status.ok()) {
    return status;
  }

  ErasureReceipt receipt;
  Result<std::string_view> job_id = StringMember(document, "jobId", kWhat);
  Result<std::string_view> subject = StringMember(document, "subject", kWhat);
  Result<std::string_view> subject_form = StringMember(document, "subjectForm", kWhat);
  Result<std::string_view> kid = StringMember(document, "kid", kWhat);
  Result<std::string_view> alg = StringMember(document, "alg", kWhat);
  for (const auto* text : {&job_id, &subject, &subject_form, &kid, &alg}) {
    if (!text->ok()) return text->status();
  }
  if (job_id->empty()) return Malformed("the signed payload's \"jobId\" is empty");
  receipt.job_id = std::string(*job_id);
  if (*subject_form == kSubjectFormSha256) {
    receipt.subject.form = SubjectForm::kSha256;
  } else if (*subject_form == kSubjectFormUserId) {
    receipt.subject.form = SubjectForm::kUserId;
  } else {
    return Malformed("the signed payload's \"subjectForm\" is neither sha256 nor userId");
  }
  receipt.subject.text = std::string(*subject);
  if (Status status = CheckSubject(receipt.subject); !status.ok()) {
    return Malformed("the signed payload's subject: " + status.message());
  }
  receipt.key_id = std::string(*kid);
  receipt.algorithm = std::string(*alg);

  const std::array<std::pair<const char*, int64_t*>, 4> times = {{
      {"receivedCutoff", &receipt.received_cutoff_ms},
      {"startedAt", &receipt.started_at_ms},
      {"finishedAt", &receipt.finished_at_ms},
      {"issuedAt", &receipt.issued_at_ms},
  }};
  for (const auto& [name, field] : times) {
    Result<int64_t> millis = TimeMember(document, name);
    if (!millis.ok()) return millis.status();
    *field = *millis;
  }
  const std::array<std::pair<const char*, int64_t*>, 4> count_fields = {{
      {"metadata", &receipt.counts.metadata},
      {"documents", &receipt.counts.documents},
      {"outbox", &receipt.counts.outbox},
      {"deadLetters", &receipt.counts.dead_letters},
  }};
  for (const auto& [name, field] : count_fields) {
    Result<int64_t> count = CountMember(counts, name);
    if (!count.ok()) return count.status();
    *field = *count;
  }
  return receipt;
}

}  // namespace

// ---- ReceiptSigner ---------------------------------------------------------

ReceiptSigner::ReceiptSigner(std::shared_ptr<const ReceiptKey> key) : key_(std::move(key)) {}
ReceiptSigner::~ReceiptSigner() = default;

Result<std::unique_ptr<ReceiptSigner>> ReceiptSigner::FromEd25519KeyFile(const std::string& path) {
  Result<std::string> pem = ReadKeyFile(path);
  if (!pem.ok()) return pem.status();
  Result<OpenSslPtr<EVP_PKEY>> key = Ed25519PrivateKeyFromPem(*pem, "the key file " + path);
  OPENSSL_cleanse(pem->data(), pem->size());
  if (!key.ok()) return key.status();
  Result<std::shared_ptr<const ReceiptKey>> receipt_key = ReceiptKey::FromEd25519(std::move(*key));
  if (!receipt_key.ok()) return receipt_key.status();
  return std::unique_ptr<ReceiptSigner>(new ReceiptSigner(std::move(*receipt_key)));
}

Result<std::unique_ptr<ReceiptSigner>> ReceiptSigner::FromHmacSecret(std::string secret) {
  Result<std::shared_ptr<const ReceiptKey>> key = ReceiptKey::FromHmacSecret(std::move(secret));
  if (!key.ok()) return key.status();
  return std::unique_ptr<ReceiptSigner>(new ReceiptSigner(std::move(*key)));
}

Result<std::string> ReceiptSigner::Sign(const ErasureReceipt& receipt) const {
  Result<std::string> payload = PayloadJson(receipt, *key_);
  if (!payload.ok()) return payload.status();
  Result<std::string> signature = key_->Sign(*payload);
  if (!signature.ok()) return signature.status();
  rapidjson::StringBuffer buffer;
  ReceiptWriter writer(buffer);
  // Every value is ASCII (base64url, hex, an algorithm name): the writer
  // cannot fail.
  const bool written =
      writer.StartObject() && WriteString(writer, "payload", Base64UrlEncode(*payload)) &&
      WriteString(writer, "alg", key_->algorithm()) && WriteString(writer, "kid", key_->key_id()) &&
      WriteString(writer, "signature", Base64UrlEncode(*signature)) && writer.EndObject();
  if (!written) return Status::Internal("could not write the erasure receipt envelope");
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string_view ReceiptSigner::algorithm() const { return key_->algorithm(); }

const std::string& ReceiptSigner::key_id() const { return key_->key_id(); }

std::string ReceiptSigner::PublicKeyPem() const {
  if (!key_->is_ed25519()) return std::string();
  OpenSslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_->ed25519_key()) != 1) {
    ERR_clear_error();
    return std::string();
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  if (size <= 0 || data == nullptr) return std::string();
  return std::string(data, static_cast<size_t>(size));
}

// ---- GenerateEd25519KeyFile ------------------------------------------------

namespace {

Status IoError(std::string_view action, const std::string& path, int error_number) {
  return Status::Unavailable(std::string(action) + " " + path + ": " +
                             std::generic_category().message(error_number));
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return IoError("writing", path, errno);
    }
    if (written == 0) return IoError("writing", path, ENOSPC);
    data.remove_prefix(static_cast<size_t>(written));
  }
  return Status::Ok();
}

Status SyncAndClose(int fd, const std::string& path) {
  int result = 0;
  while ((result = ::fsync(fd)) != 0 && errno == EINTR) {
  }
  const int sync_error = errno;
  ::close(fd);
  if (result != 0) return IoError("syncing", path, sync_error);
  return Status::Ok();
}

// The PEM text of a new Ed25519 private key, built in OpenSSL's secure
// memory BIO so that the buffer is wiped when freed.
Result<std::string> NewEd25519PrivateKeyPem() {
  OpenSslPtr<EVP_PKEY> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  OpenSslPtr<BIO> bio(BIO_new(BIO_s_secmem()));
  if (!key || !bio ||
      PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    ERR_clear_error();
    return Status::Internal("OpenSSL could not generate an Ed25519 key");
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  if (size <= 0 || data == nullptr) return Status::Internal("OpenSSL wrote an empty Ed25519 key");
  return std::string(data, static_cast<size_t>(size));
}

}  // namespace

Status GenerateEd25519KeyFile(const std::string& path) {
  Result<std::string> pem = NewEd25519PrivateKeyPem();
  if (!pem.ok()) return pem.status();
  // Written whole to a temporary file, then linked into place: a second
  // process starting on the same data dir sees either no key or a complete
  // one, never a half-written file. link(), unlike rename(), fails rather
  // than replace a key that earlier receipts were signed with.
  std::string temporary = path + ".tmp-XXXXXX";
  int fd = -1;
  while ((fd = ::mkostemp(temporary.data(), O_CLOEXEC)) < 0 && errno == EINTR) {
  }
  if (fd < 0) {
    const int error_number = errno;
    OPENSSL_cleanse(pem->data(), pem->size());
    return IoError("creating a temporary file for", path, error_number);
  }
  // mkostemp asks for 0600 but the umask could narrow it; the contract is
  // exactly 0600.
  Status status =
      ::fchmod(fd, 0600) == 0 ? Status::Ok() : IoError("setting the mode of", temporary, errno);
  if (status.ok()) status = WriteAll(fd, *pem, temporary);
  OPENSSL_cleanse(pem->data(), pem->size());
  if (status.ok()) {
    status = SyncAndClose(fd, temporary);
  } else {
    ::close(fd);
  }
  if (status.ok() && ::link(temporary.c_str(), path.c_str()) != 0) {
    status =
        errno == EEXIST
            ? Status::AlreadyExists(path + " already exists; refusing to replace a receipt key")
            : IoError("linking the new key to", path, errno);
  }
  ::unlink(temporary.c_str());
  // The directory entry must survive a crash too: a key lost after
  // receipts went out would leave them unverifiable.
  if (status.ok()) {
    std::string directory = std::filesystem::path(path).parent_path().string();
    if (directory.empty()) directory = ".";
    const int directory_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    status = directory_fd < 0 ? IoError("opening the directory of", path, errno)
                              : SyncAndClose(directory_fd, directory);
  }
  return status;
}

// ---- ReceiptVerifier -------------------------------------------------------

ReceiptVerifier::ReceiptVerifier(std::shared_ptr<const ReceiptKey> key) : key_(std::move(key)) {}

Result<ReceiptVerifier> ReceiptVerifier::FromEd25519PublicKeyPem(std::string_view pem) {
  Result<OpenSslPtr<EVP_PKEY>> key = Ed25519PublicKeyFromPem(pem, "the public key");
  if (!key.ok()) return key.status();
  Result<std::shared_ptr<const ReceiptKey>> receipt_key = ReceiptKey::FromEd25519(std::move(*key));
  if (!receipt_key.ok()) return receipt_key.status();
  return ReceiptVerifier(std::move(*receipt_key));
}

Result<ReceiptVerifier> ReceiptVerifier::FromEd25519PublicKeyFile(const std::string& path) {
  Result<std::string> pem = ReadKeyFile(path);
  if (!pem.ok()) return pem.status();
  Result<OpenSslPtr<EVP_PKEY>> key = Ed25519PublicKeyFromPem(*pem, "the key file " + path);
  if (!key.ok()) return key.status();
  Result<std::shared_ptr<const ReceiptKey>> receipt_key = ReceiptKey::FromEd25519(std::move(*key));
  if (!receipt_key.ok()) return receipt_key.status();
  return ReceiptVerifier(std::move(*receipt_key));
}

Result<ReceiptVerifier> ReceiptVerifier::FromEd25519PrivateKeyFile(const std::string& path) {
  Result<std::unique_ptr<ReceiptSigner>> signer = ReceiptSigner::FromEd25519KeyFile(path);
  if (!signer.ok()) return signer.status();
  return For(**signer);
}

Result<ReceiptVerifier> ReceiptVerifier::FromHmacSecret(std::string secret) {
  Result<std::shared_ptr<const ReceiptKey>> key = ReceiptKey::FromHmacSecret(std::move(secret));
  if (!key.ok()) return key.status();
  return ReceiptVerifier(std::move(*key));
}

Result<ReceiptVerifier> ReceiptVerifier::For(const ReceiptSigner& signer) {
  Result<std::shared_ptr<const ReceiptKey>> key = signer.key_->PublicHalf(signer.key_);
  if (!key.ok()) return key.status();
  return ReceiptVerifier(std::move(*key));
}

std::string_view ReceiptVerifier::algorithm() const { return key_->algorithm(); }

const std::string& ReceiptVerifier::key_id() const { return key_->key_id(); }

// ---- VerifyReceipt -----------------------------------------------------------

Result<ErasureReceipt> VerifyReceipt(std::string_view receipt_json,
                                     const ReceiptVerifier& verifier) {
  const ReceiptKey& key = *verifier.key_;
  if (receipt_json.size() > kMaxReceiptBytes) return Malformed("longer than 64 KiB");
  constexpr std::string_view kWhat = "the envelope";
  Result<rapidjson::Document> envelope = ParseJson(receipt_json, kWhat);
  if (!envelope.ok()) return envelope.status();
  constexpr std::array<const char*, 4> kMembers = {"payload", "alg", "kid", "signature"};
  if (Status status = CheckMembers(*envelope, kMembers, kWhat); !status.ok()) return status;
  Result<std::string_view> payload_text = StringMember(*envelope, "payload", kWhat);
  Result<std::string_view> alg = StringMember(*envelope, "alg", kWhat);
  Result<std::string_view> kid = StringMember(*envelope, "kid", kWhat);
  Result<std::string_view> signature_text = StringMember(*envelope, "signature", kWhat);
  for (const auto* text : {&payload_text, &alg, &kid, &signature_text}) {
    if (!text->ok()) return text->status();
  }

  // The verifier's key decides the algorithm, never the receipt: a receipt
  // claiming HS256 cannot get an Ed25519 public key used as its secret.
  if (*alg != key.algorithm()) {
    return Malformed("signed with \"" + Truncated(*alg) + "\", but the verifier's key is " +
                     std::string(key.algorithm()));
  }
  if (*kid != key.key_id()) {
    return Malformed("signed with key id \"" + Truncated(*kid) +
                     "\", but the verifier's key id is " + key.key_id());
  }
  const std::optional<std::string> signature = Base64UrlDecode(*signature_text);
  if (!signature) return Malformed("the signature is not unpadded base64url");
  const std::optional<std::string> payload = Base64UrlDecode(*payload_text);
  if (!payload) return Malformed("the payload is not unpadded base64url");
  if (!key.Verifies(*payload, *signature)) {
    return Malformed(
        "the signature does not match the payload (altered, or signed with another key)");
  }

  Result<ErasureReceipt> receipt = ParsePayload(*payload);
  if (!receipt.ok()) return receipt.status();
  // The envelope's alg and kid are unsigned; the payload's are signed. They
  // must agree, or the envelope is claiming something the signer did not.
  if (receipt->algorithm != *alg || receipt->key_id != *kid) {
    return Malformed("the signed payload names another algorithm or key id than the envelope");
  }
  return receipt;
}

}  // namespace eventlogger
