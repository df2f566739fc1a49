// JwtVerifier against tokens and keys Node's crypto made (sign_jwts.js), and
// against the HS256 example of RFC 7515 appendix A.1.
#include "auth/jwt_verifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cstdio>
#include <map>
#include <string>

#include "core/base64url.h"

namespace eventlogger::auth {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kNow = 1'800'000'000;
constexpr const char* kHsSecret = "an HS256 secret of at least 32 bytes, for tests";

struct Signed {
  std::string rsa_pem, ec_pem, jwks;
  std::map<std::string, std::string> tokens;
};

// Runs the Node script once for the whole suite (RSA key generation takes
// a moment).
const Signed& Fixture() {
  static const Signed fixture = [] {
    Signed out;
    const std::string command = std::string("node '") + EVENTLOGGER_TEST_DATA_DIR + "/auth/sign_jwts.js' " +
                                std::to_string(kNow) + " '" + kHsSecret + "'";
    std::string text;
    if (FILE* pipe = ::popen(command.c_str(), "r"); pipe != nullptr) {
      char buffer[4096];
      size_t n;
      while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) text.append(buffer, n);
      ::pclose(pipe);
    }
    rapidjson::Document document;
    document.Parse(text.data(), text.size());
    if (document.HasParseError() || !document.IsObject()) {
      ADD_FAILURE() << "sign_jwts.js (needs node) printed: " << text;
      return out;
    }
    out.rsa_pem = document["rsaPem"].GetString();
    out.ec_pem = document["ecPem"].GetString();
    out.jwks = document["jwks"].GetString();
    for (const auto& member : document["tokens"].GetObject()) {
      out.tokens[member.name.GetString()] = member.value.GetString();
    }
    return out;
  }();
  return fixture;
}

std::string Token(const std::string& name) {
  const auto it = Fixture().tokens.find(name);
  EXPECT_NE(it, Fixture().tokens.end()) << name;
  return it == Fixture().tokens.end() ? std::string() : it->second;
}

JwtOptions Checked() {
  JwtOptions options;
  options.issuer = "https://id.example";
  options.audience = "eventlogger";
  return options;
}

std::unique_ptr<JwtVerifier> Make(JwtOptions options, std::string_view pem, std::string_view jwks) {
  Result<std::unique_ptr<JwtVerifier>> verifier = JwtVerifier::FromText(options, pem, jwks);
  EXPECT_TRUE(verifier.ok()) << verifier.status().ToString();
  return verifier.ok() ? std::move(*verifier) : nullptr;
}

std::unique_ptr<JwtVerifier> Rsa() { return Make(Checked(), Fixture().rsa_pem, ""); }

std::string Refusal(const JwtVerifier& verifier, const std::string& token) {
  Result<JwtClaims> claims = verifier.Verify(token, kNow);
  EXPECT_FALSE(claims.ok()) << "accepted: " << token;
  return claims.ok() ? std::string() : claims.status().message();
}

TEST(JwtVerifierTest, VerifiesTheHs256ExampleOfRfc7515) {
  // Appendix A.1: the key is the JWK's "k", the token its compact form.
  const std::optional<std::string> key =
      Base64UrlDecode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow");
  ASSERT_TRUE(key.has_value());
  JwtOptions options;
  options.hs256_secret = *key;
  auto verifier = Make(options, "", "");
  ASSERT_NE(verifier, nullptr);
  const std::string token =
      "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
      "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  Result<std::string> payload = verifier->VerifySignature(token);
  ASSERT_TRUE(payload.ok()) << payload.status().ToString();
  EXPECT_THAT(*payload, HasSubstr("\"iss\":\"joe\""));
  // One flipped signature bit, and it fails.
  std::string flipped = token;
  flipped.back() = flipped.back() == 'k' ? 'l' : 'k';
  EXPECT_FALSE(verifier->VerifySignature(flipped).ok());
  // Its claims are not ours: long expired, and no sub.
  EXPECT_THAT(verifier->Verify(token, kNow).status().message(), HasSubstr("expired"));
  EXPECT_THAT(verifier->Verify(token, 1300819000).status().message(), HasSubstr("sub"));
}

TEST(JwtVerifierTest, AcceptsRs256Es256AndHs256TokensWithTheirClaims) {
  auto rsa = Rsa();
  ASSERT_NE(rsa, nullptr);
  Result<JwtClaims> claims = rsa->Verify(Token("rs_valid"), kNow);
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ(claims->subject, "user-1");
  EXPECT_TRUE(claims->scopes.Allow(Scope::kEventsRead));
  EXPECT_FALSE(claims->scopes.Allow(Scope::kEventsWrite));

  auto ec = Make(Checked(), Fixture().ec_pem, "");
  ASSERT_NE(ec, nullptr);
  EXPECT_TRUE(ec->Verify(Token("es_valid"), kNow).ok());

  JwtOptions hs = Checked();
  hs.hs256_secret = kHsSecret;
  auto hmac = Make(hs, "", "");
  ASSERT_NE(hmac, nullptr);
  EXPECT_TRUE(hmac->Verify(Token("hs_valid"), kNow).ok());
  // Each only with its own kind of key.
  EXPECT_FALSE(rsa->Verify(Token("es_valid"), kNow).ok());
  EXPECT_FALSE(ec->Verify(Token("rs_valid"), kNow).ok());
  EXPECT_FALSE(hmac->Verify(Token("rs_valid"), kNow).ok());
}

TEST(JwtVerifierTest, ScopeClaimGrantsWriteOnlyWhenItNamesEventsWrite) {
  auto rsa = Rsa();
  Result<JwtClaims> claims = rsa->Verify(Token("rs_write_scope"), kNow);
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_TRUE(claims->scopes.Allow(Scope::kEventsWrite));
  EXPECT_TRUE(claims->scopes.Allow(Scope::kEventsRead));
  EXPECT_FALSE(claims->scopes.Has(Scope::kAdmin));
}

TEST(JwtVerifierTest, AudienceMayBeAList) {
  EXPECT_TRUE(Rsa()->Verify(Token("rs_aud_list"), kNow).ok());
}

TEST(JwtVerifierTest, TimesAllowTheLeewayAndNoMore) {
  auto rsa = Rsa();
  EXPECT_TRUE(rsa->Verify(Token("rs_within_leeway"), kNow).ok());
  EXPECT_THAT(Refusal(*rsa, Token("rs_expired")), HasSubstr("expired"));
  EXPECT_THAT(Refusal(*rsa, Token("rs_not_yet")), HasSubstr("not valid yet"));
  // The valid token expires 600 s from now: refused once that and the leeway passed.
  EXPECT_TRUE(rsa->Verify(Token("rs_valid"), kNow + 600 + 30).ok());
  EXPECT_FALSE(rsa->Verify(Token("rs_valid"), kNow + 600 + 31).ok());
  JwtOptions strict = Checked();
  strict.leeway = std::chrono::seconds(0);
  EXPECT_FALSE(Make(strict, Fixture().rsa_pem, "")->Verify(Token("rs_within_leeway"), kNow).ok());
}

TEST(JwtVerifierTest, RefusesWrongIssuerAudienceAndMissingClaims) {
  auto rsa = Rsa();
  EXPECT_THAT(Refusal(*rsa, Token("rs_wrong_issuer")), HasSubstr("issuer"));
  EXPECT_THAT(Refusal(*rsa, Token("rs_wrong_audience")), HasSubstr("audience"));
  EXPECT_THAT(Refusal(*rsa, Token("rs_no_exp")), HasSubstr("exp"));
  EXPECT_THAT(Refusal(*rsa, Token("rs_string_exp")), HasSubstr("not a number"));
  EXPECT_THAT(Refusal(*rsa, Token("rs_no_sub")), HasSubstr("sub"));
  EXPECT_THAT(Refusal(*rsa, Token("rs_bad_sub")), HasSubstr("userId"));
  // Without --jwt-issuer / --jwt-audience those claims are not checked.
  auto lax = Make(JwtOptions{}, Fixture().rsa_pem, "");
  EXPECT_TRUE(lax->Verify(Token("rs_wrong_issuer"), kNow).ok());
  EXPECT_TRUE(lax->Verify(Token("rs_wrong_audience"), kNow).ok());
}

TEST(JwtVerifierTest, RefusesAlgNoneConfusionForgeryAndTampering) {
  auto rsa = Rsa();
  EXPECT_THAT(Refusal(*rsa, Token("alg_none")), HasSubstr("algorithm"));
  EXPECT_THAT(Refusal(*rsa, Token("rs_as_ps256")), HasSubstr("algorithm"));
  // HS256 keyed with the RSA public key: no HS256 key exists here.
  EXPECT_THAT(Refusal(*rsa, Token("hs_with_public_key")), HasSubstr("no key"));
  // Not even when an HS256 secret is configured beside the RSA key.
  JwtOptions both = Checked();
  both.hs256_secret = kHsSecret;
  EXPECT_THAT(Refusal(*Make(both, Fixture().rsa_pem, ""), Token("hs_with_public_key")), HasSubstr("signature"));
  EXPECT_THAT(Refusal(*rsa, Token("rs_other_key")), HasSubstr("signature"));
  EXPECT_THAT(Refusal(*rsa, Token("rs_tampered")), HasSubstr("signature"));
  EXPECT_THAT(Refusal(*rsa, Token("rs_crit")), HasSubstr("crit"));
}

TEST(JwtVerifierTest, RefusesMalformedTokens) {
  auto rsa = Rsa();
  const std::string valid = Token("rs_valid");
  for (const std::string& bad : {std::string(), std::string("abc"), std::string("a.b"), std::string("a.b.c.d"),
                                 valid + "=", valid.substr(0, valid.size() - 1), "." + valid,
                                 std::string("e30.e30."), std::string(9000, 'a') + ".e30.e30"}) {
    EXPECT_FALSE(rsa->Verify(bad, kNow).ok()) << bad;
  }
  // A header repeating "alg" is refused whatever either copy says.
  const std::string repeated = Base64UrlEncode(R"({"alg":"RS256","alg":"none"})") + valid.substr(valid.find('.'));
  EXPECT_THAT(Refusal(*rsa, repeated), HasSubstr("repeats"));
}

TEST(JwtVerifierTest, JwksPicksTheKeyByKidAndSkipsKeysNotForSigning) {
  auto set = Make(Checked(), "", Fixture().jwks);
  ASSERT_NE(set, nullptr);
  EXPECT_TRUE(set->Verify(Token("rs_valid"), kNow).ok());  // kid rsa-1
  EXPECT_TRUE(set->Verify(Token("es_valid"), kNow).ok());  // kid ec-1
  EXPECT_TRUE(set->Verify(Token("rs_write_scope"), kNow).ok());  // no kid: any RSA key
  EXPECT_THAT(Refusal(*set, Token("es_wrong_kid")), HasSubstr("no key"));
  // The "enc" key is the one rs_other_key was signed with: not used.
  EXPECT_THAT(Refusal(*set, Token("rs_other_key")), HasSubstr("signature"));
  EXPECT_THAT(Refusal(*set, Token("hs_with_public_key")), HasSubstr("no key"));
}

TEST(JwtVerifierTest, CreateNamesWhatIsWrongWithTheKeys) {
  JwtOptions short_secret;
  short_secret.hs256_secret = "too short";
  EXPECT_THAT(JwtVerifier::FromText(short_secret, "", "").status().message(), HasSubstr("32 bytes"));
  EXPECT_THAT(JwtVerifier::FromText({}, "not a pem", "").status().message(), HasSubstr("PEM"));
  EXPECT_THAT(JwtVerifier::FromText({}, "", "[]").status().message(), HasSubstr("JSON object"));
  EXPECT_THAT(JwtVerifier::FromText({}, "", R"({"keys":[{"kty":"oct","k":"AAAA"}]})").status().message(),
              HasSubstr("no RSA or P-256"));
  EXPECT_THAT(JwtVerifier::FromText({}, "", R"({"keys":[{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}]})")
                  .status()
                  .message(),
              HasSubstr("32 bytes"));
  JwtOptions missing;
  missing.jwks_file = "/nonexistent/jwks.json";
  EXPECT_THAT(JwtVerifier::Create(missing).status().message(), HasSubstr("cannot read"));
}

}  // namespace
}  // namespace eventlogger::auth
