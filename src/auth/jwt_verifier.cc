#include "auth/jwt_verifier.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <rapidjson/document.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include "core/base64url.h"
#include "core/validation.h"

namespace eventlogger::auth {

enum class JwtAlgorithm { kHs256, kRs256, kEs256 };

struct JwtVerifier::Key {
  JwtAlgorithm algorithm = JwtAlgorithm::kHs256;
  std::string kid;     // empty: matches a token with or without a kid
  std::string secret;  // HS256
  std::shared_ptr<EVP_PKEY> public_key;  // RS256, ES256
};

namespace {

using Key = JwtVerifier::Key;

constexpr size_t kMaxTokenBytes = 8192;
constexpr size_t kMinHmacSecretBytes = 32;  // RFC 7518 §3.2: a key at least as long as the hash
constexpr int kMinRsaBits = 2048;

Status Refused(std::string why) { return Status::InvalidArgument(std::move(why)); }

std::shared_ptr<EVP_PKEY> Own(EVP_PKEY* key) { return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free); }

Result<std::string> ReadFile(const std::string& path, std::string_view flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument(std::string(flag) + ": cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The algorithm a public key serves, or an error for a key we do not take.
Result<JwtAlgorithm> AlgorithmFor(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "RSA")) {
    if (EVP_PKEY_get_bits(key) < kMinRsaBits) {
      return Status::InvalidArgument("RSA keys must have at least 2048 bits");
    }
    return JwtAlgorithm::kRs256;
  }
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {0};
    size_t length = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &length) != 1 ||
        std::string_view(group) != "prime256v1") {
      return Status::InvalidArgument("EC keys must be on P-256 (ES256)");
    }
    return JwtAlgorithm::kEs256;
  }
  return Status::InvalidArgument("only RSA (RS256) and P-256 (ES256) public keys are supported");
}

Result<std::vector<Key>> KeysFromPem(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
                                                BIO_free);
  if (!bio) return Status::Internal("OpenSSL could not allocate a buffer");
  EVP_PKEY* raw = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (raw == nullptr) {
    return Status::InvalidArgument("--jwt-public-key: not a PEM public key (\"-----BEGIN PUBLIC KEY-----\")");
  }
  std::shared_ptr<EVP_PKEY> key = Own(raw);
  Result<JwtAlgorithm> algorithm = AlgorithmFor(key.get());
  if (!algorithm.ok()) return Status::InvalidArgument("--jwt-public-key: " + algorithm.status().message());
  return std::vector<Key>{Key{*algorithm, "", "", std::move(key)}};
}

// A JWK member holding base64url bytes.
Result<std::string> JwkBytes(const rapidjson::Value& jwk, const char* name) {
  const auto it = jwk.FindMember(name);
  if (it == jwk.MemberEnd() || !it->value.IsString()) {
    return Status::InvalidArgument(std::string("a JWK lacks \"") + name + "\"");
  }
  std::optional<std::string> bytes =
      Base64UrlDecode(std::string_view(it->value.GetString(), it->value.GetStringLength()));
  if (!bytes || bytes->empty()) return Status::InvalidArgument(std::string("a JWK's \"") + name + "\" is not base64url");
  return *bytes;
}

std::shared_ptr<EVP_PKEY> KeyFromParams(const char* type, OSSL_PARAM_BLD* builder) {
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(builder),
                                                                  OSSL_PARAM_free);
  if (!params) return nullptr;
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> context(
      EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr), EVP_PKEY_CTX_free);
  EVP_PKEY* key = nullptr;
  if (!context || EVP_PKEY_fromdata_init(context.get()) != 1 ||
      EVP_PKEY_fromdata(context.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return nullptr;
  }
  return Own(key);
}

Result<std::shared_ptr<EVP_PKEY>> RsaFromJwk(const rapidjson::Value& jwk) {
  Result<std::string> n = JwkBytes(jwk, "n");
  if (!n.ok()) return n.status();
  Result<std::string> e = JwkBytes(jwk, "e");
  if (!e.ok()) return e.status();
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn_n(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()), static_cast<int>(n->size()), nullptr), BN_free);
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn_e(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()), static_cast<int>(e->size()), nullptr), BN_free);
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> builder(OSSL_PARAM_BLD_new(),
                                                                          OSSL_PARAM_BLD_free);
  if (!bn_n || !bn_e || !builder || OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return Status::Internal("OpenSSL could not build an RSA key");
  }
  std::shared_ptr<EVP_PKEY> key = KeyFromParams("RSA", builder.get());
  if (!key) return Status::InvalidArgument("an RSA JWK is not a valid public key");
  return key;
}

Result<std::shared_ptr<EVP_PKEY>> EcFromJwk(const rapidjson::Value& jwk) {
  const auto crv = jwk.FindMember("crv");
  if (crv == jwk.MemberEnd() || !crv->value.IsString() || std::string_view(crv->value.GetString()) != "P-256") {
    return Status::InvalidArgument("an EC JWK must have \"crv\": \"P-256\"");
  }
  Result<std::string> x = JwkBytes(jwk, "x");
  if (!x.ok()) return x.status();
  Result<std::string> y = JwkBytes(jwk, "y");
  if (!y.ok()) return y.status();
  if (x->size() != 32 || y->size() != 32) return Status::InvalidArgument("a P-256 JWK's x and y must be 32 bytes");
  std::string point = "\x04" + *x + *y;  // uncompressed SEC1 point
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> builder(OSSL_PARAM_BLD_new(),
                                                                          OSSL_PARAM_BLD_free);
  if (!builder ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
    return Status::Internal("OpenSSL could not build an EC key");
  }
  std::shared_ptr<EVP_PKEY> key = KeyFromParams("EC", builder.get());
  if (!key) return Status::InvalidArgument("a P-256 JWK is not a point on the curve");
  return key;
}

Result<std::vector<Key>> KeysFromJwks(std::string_view json) {
  rapidjson::Document document;
  document.Parse(json.data(), json.size());
  if (document.HasParseError() || !document.IsObject()) {
    return Status::InvalidArgument("--jwt-jwks: not a JSON object");
  }
  const auto keys = document.FindMember("keys");
  if (keys == document.MemberEnd() || !keys->value.IsArray()) {
    return Status::InvalidArgument("--jwt-jwks: no \"keys\" array");
  }
  std::vector<Key> out;
  for (const rapidjson::Value& jwk : keys->value.GetArray()) {
    if (!jwk.IsObject()) return Status::InvalidArgument("--jwt-jwks: a key is not a JSON object");
    const auto member = [&jwk](const char* name) -> std::string {
      const auto it = jwk.FindMember(name);
      return it != jwk.MemberEnd() && it->value.IsString() ? std::string(it->value.GetString()) : std::string();
    };
    // Keys meant for encryption, or for algorithms we do not verify, are
    // someone else's: skipped, not an error (a provider's set mixes them).
    if (!member("use").empty() && member("use") != "sig") continue;
    const std::string kty = member("kty");
    const std::string alg = member("alg");
    Result<std::shared_ptr<EVP_PKEY>> key = Status::Ok();
    JwtAlgorithm algorithm;
    if (kty == "RSA" && (alg.empty() || alg == "RS256")) {
      key = RsaFromJwk(jwk);
      algorithm = JwtAlgorithm::kRs256;
    } else if (kty == "EC" && (alg.empty() || alg == "ES256")) {
      key = EcFromJwk(jwk);
      algorithm = JwtAlgorithm::kEs256;
    } else {
      continue;
    }
    if (!key.ok()) return Status::InvalidArgument("--jwt-jwks: " + key.status().message());
    Result<JwtAlgorithm> checked = AlgorithmFor(key->get());
    if (!checked.ok()) return Status::InvalidArgument("--jwt-jwks: " + checked.status().message());
    out.push_back(Key{algorithm, member("kid"), "", std::move(*key)});
  }
  if (out.empty()) return Status::InvalidArgument("--jwt-jwks: no RSA or P-256 signing key in the set");
  return out;
}

bool HmacMatches(const std::string& secret, std::string_view input, std::string_view signature) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &size) == nullptr) {
    return false;
  }
  return signature.size() == size && CRYPTO_memcmp(mac, signature.data(), size) == 0;
}

bool DigestVerifies(EVP_PKEY* key, std::string_view input, const unsigned char* signature, size_t size) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!context || EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, key) != 1) return false;
  return EVP_DigestVerify(context.get(), signature, size, reinterpret_cast<const unsigned char*>(input.data()),
                          input.size()) == 1;
}

// JWS ES256 signatures are r || s, 32 bytes each (RFC 7518 §3.4); OpenSSL
// verifies the DER form.
bool EcdsaVerifies(EVP_PKEY* key, std::string_view input, std::string_view signature) {
  if (signature.size() != 64) return false;
  const auto* bytes = reinterpret_cast<const unsigned char*>(signature.data());
  ECDSA_SIG* sig = ECDSA_SIG_new();
  if (sig == nullptr) return false;
  BIGNUM* r = BN_bin2bn(bytes, 32, nullptr);
  BIGNUM* s = BN_bin2bn(bytes + 32, 32, nullptr);
  if (r == nullptr || s == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return false;
  }
  unsigned char* der = nullptr;
  const int der_size = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (der_size <= 0) return false;
  const bool ok = DigestVerifies(key, input, der, static_cast<size_t>(der_size));
  OPENSSL_free(der);
  return ok;
}

std::optional<JwtAlgorithm> ParseAlgorithm(std::string_view name) {
  if (name == "HS256") return JwtAlgorithm::kHs256;
  if (name == "RS256") return JwtAlgorithm::kRs256;
  if (name == "ES256") return JwtAlgorithm::kEs256;
  return std::nullopt;
}

// A JSON object with no member twice: with duplicates, which one counts is
// up to the parser, and two parsers disagreeing is how checks get bypassed.
Result<rapidjson::Document> ParseObject(std::string_view text, std::string_view what) {
  rapidjson::Document document;
  document.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  if (document.HasParseError() || !document.IsObject()) {
    return Refused("the token's " + std::string(what) + " is not a JSON object");
  }
  std::unordered_set<std::string_view> names;
  for (const auto& member : document.GetObject()) {
    if (!names.insert(std::string_view(member.name.GetString(), member.name.GetStringLength())).second) {
      return Refused("the token's " + std::string(what) + " repeats a member");
    }
  }
  return document;
}

std::optional<double> NumericDate(const rapidjson::Value& claims, const char* name, bool* malformed) {
  const auto it = claims.FindMember(name);
  if (it == claims.MemberEnd()) return std::nullopt;
  if (!it->value.IsNumber() || !std::isfinite(it->value.GetDouble())) {
    *malformed = true;
    return std::nullopt;
  }
  return it->value.GetDouble();
}

}  // namespace

JwtVerifier::JwtVerifier(JwtOptions options, std::vector<Key> keys)
    : options_(std::move(options)), keys_(std::move(keys)) {}

JwtVerifier::~JwtVerifier() {
  for (Key& key : keys_) OPENSSL_cleanse(key.secret.data(), key.secret.size());
}

Result<std::unique_ptr<JwtVerifier>> JwtVerifier::Create(const JwtOptions& options) {
  std::string pem;
  std::string jwks;
  if (!options.public_key_file.empty()) {
    Result<std::string> text = ReadFile(options.public_key_file, "--jwt-public-key");
    if (!text.ok()) return text.status();
    pem = std::move(*text);
  }
  if (!options.jwks_file.empty()) {
    Result<std::string> text = ReadFile(options.jwks_file, "--jwt-jwks");
    if (!text.ok()) return text.status();
    jwks = std::move(*text);
  }
  return FromText(options, pem, jwks);
}

Result<std::unique_ptr<JwtVerifier>> JwtVerifier::FromText(const JwtOptions& options, std::string_view pem,
                                                            std::string_view jwks) {
  std::vector<Key> keys;
  if (!options.hs256_secret.empty()) {
    if (options.hs256_secret.size() < kMinHmacSecretBytes) {
      return Status::InvalidArgument("--jwt-hs256-secret must be at least 32 bytes");
    }
    keys.push_back(Key{JwtAlgorithm::kHs256, "", options.hs256_secret, nullptr});
  }
  if (!pem.empty()) {
    Result<std::vector<Key>> loaded = KeysFromPem(pem);
    if (!loaded.ok()) return loaded.status();
    for (Key& key : *loaded) keys.push_back(std::move(key));
  }
  if (!jwks.empty()) {
    Result<std::vector<Key>> loaded = KeysFromJwks(jwks);
    if (!loaded.ok()) return loaded.status();
    for (Key& key : *loaded) keys.push_back(std::move(key));
  }
  if (keys.empty()) return Status::InvalidArgument("no JWT key configured");
  return std::unique_ptr<JwtVerifier>(new JwtVerifier(options, std::move(keys)));
}

Result<std::string> JwtVerifier::VerifySignature(std::string_view token) const {
  if (token.size() > kMaxTokenBytes) return Refused("the token is longer than 8 KiB");
  const size_t first = token.find('.');
  const size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return Refused("the token is not a JWS in compact form (header.payload.signature)");
  }
  const std::optional<std::string> header_text = Base64UrlDecode(token.substr(0, first));
  const std::optional<std::string> payload = Base64UrlDecode(token.substr(first + 1, second - first - 1));
  const std::optional<std::string> signature = Base64UrlDecode(token.substr(second + 1));
  if (!header_text || !payload || !signature) return Refused("the token is not valid base64url");
  Result<rapidjson::Document> header = ParseObject(*header_text, "header");
  if (!header.ok()) return header.status();
  const auto alg = header->FindMember("alg");
  if (alg == header->MemberEnd() || !alg->value.IsString()) return Refused("the token's header has no \"alg\"");
  const std::optional<JwtAlgorithm> algorithm =
      ParseAlgorithm(std::string_view(alg->value.GetString(), alg->value.GetStringLength()));
  if (!algorithm) return Refused("the token's algorithm is not accepted (HS256, RS256 or ES256 only)");
  // Extensions the token says must be understood: we understand none.
  if (header->HasMember("crit")) return Refused("the token's header has \"crit\" extensions");
  std::string kid;
  if (const auto it = header->FindMember("kid"); it != header->MemberEnd()) {
    if (!it->value.IsString()) return Refused("the token's \"kid\" is not a string");
    kid.assign(it->value.GetString(), it->value.GetStringLength());
  }
  const std::string_view signed_part = token.substr(0, second);
  bool key_found = false;
  for (const Key& key : keys_) {
    if (key.algorithm != *algorithm) continue;
    if (!kid.empty() && !key.kid.empty() && key.kid != kid) continue;
    key_found = true;
    bool verified = false;
    switch (key.algorithm) {
      case JwtAlgorithm::kHs256:
        verified = HmacMatches(key.secret, signed_part, *signature);
        break;
      case JwtAlgorithm::kRs256:
        verified = DigestVerifies(key.public_key.get(), signed_part,
                                  reinterpret_cast<const unsigned char*>(signature->data()), signature->size());
        break;
      case JwtAlgorithm::kEs256:
        verified = EcdsaVerifies(key.public_key.get(), signed_part, *signature);
        break;
    }
    if (verified) return *payload;
  }
  if (!key_found) return Refused("no key configured here verifies the token's algorithm and kid");
  return Refused("the token's signature does not verify");
}

Result<JwtClaims> JwtVerifier::Verify(std::string_view token, int64_t now_unix_seconds) const {
  Result<std::string> payload = VerifySignature(token);
  if (!payload.ok()) return payload.status();
  Result<rapidjson::Document> parsed = ParseObject(*payload, "claims");
  if (!parsed.ok()) return parsed.status();
  const rapidjson::Document& claims = *parsed;
  const auto leeway = static_cast<double>(options_.leeway.count());
  const auto now = static_cast<double>(now_unix_seconds);
  bool malformed = false;
  const std::optional<double> exp = NumericDate(claims, "exp", &malformed);
  const std::optional<double> nbf = NumericDate(claims, "nbf", &malformed);
  if (malformed) return Refused("the token's exp or nbf is not a number");
  if (!exp) return Refused("the token has no \"exp\"");
  if (now > *exp + leeway) return Refused("the token has expired");
  if (nbf && now + leeway < *nbf) return Refused("the token is not valid yet (nbf)");
  if (!options_.issuer.empty()) {
    const auto iss = claims.FindMember("iss");
    if (iss == claims.MemberEnd() || !iss->value.IsString() ||
        std::string_view(iss->value.GetString(), iss->value.GetStringLength()) != options_.issuer) {
      return Refused("the token's issuer is not the one configured");
    }
  }
  if (!options_.audience.empty()) {
    bool matched = false;
    if (const auto aud = claims.FindMember("aud"); aud != claims.MemberEnd()) {
      const auto is_ours = [this](const rapidjson::Value& v) {
        return v.IsString() && std::string_view(v.GetString(), v.GetStringLength()) == options_.audience;
      };
      if (aud->value.IsArray()) {
        for (const rapidjson::Value& v : aud->value.GetArray()) matched = matched || is_ours(v);
      } else {
        matched = is_ours(aud->value);
      }
    }
    if (!matched) return Refused("the token is not meant for this audience");
  }
  const auto sub = claims.FindMember("sub");
  if (sub == claims.MemberEnd() || !sub->value.IsString()) return Refused("the token has no \"sub\"");
  JwtClaims out;
  out.subject.assign(sub->value.GetString(), sub->value.GetStringLength());
  if (!CheckUserId(out.subject).empty()) return Refused("the token's \"sub\" is not a valid userId");
  out.scopes = Scopes::Of(Scope::kEventsRead);
  if (const auto scope = claims.FindMember("scope"); scope != claims.MemberEnd()) {
    if (!scope->value.IsString()) return Refused("the token's \"scope\" is not a string");
    // OAuth scope strings carry the provider's other scopes too: only ours count.
    std::string_view rest(scope->value.GetString(), scope->value.GetStringLength());
    while (!rest.empty()) {
      const size_t space = rest.find(' ');
      if (rest.substr(0, space) == ScopeName(Scope::kEventsWrite)) out.scopes = out.scopes.With(Scope::kEventsWrite);
      rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    }
  }
  return out;
}

}  // namespace eventlogger::auth
