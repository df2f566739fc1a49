// HttpClient: a small synchronous HTTP/1.1 client for AWS endpoints.
//
// The stores call AWS from dedicated writer threads and a blocking read pool,
// so a blocking Send() is the natural shape: no callbacks, no coroutines.
// Each call runs its socket operations on an io_context owned by the
// connection, which lets every step (connect, TLS handshake, write, read)
// honour one per-request deadline even though the API is synchronous.
//
// Features, and only these: http:// and https:// (TLS 1.2+ through Asio on
// OpenSSL, peer verification against the system CA store or a given bundle,
// SNI, host name / IP address check), keep-alive with a bounded pool of idle
// connections per endpoint, per-request timeouts, a response size cap. No
// proxies, redirects, compression or chunked request bodies: AWS JSON
// protocols need none of them.
//
// Connection reuse: a connection goes back to the pool only after a complete
// exchange that both sides agree to keep alive. A connection that errored is
// closed. A pooled connection can still have been closed by the server while
// it sat idle; before reuse it is probed (readable-while-idle means the peer
// closed it), and if it nevertheless fails before any byte of the response
// arrived, the request is sent once more on a fresh connection. A server
// that closed an idle connection never saw the request; one that crashed
// while handling it looks the same, so requests sent through this client
// must be safe to resend (every AWS call this project makes is).
//
// Thread safety: Send() may be called concurrently from any number of
// threads; each call checks out its own connection. Stats are atomics.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace eventlogger::aws {

// An absolute http:// or https:// URL, split the way the client needs it.
struct Url {
  bool https = false;
  std::string host;       // name or IP address; IPv6 without brackets
  uint16_t port = 0;      // explicit or the scheme's default
  bool explicit_port = false;
  std::string target;     // path and query, "/" when the URL has none

  // Value of the Host header: host, plus ":port" when the URL named one
  // (signers must sign exactly what is sent).
  std::string HostHeader() const;
};

// Parses "http[s]://host[:port][/path][?query]". Userinfo and fragments are
// refused: credentials never travel in URLs here.
Result<Url> ParseUrl(std::string_view url);

struct HttpRequest {
  std::string method = "POST";
  std::string url;  // absolute, see ParseUrl
  // Sent in order. Host is added from the URL unless present; Content-Length
  // is always set by the client (any given value is ignored).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Bounds this exchange instead of HttpClientOptions::request_timeout when
  // positive (a client sharing the pool may need a tighter bound).
  std::chrono::milliseconds timeout{0};
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first header with this name (case-insensitive), if any.
  std::optional<std::string_view> Header(std::string_view name) const;
};

struct HttpClientOptions {
  // Budget for name resolution is the system resolver's own; this bounds
  // TCP connect plus the TLS handshake of a new connection.
  std::chrono::milliseconds connect_timeout{3000};
  // Bounds one exchange on an open connection: writing the request and
  // reading the whole response. A timeout closes the connection.
  std::chrono::milliseconds request_timeout{10000};
  // Idle keep-alive connections kept per endpoint (scheme, host, port).
  size_t max_idle_per_endpoint = 16;
  // Pooled connections idle longer than this are closed instead of reused:
  // servers drop idle connections after a while (AWS after about a minute),
  // and reusing one at that moment costs a failed attempt.
  std::chrono::milliseconds max_idle_time{20000};
  // Before reusing a pooled connection, check without blocking whether the
  // server has closed it. Tests turn this off to exercise the retry path.
  bool probe_before_reuse = true;
  // Responses with a larger body fail with ResourceExhausted.
  size_t max_response_body_bytes = size_t{64} << 20;
  // PEM bundle of trusted CAs; empty means the system store
  // (/etc/ssl/certs on Debian).
  std::string ca_file;
  std::string user_agent = "eventlogger";
};

// Counters for metrics and tests; monotonic.
struct HttpClientStats {
  std::atomic<uint64_t> requests{0};             // Send() calls
  std::atomic<uint64_t> connections_opened{0};   // TCP (+TLS) connects that succeeded
  std::atomic<uint64_t> connections_reused{0};   // exchanges on a pooled connection
  std::atomic<uint64_t> stale_retries{0};        // resent once after a pooled connection failed
};

class HttpClient {
 public:
  // Fails with InvalidArgument when the CA bundle cannot be loaded, Internal
  // if OpenSSL cannot set up a TLS context.
  static Result<std::unique_ptr<HttpClient>> Create(HttpClientOptions options = {});

  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  ~HttpClient();

  // Sends one request and reads the whole response. Any HTTP status is a
  // successful exchange; failures are transport-level:
  //   InvalidArgument    malformed URL or header
  //   Unavailable        resolve/connect/TLS/IO failure, connection closed
  //   DeadlineExceeded   connect_timeout or request_timeout elapsed
  //   FailedPrecondition the server's certificate failed verification
  //   ResourceExhausted  the response exceeds max_response_body_bytes
  // Messages name the endpoint and the failure, never headers or bodies.
  Result<HttpResponse> Send(const HttpRequest& request);

  const HttpClientStats& stats() const { return stats_; }
  const HttpClientOptions& options() const { return options_; }

  // Closes every idle pooled connection (e.g. after credentials rotate or in
  // tests). In-flight requests are unaffected.
  void CloseIdleConnections();

 private:
  struct Connection;
  struct Pool;

  explicit HttpClient(HttpClientOptions options);

  std::unique_ptr<Connection> CheckOut(const Url& url);
  void Return(const Url& url, std::unique_ptr<Connection> connection);
  Result<std::unique_ptr<Connection>> Connect(const Url& url);
  // One exchange on `connection`; sets *response_started once the first
  // byte of the response arrived (a retry is unsafe after that).
  Result<HttpResponse> Exchange(Connection& connection, const Url& url, const HttpRequest& request,
                                bool* keep_alive, bool* response_started);

  const HttpClientOptions options_;
  HttpClientStats stats_;
  std::unique_ptr<Pool> pool_;
};

}  // namespace eventlogger::aws
