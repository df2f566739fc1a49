// Tests for HttpClient against FakeHttpServer on loopback: URL parsing,
// keep-alive pooling (reuse, stale connections, errored connections),
// timeouts, limits, concurrency, and TLS (verification against a given CA,
// refusal by the system store, host name and IP checks, SNI). Certificates
// are made per run with the openssl command line tool.
#include "aws/http_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "aws/fake_http_server.h"

namespace eventlogger::aws {
namespace {

using eventlogger::testing::FakeHttpServer;
using eventlogger::testing::FakeRequest;
using eventlogger::testing::FakeResponse;
using eventlogger::testing::FakeTlsConfig;
using eventlogger::testing::RunCommand;
using eventlogger::testing::TempDir;

FakeResponse Echo(const FakeRequest& request) {
  FakeResponse response;
  response.headers = {{"Content-Type", "text/plain"}, {"X-Echo-Host", request.Header("host")}};
  response.body = request.method + " " + request.target + " " + request.body;
  return response;
}

std::unique_ptr<HttpClient> MakeClient(HttpClientOptions options = {}) {
  Result<std::unique_ptr<HttpClient>> client = HttpClient::Create(std::move(options));
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return client.ok() ? std::move(client).value() : nullptr;
}

HttpRequest Post(const std::string& url, std::string body = "hello") {
  HttpRequest request;
  request.method = "POST";
  request.url = url;
  request.headers = {{"Content-Type", "text/plain"}};
  request.body = std::move(body);
  return request;
}

TEST(UrlTest, ParsesSchemesHostsPortsAndTargets) {
  Result<Url> a = ParseUrl("https://dynamodb.eu-west-1.amazonaws.com");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->https);
  EXPECT_EQ(a->host, "dynamodb.eu-west-1.amazonaws.com");
  EXPECT_EQ(a->port, 443);
  EXPECT_EQ(a->target, "/");
  EXPECT_EQ(a->HostHeader(), "dynamodb.eu-west-1.amazonaws.com");

  Result<Url> b = ParseUrl("HTTP://127.0.0.1:8000/a/b?x=1");
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->https);
  EXPECT_EQ(b->port, 8000);
  EXPECT_EQ(b->target, "/a/b?x=1");
  EXPECT_EQ(b->HostHeader(), "127.0.0.1:8000");

  Result<Url> c = ParseUrl("http://[::1]:9000?q");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->target, "/?q");
  EXPECT_EQ(c->HostHeader(), "[::1]:9000");

  Result<Url> d = ParseUrl("http://localhost");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->port, 80);
  EXPECT_FALSE(d->explicit_port);
}

TEST(UrlTest, RefusesMalformedUrls) {
  for (const char* bad : {"dynamodb.amazonaws.com", "ftp://host/", "http://", "http://:80/", "http://host:0/",
                          "http://host:65536/", "http://host:12x/", "http://user:pw@host/", "http://host/#frag",
                          "http://[::1/", "http://ho st/"}) {
    EXPECT_EQ(ParseUrl(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(HttpClientTest, SendsRequestAndReadsResponse) {
  FakeHttpServer server(Echo);
  auto client = MakeClient();
  Result<HttpResponse> response = client->Send(Post(server.url() + "/path?x=1", "body bytes"));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "POST /path?x=1 body bytes");
  EXPECT_EQ(response->Header("content-type").value_or(""), "text/plain");
  EXPECT_EQ(response->Header("X-ECHO-HOST").value_or(""), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_FALSE(response->Header("absent").has_value());
}

TEST(HttpClientTest, ReturnsErrorStatusesAsResponses) {
  FakeHttpServer server([](const FakeRequest&) {
    FakeResponse response;
    response.status = 503;
    response.body = "busy";
    return response;
  });
  auto client = MakeClient();
  Result<HttpResponse> response = client->Send(Post(server.url()));
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(response->body, "busy");
}

TEST(HttpClientTest, ReusesKeepAliveConnections) {
  FakeHttpServer server(Echo);
  auto client = MakeClient();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client->Send(Post(server.url())).ok());
  EXPECT_EQ(server.connections_accepted(), 1);
  EXPECT_EQ(client->stats().connections_opened.load(), 1u);
  EXPECT_EQ(client->stats().connections_reused.load(), 4u);
}

TEST(HttpClientTest, ProbeDiscardsConnectionTheServerClosed) {
  // The server closes each connection silently after answering, as servers
  // do with idle keep-alive connections.
  FakeHttpServer server([](const FakeRequest& request) {
    FakeResponse response = Echo(request);
    response.close_after = true;
    return response;
  });
  auto client = MakeClient();
  ASSERT_TRUE(client->Send(Post(server.url())).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the FIN arrive
  ASSERT_TRUE(client->Send(Post(server.url())).ok());
  EXPECT_EQ(server.connections_accepted(), 2);
  EXPECT_EQ(client->stats().stale_retries.load(), 0u);
  EXPECT_EQ(server.requests(), 2);
}

TEST(HttpClientTest, StaleConnectionFailingOnFirstUseIsRetriedOnceOnAFreshOne) {
  FakeHttpServer server([](const FakeRequest& request) {
    FakeResponse response = Echo(request);
    response.close_after = true;
    return response;
  });
  HttpClientOptions options;
  options.probe_before_reuse = false;  // force the failure onto the request itself
  auto client = MakeClient(options);
  ASSERT_TRUE(client->Send(Post(server.url())).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  Result<HttpResponse> second = client->Send(Post(server.url(), "second"));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->body, "POST / second");
  EXPECT_EQ(client->stats().stale_retries.load(), 1u);
  EXPECT_EQ(server.connections_accepted(), 2);
  EXPECT_EQ(server.requests(), 2);  // the stale attempt never reached the server
}

TEST(HttpClientTest, EveryPooledConnectionDeadAfterServerRestartCostsOneRetry) {
  FakeHttpServer server([](const FakeRequest& request) {
    FakeResponse response = Echo(request);
    response.delay = std::chrono::milliseconds(30);  // keep requests overlapping
    return response;
  });
  HttpClientOptions options;
  options.probe_before_reuse = false;
  auto client = MakeClient(options);
  // Fill the pool with several connections.
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&] { EXPECT_TRUE(client->Send(Post(server.url())).ok()); });
  for (auto& t : threads) t.join();
  ASSERT_GE(server.connections_accepted(), 2);
  server.CloseAllConnections();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  Result<HttpResponse> response = client->Send(Post(server.url()));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  // The first stale failure dropped the rest of the endpoint's idle pool.
  EXPECT_EQ(client->stats().stale_retries.load(), 1u);
  ASSERT_TRUE(client->Send(Post(server.url())).ok());
  EXPECT_EQ(client->stats().stale_retries.load(), 1u);
}

TEST(HttpClientTest, ConnectionThatErroredIsNotReused) {
  std::atomic<int> calls{0};
  FakeHttpServer server([&calls](const FakeRequest& request) {
    FakeResponse response = Echo(request);
    if (calls.fetch_add(1) == 0) response.raw = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort";
    return response;
  });
  auto client = MakeClient();
  Result<HttpResponse> broken = client->Send(Post(server.url()));
  EXPECT_EQ(broken.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(client->stats().stale_retries.load(), 0u);  // a fresh connection is never retried
  ASSERT_TRUE(client->Send(Post(server.url())).ok());
  EXPECT_EQ(server.connections_accepted(), 2);
}

TEST(HttpClientTest, RequestTimeoutBoundsASlowServerAndDiscardsTheConnection) {
  std::atomic<int> calls{0};
  FakeHttpServer server([&calls](const FakeRequest& request) {
    FakeResponse response = Echo(request);
    if (calls.fetch_add(1) == 0) response.delay = std::chrono::milliseconds(1500);
    return response;
  });
  HttpClientOptions options;
  options.request_timeout = std::chrono::milliseconds(200);
  auto client = MakeClient(options);
  const auto start = std::chrono::steady_clock::now();
  Result<HttpResponse> slow = client->Send(Post(server.url()));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(slow.status().code(), StatusCode::kDeadlineExceeded) << slow.status().ToString();
  EXPECT_LT(elapsed, std::chrono::milliseconds(1000));
  ASSERT_TRUE(client->Send(Post(server.url())).ok());
  EXPECT_EQ(server.connections_accepted(), 2);
}

TEST(HttpClientTest, ConnectionRefusedIsUnavailable) {
  uint16_t port;
  {
    FakeHttpServer server(Echo);
    port = server.port();
  }
  auto client = MakeClient();
  Result<HttpResponse> response = client->Send(Post("http://127.0.0.1:" + std::to_string(port) + "/"));
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(response.status().message().find("127.0.0.1"), std::string::npos);
}

TEST(HttpClientTest, ResponseLargerThanTheLimitIsRefused) {
  FakeHttpServer server([](const FakeRequest&) {
    FakeResponse response;
    response.body = std::string(10000, 'x');
    return response;
  });
  HttpClientOptions options;
  options.max_response_body_bytes = 1000;
  auto client = MakeClient(options);
  Result<HttpResponse> response = client->Send(Post(server.url()));
  EXPECT_EQ(response.status().code(), StatusCode::kResourceExhausted) << response.status().ToString();
}

TEST(HttpClientTest, ReadsChunkedResponsesAndLimitsThemToo) {
  std::atomic<int> calls{0};
  FakeHttpServer server([&calls](const FakeRequest&) {
    FakeResponse response;
    const std::string chunk(calls.fetch_add(1) == 0 ? 500 : 2000, 'c');
    char size[16];
    std::snprintf(size, sizeof size, "%zx", chunk.size());
    response.raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(size) + "\r\n" + chunk +
                   "\r\n0\r\n\r\n";
    return response;
  });
  HttpClientOptions options;
  options.max_response_body_bytes = 1000;
  auto client = MakeClient(options);
  Result<HttpResponse> small = client->Send(Post(server.url()));
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  EXPECT_EQ(small->body, std::string(500, 'c'));
  EXPECT_EQ(client->Send(Post(server.url())).status().code(), StatusCode::kResourceExhausted);
}

TEST(HttpClientTest, RefusesHeaderInjectionWithoutEchoingTheValue) {
  FakeHttpServer server(Echo);
  auto client = MakeClient();
  HttpRequest request = Post(server.url());
  request.headers.emplace_back("X-Token", "secret\r\nX-Evil: 1");
  Result<HttpResponse> response = client->Send(request);
  EXPECT_EQ(response.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(response.status().message().find("secret"), std::string::npos);
  EXPECT_EQ(server.requests(), 0);
}

TEST(HttpClientTest, ConcurrentSendsShareThePool) {
  FakeHttpServer server(Echo);
  auto client = MakeClient();
  constexpr int kThreads = 8, kPerThread = 25;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string body = std::to_string(t) + "-" + std::to_string(i);
        Result<HttpResponse> response = client->Send(Post(server.url(), body));
        if (response.ok() && response->body == "POST / " + body) ok.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  EXPECT_LE(server.connections_accepted(), kThreads);
  EXPECT_EQ(client->stats().requests.load(), static_cast<uint64_t>(kThreads * kPerThread));
}

// --- TLS -------------------------------------------------------------------

class HttpClientTlsTest : public ::testing::Test {
 protected:
  // A self-signed certificate (its own CA) for `subject_alt_names`.
  FakeTlsConfig MakeCertificate(const std::string& name, const std::string& subject_alt_names) {
    FakeTlsConfig config{dir_.File(name + ".crt"), dir_.File(name + ".key")};
    const std::string command = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
                                "-subj /CN=eventlogger-test -addext 'subjectAltName=" + subject_alt_names +
                                "' -keyout " + config.private_key_file + " -out " + config.certificate_chain_file;
    std::string output, error;
    EXPECT_EQ(RunCommand(command, &output, &error), 0) << "openssl failed: " << error;
    return config;
  }

  TempDir dir_;
};

TEST_F(HttpClientTlsTest, VerifiesAgainstTheGivenCaAndSendsSni) {
  const FakeTlsConfig certificate = MakeCertificate("localhost", "DNS:localhost,IP:127.0.0.1");
  FakeHttpServer server(Echo, certificate);
  HttpClientOptions options;
  options.ca_file = certificate.certificate_chain_file;
  auto client = MakeClient(options);
  const std::string url = "https://localhost:" + std::to_string(server.port()) + "/tls";
  for (int i = 0; i < 3; ++i) {
    Result<HttpResponse> response = client->Send(Post(url, "over tls"));
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    EXPECT_EQ(response->body, "POST /tls over tls");
  }
  EXPECT_EQ(server.last_sni(), "localhost");
  EXPECT_EQ(server.connections_accepted(), 1);  // keep-alive over TLS too
}

TEST_F(HttpClientTlsTest, VerifiesIpAddressesWithoutSni) {
  const FakeTlsConfig certificate = MakeCertificate("ip", "IP:127.0.0.1");
  FakeHttpServer server(Echo, certificate);
  HttpClientOptions options;
  options.ca_file = certificate.certificate_chain_file;
  auto client = MakeClient(options);
  Result<HttpResponse> response = client->Send(Post(server.url()));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(server.last_sni(), "");
}

TEST_F(HttpClientTlsTest, RefusesCertificateNotTrustedBySystemStore) {
  const FakeTlsConfig certificate = MakeCertificate("untrusted", "DNS:localhost,IP:127.0.0.1");
  FakeHttpServer server(Echo, certificate);
  auto client = MakeClient();  // system CA store
  Result<HttpResponse> response = client->Send(Post("https://localhost:" + std::to_string(server.port()) + "/"));
  EXPECT_EQ(response.status().code(), StatusCode::kFailedPrecondition) << response.status().ToString();
  EXPECT_EQ(server.requests(), 0);
}

TEST_F(HttpClientTlsTest, RefusesCertificateForAnotherHost) {
  const FakeTlsConfig certificate = MakeCertificate("other", "DNS:other.example");
  FakeHttpServer server(Echo, certificate);
  HttpClientOptions options;
  options.ca_file = certificate.certificate_chain_file;
  auto client = MakeClient(options);
  Result<HttpResponse> by_name = client->Send(Post("https://localhost:" + std::to_string(server.port()) + "/"));
  EXPECT_EQ(by_name.status().code(), StatusCode::kFailedPrecondition) << by_name.status().ToString();
  Result<HttpResponse> by_ip = client->Send(Post(server.url()));
  EXPECT_EQ(by_ip.status().code(), StatusCode::kFailedPrecondition) << by_ip.status().ToString();
  EXPECT_EQ(server.requests(), 0);
}

TEST(HttpClientCreateTest, MissingCaFileIsInvalidArgument) {
  HttpClientOptions options;
  options.ca_file = "/nonexistent/ca.pem";
  EXPECT_EQ(HttpClient::Create(options).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace eventlogger::aws
