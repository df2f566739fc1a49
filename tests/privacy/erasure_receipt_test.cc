// Erasure receipts: round trips, tampering, key handling, and the openssl
// command line (OpenSSL 3) as an independent reference in both directions:
// it verifies our signatures and key ids, and we verify its signatures.
#include "privacy/erasure_receipt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/base64url.h"
#include "core/timestamp.h"
#include "support/temp_dir.h"

namespace eventlogger {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing_support::TempDir;

constexpr const char* kSecret = "an HS256 receipt secret of at least 32 bytes";
constexpr const char* kUserId = "user-42";

// ---- Helpers ---------------------------------------------------------------

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  ASSERT_TRUE(out.good()) << path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xF]);
  }
  return out;
}

// The first `digits` hex digits of SHA-256 of the file, by `openssl dgst`.
std::string OpensslSha256Hex(const std::string& file, size_t digits) {
  const CommandResult result = RunCommand("openssl dgst -sha256 -r '" + file + "'");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  return result.output.substr(0, digits);
}

ErasureReceipt SampleReceipt() {
  ErasureReceipt receipt;
  receipt.job_id = "erase-7f3c2a91";
  receipt.subject = ReceiptSubject::For(kUserId);
  receipt.received_cutoff_ms = *ParseTimestamp("2025-06-29T14:32:45.123Z");
  receipt.started_at_ms = *ParseTimestamp("2025-06-29T14:32:45.200Z");
  receipt.finished_at_ms = *ParseTimestamp("2025-06-29T14:32:47.981Z");
  receipt.counts = ErasureCounts{12, 5'000'000'000, 3, 1};  // documents beyond 32 bits
  receipt.issued_at_ms = *ParseTimestamp("2025-06-29T14:32:48.002Z");
  return receipt;
}

std::string Member(const std::string& envelope, const char* name) {
  rapidjson::Document document;
  document.Parse(envelope.data(), envelope.size());
  if (document.HasParseError() || !document.IsObject() || !document.HasMember(name) ||
      !document[name].IsString()) {
    ADD_FAILURE() << "no string member " << name << " in " << envelope;
    return "";
  }
  return document[name].GetString();
}

std::string Payload(const std::string& envelope) {
  return Base64UrlDecode(Member(envelope, "payload")).value_or("");
}

std::string Signature(const std::string& envelope) {
  return Base64UrlDecode(Member(envelope, "signature")).value_or("");
}

// The envelope with the string member `name` set to `value` (kept in place).
std::string WithMember(const std::string& envelope, const char* name, const std::string& value) {
  rapidjson::Document document;
  document.Parse(envelope.data(), envelope.size());
  document[name].SetString(value.data(), static_cast<rapidjson::SizeType>(value.size()),
                           document.GetAllocator());
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  document.Accept(writer);
  return buffer.GetString();
}

std::string Envelope(std::string_view payload, std::string_view alg, std::string_view kid,
                     std::string_view signature) {
  return "{\"payload\":\"" + Base64UrlEncode(payload) + "\",\"alg\":\"" + std::string(alg) +
         "\",\"kid\":\"" + std::string(kid) + "\",\"signature\":\"" + Base64UrlEncode(signature) +
         "\"}";
}

std::unique_ptr<ReceiptSigner> Ed25519Signer(const TempDir& dir,
                                             const std::string& name = "key.pem") {
  EXPECT_TRUE(GenerateEd25519KeyFile(dir.File(name)).ok());
  Result<std::unique_ptr<ReceiptSigner>> signer = ReceiptSigner::FromEd25519KeyFile(dir.File(name));
  EXPECT_TRUE(signer.ok()) << signer.status().ToString();
  return signer.ok() ? std::move(*signer) : nullptr;
}

std::unique_ptr<ReceiptSigner> HmacSigner(const std::string& secret = kSecret) {
  Result<std::unique_ptr<ReceiptSigner>> signer = ReceiptSigner::FromHmacSecret(secret);
  EXPECT_TRUE(signer.ok()) << signer.status().ToString();
  return signer.ok() ? std::move(*signer) : nullptr;
}

ReceiptVerifier VerifierFor(const ReceiptSigner& signer) {
  Result<ReceiptVerifier> verifier = ReceiptVerifier::For(signer);
  EXPECT_TRUE(verifier.ok()) << verifier.status().ToString();
  return *verifier;
}

std::string SignOrFail(const ReceiptSigner& signer, const ErasureReceipt& receipt) {
  Result<std::string> envelope = signer.Sign(receipt);
  EXPECT_TRUE(envelope.ok()) << envelope.status().ToString();
  return envelope.ok() ? *envelope : "";
}

// The message of the error VerifyReceipt reports; fails the test when it
// accepts the receipt.
std::string Refusal(const std::string& envelope, const ReceiptVerifier& verifier) {
  Result<ErasureReceipt> verified = VerifyReceipt(envelope, verifier);
  EXPECT_FALSE(verified.ok()) << "accepted: " << envelope;
  if (verified.ok()) return "";
  EXPECT_EQ(verified.status().code(), StatusCode::kInvalidArgument);
  return verified.status().message();
}

void ExpectSameReceipt(const ErasureReceipt& actual, const ErasureReceipt& expected) {
  EXPECT_EQ(actual.version, 1);
  EXPECT_EQ(actual.job_id, expected.job_id);
  EXPECT_EQ(actual.subject.form, expected.subject.form);
  EXPECT_EQ(actual.subject.text, expected.subject.text);
  EXPECT_EQ(actual.received_cutoff_ms, expected.received_cutoff_ms);
  EXPECT_EQ(actual.started_at_ms, expected.started_at_ms);
  EXPECT_EQ(actual.finished_at_ms, expected.finished_at_ms);
  EXPECT_EQ(actual.counts.metadata, expected.counts.metadata);
  EXPECT_EQ(actual.counts.documents, expected.counts.documents);
  EXPECT_EQ(actual.counts.outbox, expected.counts.outbox);
  EXPECT_EQ(actual.counts.dead_letters, expected.counts.dead_letters);
  EXPECT_EQ(actual.issued_at_ms, expected.issued_at_ms);
}

// ---- Round trips -----------------------------------------------------------

TEST(ErasureReceiptTest, Ed25519RoundTripKeepsEveryField) {
  TempDir dir;
  std::unique_ptr<ReceiptSigner> signer = Ed25519Signer(dir);
  ASSERT_NE(signer, nullptr);
  EXPECT_EQ(signer->algorithm(), "Ed25519");
  const ErasureReceipt receipt = SampleReceipt();
  const std::string envelope = SignOrFail(*signer, receipt);

  Result<ErasureReceipt> verified = VerifyReceipt(envelope, VerifierFor(*signer));
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  ExpectSameReceipt(*verified, receipt);
  EXPECT_EQ(verified->algorithm, "Ed25519");
  EXPECT_EQ(verified->key_id, signer->key_id());
  EXPECT_EQ(Member(envelope, "alg"), "Ed25519");
  EXPECT_EQ(Member(envelope, "kid"), signer->key_id());
  EXPECT_EQ(Signature(envelope).size(), 64u);
}

TEST(ErasureReceiptTest, Hs256RoundTripKeepsEveryField) {
  std::unique_ptr<ReceiptSigner> signer = HmacSigner();
  ASSERT_NE(signer, nullptr);
  EXPECT_EQ(signer->algorithm(), "HS256");
  EXPECT_EQ(signer->PublicKeyPem(), "");
  ErasureReceipt receipt = SampleReceipt();
  receipt.subject = ReceiptSubject::For("ユーザー \"quoted\"", SubjectForm::kUserId);
  const std::string envelope = SignOrFail(*signer, receipt);

  Result<ReceiptVerifier> verifier = ReceiptVerifier::FromHmacSecret(kSecret);
  ASSERT_TRUE(verifier.ok());
  Result<ErasureReceipt> verified = VerifyReceipt(envelope, *verifier);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  ExpectSameReceipt(*verified, receipt);
  EXPECT_EQ(verified->algorithm, "HS256");
  EXPECT_EQ(verified->key_id, signer->key_id());
  EXPECT_EQ(Signature(envelope).size(), 32u);
}

TEST(ErasureReceiptTest, PayloadIsTheReceiptAsJsonWithIsoTimes) {
  std::unique_ptr<ReceiptSigner> signer = HmacSigner();
  const std::string payload = Payload(SignOrFail(*signer, SampleReceipt()));
  rapidjson::Document document;
  document.Parse(payload.data(), payload.size());
  ASSERT_FALSE(document.HasParseError()) << payload;
  EXPECT_EQ(document["version"].GetInt(), 1);
  EXPECT_STREQ(document["jobId"].GetString(), "erase-7f3c2a91");
  EXPECT_STREQ(document["receivedCutoff"].GetString(), "2025-06-29T14:32:45.123Z");
  EXPECT_STREQ(document["startedAt"].GetString(), "2025-06-29T14:32:45.200Z");
  EXPECT_STREQ(document["finishedAt"].GetString(), "2025-06-29T14:32:47.981Z");
  EXPECT_STREQ(document["issuedAt"].GetString(), "2025-06-29T14:32:48.002Z");
  EXPECT_EQ(document["counts"]["metadata"].GetInt64(), 12);
  EXPECT_EQ(document["counts"]["documents"].GetInt64(), 5'000'000'000);
  EXPECT_EQ(document["counts"]["outbox"].GetInt64(), 3);
  EXPECT_EQ(document["counts"]["deadLetters"].GetInt64(), 1);
  EXPECT_STREQ(document["kid"].GetString(), signer->key_id().c_str());
  EXPECT_STREQ(document["alg"].GetString(), "HS256");
  EXPECT_EQ(document.MemberCount(), 11u);  // nothing else: no events
}

// ---- Subjects --------------------------------------------------------------

TEST(ErasureReceiptTest, SubjectIsTheSha256OfTheUserIdByDefault) {
  // SHA-256("abc"), FIPS 180-2 appendix B.1.
  EXPECT_EQ(ReceiptSubject::For("abc").text,
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ReceiptSubject::For("abc").form, SubjectForm::kSha256);

  std::unique_ptr<ReceiptSigner> signer = HmacSigner();
  const std::string envelope = SignOrFail(*signer, SampleReceipt());
  const std::string payload = Payload(envelope);
  EXPECT_THAT(payload, Not(HasSubstr(kUserId)));
  EXPECT_THAT(payload, HasSubstr("\"subjectForm\":\"sha256\""));

  Result<ErasureReceipt> verified = VerifyReceipt(envelope, VerifierFor(*signer));
  ASSERT_TRUE(verified.ok());
  // Whoever holds the id can still match the receipt to it.
  EXPECT_TRUE(verified->subject.Names(kUserId));
  EXPECT_FALSE(verified->subject.Names("user-43"));
}

TEST(ErasureReceiptTest, SubjectIsThePlainUserIdWhenAsked) {
  std::unique_ptr<ReceiptSigner> signer = HmacSigner();
  ErasureReceipt receipt = SampleReceipt();
  receipt.subject = ReceiptSubject::For(kUserId, SubjectForm::kUserId);
  const std::string envelope = SignOrFail(*signer, receipt);
  EXPECT_THAT(Payload(envelope), HasSubstr("\"subject\":\"user-42\",\"subjectForm\":\"userId\""));
  Result<ErasureReceipt> verified = VerifyReceipt(envelope, VerifierFor(*signer));
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ(verified->subject.text, kUserId);
  EXPECT_TRUE(verified->subject.Names(kUserId));
}

TEST(ErasureReceiptTest, SignRefusesReceiptsTheFormatCannotHold) {
  std::unique_ptr<ReceiptSigner> signer = HmacSigner();
  auto refusal = [&](auto change) {
    ErasureReceipt receipt = SampleReceipt();
    change(receipt);
    Result<std::string> envelope = signer->Sign(receipt);
    EXPECT_FALSE(envelope.ok());
    return envelope.ok() ? std::string() : envelope.status().message();
  };
  EXPECT_THAT(refusal([](ErasureReceipt& r) { r.job_id.clear(); }), HasSubstr("job id"));
  EXPECT_THAT(refusal([](ErasureReceipt& r) { r.job_id = "bad \xff utf-8"; }), HasSubstr("UTF-8"));
  EXPECT_THAT(refusal([](ErasureReceipt& r) { r.counts.outbox = -1; }), HasSubstr("negative"));
  EXPECT_THAT(refusal([](ErasureReceipt& r) { r.started_at_ms = -1; }), HasSubstr("startedAt"));
  EXPECT_THAT(refusal([](ErasureReceipt& r) { r.issued_at_ms = 253402300800000; }),
              HasSubstr("issuedAt"));
  EXPECT_THAT(refusal([](ErasureReceipt& r) { r.subject.text = "sha256:abc"; }),
              HasSubstr("sha256"));
  EXPECT_THAT(
      refusal([](ErasureReceipt& r) { r.subject = ReceiptSubject::For("", SubjectForm::kUserId); }),
      HasSubstr("empty"));
  EXPECT_THAT(refusal([](ErasureReceipt& r) { r.version = 2; }), HasSubstr("version"));
}

// ---- Tampering -------------------------------------------------------------

class ErasureReceiptTamperTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    signer_ = GetParam() ? Ed25519Signer(dir_) : HmacSigner();
    ASSERT_NE(signer_, nullptr);
    envelope_ = SignOrFail(*signer_, SampleReceipt());
    Result<ReceiptVerifier> verifier = ReceiptVerifier::For(*signer_);
    ASSERT_TRUE(verifier.ok());
    verifier_.emplace(*verifier);
    ASSERT_TRUE(VerifyReceipt(envelope_, *verifier_).ok());
  }

  TempDir dir_;
  std::unique_ptr<ReceiptSigner> signer_;
  std::string envelope_;
  std::optional<ReceiptVerifier> verifier_;
};

INSTANTIATE_TEST_SUITE_P(BothAlgorithms, ErasureReceiptTamperTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Ed25519" : "Hs256"; });

TEST_P(ErasureReceiptTamperTest, AnyChangedPayloadByteFails) {
  const std::string payload = Payload(envelope_);
  std::string fewer = payload;
  const size_t at = fewer.find("\"outbox\":3");
  ASSERT_NE(at, std::string::npos);
  fewer[at + 9] = '0';
  EXPECT_THAT(Refusal(WithMember(envelope_, "payload", Base64UrlEncode(fewer)), *verifier_),
              HasSubstr("signature does not match"));
  for (size_t i = 0; i < payload.size(); i += 7) {
    std::string flipped = payload;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x01);
    EXPECT_THAT(Refusal(WithMember(envelope_, "payload", Base64UrlEncode(flipped)), *verifier_),
                HasSubstr("signature does not match"))
        << "byte " << i;
  }
  // Appending whitespace keeps the JSON equal but the bytes not.
  EXPECT_THAT(Refusal(WithMember(envelope_, "payload", Base64UrlEncode(payload + " ")), *verifier_),
              HasSubstr("signature does not match"));
}

TEST_P(ErasureReceiptTamperTest, AnyChangedSignatureBitFails) {
  const std::string signature = Signature(envelope_);
  for (size_t i = 0; i < signature.size(); ++i) {
    std::string flipped = signature;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x80);
    EXPECT_THAT(Refusal(WithMember(envelope_, "signature", Base64UrlEncode(flipped)), *verifier_),
                HasSubstr("signature does not match"))
        << "byte " << i;
  }
  EXPECT_THAT(
      Refusal(WithMember(envelope_, "signature", Base64UrlEncode(signature.substr(1))), *verifier_),
      HasSubstr("signature does not match"));
  EXPECT_THAT(Refusal(WithMember(envelope_, "signature", ""), *verifier_),
              HasSubstr("signature does not match"));
}

TEST_P(ErasureReceiptTamperTest, SwappedAlgorithmFails) {
  const std::string other = GetParam() ? "HS256" : "Ed25519";
  EXPECT_THAT(Refusal(WithMember(envelope_, "alg", other), *verifier_),
              HasSubstr("signed with \"" + other + "\""));
  EXPECT_THAT(Refusal(WithMember(envelope_, "alg", "none"), *verifier_), HasSubstr("\"none\""));
}

TEST_P(ErasureReceiptTamperTest, ChangedKeyIdFails) {
  EXPECT_THAT(Refusal(WithMember(envelope_, "kid", "0123456789abcdef"), *verifier_),
              HasSubstr("key id \"0123456789abcdef\""));
  EXPECT_THAT(Refusal(WithMember(envelope_, "kid", ""), *verifier_), HasSubstr("key id"));
}

TEST_P(ErasureReceiptTamperTest, MalformedEnvelopesFailWithoutCrashing) {
  const std::string payload = Member(envelope_, "payload");
  const std::string signature = Member(envelope_, "signature");
  const std::string alg = Member(envelope_, "alg");
  const std::string kid = Member(envelope_, "kid");
  const std::string members = "\"payload\":\"" + payload + "\",\"alg\":\"" + alg + "\",\"kid\":\"" +
                              kid + "\",\"signature\":\"" + signature + "\"";
  EXPECT_THAT(Refusal("", *verifier_), HasSubstr("not valid JSON"));
  EXPECT_THAT(Refusal(envelope_.substr(0, envelope_.size() - 1), *verifier_),
              HasSubstr("not valid JSON"));
  EXPECT_THAT(Refusal("[" + envelope_ + "]", *verifier_), HasSubstr("not a JSON object"));
  EXPECT_THAT(Refusal("\"" + payload + "\"", *verifier_), HasSubstr("not a JSON object"));
  EXPECT_THAT(Refusal("{" + members + ",\"alg\":\"" + alg + "\"}", *verifier_),
              HasSubstr("repeats the member \"alg\""));
  EXPECT_THAT(Refusal("{" + members + ",\"note\":\"x\"}", *verifier_),
              HasSubstr("unknown member \"note\""));
  EXPECT_THAT(
      Refusal("{\"payload\":\"" + payload + "\",\"alg\":\"" + alg + "\",\"kid\":\"" + kid + "\"}",
              *verifier_),
      HasSubstr("no \"signature\""));
  EXPECT_THAT(Refusal("{\"payload\":1,\"alg\":\"" + alg + "\",\"kid\":\"" + kid +
                          "\",\"signature\":\"" + signature + "\"}",
                      *verifier_),
              HasSubstr("\"payload\" is not a string"));
  EXPECT_THAT(Refusal(WithMember(envelope_, "payload", payload + "="), *verifier_),
              HasSubstr("payload is not unpadded base64url"));
  EXPECT_THAT(Refusal(WithMember(envelope_, "payload", "a+b/"), *verifier_),
              HasSubstr("payload is not unpadded base64url"));
  EXPECT_THAT(Refusal(WithMember(envelope_, "signature", signature + "!"), *verifier_),
              HasSubstr("signature is not unpadded base64url"));
  EXPECT_THAT(Refusal(std::string(70 * 1024, ' '), *verifier_), HasSubstr("64 KiB"));
  EXPECT_THAT(Refusal(std::string("{\"payload\":\"\xff\"}"), *verifier_),
              HasSubstr("not valid JSON"));
}

TEST(ErasureReceiptTest, WrongKeyFails) {
  TempDir dir;
  std::unique_ptr<ReceiptSigner> signer = Ed25519Signer(dir, "a.pem");
  std::unique_ptr<ReceiptSigner> other = Ed25519Signer(dir, "b.pem");
  ASSERT_NE(signer, nullptr);
  ASSERT_NE(other, nullptr);
  ASSERT_NE(signer->key_id(), other->key_id());
  const std::string envelope = SignOrFail(*signer, SampleReceipt());
  const ReceiptVerifier other_verifier = VerifierFor(*other);
  EXPECT_THAT(Refusal(envelope, other_verifier), HasSubstr("key id"));
  // Claiming the other key's id leaves the signature to refuse it.
  EXPECT_THAT(Refusal(WithMember(envelope, "kid", other->key_id()), other_verifier),
              HasSubstr("signature does not match"));

  std::unique_ptr<ReceiptSigner> hmac = HmacSigner();
  Result<ReceiptVerifier> wrong_secret =
      ReceiptVerifier::FromHmacSecret(std::string(kSecret) + "!");
  ASSERT_TRUE(wrong_secret.ok());
  const std::string hmac_envelope = SignOrFail(*hmac, SampleReceipt());
  EXPECT_THAT(Refusal(hmac_envelope, *wrong_secret), HasSubstr("key id"));
  EXPECT_THAT(Refusal(WithMember(hmac_envelope, "kid", wrong_secret->key_id()), *wrong_secret),
              HasSubstr("signature does not match"));

  // Across algorithms: the verifier's key decides, whatever the receipt says.
  EXPECT_THAT(Refusal(hmac_envelope, other_verifier), HasSubstr("signed with \"HS256\""));
  EXPECT_THAT(Refusal(envelope, *wrong_secret), HasSubstr("signed with \"Ed25519\""));
}

TEST(ErasureReceiptTest, SignedPayloadMustBeAVersion1ReceiptAgreeingWithTheEnvelope) {
  std::unique_ptr<ReceiptSigner> signer = HmacSigner();
  const std::string envelope = SignOrFail(*signer, SampleReceipt());
  const std::string payload = Payload(envelope);
  const ReceiptVerifier verifier = VerifierFor(*signer);
  // Validly signed (by the CLI, with the same secret) yet not acceptable.
  TempDir dir;
  auto signed_payload = [&](const std::string& text) {
    WriteFile(dir.File("payload.bin"), text);
    const CommandResult mac =
        RunCommand("openssl mac -digest SHA256 -macopt hexkey:" + Hex(kSecret) + " -in '" +
                   dir.File("payload.bin") + "' -binary -out '" + dir.File("mac.bin") + "' HMAC");
    EXPECT_EQ(mac.exit_code, 0) << mac.output;
    return Envelope(text, "HS256", signer->key_id(), ReadFile(dir.File("mac.bin")));
  };
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string text = payload;
    const size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return at == std::string::npos ? text : text.replace(at, from.size(), to);
  };
  ASSERT_TRUE(VerifyReceipt(signed_payload(payload), verifier).ok());
  EXPECT_THAT(Refusal(signed_payload(replaced("\"version\":1", "\"version\":2")), verifier),
              HasSubstr("not a version 1 receipt"));
  EXPECT_THAT(Refusal(signed_payload(replaced("\"kid\":\"" + signer->key_id(), "\"kid\":\"0000")),
                      verifier),
              HasSubstr("another algorithm or key id than the envelope"));
  EXPECT_THAT(
      Refusal(signed_payload(replaced("\"version\":1,", "\"version\":1,\"events\":[],")), verifier),
      HasSubstr("unknown member \"events\""));
  EXPECT_THAT(Refusal(signed_payload(replaced("\"outbox\":3", "\"outbox\":-3")), verifier),
              HasSubstr("\"outbox\" is not a non-negative integer"));
  EXPECT_THAT(Refusal(signed_payload(replaced("\"outbox\":3", "\"outbox\":3.5")), verifier),
              HasSubstr("\"outbox\""));
  EXPECT_THAT(Refusal(signed_payload(replaced("14:32:45.123Z", "14:32:45Z")), verifier),
              HasSubstr("\"receivedCutoff\" is not a time"));
  EXPECT_THAT(
      Refusal(signed_payload(replaced("\"subjectForm\":\"sha256\"", "\"subjectForm\":\"md5\"")),
              verifier),
      HasSubstr("subjectForm"));
  EXPECT_THAT(
      Refusal(signed_payload(replaced("\"jobId\":\"erase-7f3c2a91\"", "\"jobId\":\"\"")), verifier),
      HasSubstr("jobId"));
  EXPECT_THAT(Refusal(signed_payload("not json"), verifier),
              HasSubstr("signed payload is not valid JSON"));
}

// ---- Keys ------------------------------------------------------------------

TEST(ErasureReceiptTest, HmacSecretShorterThan32BytesIsRefused) {
  const std::string short_secret(31, 's');
  Result<std::unique_ptr<ReceiptSigner>> signer = ReceiptSigner::FromHmacSecret(short_secret);
  ASSERT_FALSE(signer.ok());
  EXPECT_EQ(signer.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(signer.status().message(), HasSubstr("at least 32 bytes"));
  EXPECT_THAT(signer.status().message(), Not(HasSubstr(short_secret)));
  EXPECT_FALSE(ReceiptVerifier::FromHmacSecret(short_secret).ok());
  EXPECT_FALSE(ReceiptSigner::FromHmacSecret("").ok());
  EXPECT_TRUE(ReceiptSigner::FromHmacSecret(std::string(32, 's')).ok());
}

TEST(ErasureReceiptTest, GeneratedKeyFileIsPrivateLoadableAndNeverReplaced) {
  TempDir dir;
  const std::string path = dir.File("receipt-key.pem");
  ASSERT_TRUE(GenerateEd25519KeyFile(path).ok());
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600u);
  const std::string pem = ReadFile(path);
  EXPECT_THAT(pem, HasSubstr("-----BEGIN PRIVATE KEY-----"));
  const CommandResult described = RunCommand("openssl pkey -in '" + path + "' -noout -text");
  EXPECT_EQ(described.exit_code, 0) << described.output;
  EXPECT_THAT(described.output, HasSubstr("ED25519 Private-Key"));
  EXPECT_TRUE(ReceiptSigner::FromEd25519KeyFile(path).ok());

  const Status again = GenerateEd25519KeyFile(path);
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadFile(path), pem);
  // No temporary file is left behind, after success or refusal.
  size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path()))
    ++entries;
  EXPECT_EQ(entries, 1u);
  EXPECT_EQ(GenerateEd25519KeyFile(dir.File("missing/receipt-key.pem")).code(),
            StatusCode::kUnavailable);
}

TEST(ErasureReceiptTest, LoadsKeysTheOpensslCommandLineGenerates) {
  TempDir dir;
  const std::string key = dir.File("key.pem");
  const std::string pub = dir.File("pub.pem");
  ASSERT_EQ(RunCommand("openssl genpkey -algorithm ed25519 -out '" + key + "'").exit_code, 0);
  ASSERT_EQ(RunCommand("openssl pkey -in '" + key + "' -pubout -out '" + pub + "'").exit_code, 0);
  Result<std::unique_ptr<ReceiptSigner>> signer = ReceiptSigner::FromEd25519KeyFile(key);
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  EXPECT_EQ((*signer)->PublicKeyPem(), ReadFile(pub));

  Result<ReceiptVerifier> from_public = ReceiptVerifier::FromEd25519PublicKeyFile(pub);
  Result<ReceiptVerifier> from_private = ReceiptVerifier::FromEd25519PrivateKeyFile(key);
  Result<ReceiptVerifier> from_pem =
      ReceiptVerifier::FromEd25519PublicKeyPem((*signer)->PublicKeyPem());
  const std::string envelope = SignOrFail(**signer, SampleReceipt());
  for (const Result<ReceiptVerifier>* verifier : {&from_public, &from_private, &from_pem}) {
    ASSERT_TRUE(verifier->ok()) << verifier->status().ToString();
    EXPECT_EQ((*verifier)->key_id(), (*signer)->key_id());
    EXPECT_EQ((*verifier)->algorithm(), "Ed25519");
    EXPECT_TRUE(VerifyReceipt(envelope, **verifier).ok());
  }
}

TEST(ErasureReceiptTest, RefusesKeyFilesThatAreNotUnencryptedEd25519) {
  TempDir dir;
  auto refusal = [](Status status) {
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    return status.message();
  };
  EXPECT_THAT(refusal(ReceiptSigner::FromEd25519KeyFile(dir.File("absent.pem")).status()),
              HasSubstr("cannot read"));
  WriteFile(dir.File("garbage.pem"), "not a key\n");
  EXPECT_THAT(refusal(ReceiptSigner::FromEd25519KeyFile(dir.File("garbage.pem")).status()),
              HasSubstr("no unencrypted PEM private key"));
  EXPECT_THAT(refusal(ReceiptVerifier::FromEd25519PublicKeyFile(dir.File("garbage.pem")).status()),
              HasSubstr("no PEM public key"));

  ASSERT_EQ(RunCommand("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out '" +
                       dir.File("ec.pem") + "'")
                .exit_code,
            0);
  EXPECT_THAT(refusal(ReceiptSigner::FromEd25519KeyFile(dir.File("ec.pem")).status()),
              HasSubstr("not Ed25519"));
  ASSERT_EQ(RunCommand("openssl pkey -in '" + dir.File("ec.pem") + "' -pubout -out '" +
                       dir.File("ec-pub.pem") + "'")
                .exit_code,
            0);
  EXPECT_THAT(refusal(ReceiptVerifier::FromEd25519PublicKeyFile(dir.File("ec-pub.pem")).status()),
              HasSubstr("not Ed25519"));

  // Would prompt for a passphrase on the terminal if the loader let OpenSSL.
  ASSERT_EQ(RunCommand("openssl genpkey -algorithm ed25519 -aes-256-cbc -pass pass:secret -out '" +
                       dir.File("encrypted.pem") + "'")
                .exit_code,
            0);
  EXPECT_THAT(refusal(ReceiptSigner::FromEd25519KeyFile(dir.File("encrypted.pem")).status()),
              HasSubstr("no unencrypted PEM private key"));

  ASSERT_EQ(
      RunCommand("openssl genpkey -algorithm ed25519 -out '" + dir.File("key.pem") + "'").exit_code,
      0);
  ASSERT_EQ(RunCommand("openssl pkey -in '" + dir.File("key.pem") + "' -pubout -out '" +
                       dir.File("pub.pem") + "'")
                .exit_code,
            0);
  EXPECT_FALSE(ReceiptSigner::FromEd25519KeyFile(dir.File("pub.pem")).ok());
  EXPECT_FALSE(ReceiptVerifier::FromEd25519PublicKeyFile(dir.File("key.pem")).ok());
}

// ---- The openssl command line as a reference -------------------------------

TEST(ErasureReceiptOpensslTest, KeyIdsMatchTheirDefinition) {
  TempDir dir;
  std::unique_ptr<ReceiptSigner> signer = Ed25519Signer(dir);
  ASSERT_NE(signer, nullptr);
  // The raw public key is the last 32 bytes of its DER SubjectPublicKeyInfo.
  const CommandResult der =
      RunCommand("openssl pkey -in '" + dir.File("key.pem") +
                 "' -pubout -outform DER | tail -c 32 > '" + dir.File("raw.bin") + "'");
  ASSERT_EQ(der.exit_code, 0) << der.output;
  ASSERT_EQ(ReadFile(dir.File("raw.bin")).size(), 32u);
  EXPECT_EQ(signer->key_id(), OpensslSha256Hex(dir.File("raw.bin"), 16));

  WriteFile(dir.File("hmac-id.bin"), std::string("hmac:") + kSecret);
  std::unique_ptr<ReceiptSigner> hmac = HmacSigner();
  EXPECT_EQ(hmac->key_id(), OpensslSha256Hex(dir.File("hmac-id.bin"), 16));

  WriteFile(dir.File("user.bin"), kUserId);
  EXPECT_EQ(ReceiptSubject::For(kUserId).text,
            "sha256:" + OpensslSha256Hex(dir.File("user.bin"), 64));
}

TEST(ErasureReceiptOpensslTest, OpensslVerifiesOurEd25519Signature) {
  TempDir dir;
  std::unique_ptr<ReceiptSigner> signer = Ed25519Signer(dir);
  ASSERT_NE(signer, nullptr);
  const std::string envelope = SignOrFail(*signer, SampleReceipt());
  WriteFile(dir.File("pub.pem"), signer->PublicKeyPem());
  WriteFile(dir.File("payload.bin"), Payload(envelope));
  WriteFile(dir.File("sig.bin"), Signature(envelope));
  const std::string verify = "openssl pkeyutl -verify -pubin -inkey '" + dir.File("pub.pem") +
                             "' -rawin -in '" + dir.File("payload.bin") + "' -sigfile '" +
                             dir.File("sig.bin") + "'";
  const CommandResult verified = RunCommand(verify);
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
  EXPECT_THAT(verified.output, HasSubstr("Signature Verified Successfully"));

  // And it refuses a changed payload, so the check above is a real one.
  WriteFile(dir.File("payload.bin"), Payload(envelope) + " ");
  EXPECT_NE(RunCommand(verify).exit_code, 0);
}

TEST(ErasureReceiptOpensslTest, OpensslComputesOurHs256Signature) {
  TempDir dir;
  std::unique_ptr<ReceiptSigner> signer = HmacSigner();
  const std::string envelope = SignOrFail(*signer, SampleReceipt());
  WriteFile(dir.File("payload.bin"), Payload(envelope));
  const CommandResult mac =
      RunCommand("openssl dgst -sha256 -mac HMAC -macopt hexkey:" + Hex(kSecret) +
                 " -binary -out '" + dir.File("mac.bin") + "' '" + dir.File("payload.bin") + "'");
  ASSERT_EQ(mac.exit_code, 0) << mac.output;
  EXPECT_EQ(Hex(ReadFile(dir.File("mac.bin"))), Hex(Signature(envelope)));
}

TEST(ErasureReceiptOpensslTest, WeVerifyAnEd25519SignatureMadeByOpenssl) {
  TempDir dir;
  const std::string key = dir.File("key.pem");
  ASSERT_EQ(RunCommand("openssl genpkey -algorithm ed25519 -out '" + key + "'").exit_code, 0);
  ASSERT_EQ(RunCommand("openssl pkey -in '" + key + "' -pubout -outform DER | tail -c 32 > '" +
                       dir.File("raw.bin") + "'")
                .exit_code,
            0);
  ASSERT_EQ(RunCommand("openssl pkey -in '" + key + "' -pubout -out '" + dir.File("pub.pem") + "'")
                .exit_code,
            0);
  const std::string kid = OpensslSha256Hex(dir.File("raw.bin"), 16);
  // Written by hand, not by our signer: the format as documented.
  const std::string payload =
      "{\"version\":1,\"jobId\":\"job-cli\",\"subject\":\"alice@example.com\",\"subjectForm\":"
      "\"userId\","
      "\"receivedCutoff\":\"2024-02-29T23:59:59.999Z\",\"startedAt\":\"2024-03-01T00:00:00.000Z\","
      "\"finishedAt\":\"2024-03-01T00:00:01.500Z\",\"counts\":{\"metadata\":7,\"documents\":7,"
      "\"outbox\":0,\"deadLetters\":2},\"issuedAt\":\"2024-03-01T00:00:02.000Z\",\"kid\":\"" +
      kid + "\",\"alg\":\"Ed25519\"}";
  WriteFile(dir.File("payload.bin"), payload);
  const CommandResult signed_by_cli =
      RunCommand("openssl pkeyutl -sign -inkey '" + key + "' -rawin -in '" +
                 dir.File("payload.bin") + "' -out '" + dir.File("sig.bin") + "'");
  ASSERT_EQ(signed_by_cli.exit_code, 0) << signed_by_cli.output;
  const std::string envelope = Envelope(payload, "Ed25519", kid, ReadFile(dir.File("sig.bin")));

  Result<ReceiptVerifier> verifier = ReceiptVerifier::FromEd25519PublicKeyFile(dir.File("pub.pem"));
  ASSERT_TRUE(verifier.ok()) << verifier.status().ToString();
  Result<ErasureReceipt> verified = VerifyReceipt(envelope, *verifier);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->job_id, "job-cli");
  EXPECT_EQ(verified->subject.form, SubjectForm::kUserId);
  EXPECT_EQ(verified->subject.text, "alice@example.com");
  EXPECT_EQ(verified->received_cutoff_ms, *ParseTimestamp("2024-02-29T23:59:59.999Z"));
  EXPECT_EQ(verified->finished_at_ms, *ParseTimestamp("2024-03-01T00:00:01.500Z"));
  EXPECT_EQ(verified->counts.metadata, 7);
  EXPECT_EQ(verified->counts.dead_letters, 2);
  EXPECT_EQ(verified->key_id, kid);
}

TEST(ErasureReceiptOpensslTest, WeVerifyAnHs256SignatureMadeByOpenssl) {
  TempDir dir;
  std::unique_ptr<ReceiptSigner> signer = HmacSigner();
  // The payload from our signer, the signature from the CLI alone.
  const std::string payload = Payload(SignOrFail(*signer, SampleReceipt()));
  WriteFile(dir.File("payload.bin"), payload);
  const CommandResult mac =
      RunCommand("openssl mac -digest SHA256 -macopt hexkey:" + Hex(kSecret) + " -in '" +
                 dir.File("payload.bin") + "' -binary -out '" + dir.File("mac.bin") + "' HMAC");
  ASSERT_EQ(mac.exit_code, 0) << mac.output;
  Result<ReceiptVerifier> verifier = ReceiptVerifier::FromHmacSecret(kSecret);
  ASSERT_TRUE(verifier.ok());
  Result<ErasureReceipt> verified = VerifyReceipt(
      Envelope(payload, "HS256", signer->key_id(), ReadFile(dir.File("mac.bin"))), *verifier);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  ExpectSameReceipt(*verified, SampleReceipt());
}

}  // namespace
}  // namespace eventlogger
