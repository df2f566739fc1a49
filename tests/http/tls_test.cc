// Tests for HttpServer's TLS mode and for loading its certificate, against
// independent peers: certificates made by the openssl command, requests made
// by curl, and a raw socket for the misbehaving clients.
#include "http/tls_context.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>

#include "http/http_server.h"
#include "support/temp_dir.h"

namespace eventlogger::http {
namespace {

using std::chrono::milliseconds;
using testing_support::TempDir;

// Runs a shell command; its stdout, and whether it exited 0.
struct CommandResult {
  bool ok = false;
  std::string output;
};
CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) return result;
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, pipe)) > 0) result.output.append(chunk, n);
  const int status = ::pclose(pipe);
  result.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  return result;
}

// A self-signed P-256 certificate for 127.0.0.1, made by the openssl command.
void MakeCertificate(const std::string& cert, const std::string& key) {
  ASSERT_TRUE(RunCommand("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1"
                  " -subj /CN=eventlogger-test -addext subjectAltName=IP:127.0.0.1"
                  " -keyout " + key + " -out " + cert)
                  .ok);
}

TEST(TlsContextTest, LoadsAMatchingCertificateAndKey) {
  TempDir dir;
  MakeCertificate(dir.File("cert.pem"), dir.File("key.pem"));
  EXPECT_TRUE(MakeTlsContext({dir.File("cert.pem"), dir.File("key.pem")}).ok());
}

TEST(TlsContextTest, NamesAMissingCertificate) {
  TempDir dir;
  MakeCertificate(dir.File("cert.pem"), dir.File("key.pem"));
  const auto context = MakeTlsContext({dir.File("absent.pem"), dir.File("key.pem")});
  ASSERT_FALSE(context.ok());
  EXPECT_EQ(context.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(context.status().message().find("absent.pem"), std::string::npos) << context.status().message();
}

TEST(TlsContextTest, NamesAKeyThatIsNotAKey) {
  TempDir dir;
  MakeCertificate(dir.File("cert.pem"), dir.File("key.pem"));
  const auto context = MakeTlsContext({dir.File("cert.pem"), dir.File("cert.pem")});
  ASSERT_FALSE(context.ok());
  EXPECT_NE(context.status().message().find("private key"), std::string::npos) << context.status().message();
}

TEST(TlsContextTest, RefusesAKeyOfAnotherCertificate) {
  TempDir dir;
  MakeCertificate(dir.File("cert.pem"), dir.File("key.pem"));
  MakeCertificate(dir.File("other-cert.pem"), dir.File("other-key.pem"));
  const auto context = MakeTlsContext({dir.File("cert.pem"), dir.File("other-key.pem")});
  ASSERT_FALSE(context.ok());
  EXPECT_NE(context.status().message().find("other-key.pem"), std::string::npos) << context.status().message();
}

TEST(TlsContextTest, NeedsBothFiles) {
  TempDir dir;
  MakeCertificate(dir.File("cert.pem"), dir.File("key.pem"));
  EXPECT_FALSE(MakeTlsContext({dir.File("cert.pem"), ""}).ok());
}

// A server over TLS that echoes request bodies and names the request target.
class TlsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeCertificate(cert_, dir_.File("key.pem"));
    HttpServerOptions options;
    options.port = 0;
    options.io_threads = 1;
    options.header_timeout = milliseconds(400);
    options.shutdown_grace = milliseconds(500);
    options.access_log = false;
    options.tls = {cert_, dir_.File("key.pem")};
    server_ = std::make_unique<HttpServer>(
        options, [](const Request& request, RequestInfo&) -> boost::asio::awaitable<Response> {
          Response response(HttpStatus::ok, 11);
          response.body() = std::string(request.target()) + ":" + request.body();
          co_return response;
        });
    ASSERT_TRUE(server_->Start().ok());
    base_ = "https://127.0.0.1:" + std::to_string(server_->local_endpoint().port());
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }
  // curl trusting only the test certificate, bounded in time.
  std::string Curl(const std::string& arguments) const {
    return "curl -sS --max-time 10 --cacert " + cert_ + " " + arguments;
  }
  int RawConnect() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(server_->local_endpoint().port());
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
    return fd;
  }
  // True when the server closes `fd` within `limit`; what it sent is in `received`.
  static bool ClosedWithin(int fd, milliseconds limit, std::string* received) {
    const auto end = std::chrono::steady_clock::now() + limit;
    for (;;) {
      const auto left = std::chrono::duration_cast<milliseconds>(end - std::chrono::steady_clock::now()).count();
      if (left <= 0) return false;
      pollfd ready{fd, POLLIN, 0};
      if (::poll(&ready, 1, static_cast<int>(left)) <= 0) continue;
      char chunk[4096];
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return true;
      received->append(chunk, static_cast<size_t>(n));
    }
  }

  TempDir dir_;
  const std::string cert_ = dir_.File("cert.pem");
  std::unique_ptr<HttpServer> server_;
  std::string base_;
};

TEST_F(TlsServerTest, AnswersOverTls) {
  const CommandResult result = RunCommand(Curl("--data-binary hello " + base_ + "/echo"));
  ASSERT_TRUE(result.ok);
  EXPECT_EQ(result.output, "/echo:hello");
}

TEST_F(TlsServerTest, KeepsTheConnectionForTheNextRequest) {
  const CommandResult result =
      RunCommand(Curl("-w ' %{http_code} %{num_connects}\\n' " + base_ + "/first " + base_ + "/second"));
  ASSERT_TRUE(result.ok);
  // curl counts the connections each transfer opened: the second reuses the first's.
  EXPECT_EQ(result.output, "/first: 200 1\n/second: 200 0\n");
}

TEST_F(TlsServerTest, AnswersInFullWhenTheClientAsksToClose) {
  const CommandResult result = RunCommand(Curl("-H 'Connection: close' --data-binary bye " + base_ + "/last"));
  ASSERT_TRUE(result.ok);
  EXPECT_EQ(result.output, "/last:bye");
}

TEST_F(TlsServerTest, ACertificateTheClientDoesNotTrustFailsTheHandshake) {
  EXPECT_FALSE(RunCommand("curl -sS --max-time 10 " + base_ + "/echo").ok);
}

// (Versions before 1.2 are refused, but OpenSSL 3's default security level
// refuses them on the client side too, so no client here can show it.)
TEST_F(TlsServerTest, SpeaksTls12AndTls13) {
  EXPECT_TRUE(RunCommand(Curl("--tlsv1.2 --tls-max 1.2 " + base_ + "/echo")).ok);
  EXPECT_TRUE(RunCommand(Curl("--tlsv1.3 " + base_ + "/echo")).ok);
}

TEST_F(TlsServerTest, PlainHttpOnTheTlsPortIsClosedNotAnswered) {
  const int fd = RawConnect();
  const std::string request = "GET / HTTP/1.1\r\nHost: test\r\n\r\n";
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
  std::string received;
  EXPECT_TRUE(ClosedWithin(fd, milliseconds(5000), &received));
  EXPECT_EQ(received.find("HTTP/1.1"), std::string::npos) << received;
  ::close(fd);
}

TEST_F(TlsServerTest, AClientThatNeverCompletesTheHandshakeIsCutOffAtTheHeaderTimeout) {
  const int fd = RawConnect();
  std::string received;
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(ClosedWithin(fd, milliseconds(250), &received));  // not before the timeout
  EXPECT_TRUE(ClosedWithin(fd, milliseconds(5000), &received));
  EXPECT_GE(std::chrono::steady_clock::now() - started, milliseconds(400));
  ::close(fd);
}

}  // namespace
}  // namespace eventlogger::http
