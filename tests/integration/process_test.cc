// The `eventlogger` binary as users run it: flags, environment variables,
// the startup log line, SIGTERM handling and the access log.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <regex>
#include <thread>

#include "integration/backend.h"
#include "integration/child_process.h"
#include "integration/service_fixture.h"
#include "integration/test_client.h"

namespace eventlogger::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;


TEST(ProcessTest, TopLevelHelpAndVersion) {
  EVENTLOGGER_EMBEDDED_ONLY();
  ChildProcess help({"--help"});
  EXPECT_EQ(help.WaitForExit(std::chrono::seconds(10)), 0);
  EXPECT_THAT(help.Output(), HasSubstr("eventlogger serve"));
  ChildProcess version({"--version"});
  EXPECT_EQ(version.WaitForExit(std::chrono::seconds(10)), 0);
  EXPECT_THAT(version.Output(), HasSubstr("eventlogger "));
}

// The release binary links jemalloc and sets its options in the binary
// (src/jemalloc_options.cc); jemalloc prints the options it took at exit when
// MALLOC_CONF asks for its statistics. The sanitizer build has no jemalloc.
TEST(ProcessTest, ReleaseBinaryReturnsFreedMemoryToTheKernelInTheBackground) {
  EVENTLOGGER_EMBEDDED_ONLY();
  if (!TestBinaryLinksJemalloc()) GTEST_SKIP() << "the binary under test does not link jemalloc";
  ChildProcess version({"--version"}, {"MALLOC_CONF=stats_print:true"});
  EXPECT_EQ(version.WaitForExit(std::chrono::seconds(10)), 0);
  EXPECT_THAT(version.Output(), HasSubstr("opt.background_thread: true"));
  EXPECT_THAT(version.Output(), HasSubstr("opt.dirty_decay_ms: 1000"));
}

TEST(ProcessTest, ServeHelpListsEveryFlag) {
  EVENTLOGGER_EMBEDDED_ONLY();
  ChildProcess help({"serve", "--help"});
  EXPECT_EQ(help.WaitForExit(std::chrono::seconds(10)), 0);
  for (const char* flag : {"--listen", "--data-dir", "--max-body-bytes", "--store-timeout-ms", "--io-threads"}) {
    EXPECT_THAT(help.Output(), HasSubstr(flag));
  }
}

TEST(ProcessTest, BadFlagsExitNonZeroWithAMessage) {
  EVENTLOGGER_EMBEDDED_ONLY();
  ChildProcess unknown({"serve", "--no-such-flag"});
  EXPECT_EQ(unknown.WaitForExit(std::chrono::seconds(10)), 2);
  EXPECT_THAT(unknown.Output(), HasSubstr("no-such-flag"));
  ChildProcess bad_listen({"serve", "--listen", "nonsense"});
  EXPECT_EQ(bad_listen.WaitForExit(std::chrono::seconds(10)), 2);
  EXPECT_THAT(bad_listen.Output(), HasSubstr("--listen"));
  ChildProcess bad_command({"fly"});
  EXPECT_EQ(bad_command.WaitForExit(std::chrono::seconds(10)), 2);
}

TEST(ProcessTest, ServesLogsAndStopsCleanlyOnSigterm) {
  EVENTLOGGER_EMBEDDED_ONLY();
  TempDir dir;
  ChildProcess server({"serve", "--listen", "127.0.0.1:0", "--data-dir", (dir.path() / "data").string()});
  const auto listening = server.WaitForLine(kListening, std::chrono::seconds(20));
  ASSERT_TRUE(listening.has_value()) << server.Output();
  const uint16_t port = static_cast<uint16_t>(std::stoi((*listening)[1].str()));

  const std::string secret_payload = "very-private-payload-value";
  const TestResponse posted = HttpRequest(
      port, "POST", "/events",
      R"({"userId":"proc","eventType":"t","jsonDetails":{"secret":")" + secret_payload + R"("}})",
      {{"Content-Type", "application/json"}, {"X-Request-Id", "proc-test-1"}});
  ASSERT_EQ(posted.status, 201);
  ASSERT_TRUE(server.WaitForLine(std::regex(R"("requestId":"proc-test-1")"), std::chrono::seconds(10)))
      << server.Output();

  server.Signal(SIGTERM);
  EXPECT_EQ(server.WaitForExit(std::chrono::seconds(20)), 0) << server.Output();
  const std::string log = server.Output();
  // The access log line has the documented fields and never the payload.
  EXPECT_THAT(log, HasSubstr(R"("method":"POST","route":"/events","status":201,"durationMs":)"));
  EXPECT_THAT(log, HasSubstr(R"("msg":"stopped")"));
  EXPECT_THAT(log, Not(HasSubstr(secret_payload)));
  // Every line is one JSON object.
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    EXPECT_EQ(line.front(), '{') << line;
    EXPECT_EQ(line.back(), '}') << line;
  }
  // The data was closed cleanly and is all there.
  EXPECT_EQ(ReadSqliteRows(dir.path() / "data" / "metadata.db").size(), 1u);
  EXPECT_EQ(ReadRocksDbRows(dir.path() / "data" / "documents").size(), 1u);
}

TEST(ProcessTest, SigintClosesIdleKeepAliveConnections) {
  EVENTLOGGER_EMBEDDED_ONLY();
  TempDir dir;
  ChildProcess server({"serve", "--listen", "127.0.0.1:0", "--data-dir", dir.path().string()});
  const auto listening = server.WaitForLine(kListening, std::chrono::seconds(20));
  ASSERT_TRUE(listening.has_value()) << server.Output();
  const uint16_t port = static_cast<uint16_t>(std::stoi((*listening)[1].str()));
  // An idle keep-alive connection must not hold up the shutdown.
  TestClient idle(port);
  EXPECT_EQ(idle.Get("/healthz").status, 200);
  server.Signal(SIGINT);
  EXPECT_EQ(server.WaitForExit(std::chrono::seconds(20)), 0) << server.Output();
  EXPECT_TRUE(idle.ServerClosed());
}

TEST(ProcessTest, EnvironmentVariablesSetFlagsAndFlagsWin) {
  EVENTLOGGER_EMBEDDED_ONLY();
  TempDir dir;
  ChildProcess server({"serve", "--data-dir", dir.path().string()},
                      {"EVENTLOGGER_LISTEN=127.0.0.1:0", "EVENTLOGGER_MAX_BODY_BYTES=200"});
  const auto listening = server.WaitForLine(kListening, std::chrono::seconds(20));
  ASSERT_TRUE(listening.has_value()) << server.Output();
  const uint16_t port = static_cast<uint16_t>(std::stoi((*listening)[1].str()));
  const std::string body = R"({"userId":"env","eventType":"t","jsonDetails":{"pad":")" + std::string(300, 'x') + "\"}}";
  EXPECT_EQ(HttpRequest(port, "POST", "/events", body, {{"Content-Type", "application/json"}}).status, 413);
  server.Signal(SIGTERM);
  EXPECT_EQ(server.WaitForExit(std::chrono::seconds(20)), 0);

  ChildProcess flag_wins({"serve", "--data-dir", dir.path().string(), "--max-body-bytes", "4096"},
                         {"EVENTLOGGER_LISTEN=127.0.0.1:0", "EVENTLOGGER_MAX_BODY_BYTES=200"});
  const auto listening2 = flag_wins.WaitForLine(kListening, std::chrono::seconds(20));
  ASSERT_TRUE(listening2.has_value()) << flag_wins.Output();
  const uint16_t port2 = static_cast<uint16_t>(std::stoi((*listening2)[1].str()));
  EXPECT_EQ(HttpRequest(port2, "POST", "/events", body, {{"Content-Type", "application/json"}}).status, 201);
  flag_wins.Signal(SIGTERM);
  EXPECT_EQ(flag_wins.WaitForExit(std::chrono::seconds(20)), 0);
}

TEST(ProcessTest, PortInUseFailsWithAClearMessage) {
  EVENTLOGGER_EMBEDDED_ONLY();
  TempDir dir;
  ChildProcess first({"serve", "--listen", "127.0.0.1:0", "--data-dir", (dir.path() / "a").string()});
  const auto listening = first.WaitForLine(kListening, std::chrono::seconds(20));
  ASSERT_TRUE(listening.has_value());
  ChildProcess second({"serve", "--listen", "127.0.0.1:" + (*listening)[1].str(), "--data-dir",
                       (dir.path() / "b").string()});
  EXPECT_EQ(second.WaitForExit(std::chrono::seconds(20)), 1);
  EXPECT_THAT(second.Output(), HasSubstr("cannot listen"));
  first.Signal(SIGTERM);
  EXPECT_EQ(first.WaitForExit(std::chrono::seconds(20)), 0);
}

// Runs a shell command; its stdout, or nullopt when it fails.
std::optional<std::string> Shell(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::string output;
  char chunk[4096];
  for (size_t n; (n = fread(chunk, 1, sizeof chunk, pipe)) > 0;) output.append(chunk, n);
  const int status = ::pclose(pipe);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return output;
}

TEST(ProcessTest, ServesHttpsWithACertificateAndKey) {
  EVENTLOGGER_EMBEDDED_ONLY();
  TempDir dir;
  const std::string cert = (dir.path() / "cert.pem").string();
  const std::string key = (dir.path() / "key.pem").string();
  ASSERT_TRUE(Shell("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=t"
                    " -addext subjectAltName=IP:127.0.0.1 -keyout " + key + " -out " + cert + " 2>/dev/null"));
  ChildProcess server({"serve", "--listen", "127.0.0.1:0", "--data-dir", (dir.path() / "data").string(),
                       "--tls-cert", cert, "--tls-key", key});
  const auto listening = server.WaitForLine(kListening, std::chrono::seconds(20));
  ASSERT_TRUE(listening.has_value()) << server.Output();
  EXPECT_THAT(server.Output(), HasSubstr(R"("scheme":"https")"));
  const std::string base = "https://127.0.0.1:" + (*listening)[1].str();
  const std::string curl = "curl -sS --max-time 10 --cacert " + cert + " ";
  const auto posted = Shell(curl + "-w ' %{http_code}' -H 'Content-Type: application/json' --data-binary "
                            R"('{"userId":"tls","eventType":"t","jsonDetails":{"n":1}}' )" + base + "/events");
  ASSERT_TRUE(posted.has_value()) << server.Output();
  EXPECT_THAT(*posted, HasSubstr(" 201"));
  const auto listed = Shell(curl + base + "/events/tls");
  ASSERT_TRUE(listed.has_value());
  EXPECT_THAT(*listed, HasSubstr(R"("jsonPayload":{"n":1})"));
  // Plain HTTP on the HTTPS port gets no answer.
  EXPECT_FALSE(Shell("curl -sS --max-time 10 http://127.0.0.1:" + (*listening)[1].str() + "/healthz 2>/dev/null"));
  server.Signal(SIGTERM);
  EXPECT_EQ(server.WaitForExit(std::chrono::seconds(20)), 0) << server.Output();
}

TEST(ProcessTest, AnUnusableCertificateOrKeyStopsTheStartWithAClearMessage) {
  EVENTLOGGER_EMBEDDED_ONLY();
  TempDir dir;
  const std::string cert = (dir.path() / "cert.pem").string();
  ASSERT_TRUE(Shell("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=t"
                    " -keyout /dev/null -out " + cert + " 2>/dev/null"));
  ChildProcess wrong_key({"serve", "--listen", "127.0.0.1:0", "--data-dir", (dir.path() / "a").string(),
                          "--tls-cert", cert, "--tls-key", cert});
  EXPECT_EQ(wrong_key.WaitForExit(std::chrono::seconds(20)), 1);
  EXPECT_THAT(wrong_key.Output(), HasSubstr("cannot use the TLS private key"));
  ChildProcess half({"serve", "--listen", "127.0.0.1:0", "--data-dir", (dir.path() / "b").string(),
                     "--tls-cert", cert});
  EXPECT_EQ(half.WaitForExit(std::chrono::seconds(20)), 2);  // a usage error
  EXPECT_THAT(half.Output(), HasSubstr("--tls-cert and --tls-key go together"));
}

}  // namespace
}  // namespace eventlogger::testing
