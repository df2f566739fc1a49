// Tests for HttpServer's time limits, over real loopback sockets.
//
// The server enforces its idle and read timeouts with one sweep per io
// thread instead of a timer per operation, so these tests check each limit
// from the client's side: the connection is closed when a limit passes, not
// before, and never while only the handler is busy.
#include "http/http_server.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

namespace eventlogger::http {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A blocking loopback client that can also tell "closed" from "quiet".
class RawClient {
 public:
  explicit RawClient(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      throw std::runtime_error("connect failed");
    }
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  void Send(const std::string& bytes) {
    if (::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(bytes.size())) {
      throw std::runtime_error("send failed");
    }
  }

  // Reads until the server closes (true) or `limit` passes with the
  // connection still open (false). Whatever arrives is kept in received().
  bool WaitForClose(Clock::duration limit) {
    const Clock::time_point end = Clock::now() + limit;
    for (;;) {
      const auto left = std::chrono::duration_cast<milliseconds>(end - Clock::now()).count();
      if (left <= 0) return false;
      pollfd ready{fd_, POLLIN, 0};
      if (::poll(&ready, 1, static_cast<int>(left)) <= 0) continue;
      char chunk[65536];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return true;  // end of stream, or a reset
      received_.append(chunk, static_cast<size_t>(n));
    }
  }

  // The status of one whole response with a Content-Length body, or
  // nullopt if the connection ends or `limit` passes first.
  std::optional<int> ReadResponse(Clock::duration limit) {
    const Clock::time_point end = Clock::now() + limit;
    for (;;) {
      const size_t head_end = received_.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        const size_t length_at = received_.find("Content-Length: ");
        const size_t length = std::stoul(received_.substr(length_at + 16));
        if (received_.size() >= head_end + 4 + length) {
          const int status = std::stoi(received_.substr(9, 3));
          last_body_ = received_.substr(head_end + 4, length);
          received_.erase(0, head_end + 4 + length);
          return status;
        }
      }
      const auto left = std::chrono::duration_cast<milliseconds>(end - Clock::now()).count();
      if (left <= 0) return std::nullopt;
      pollfd ready{fd_, POLLIN, 0};
      if (::poll(&ready, 1, static_cast<int>(left)) <= 0) continue;
      char chunk[65536];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return std::nullopt;
      received_.append(chunk, static_cast<size_t>(n));
    }
  }

  const std::string& received() const { return received_; }
  // The body of the last response ReadResponse returned.
  const std::string& last_body() const { return last_body_; }

 private:
  int fd_;
  std::string received_;
  std::string last_body_;
};

constexpr size_t kLargeBodyBytes = 64 << 20;  // far more than loopback socket buffers hold

struct ServerOptions {
  milliseconds idle_timeout{300};
  milliseconds read_timeout{300};
  milliseconds handler_delay{0};  // how long /slow takes
  milliseconds header_timeout{10000};
  int max_connections = 0;
};

// A server that answers /slow after `handler_delay`, /large with
// kLargeBodyBytes, /echo with the request's body, and anything else at once.
class TimeLimitTest : public ::testing::Test {
 protected:
  void StartServer(const ServerOptions& server) {
    HttpServerOptions options;
    options.port = 0;
    options.io_threads = 1;
    options.idle_timeout = server.idle_timeout;
    options.read_timeout = server.read_timeout;
    options.header_timeout = server.header_timeout;
    options.max_connections = server.max_connections;
    options.shutdown_grace = milliseconds(500);
    options.access_log = false;
    const milliseconds delay = server.handler_delay;
    server_ = std::make_unique<HttpServer>(
        options, [delay](const Request& request, RequestInfo&) -> boost::asio::awaitable<Response> {
          Response response(HttpStatus::ok, 11);
          if (request.target() == "/slow") {
            boost::asio::steady_timer wait(co_await boost::asio::this_coro::executor, delay);
            co_await wait.async_wait(boost::asio::use_awaitable);
          } else if (request.target() == "/large") {
            response.body().assign(kLargeBodyBytes, 'x');
          } else if (request.target() == "/echo") {
            response.body() = request.body();
          }
          co_return response;
        });
    ASSERT_TRUE(server_->Start().ok());
    port_ = server_->local_endpoint().port();
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
};

constexpr char kGet[] = "GET / HTTP/1.1\r\nHost: test\r\n\r\n";

TEST_F(TimeLimitTest, IdleKeepAliveConnectionClosesAfterTheIdleTimeoutAndNotBefore) {
  StartServer({.idle_timeout = milliseconds(400), .read_timeout = milliseconds(5000)});
  RawClient client(port_);
  client.Send(kGet);
  ASSERT_EQ(client.ReadResponse(std::chrono::seconds(5)), 200);
  const Clock::time_point answered = Clock::now();
  EXPECT_FALSE(client.WaitForClose(milliseconds(250))) << "closed before the idle timeout";
  // Still usable: a request within the idle period restarts the wait.
  client.Send(kGet);
  ASSERT_EQ(client.ReadResponse(std::chrono::seconds(5)), 200);
  const Clock::time_point second_answer = Clock::now();
  ASSERT_TRUE(client.WaitForClose(std::chrono::seconds(5))) << "still open long after the idle timeout";
  const auto idle_for = Clock::now() - second_answer;
  EXPECT_GE(idle_for, milliseconds(350));
  EXPECT_GE(Clock::now() - answered, milliseconds(600));
}

TEST_F(TimeLimitTest, ABodyTrickledInIsCutOffAtTheReadTimeout) {
  StartServer({.idle_timeout = milliseconds(30000), .read_timeout = milliseconds(300)});
  RawClient client(port_);
  // A slow client: the header at once, then one body byte every 50 ms. Each
  // byte arrives well within the limit; the whole request does not.
  client.Send("POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 100\r\n\r\n");
  const Clock::time_point started = Clock::now();
  bool closed = false;
  for (int i = 0; i < 100 && !closed; ++i) {
    try {
      client.Send("x");
    } catch (const std::exception&) {
      closed = true;  // reset by the server
      break;
    }
    closed = client.WaitForClose(milliseconds(50));
  }
  ASSERT_TRUE(closed) << "a 5 s trickle outlived a 300 ms read timeout";
  const auto lasted = Clock::now() - started;
  EXPECT_GE(lasted, milliseconds(250));
  EXPECT_LT(lasted, milliseconds(3000));
  EXPECT_EQ(client.received().find("HTTP/1.1 200"), std::string::npos) << "the cut-off request was answered";
}

TEST_F(TimeLimitTest, AHeaderTrickledInIsCutOffAtTheHeaderTimeout) {
  // Slowloris: a byte of header every 50 ms keeps the connection busy far
  // inside the idle and read timeouts; the header timeout ends it.
  StartServer({.idle_timeout = milliseconds(30000), .read_timeout = milliseconds(30000),
               .header_timeout = milliseconds(300)});
  RawClient client(port_);
  client.Send("GET / HTTP/1.1\r\n");
  const Clock::time_point started = Clock::now();
  bool closed = false;
  for (int i = 0; i < 100 && !closed; ++i) {
    try {
      client.Send("X");
    } catch (const std::exception&) {
      closed = true;
      break;
    }
    closed = client.WaitForClose(milliseconds(50));
  }
  ASSERT_TRUE(closed) << "a 5 s header trickle outlived a 300 ms header timeout";
  const auto lasted = Clock::now() - started;
  EXPECT_GE(lasted, milliseconds(250));
  EXPECT_LT(lasted, milliseconds(3000));
  EXPECT_EQ(client.received().find("HTTP/1.1 200"), std::string::npos);
}

TEST_F(TimeLimitTest, TheHeaderTimeoutStartsWithTheRequestNotWithTheIdleWait) {
  StartServer({.idle_timeout = milliseconds(5000), .read_timeout = milliseconds(5000),
               .header_timeout = milliseconds(200)});
  RawClient client(port_);
  client.Send(kGet);
  ASSERT_EQ(client.ReadResponse(std::chrono::seconds(5)), 200);
  // Idle for longer than the header timeout: still open, and usable.
  EXPECT_FALSE(client.WaitForClose(milliseconds(600)));
  client.Send(kGet);
  EXPECT_EQ(client.ReadResponse(std::chrono::seconds(5)), 200);
}

TEST_F(TimeLimitTest, AcceptWaitsAtTheConnectionLimit) {
  StartServer({.idle_timeout = milliseconds(30000), .read_timeout = milliseconds(30000), .max_connections = 2});
  auto first = std::make_unique<RawClient>(port_);
  RawClient second(port_);
  first->Send(kGet);
  ASSERT_EQ(first->ReadResponse(std::chrono::seconds(5)), 200);
  second.Send(kGet);
  ASSERT_EQ(second.ReadResponse(std::chrono::seconds(5)), 200);
  // The third connects (the kernel's backlog takes it) but is not served...
  RawClient third(port_);
  third.Send(kGet);
  EXPECT_EQ(third.ReadResponse(milliseconds(400)), std::nullopt) << "served beyond --max-connections";
  // ...until another connection closes.
  first.reset();
  EXPECT_EQ(third.ReadResponse(std::chrono::seconds(5)), 200);
}

TEST_F(TimeLimitTest, AHeaderThatNeverEndsIsCutOff) {
  StartServer({.idle_timeout = milliseconds(300), .read_timeout = milliseconds(300)});
  RawClient client(port_);
  client.Send("GET / HTTP/1.1\r\nHost: test\r\n");  // no blank line: the header never ends
  const Clock::time_point started = Clock::now();
  ASSERT_TRUE(client.WaitForClose(std::chrono::seconds(5)));
  EXPECT_GE(Clock::now() - started, milliseconds(250));
}

TEST_F(TimeLimitTest, AHandlerSlowerThanTheTimeoutsIsStillAnswered) {
  // The limits cover reading and writing only: a handler waiting on a store
  // has the store timeout of its own.
  StartServer({.idle_timeout = milliseconds(200),
               .read_timeout = milliseconds(200),
               .handler_delay = milliseconds(900)});
  RawClient client(port_);
  client.Send("GET /slow HTTP/1.1\r\nHost: test\r\n\r\n");
  EXPECT_EQ(client.ReadResponse(std::chrono::seconds(5)), 200);
}

TEST_F(TimeLimitTest, AClientThatStopsReadingIsCutOffAtTheReadTimeout) {
  StartServer({.idle_timeout = milliseconds(30000), .read_timeout = milliseconds(300)});
  RawClient client(port_);
  client.Send("GET /large HTTP/1.1\r\nHost: test\r\n\r\n");
  // Read nothing while the write's time limit passes: the socket buffers
  // fill long before the 64 MiB body is out, so the write stalls.
  std::this_thread::sleep_for(milliseconds(1500));
  ASSERT_TRUE(client.WaitForClose(std::chrono::seconds(20)));
  EXPECT_LT(client.received().size(), kLargeBodyBytes) << "the whole response arrived: nothing was cut off";
}

// The server parses body bytes that arrived with the header itself, and reads
// from the socket only for the rest: each way the body must come out whole,
// and a pipelined request after it must stay untouched.
using RequestBodyTest = TimeLimitTest;

std::string EchoRequest(const std::string& body) {
  return "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

TEST_F(RequestBodyTest, ABodySentWithTheHeaderComesThroughWhole) {
  StartServer({});
  RawClient client(port_);
  client.Send(EchoRequest(R"({"userId":"u1","eventType":"click"})"));
  ASSERT_EQ(client.ReadResponse(std::chrono::seconds(5)), 200);
  EXPECT_EQ(client.last_body(), R"({"userId":"u1","eventType":"click"})");
}

TEST_F(RequestBodyTest, ABodySplitAcrossWritesIsReadToTheEnd) {
  StartServer({.idle_timeout = milliseconds(5000), .read_timeout = milliseconds(5000)});
  RawClient client(port_);
  const std::string body(3000, 'b');
  const std::string request = EchoRequest("a" + body + "z");
  const size_t header_and_part = request.find("\r\n\r\n") + 4 + 1000;
  client.Send(request.substr(0, header_and_part));
  std::this_thread::sleep_for(milliseconds(50));  // the server parses the first part alone
  client.Send(request.substr(header_and_part));
  ASSERT_EQ(client.ReadResponse(std::chrono::seconds(5)), 200);
  EXPECT_EQ(client.last_body(), "a" + body + "z");
}

TEST_F(RequestBodyTest, AChunkedBodySentWithTheHeaderComesThroughWhole) {
  StartServer({});
  RawClient client(port_);
  client.Send("POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
              "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n");
  ASSERT_EQ(client.ReadResponse(std::chrono::seconds(5)), 200);
  EXPECT_EQ(client.last_body(), "hello, world");
}

TEST_F(RequestBodyTest, PipelinedRequestsInOneWriteAreEachAnsweredWithTheirOwnBody) {
  StartServer({});
  RawClient client(port_);
  client.Send(EchoRequest("first") + EchoRequest("second") + kGet + EchoRequest("third"));
  ASSERT_EQ(client.ReadResponse(std::chrono::seconds(5)), 200);
  EXPECT_EQ(client.last_body(), "first");
  ASSERT_EQ(client.ReadResponse(std::chrono::seconds(5)), 200);
  EXPECT_EQ(client.last_body(), "second");
  ASSERT_EQ(client.ReadResponse(std::chrono::seconds(5)), 200);
  EXPECT_EQ(client.last_body(), "");
  ASSERT_EQ(client.ReadResponse(std::chrono::seconds(5)), 200);
  EXPECT_EQ(client.last_body(), "third");
}

}  // namespace
}  // namespace eventlogger::http
