#include "aws/http_client.h"

#include <fcntl.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <poll.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/span.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <charconv>
#include <map>
#include <mutex>

namespace eventlogger::aws {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

bool IsTokenChar(unsigned char c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

// A header that could end the header block early would let a caller (or
// data flowing into a header) smuggle extra headers or a second request.
bool IsValidHeader(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (!IsTokenChar(c)) return false;
  }
  for (unsigned char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

bool IsIpAddress(const std::string& host) {
  boost::system::error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

std::string EndpointName(const Url& url) {
  std::string name = url.https ? "https://" : "http://";
  name += url.HostHeader();
  if (!url.explicit_port) {
    name += ':';
    name += std::to_string(url.port);
  }
  return name;
}

// Runs one asynchronous operation on the connection's private io_context to
// completion. Each operation is bounded by the expiry set on the tcp_stream,
// which closes the socket when it passes, so run() always returns.
template <typename Start>
beast::error_code RunToCompletion(asio::io_context& ioc, Start&& start) {
  beast::error_code result = asio::error::operation_aborted;
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

bool IsTimeout(const beast::error_code& ec) { return ec == beast::error::timeout; }

}  // namespace

std::string Url::HostHeader() const {
  std::string out;
  if (host.find(':') != std::string::npos) {
    out = "[" + host + "]";  // IPv6 literal
  } else {
    out = host;
  }
  if (explicit_port) {
    out += ':';
    out += std::to_string(port);
  }
  return out;
}

Result<Url> ParseUrl(std::string_view text) {
  Url url;
  const size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    return Status::InvalidArgument("URL must start with http:// or https://");
  }
  const std::string_view scheme = text.substr(0, scheme_end);
  if (EqualsIgnoreCase(scheme, "https")) {
    url.https = true;
  } else if (!EqualsIgnoreCase(scheme, "http")) {
    return Status::InvalidArgument("URL scheme must be http or https");
  }
  std::string_view rest = text.substr(scheme_end + 3);
  if (rest.find('#') != std::string_view::npos) {
    return Status::InvalidArgument("URL must not have a fragment");
  }
  const size_t authority_end = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, authority_end);
  url.target = authority_end == std::string_view::npos ? "/" : std::string(rest.substr(authority_end));
  if (url.target[0] == '?') url.target.insert(0, "/");
  if (authority.find('@') != std::string_view::npos) {
    return Status::InvalidArgument("URL must not carry user information");
  }
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return Status::InvalidArgument("URL has an unterminated IPv6 address");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return Status::InvalidArgument("URL has junk after the IPv6 address");
      port = after.substr(1);
      url.explicit_port = true;
    }
  } else {
    const size_t colon = authority.find(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      url.explicit_port = true;
    }
  }
  if (host.empty()) return Status::InvalidArgument("URL has no host");
  for (unsigned char c : host) {
    if (c <= ' ' || c == 0x7F || c == '/' || c == '\\') return Status::InvalidArgument("URL host is malformed");
  }
  url.host = std::string(host);
  if (url.explicit_port) {
    unsigned value = 0;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || error != std::errc() || end != port.data() + port.size() || value == 0 ||
        value > 65535) {
      return Status::InvalidArgument("URL port must be 1-65535");
    }
    url.port = static_cast<uint16_t>(value);
  } else {
    url.port = url.https ? 443 : 80;
  }
  return url;
}

std::optional<std::string_view> HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

struct HttpClient::Connection {
  explicit Connection(bool https, asio::ssl::context& ssl) {
    if (https) {
      tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ioc, ssl);
    } else {
      plain = std::make_unique<beast::tcp_stream>(ioc);
    }
  }

  beast::tcp_stream& tcp() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

  // Declared first so it is destroyed last, after the streams using it.
  asio::io_context ioc{1};
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  Clock::time_point idle_since;
};

struct HttpClient::Pool {
  explicit Pool(asio::ssl::context context) : ssl(std::move(context)) {}

  asio::ssl::context ssl;  // before `idle`: connections refer to it
  std::mutex mu;
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle;  // guarded by mu
};

HttpClient::HttpClient(HttpClientOptions options) : options_(std::move(options)) {}

HttpClient::~HttpClient() = default;

Result<std::unique_ptr<HttpClient>> HttpClient::Create(HttpClientOptions options) {
  boost::system::error_code ec;
  asio::ssl::context ssl(asio::ssl::context::tls_client);
  // TLS 1.0/1.1 are deprecated everywhere AWS listens; refusing them keeps a
  // downgrade from ever being negotiated.
  if (SSL_CTX_set_min_proto_version(ssl.native_handle(), TLS1_2_VERSION) != 1) {
    return Status::Internal("OpenSSL refused to set the minimum TLS version");
  }
  if (options.ca_file.empty()) {
    ssl.set_default_verify_paths(ec);
    if (ec) return Status::Internal("cannot load the system CA store: " + ec.message());
  } else {
    ssl.load_verify_file(options.ca_file, ec);
    if (ec) return Status::InvalidArgument("cannot load CA bundle " + options.ca_file + ": " + ec.message());
  }
  ssl.set_verify_mode(asio::ssl::verify_peer, ec);
  if (ec) return Status::Internal("cannot enable TLS peer verification: " + ec.message());
  std::unique_ptr<HttpClient> client(new HttpClient(std::move(options)));
  client->pool_ = std::make_unique<Pool>(std::move(ssl));
  return client;
}

void HttpClient::CloseIdleConnections() {
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> doomed;
  {
    std::lock_guard lock(pool_->mu);
    doomed.swap(pool_->idle);
  }
  // Closed here, outside the lock.
}

std::unique_ptr<HttpClient::Connection> HttpClient::CheckOut(const Url& url) {
  const std::string key = EndpointName(url);
  while (true) {
    std::unique_ptr<Connection> connection;
    {
      std::lock_guard lock(pool_->mu);
      auto it = pool_->idle.find(key);
      if (it == pool_->idle.end() || it->second.empty()) return nullptr;
      // Most recently used first: it is the least likely to have been closed.
      connection = std::move(it->second.back());
      it->second.pop_back();
    }
    if (Clock::now() - connection->idle_since > options_.max_idle_time) continue;
    if (options_.probe_before_reuse) {
      // An idle HTTP/1.1 connection has nothing to read; readable (or
      // hung up) means the server closed it or sent something unexpected.
      pollfd fd{};
      fd.fd = connection->tcp().socket().native_handle();
      fd.events = POLLIN;
      if (::poll(&fd, 1, 0) != 0) continue;
    }
    return connection;
  }
}

void HttpClient::Return(const Url& url, std::unique_ptr<Connection> connection) {
  connection->idle_since = Clock::now();
  std::lock_guard lock(pool_->mu);
  auto& idle = pool_->idle[EndpointName(url)];
  if (idle.size() >= options_.max_idle_per_endpoint) {
    // Drop the oldest: it is the most likely to be closed by the server.
    idle.erase(idle.begin());
  }
  idle.push_back(std::move(connection));
}

Result<std::unique_ptr<HttpClient::Connection>> HttpClient::Connect(const Url& url) {
  const std::string endpoint = EndpointName(url);
  auto connection = std::make_unique<Connection>(url.https, pool_->ssl);
  boost::system::error_code ec;
  tcp::resolver resolver(connection->ioc);
  // Synchronous getaddrinfo: bounded by the system resolver's own timeouts.
  const auto endpoints = resolver.resolve(url.host, std::to_string(url.port), ec);
  if (ec) return Status::Unavailable("cannot resolve " + url.host + ": " + ec.message());

  beast::tcp_stream& tcp = connection->tcp();
  tcp.expires_after(options_.connect_timeout);
  ec = RunToCompletion(connection->ioc, [&](auto handler) { tcp.async_connect(endpoints, std::move(handler)); });
  if (IsTimeout(ec)) return Status::DeadlineExceeded("connecting to " + endpoint + " timed out");
  if (ec) return Status::Unavailable("cannot connect to " + endpoint + ": " + ec.message());
  // Requests are written in one go and answered at once; Nagle would only
  // add latency to the last segment.
  tcp.socket().set_option(tcp::no_delay(true), ec);
  // A child process (the service may spawn some) must not inherit the
  // connection: it would keep it open after we close it.
  const int fd = tcp.socket().native_handle();
  ::fcntl(fd, F_SETFD, ::fcntl(fd, F_GETFD) | FD_CLOEXEC);

  if (connection->tls) {
    SSL* ssl = connection->tls->native_handle();
    if (IsIpAddress(url.host)) {
      // SNI must not carry an IP address; the certificate must list it.
      if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), url.host.c_str()) != 1) {
        return Status::Internal("OpenSSL refused the IP address to verify");
      }
    } else {
      if (SSL_set_tlsext_host_name(ssl, url.host.c_str()) != 1 || SSL_set1_host(ssl, url.host.c_str()) != 1) {
        return Status::Internal("OpenSSL refused the host name to verify");
      }
    }
    ec = RunToCompletion(connection->ioc, [&](auto handler) {
      connection->tls->async_handshake(asio::ssl::stream_base::client, std::move(handler));
    });
    if (IsTimeout(ec)) return Status::DeadlineExceeded("TLS handshake with " + endpoint + " timed out");
    if (ec) {
      const long verify = SSL_get_verify_result(ssl);
      if (verify != X509_V_OK) {
        return Status::FailedPrecondition("TLS certificate of " + endpoint + " failed verification: " +
                                          X509_verify_cert_error_string(verify));
      }
      return Status::Unavailable("TLS handshake with " + endpoint + " failed: " + ec.message());
    }
  }
  tcp.expires_never();
  return connection;
}

Result<HttpResponse> HttpClient::Exchange(Connection& connection, const Url& url,
                                          const HttpRequest& request, bool* keep_alive,
                                          bool* response_started) {
  *keep_alive = false;
  *response_started = false;
  const std::string endpoint = EndpointName(url);

  // span_body: the request body is sent from the caller's string, uncopied.
  http::request<http::span_body<const char>> message;
  message.method_string(request.method);
  message.target(url.target);
  message.version(11);
  bool has_host = false, has_agent = false;
  for (const auto& [name, value] : request.headers) {
    if (EqualsIgnoreCase(name, "content-length")) continue;
    has_host = has_host || EqualsIgnoreCase(name, "host");
    has_agent = has_agent || EqualsIgnoreCase(name, "user-agent");
    message.insert(name, value);
  }
  if (!has_host) message.set(http::field::host, url.HostHeader());
  if (!has_agent && !options_.user_agent.empty()) message.set(http::field::user_agent, options_.user_agent);
  message.body() = beast::span<const char>(request.body.data(), request.body.size());
  message.content_length(request.body.size());

  beast::tcp_stream& tcp = connection.tcp();
  tcp.expires_after(request.timeout.count() > 0 ? request.timeout : options_.request_timeout);
  beast::error_code ec = RunToCompletion(connection.ioc, [&](auto handler) {
    if (connection.tls) {
      http::async_write(*connection.tls, message, std::move(handler));
    } else {
      http::async_write(tcp, message, std::move(handler));
    }
  });
  if (IsTimeout(ec)) return Status::DeadlineExceeded("sending a request to " + endpoint + " timed out");
  if (ec) return Status::Unavailable("sending a request to " + endpoint + " failed: " + ec.message());

  http::response_parser<http::string_body> parser;
  parser.body_limit(options_.max_response_body_bytes);
  parser.header_limit(64 * 1024);
  const Status too_large = Status::ResourceExhausted("response from " + endpoint + " exceeds " +
                                                     std::to_string(options_.max_response_body_bytes) + " bytes");
  // The header first, then the body: Beast 1.74 drops the body_limit error
  // for a Content-Length over the limit when the body arrives in the same
  // read as the header, so that case is checked here.
  ec = RunToCompletion(connection.ioc, [&](auto handler) {
    if (connection.tls) {
      http::async_read_header(*connection.tls, connection.buffer, parser, std::move(handler));
    } else {
      http::async_read_header(tcp, connection.buffer, parser, std::move(handler));
    }
  });
  *response_started = parser.got_some() || connection.buffer.size() != 0;
  if (!ec && parser.content_length() && *parser.content_length() > options_.max_response_body_bytes) {
    return too_large;
  }
  if (!ec) {
    ec = RunToCompletion(connection.ioc, [&](auto handler) {
      if (connection.tls) {
        http::async_read(*connection.tls, connection.buffer, parser, std::move(handler));
      } else {
        http::async_read(tcp, connection.buffer, parser, std::move(handler));
      }
    });
  }
  if (IsTimeout(ec)) return Status::DeadlineExceeded("waiting for a response from " + endpoint + " timed out");
  if (ec == http::error::body_limit) return too_large;
  if (ec) return Status::Unavailable("reading a response from " + endpoint + " failed: " + ec.message());
  tcp.expires_never();

  http::response<http::string_body> raw = parser.release();
  HttpResponse response;
  response.status = static_cast<int>(raw.result_int());
  for (const auto& field : raw) {
    response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  response.body = std::move(raw.body());
  // Leftover bytes would be read as the start of the next response.
  *keep_alive = raw.keep_alive() && connection.buffer.size() == 0;
  return response;
}

Result<HttpResponse> HttpClient::Send(const HttpRequest& request) {
  stats_.requests.fetch_add(1, std::memory_order_relaxed);
  Result<Url> url = ParseUrl(request.url);
  if (!url.ok()) return url.status();
  if (request.method.empty() || !IsValidHeader(request.method, "")) {
    return Status::InvalidArgument("HTTP method is malformed");
  }
  for (const auto& [name, value] : request.headers) {
    // The name may be echoed; the value may be a secret and never is.
    if (!IsValidHeader(name, value)) return Status::InvalidArgument("HTTP header " + name + " is malformed");
  }

  bool force_new = false;
  while (true) {
    std::unique_ptr<Connection> connection = force_new ? nullptr : CheckOut(*url);
    const bool reused = connection != nullptr;
    if (reused) {
      stats_.connections_reused.fetch_add(1, std::memory_order_relaxed);
    } else {
      Result<std::unique_ptr<Connection>> fresh = Connect(*url);
      if (!fresh.ok()) return fresh.status();
      connection = std::move(fresh).value();
      stats_.connections_opened.fetch_add(1, std::memory_order_relaxed);
    }
    bool keep_alive = false;
    bool response_started = false;
    Result<HttpResponse> response = Exchange(*connection, *url, request, &keep_alive, &response_started);
    if (response.ok()) {
      if (keep_alive) Return(*url, std::move(connection));
      return response;
    }
    connection.reset();  // errored: never pooled again
    // A pooled connection that fails before any response byte was most
    // likely closed by the server while idle, so the request never reached
    // it. Other idle connections to the endpoint probably died the same way
    // (a restart), so drop them too and resend once on a fresh connection.
    if (reused && !force_new && !response_started && response.status().code() == StatusCode::kUnavailable) {
      stats_.stale_retries.fetch_add(1, std::memory_order_relaxed);
      std::vector<std::unique_ptr<Connection>> doomed;
      {
        std::lock_guard lock(pool_->mu);
        auto it = pool_->idle.find(EndpointName(*url));
        if (it != pool_->idle.end()) doomed.swap(it->second);
      }
      force_new = true;
      continue;
    }
    return response.status();
  }
}

}  // namespace eventlogger::aws
