#include "http/http_server.h"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <list>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "core/log.h"
#include "core/validation.h"
#include "http/problem.h"
#include "http/response_head.h"

namespace eventlogger::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
namespace ssl = asio::ssl;
// A TLS session over the connection's socket, which the connection keeps
// owning: the sweep and shutdown cancel the socket, whichever stream reads it.
using TlsStream = ssl::stream<tcp::socket&>;

namespace {

std::string NewRequestId() {
  thread_local std::mt19937_64 random(std::random_device{}());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(20, '0');
  uint64_t bits = random();
  for (int i = 0; i < 16; ++i, bits >>= 4) id[i] = kHex[bits & 0xF];
  thread_local uint32_t sequence = 0;
  uint32_t seq = ++sequence;
  for (int i = 19; i >= 16; --i, seq >>= 4) id[i] = kHex[seq & 0xF];
  return id;
}

// True for malformed HTTP (worth a 400), false for a connection that simply
// ended: closed, reset, timed out or cut off mid-message.
bool IsMalformedHttp(const boost::system::error_code& ec) {
  static const auto& http_category = beast_http::make_error_code(beast_http::error::bad_target).category();
  return ec.category() == http_category && ec != beast_http::error::end_of_stream &&
         ec != beast_http::error::partial_message;
}

// Parses the body bytes already in `buffer`: with a small request they
// arrive in the same read as the header. async_read would parse them too, but
// when it needs no I/O it completes through the scheduler (a post, a mutex
// and a coroutine suspension per request); this is the same parse, inline.
// Leaves `ec` clear when the parser merely needs more bytes from the socket.
void ParseBufferedBody(beast_http::request_parser<beast_http::string_body>& parser,
                       beast::flat_buffer& buffer, boost::system::error_code& ec) {
  parser.eager(true);
  while (!parser.is_done() && buffer.size() > 0) {
    const size_t used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec == beast_http::error::need_more) {
      ec = {};
      return;
    }
    if (ec || used == 0) return;
  }
}

std::string_view VerbName(Verb verb) {
  const auto name = beast_http::to_string(verb);
  return std::string_view(name.data(), name.size());
}

}  // namespace

using Clock = std::chrono::steady_clock;
constexpr Clock::time_point kNoDeadline = Clock::time_point::max();

// One connection. Owned by its coroutine; listed in its worker's registry so
// that shutdown can find idle connections and the sweep overdue ones.
struct Connection {
  explicit Connection(tcp::socket socket_in) : socket(std::move(socket_in)) {}
  // The I/O under way (reading a request, writing a response) must finish by
  // `deadline`, or the worker's sweep cancels it. kNoDeadline while none is
  // under way: a handler waiting for a store has its own timeout.
  //
  // Why a field and a sweep rather than a timer per operation (Beast's
  // tcp_stream): arming and cancelling two or three timers per request cost
  // about 2 µs of CPU per POST, some 8% of the service (docs/performance.md).
  void StartIo(Clock::duration limit) { deadline = Clock::now() + limit; }
  void EndIo() { deadline = kNoDeadline; }

  tcp::socket socket;
  Clock::time_point deadline = kNoDeadline;
  bool waiting_for_request = true;  // idle between requests (or reading a header)
  bool head_started = false;        // a byte of the next request's head has arrived
  bool close_after_response = false;
  std::string response_head;  // reused: one allocation per connection, not per response
  std::string peer_address;   // the client's IP address, as text (rate limits key on it)
  std::list<Connection*>::iterator registry_position;
};

// The connection's socket as Beast reads a request head from it, noting
// when the head's first bytes arrive: from then on the head must be
// complete within the header timeout, so a client that trickles a header
// (slowloris) is cut off long before the idle timeout. Only the completion
// of each read is observed: no extra system call, no timer.
template <typename Stream>
class HeadReadStream {
 public:
  using executor_type = tcp::socket::executor_type;
  HeadReadStream(Stream& stream, Connection& connection, Clock::duration header_timeout)
      : stream_(stream), connection_(connection), header_timeout_(header_timeout) {}
  executor_type get_executor() { return connection_.socket.get_executor(); }

  template <typename Buffers, typename Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(boost::system::error_code, size_t)>(
        [this](auto handler, const Buffers& buffers) {
          auto executor = asio::get_associated_executor(handler, connection_.socket.get_executor());
          stream_.async_read_some(
              buffers, asio::bind_executor(executor, [this, handler = std::move(handler)](
                                                         boost::system::error_code ec, size_t bytes) mutable {
                if (bytes > 0 && !connection_.head_started) {
                  connection_.head_started = true;
                  connection_.deadline = std::min(connection_.deadline, Clock::now() + header_timeout_);
                }
                std::move(handler)(ec, bytes);
              }));
        },
        token, buffers);
  }

 private:
  Stream& stream_;
  Connection& connection_;
  const Clock::duration header_timeout_;
};

// Ends the sending side once the last response is out. Over TLS a
// close_notify goes first (and the client's is awaited, briefly), so the
// client can tell a finished connection from a cut one.
asio::awaitable<void> EndSending(tcp::socket& socket, Connection&) {
  boost::system::error_code ec;
  socket.shutdown(tcp::socket::shutdown_send, ec);
  co_return;
}
asio::awaitable<void> EndSending(TlsStream& stream, Connection& connection) {
  boost::system::error_code ec;
  connection.StartIo(std::chrono::seconds(1));
  co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
  connection.EndIo();
  connection.socket.shutdown(tcp::socket::shutdown_send, ec);
}

struct Worker {
  asio::io_context context{1};
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(context);
  std::list<Connection*> connections;  // touched only on this worker's thread
  asio::steady_timer sweep_timer{context};
  std::thread thread;
};

namespace {

// How often a worker looks for overdue I/O: a tenth of the shortest timeout,
// so a timeout fires at most 10% late (and never more than a second).
Clock::duration SweepInterval(const HttpServerOptions& options) {
  const auto shortest = std::min({options.idle_timeout, options.read_timeout, options.header_timeout});
  return std::clamp<Clock::duration>(shortest / 10, std::chrono::milliseconds(1), std::chrono::seconds(1));
}

}  // namespace

struct HttpServer::Impl {
  Impl(HttpServerOptions options_in, RequestHandler handler_in)
      : options(std::move(options_in)), handler(std::move(handler_in)) {}

  asio::awaitable<void> Accept();
  asio::awaitable<void> Sweep(Worker& worker);
  asio::awaitable<void> Serve(std::unique_ptr<Connection> connection, Worker& worker);
  // Reads requests from `stream` and answers them until the connection is
  // to close. Stream: the connection's socket, or a TLS stream over it.
  template <typename Stream>
  asio::awaitable<void> ServeRequests(Stream& stream, Connection& connection);
  // `shared_body`, when set, is sent instead of response.body().
  template <typename Stream>
  asio::awaitable<bool> Respond(Stream& stream, Connection& connection, Response response, const Request* request,
                                std::chrono::steady_clock::time_point started,
                                std::string_view route, bool keep_alive,
                                std::shared_ptr<const std::string> shared_body = nullptr);
  Response BodyTooLarge(size_t limit) const {
    return MakeProblem(HttpStatus::payload_too_large,
                       "The request body exceeds " + std::to_string(limit) + " bytes.");
  }
  // The body limit of this request: its path's override for a POST, else
  // max_body_bytes.
  size_t BodyLimitFor(const Request& request) const {
    if (request.method() == beast_http::verb::post) {
      std::string_view path(request.target().data(), request.target().size());
      path = path.substr(0, path.find('?'));
      for (const auto& [override_path, limit] : options.body_limit_overrides) {
        if (path == override_path) return limit;
      }
    }
    return options.max_body_bytes;
  }
  size_t WidestBodyLimit() const {
    size_t widest = options.max_body_bytes;
    for (const auto& entry : options.body_limit_overrides) widest = std::max(widest, entry.second);
    return widest;
  }
  void ConnectionOpened() { open_connections.fetch_add(1); }
  void ConnectionClosed() {
    if (open_connections.fetch_sub(1) == 1) {
      std::lock_guard lock(drained_mutex);
      drained.notify_all();
    }
  }

  const HttpServerOptions options;
  const RequestHandler handler;
  std::unique_ptr<ssl::context> tls;  // set when TLS is configured
  std::vector<std::unique_ptr<Worker>> workers;
  std::unique_ptr<tcp::acceptor> acceptor;
  tcp::endpoint endpoint;
  size_t next_worker = 0;
  std::atomic<bool> shutting_down{false};
  std::atomic<int> open_connections{0};
  std::mutex drained_mutex;
  std::condition_variable drained;
  bool started = false;
  bool stopped = false;
};

asio::awaitable<void> HttpServer::Impl::Accept() {
  for (;;) {
    Worker& worker = *workers[next_worker];
    next_worker = (next_worker + 1) % workers.size();
    boost::system::error_code ec;
    // At the connection limit, stop accepting (new clients wait in the
    // kernel's backlog) until one closes. Polled: it only happens under
    // overload, and a poll costs nothing the rest of the time.
    while (options.max_connections > 0 && open_connections.load() >= options.max_connections) {
      if (shutting_down.load()) co_return;
      asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(5));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    tcp::socket socket = co_await acceptor->async_accept(
        worker.context, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (shutting_down.load() || ec == asio::error::operation_aborted) co_return;
      // Out of file descriptors and the like: say so, pause, keep serving.
      log::Warn("accept failed", {{"error", ec.message()}});
      asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto connection = std::make_unique<Connection>(std::move(socket));
    const tcp::endpoint peer = connection->socket.remote_endpoint(ec);
    if (!ec) connection->peer_address = peer.address().to_string();
    ConnectionOpened();
    asio::co_spawn(worker.context, Serve(std::move(connection), worker), asio::detached);
  }
}

asio::awaitable<void> HttpServer::Impl::Sweep(Worker& worker) {
  const Clock::duration interval = SweepInterval(options);
  for (;;) {
    worker.sweep_timer.expires_after(interval);
    boost::system::error_code ec;
    co_await worker.sweep_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;  // cancelled by Shutdown
    const Clock::time_point now = Clock::now();
    for (Connection* connection : worker.connections) {
      // The cancelled read or write fails, and Serve closes the connection.
      if (connection->deadline <= now) connection->socket.cancel(ec);
    }
  }
}

template <typename Stream>
asio::awaitable<bool> HttpServer::Impl::Respond(Stream& stream, Connection& connection, Response response,
                                                const Request* request,
                                                std::chrono::steady_clock::time_point started,
                                                std::string_view route, bool keep_alive,
                                                std::shared_ptr<const std::string> shared_body) {
  std::string request_id;
  if (request != nullptr) {
    const auto sent = (*request)["X-Request-Id"];
    const std::string_view sent_id(sent.data(), sent.size());
    if (IsAcceptableRequestId(sent_id)) request_id = sent_id;
  }
  if (request_id.empty()) request_id = NewRequestId();
  keep_alive = keep_alive && !connection.close_after_response && !shutting_down.load();
  const unsigned status = response.result_int();

  boost::system::error_code ec;
  RenderResponseHead(response, ResponseFraming{request_id, keep_alive, shared_body.get()},
                     connection.response_head);
  const std::array<asio::const_buffer, 2> message{
      asio::buffer(connection.response_head), asio::buffer(shared_body ? *shared_body : response.body())};
  connection.StartIo(options.read_timeout);
  co_await asio::async_write(stream, message, asio::redirect_error(asio::use_awaitable, ec));
  connection.EndIo();
  const auto elapsed = std::chrono::steady_clock::now() - started;
  if (options.observer != nullptr) options.observer->Observe(route, status, elapsed);
  if (options.access_log) {
    const double millis = std::chrono::duration<double, std::milli>(elapsed).count();
    log::Info("request", {{"requestId", request_id},
                          {"method", request != nullptr ? VerbName(request->method()) : "-"},
                          {"route", route},
                          {"status", status},
                          {"durationMs", millis}});
  }
  if (ec) co_return false;
  if (!keep_alive) {
    co_await EndSending(stream, connection);
    co_return false;
  }
  co_return true;
}

asio::awaitable<void> HttpServer::Impl::Serve(std::unique_ptr<Connection> connection, Worker& worker) {
  worker.connections.push_front(connection.get());
  connection->registry_position = worker.connections.begin();
  try {
    if (tls == nullptr) {
      co_await ServeRequests(connection->socket, *connection);
    } else {
      TlsStream stream(connection->socket, *tls);
      // A client that connects and never completes the handshake is cut
      // off like one that never completes a request head.
      boost::system::error_code ec;
      connection->StartIo(options.header_timeout);
      co_await stream.async_handshake(ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
      connection->EndIo();
      if (!ec) {
        co_await ServeRequests(stream, *connection);
      } else if (ec != asio::error::operation_aborted && ec != asio::error::eof) {
        log::Write(log::Level::kDebug, "TLS handshake failed", {{"client", connection->peer_address}, {"error", ec.message()}});
      }
    }
  } catch (const std::exception& e) {
    log::Error("connection failed", {{"error", e.what()}});
  }
  boost::system::error_code ignored;
  connection->socket.close(ignored);
  worker.connections.erase(connection->registry_position);
  connection.reset();
  ConnectionClosed();
}

template <typename Stream>
asio::awaitable<void> HttpServer::Impl::ServeRequests(Stream& stream, Connection& connection) {
  beast::flat_buffer buffer;
  for (;;) {
    beast_http::request_parser<beast_http::string_body> parser;
    parser.header_limit(static_cast<uint32_t>(options.max_header_bytes));
    // The widest limit until the head names the path; then the request's own.
    parser.body_limit(WidestBodyLimit());
    boost::system::error_code ec;

    connection.waiting_for_request = true;
    if (shutting_down.load()) break;
    // Bytes of the next request already buffered (pipelining) start its
    // header clock now; otherwise the connection is idle until they come.
    connection.head_started = buffer.size() > 0;
    connection.StartIo(connection.head_started ? std::min<Clock::duration>(options.read_timeout, options.header_timeout)
                                                 : Clock::duration(options.idle_timeout));
    HeadReadStream<Stream> head_stream(stream, connection, options.header_timeout);
    co_await beast_http::async_read_header(head_stream, buffer, parser,
                                           asio::redirect_error(asio::use_awaitable, ec));
    connection.EndIo();
    connection.waiting_for_request = false;
    const auto started = std::chrono::steady_clock::now();
    if (ec == beast_http::error::body_limit) {
      // Beast checks a declared Content-Length against the limit while
      // parsing the header, so an oversized body is refused before it is
      // sent (and before a client waiting on 100-continue sends it).
      co_await Respond(stream, connection, BodyTooLarge(BodyLimitFor(parser.get())), nullptr, started, "unmatched",
                       false);
      break;
    }
    if (ec == beast_http::error::header_limit) {
      co_await Respond(stream, connection,
                       MakeProblem(HttpStatus::request_header_fields_too_large,
                                   "The request header is larger than the server accepts."),
                       nullptr, started, "unmatched", false);
      break;
    }
    if (ec) {
      // A parse error gets a 400; a closed, reset or timed-out socket gets nothing.
      if (IsMalformedHttp(ec)) {
        co_await Respond(stream, connection,
                         MakeProblem(HttpStatus::bad_request, "The request is not valid HTTP/1.1."),
                         nullptr, started, "unmatched", false);
      }
      break;
    }

    const size_t body_limit = BodyLimitFor(parser.get());
    if (const auto declared = parser.content_length(); declared && *declared > body_limit) {
      co_await Respond(stream, connection, BodyTooLarge(body_limit), nullptr, started, "unmatched", false);
      break;
    }
    parser.body_limit(body_limit);  // no body octet is parsed yet: a chunked body is held to it

    const auto expect = parser.get()[beast_http::field::expect];
    if (beast::iequals(expect, "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      connection.StartIo(options.read_timeout);
      co_await asio::async_write(stream, asio::buffer(kContinue),
                                 asio::redirect_error(asio::use_awaitable, ec));
      connection.EndIo();
      if (ec) break;
    }
    if (!parser.is_done()) {
      ParseBufferedBody(parser, buffer, ec);
      if (!ec && !parser.is_done()) {
        connection.StartIo(options.read_timeout);
        co_await beast_http::async_read(stream, buffer, parser,
                                        asio::redirect_error(asio::use_awaitable, ec));
        connection.EndIo();
      }
      if (ec == beast_http::error::body_limit) {
        co_await Respond(stream, connection, BodyTooLarge(body_limit), &parser.get(), started, "unmatched", false);
        break;
      }
      if (ec) {
        if (IsMalformedHttp(ec)) {
          co_await Respond(stream, connection,
                           MakeProblem(HttpStatus::bad_request, "The request body is not valid HTTP/1.1."),
                           &parser.get(), started, "unmatched", false);
        }
        break;
      }
    }

    const Request& request = parser.get();
    RequestInfo info;
    info.client_address = connection.peer_address;
    Response response;
    try {
      response = co_await handler(request, info);
    } catch (const std::exception& e) {
      log::Error("handler failed", {{"route", info.route}, {"error", e.what()}});
      response = MakeProblem(HttpStatus::internal_server_error, "An internal error occurred.");
      info.shared_body.reset();
    }
    if (!co_await Respond(stream, connection, std::move(response), &request, started, info.route,
                          request.keep_alive(), std::move(info.shared_body))) {
      break;
    }
  }
}

HttpServer::HttpServer(const HttpServerOptions& options, RequestHandler handler)
    : impl_(std::make_unique<Impl>(options, std::move(handler))) {}

HttpServer::~HttpServer() { Shutdown(); }

Status HttpServer::Start() {
  Impl& s = *impl_;
  if (s.options.tls.enabled()) {
    Result<std::unique_ptr<ssl::context>> tls = MakeTlsContext(s.options.tls);
    if (!tls.ok()) return tls.status();
    s.tls = std::move(*tls);
  }
  const int threads = std::max(1, s.options.io_threads);
  for (int i = 0; i < threads; ++i) s.workers.push_back(std::make_unique<Worker>());
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(s.options.host, ec);
  if (ec) return Status::InvalidArgument("not an IP address: " + s.options.host);
  s.acceptor = std::make_unique<tcp::acceptor>(s.workers[0]->context);
  const tcp::endpoint endpoint(address, s.options.port);
  s.acceptor->open(endpoint.protocol(), ec);
  if (!ec) s.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor->bind(endpoint, ec);
  if (!ec) s.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::Unavailable("cannot listen on " + s.options.host + ":" +
                               std::to_string(s.options.port) + ": " + ec.message());
  }
  s.endpoint = s.acceptor->local_endpoint();
  asio::co_spawn(s.workers[0]->context, s.Accept(), asio::detached);
  for (auto& worker : s.workers) asio::co_spawn(worker->context, s.Sweep(*worker), asio::detached);
  for (size_t i = 0; i < s.workers.size(); ++i) {
    Worker& worker = *s.workers[i];
    worker.thread = std::thread([&worker] { worker.context.run(); });
    pthread_setname_np(worker.thread.native_handle(), ("io-" + std::to_string(i)).c_str());
  }
  s.started = true;
  return Status::Ok();
}

tcp::endpoint HttpServer::local_endpoint() const { return impl_->endpoint; }

void HttpServer::Shutdown() {
  Impl& s = *impl_;
  if (!s.started || s.stopped) return;
  s.stopped = true;
  s.shutting_down.store(true);
  asio::post(s.workers[0]->context, [&s] {
    boost::system::error_code ignored;
    s.acceptor->close(ignored);
  });
  // Idle connections close now; busy ones close after their response.
  const auto close_connections = [&s](bool idle_only) {
    for (auto& worker : s.workers) {
      asio::post(worker->context, [&worker = *worker, idle_only] {
        for (Connection* connection : worker.connections) {
          connection->close_after_response = true;
          if (!idle_only || connection->waiting_for_request) {
            boost::system::error_code ignored;
            connection->socket.cancel(ignored);
          }
        }
      });
    }
  };
  close_connections(/*idle_only=*/true);
  {
    std::unique_lock lock(s.drained_mutex);
    if (!s.drained.wait_for(lock, s.options.shutdown_grace,
                            [&s] { return s.open_connections.load() == 0; })) {
      log::Warn("shutdown grace period over; closing busy connections",
                {{"connections", s.open_connections.load()}});
    }
  }
  close_connections(/*idle_only=*/false);
  for (auto& worker : s.workers) {
    asio::post(worker->context, [&worker = *worker] { worker.sweep_timer.cancel(); });
    worker->work.reset();
  }
  // Give cancelled connections a moment to unwind, then stop regardless.
  for (auto& worker : s.workers) {
    asio::post(worker->context, [&worker = *worker] {
      if (worker.connections.empty()) worker.context.stop();
    });
  }
  for (auto& worker : s.workers) {
    if (worker->thread.joinable()) worker->thread.join();
  }
}

}  // namespace eventlogger::http
