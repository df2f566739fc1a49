#include "aws/sigv4_signer.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdio>
#include <optional>

#include "core/percent_encoding.h"

namespace eventlogger::aws {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kHexDigits = "0123456789abcdef";

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
}

// RFC 7230 "tchar": anything else in a header name would either be rejected
// by the server or let a caller smuggle in extra header lines.
bool IsTokenChar(unsigned char c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
      (c >= '0' && c <= '9')) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) !=
         std::string_view::npos;
}

char AsciiLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

// SigV4 percent-encoding: every byte outside the RFC 3986 unreserved set,
// with uppercase hex (AWS compares the canonical form byte for byte).
std::string UriEncode(std::string_view in, bool keep_slash) {
  static constexpr std::string_view kUpperHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (unsigned char c : in) {
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kUpperHex[c >> 4]);
      out.push_back(kUpperHex[c & 0xF]);
    }
  }
  return out;
}


std::string HexEncode(const unsigned char* data, size_t size) {
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kHexDigits[data[i] >> 4]);
    out.push_back(kHexDigits[data[i] & 0xF]);
  }
  return out;
}

Result<std::string> Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(),
                 nullptr) != 1) {
    return Status::Internal("OpenSSL SHA-256 failed");
  }
  return HexEncode(digest, size);
}

using Key = std::array<unsigned char, 32>;

Status HmacSha256(std::string_view key, std::string_view data, Key& out) {
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(),
           out.data(), &size) == nullptr ||
      size != out.size()) {
    return Status::Internal("OpenSSL HMAC-SHA256 failed");
  }
  return Status::Ok();
}

std::string_view AsView(const Key& key) {
  return {reinterpret_cast<const char*>(key.data()), key.size()};
}

// AWS's "Trimall": the signature must not depend on how a proxy reflows
// whitespace inside a value.
std::string TrimAll(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

// Resolves "." and ".." and drops empty segments ("//"). A trailing slash
// survives only if the path itself ends in one ("/a/b/.." becomes "/a", not
// RFC 3986's "/a/"), matching botocore, the reference this signer is tested
// against.
std::string NormalizePath(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    const std::string_view segment = path.substr(pos, slash - pos);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    pos = slash + 1;
  }
  std::string out = "/";
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out.push_back('/');
    out.append(segments[i]);
  }
  if (!segments.empty() && path.back() == '/') out.push_back('/');
  return out;
}

Result<std::string> CanonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view param = query.substr(pos, amp - pos);
    pos = amp + 1;
    if (param.empty()) continue;
    const size_t eq = param.find('=');
    const std::string_view raw_key = param.substr(0, eq);
    const std::string_view raw_value = eq == std::string_view::npos
                                           ? std::string_view()
                                           : param.substr(eq + 1);
    // Decoding first makes the result independent of whether the caller
    // pre-encoded a character, as long as it did so consistently.
    std::optional<std::string> key = PercentDecode(raw_key);
    std::optional<std::string> value = PercentDecode(raw_value);
    if (!key || !value) {
      return Status::InvalidArgument("malformed percent-escape in query: " +
                                     std::string(param));
    }
    params.emplace_back(UriEncode(*key, false), UriEncode(*value, false));
  }
  // Pairs, not "k=v" strings: "a-b=1" must sort after "a=1".
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [key, value] : params) {
    if (!out.empty()) out.push_back('&');
    out.append(key).append("=").append(value);
  }
  return out;
}

Result<std::string> AmzDate(std::chrono::system_clock::time_point now) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(now);
  const auto day = std::chrono::floor<std::chrono::days>(seconds);
  const std::chrono::year_month_day ymd(day);
  const std::chrono::hh_mm_ss<std::chrono::seconds> time(seconds - day);
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) {
    return Status::InvalidArgument("signing time outside years 0000-9999");
  }
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%04d%02u%02uT%02d%02d%02dZ", year,
                static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()),
                static_cast<int>(time.hours().count()),
                static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return std::string(buffer);
}

// Values end up in the Authorization header and scope; a separator or
// control character there would corrupt the header or forge extra ones.
bool IsSafeScopePart(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (c <= 0x20 || c >= 0x7F || c == '/' || c == ',' || c == '=') {
      return false;
    }
  }
  return true;
}

bool HasLineBreakOrNul(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) !=
         std::string_view::npos;
}

struct CanonicalHeader {
  std::string name;  // lowercase
  std::string value;
};

}  // namespace

SigV4Signer::SigV4Signer(std::string region, std::string service)
    : region_(std::move(region)), service_(std::move(service)) {}

Result<SigV4Signer::Key> SigV4Signer::SigningKey(
    const std::string& secret, const std::string& date) const {
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (!cached_date_.empty() && cached_date_ == date &&
        cached_secret_.size() == secret.size() &&
        CRYPTO_memcmp(cached_secret_.data(), secret.data(), secret.size()) ==
            0) {
      return cached_key_;
    }
  }
  // Derived outside the lock: racing threads may both derive the same key,
  // which is cheaper than making every signer wait on one HMAC chain.
  Key k_date, k_region, k_service, k_signing;
  Status status = HmacSha256("AWS4" + secret, date, k_date);
  if (status.ok()) status = HmacSha256(AsView(k_date), region_, k_region);
  if (status.ok()) status = HmacSha256(AsView(k_region), service_, k_service);
  if (status.ok()) {
    status = HmacSha256(AsView(k_service), "aws4_request", k_signing);
  }
  if (!status.ok()) return status;
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    cached_date_ = date;
    cached_secret_ = secret;
    cached_key_ = k_signing;
  }
  return k_signing;
}

Result<SignedRequest> SigV4Signer::Sign(
    const SigningRequest& request, const Credentials& credentials,
    std::chrono::system_clock::time_point now,
    const SigningOptions& options) const {
  if (!IsSafeScopePart(region_) || !IsSafeScopePart(service_)) {
    return Status::InvalidArgument("invalid signing region or service");
  }
  if (!IsSafeScopePart(credentials.access_key_id)) {
    return Status::InvalidArgument("invalid or empty access key id");
  }
  if (credentials.secret_access_key.empty()) {
    return Status::InvalidArgument("empty secret access key");
  }
  if (HasLineBreakOrNul(credentials.session_token)) {
    return Status::InvalidArgument("session token contains a line break");
  }
  if (request.method.empty() ||
      !std::all_of(request.method.begin(), request.method.end(),
                   [](char c) { return IsTokenChar(c); })) {
    return Status::InvalidArgument("invalid HTTP method");
  }
  if (request.path.empty() || request.path.front() != '/') {
    return Status::InvalidArgument("request path must start with '/'");
  }

  Result<std::string> amz_date = AmzDate(now);
  if (!amz_date.ok()) return amz_date.status();
  const std::string date = amz_date->substr(0, 8);

  Result<std::string> body_hash = Sha256Hex(request.body);
  if (!body_hash.ok()) return body_hash.status();

  std::vector<CanonicalHeader> headers;
  headers.reserve(request.headers.size() + 3);
  bool has_host = false;
  for (const auto& [raw_name, raw_value] : request.headers) {
    if (raw_name.empty() ||
        !std::all_of(raw_name.begin(), raw_name.end(),
                     [](char c) { return IsTokenChar(c); })) {
      return Status::InvalidArgument("invalid header name: " + raw_name);
    }
    if (HasLineBreakOrNul(raw_value)) {
      return Status::InvalidArgument("header " + raw_name +
                                     " has a line break in its value");
    }
    std::string name = AsciiLower(raw_name);
    if (name == "authorization" || name == "x-amz-date" ||
        name == "x-amz-security-token" || name == "user-agent" ||
        name == "expect" || name == "x-amzn-trace-id" ||
        (name == "x-amz-content-sha256" && options.sign_body_hash_header)) {
      continue;
    }
    std::string value = TrimAll(raw_value);
    if (name == "host") {
      if (value.empty()) return Status::InvalidArgument("empty host header");
      has_host = true;
    }
    headers.push_back({std::move(name), std::move(value)});
  }
  if (!has_host) return Status::InvalidArgument("missing host header");

  SignedRequest signed_request;
  HeaderList& added = signed_request.headers_to_add;
  const bool has_token = !credentials.session_token.empty();
  if (has_token) {
    added.emplace_back("X-Amz-Security-Token", credentials.session_token);
    if (!options.omit_session_token_from_signature) {
      headers.push_back(
          {"x-amz-security-token", TrimAll(credentials.session_token)});
    }
  }
  added.emplace_back("X-Amz-Date", *amz_date);
  headers.push_back({"x-amz-date", *amz_date});
  if (options.sign_body_hash_header) {
    added.emplace_back("x-amz-content-sha256", *body_hash);
    headers.push_back({"x-amz-content-sha256", *body_hash});
  }

  // Stable, so repeated headers keep their order when joined below.
  std::stable_sort(headers.begin(), headers.end(),
                   [](const CanonicalHeader& a, const CanonicalHeader& b) {
                     return a.name < b.name;
                   });
  std::string canonical_headers;
  std::string signed_headers;
  std::string payload_hash = *body_hash;
  for (size_t i = 0; i < headers.size();) {
    const std::string& name = headers[i].name;
    std::string value = headers[i].value;
    size_t j = i + 1;
    for (; j < headers.size() && headers[j].name == name; ++j) {
      value.append(",").append(headers[j].value);
    }
    canonical_headers.append(name).append(":").append(value).append("\n");
    if (!signed_headers.empty()) signed_headers.push_back(';');
    signed_headers.append(name);
    if (name == "x-amz-content-sha256") payload_hash = value;
    i = j;
  }

  std::string path =
      options.normalize_path ? NormalizePath(request.path) : request.path;
  if (options.double_uri_encode) path = UriEncode(path, true);

  Result<std::string> query = CanonicalQuery(request.query);
  if (!query.ok()) return query.status();

  std::string& canonical = signed_request.canonical_request;
  canonical.append(request.method).append("\n");
  canonical.append(path).append("\n");
  canonical.append(*query).append("\n");
  canonical.append(canonical_headers).append("\n");
  canonical.append(signed_headers).append("\n");
  canonical.append(payload_hash);

  Result<std::string> canonical_hash = Sha256Hex(canonical);
  if (!canonical_hash.ok()) return canonical_hash.status();
  const std::string scope =
      date + "/" + region_ + "/" + service_ + "/aws4_request";
  std::string& string_to_sign = signed_request.string_to_sign;
  string_to_sign.append(kAlgorithm).append("\n");
  string_to_sign.append(*amz_date).append("\n");
  string_to_sign.append(scope).append("\n");
  string_to_sign.append(*canonical_hash);

  Result<Key> key = SigningKey(credentials.secret_access_key, date);
  if (!key.ok()) return key.status();
  Key mac;
  if (Status status = HmacSha256(AsView(*key), string_to_sign, mac);
      !status.ok()) {
    return status;
  }
  signed_request.signature = HexEncode(mac.data(), mac.size());

  std::string authorization(kAlgorithm);
  authorization.append(" Credential=")
      .append(credentials.access_key_id)
      .append("/")
      .append(scope)
      .append(", SignedHeaders=")
      .append(signed_headers)
      .append(", Signature=")
      .append(signed_request.signature);
  added.emplace_back("Authorization", std::move(authorization));
  return signed_request;
}

}  // namespace eventlogger::aws
