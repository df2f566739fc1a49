#include "lambda/api_gateway.h"

#include <openssl/evp.h>
#include <rapidjson/document.h>

#include <map>
#include <vector>

#include "core/json_output.h"
#include "core/validation.h"
#include "http/router.h"

namespace eventlogger::lambda {
namespace {

using Json = rapidjson::Value;

std::string_view View(const Json& value) { return {value.GetString(), value.GetStringLength()}; }

const Json* Member(const Json& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(name);
  return it == object.MemberEnd() || it->value.IsNull() ? nullptr : &it->value;
}

std::string_view StringMember(const Json& object, const char* name) {
  const Json* value = Member(object, name);
  return value != nullptr && value->IsString() ? View(*value) : std::string_view();
}

// Standard base64 (RFC 4648 §4, with padding), as API Gateway encodes
// binary bodies. nullopt for anything else.
std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (length < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding's bytes as zeros.
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') ++padding;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++padding;
  out.resize(static_cast<size_t>(length) - padding);
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out((bytes.size() + 2) / 3 * 4, '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(length));
  return out;
}

// A field value API Gateway passed must still be one HTTP would carry.
bool IsFieldValue(std::string_view value) {
  for (const char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

Status AddHeader(http::Request& request, std::string_view name, std::string_view value) {
  if (name.empty() || !IsFieldValue(name) || name.find(':') != std::string_view::npos || !IsFieldValue(value)) {
    return Status::InvalidArgument("the event has a header that HTTP cannot carry");
  }
  request.insert(boost::beast::string_view(name.data(), name.size()), boost::beast::string_view(value.data(), value.size()));
  return Status::Ok();
}

// 1.0: multiValueHeaders when present (it holds every value), else headers.
Status CopyHeadersV1(const Json& event, http::Request& request) {
  if (const Json* multi = Member(event, "multiValueHeaders"); multi != nullptr && multi->IsObject()) {
    for (const auto& header : multi->GetObject()) {
      if (!header.value.IsArray()) return Status::InvalidArgument("multiValueHeaders values must be arrays");
      for (const Json& value : header.value.GetArray()) {
        if (!value.IsString()) return Status::InvalidArgument("multiValueHeaders values must be strings");
        if (Status s = AddHeader(request, View(header.name), View(value)); !s.ok()) return s;
      }
    }
    return Status::Ok();
  }
  if (const Json* single = Member(event, "headers"); single != nullptr && single->IsObject()) {
    for (const auto& header : single->GetObject()) {
      if (!header.value.IsString()) return Status::InvalidArgument("headers values must be strings");
      if (Status s = AddHeader(request, View(header.name), View(header.value)); !s.ok()) return s;
    }
  }
  return Status::Ok();
}

// 2.0: headers (repeated ones already comma-joined) and cookies.
Status CopyHeadersV2(const Json& event, http::Request& request) {
  if (const Json* headers = Member(event, "headers"); headers != nullptr && headers->IsObject()) {
    for (const auto& header : headers->GetObject()) {
      if (!header.value.IsString()) return Status::InvalidArgument("headers values must be strings");
      if (Status s = AddHeader(request, View(header.name), View(header.value)); !s.ok()) return s;
    }
  }
  if (const Json* cookies = Member(event, "cookies"); cookies != nullptr && cookies->IsArray()) {
    std::string joined;
    for (const Json& cookie : cookies->GetArray()) {
      if (!cookie.IsString()) return Status::InvalidArgument("cookies must be strings");
      if (!joined.empty()) joined += "; ";
      joined += View(cookie);
    }
    request.erase(boost::beast::http::field::cookie);
    if (!joined.empty()) {
      if (Status s = AddHeader(request, "Cookie", joined); !s.ok()) return s;
    }
  }
  return Status::Ok();
}

void AppendQueryPair(std::string& query, std::string_view name, std::string_view value) {
  if (!query.empty()) query += '&';
  query += http::PercentEncodePathSegment(name);
  query += '=';
  query += http::PercentEncodePathSegment(value);
}

// 1.0 passes the query decoded: it is encoded again for the handlers'
// parser, which then sees what the client meant.
Result<std::string> QueryV1(const Json& event) {
  std::string query;
  if (const Json* multi = Member(event, "multiValueQueryStringParameters"); multi != nullptr && multi->IsObject()) {
    for (const auto& parameter : multi->GetObject()) {
      if (!parameter.value.IsArray()) return Status::InvalidArgument("multiValueQueryStringParameters values must be arrays");
      for (const Json& value : parameter.value.GetArray()) {
        if (!value.IsString()) return Status::InvalidArgument("query parameter values must be strings");
        AppendQueryPair(query, View(parameter.name), View(value));
      }
    }
    return query;
  }
  if (const Json* single = Member(event, "queryStringParameters"); single != nullptr && single->IsObject()) {
    for (const auto& parameter : single->GetObject()) {
      if (!parameter.value.IsString()) return Status::InvalidArgument("query parameter values must be strings");
      AppendQueryPair(query, View(parameter.name), View(parameter.value));
    }
  }
  return query;
}

void AppendKey(std::string& out, std::string_view key) {
  AppendJsonString(out, key);
  out += ':';
}

}  // namespace

Result<ProxyRequest> ParseProxyEvent(std::string_view event_json) {
  rapidjson::Document event;
  event.Parse(event_json.data(), event_json.size());
  if (event.HasParseError() || !event.IsObject()) {
    return Status::InvalidArgument("the event is not a JSON object");
  }
  ProxyRequest proxy;
  std::string_view method;
  std::string_view path;
  std::string query;
  const Json* context = Member(event, "requestContext");
  if (StringMember(event, "version") == "2.0") {
    proxy.version = PayloadVersion::kV2;
    const Json* http = context != nullptr ? Member(*context, "http") : nullptr;
    if (http == nullptr) return Status::InvalidArgument("a 2.0 event needs requestContext.http");
    method = StringMember(*http, "method");
    path = StringMember(event, "rawPath");
    query = std::string(StringMember(event, "rawQueryString"));
    proxy.source_ip = std::string(StringMember(*http, "sourceIp"));
    if (Status s = CopyHeadersV2(event, proxy.request); !s.ok()) return s;
  } else if (Member(event, "httpMethod") != nullptr) {
    proxy.version = PayloadVersion::kV1;
    method = StringMember(event, "httpMethod");
    path = StringMember(event, "path");
    Result<std::string> parameters = QueryV1(event);
    if (!parameters.ok()) return parameters.status();
    query = std::move(*parameters);
    if (const Json* identity = context != nullptr ? Member(*context, "identity") : nullptr) {
      proxy.source_ip = std::string(StringMember(*identity, "sourceIp"));
    }
    if (Status s = CopyHeadersV1(event, proxy.request); !s.ok()) return s;
  } else {
    return Status::InvalidArgument(
        "the event is not an API Gateway proxy event (neither payload 2.0 nor 1.0 with httpMethod)");
  }
  if (context != nullptr) proxy.gateway_request_id = std::string(StringMember(*context, "requestId"));

  const http::Verb verb = boost::beast::http::string_to_verb(boost::beast::string_view(method.data(), method.size()));
  if (verb == http::Verb::unknown) return Status::InvalidArgument("the event's HTTP method is not one HTTP knows");
  if (!path.starts_with('/') || !IsFieldValue(path) || path.find_first_of(" ?#") != std::string_view::npos ||
      !IsFieldValue(query) || query.find_first_of(" #") != std::string_view::npos) {
    return Status::InvalidArgument("the event's path or query is not a request target");
  }
  proxy.request.method(verb);
  std::string target(path);
  if (!query.empty()) target += "?" + query;
  proxy.request.target(target);
  proxy.request.version(11);

  std::string_view body = StringMember(event, "body");
  const Json* encoded = Member(event, "isBase64Encoded");
  if (encoded != nullptr && encoded->IsBool() && encoded->GetBool()) {
    std::optional<std::string> decoded = Base64Decode(body);
    if (!decoded) return Status::InvalidArgument("the event's body says it is base64 and is not");
    proxy.request.body() = std::move(*decoded);
  } else {
    proxy.request.body() = std::string(body);
  }
  // The body is whole: what a client declared no longer matters.
  proxy.request.erase(boost::beast::http::field::transfer_encoding);
  proxy.request.content_length(proxy.request.body().size());
  return proxy;
}

std::string RenderProxyResponse(PayloadVersion version, const http::Response& response, const std::string* body) {
  const std::string& text = body != nullptr ? *body : response.body();
  // Fields in order, repeated names together.
  std::vector<std::pair<std::string, std::vector<std::string>>> fields;
  std::vector<std::string> cookies;
  for (const auto& field : response) {
    const std::string name(field.name_string());
    std::string value(field.value());
    if (version == PayloadVersion::kV2 && field.name() == boost::beast::http::field::set_cookie) {
      cookies.push_back(std::move(value));
      continue;
    }
    auto it = std::find_if(fields.begin(), fields.end(),
                           [&name](const auto& entry) { return boost::beast::iequals(entry.first, name); });
    if (it == fields.end()) {
      fields.push_back({name, {std::move(value)}});
    } else {
      it->second.push_back(std::move(value));
    }
  }
  std::string out = "{\"statusCode\":" + std::to_string(response.result_int());
  out += version == PayloadVersion::kV1 ? ",\"multiValueHeaders\":{" : ",\"headers\":{";
  bool first = true;
  for (const auto& [name, values] : fields) {
    if (!first) out += ',';
    first = false;
    AppendKey(out, name);
    if (version == PayloadVersion::kV1) {
      out += '[';
      for (size_t i = 0; i < values.size(); ++i) {
        if (i > 0) out += ',';
        AppendJsonString(out, values[i]);
      }
      out += ']';
    } else {
      std::string joined;
      for (const std::string& value : values) joined += (joined.empty() ? "" : ",") + value;
      AppendJsonString(out, joined);
    }
  }
  out += '}';
  if (version == PayloadVersion::kV2 && !cookies.empty()) {
    out += ",\"cookies\":[";
    for (size_t i = 0; i < cookies.size(); ++i) {
      if (i > 0) out += ',';
      AppendJsonString(out, cookies[i]);
    }
    out += ']';
  }
  const bool binary = !IsValidUtf8(text);
  out += ",\"body\":";
  AppendJsonString(out, binary ? Base64Encode(text) : text);
  out += binary ? ",\"isBase64Encoded\":true}" : ",\"isBase64Encoded\":false}";
  return out;
}

}  // namespace eventlogger::lambda
