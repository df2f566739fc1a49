// HttpServer: HTTP/1.1 over TCP with Boost.Beast.
//
// Threading: one io_context per io thread, each run by exactly one thread,
// so a connection's state is only ever touched by its own thread (no strands,
// no locks). One acceptor hands new connections to the io threads in turn.
// Handlers are coroutines on the connection's thread; they must not block it.
//
// Per connection: keep-alive with an idle timeout, a time limit for reading a
// request once it has begun (slow clients cannot hold a connection forever),
// request bodies capped (413, chunked or not), malformed requests answered
// with 400 and closed, pipelined requests answered in order, and one JSON
// access-log line per request.
//
// Time limits: the idle and read timeouts bound each read or write, not the
// handler (a handler waiting on a store has its own timeout). Each io thread
// enforces them with one sweep every tenth of the shorter timeout (at most
// a second), which cancels the overdue I/O, so a limit fires up to 10% late.
//
// TLS (optional): the handshake must complete within the header timeout;
// then the same request loop runs over the TLS stream. The plain path is a
// separate instantiation of that loop, so it pays nothing for TLS.
//
// Shutdown: stop accepting, close idle connections, let in-flight requests
// finish (up to a grace period), then stop the threads.
//
// Thread safety: Start and Shutdown are called from one controlling thread.
#pragma once

#include <utility>  // Boost 1.74 asio/awaitable.hpp uses std::exchange without it
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "http/http_types.h"
#include "http/tls_context.h"

namespace eventlogger::http {

// Told of every response once it is written (metrics). Called on the io
// threads: it must be quick and must not block.
class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  // `route` is the route template ("unmatched" when none matched);
  // `elapsed` runs from the request's first byte to its response written.
  virtual void Observe(std::string_view route, unsigned status, std::chrono::nanoseconds elapsed) = 0;
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;                            // 0 picks a free port
  int io_threads = 2;
  size_t max_body_bytes = size_t{64} * 1024;       // larger bodies get 413
  // POSTs to these paths (exact, before any '?') take bodies up to their
  // own limit instead, e.g. a batch endpoint's.
  std::vector<std::pair<std::string, size_t>> body_limit_overrides;
  size_t max_header_bytes = size_t{16} * 1024;     // larger headers get 431
  std::chrono::milliseconds idle_timeout{60'000};  // keep-alive wait for the next request
  std::chrono::milliseconds read_timeout{30'000};  // to receive a request once it has begun, or send a response
  std::chrono::milliseconds header_timeout{10'000};// to receive a request's head once its first byte came
  int max_connections = 16384;                     // open connections; accept waits beyond it (0: no limit)
  std::chrono::milliseconds shutdown_grace{10'000};// in-flight requests get this long at shutdown
  bool access_log = true;                          // one JSON line per request on stdout
  RequestObserver* observer = nullptr;             // told of each response; may be null
  TlsOptions tls;                                  // TLS for deployments without a proxy; off unless a certificate is given
};

using RequestHandler = std::function<boost::asio::awaitable<Response>(const Request&, RequestInfo&)>;

class HttpServer {
 public:
  HttpServer(const HttpServerOptions& options, RequestHandler handler);
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer();  // Shutdown()s

  // Loads the TLS certificate and key (when configured), binds, listens and
  // starts the io threads. InvalidArgument names a certificate or key that
  // cannot be used.
  Status Start();
  // The bound address (useful with port 0). REQUIRES: Start() succeeded.
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  // Graceful stop, as described above. Idempotent.
  void Shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace eventlogger::http
