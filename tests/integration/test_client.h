// A small blocking HTTP/1.1 client for integration tests: real sockets on
// 127.0.0.1, keep-alive, raw byte exchanges for malformed-input tests. Every
// read has a timeout so a misbehaving server fails a test instead of hanging it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace eventlogger::testing {

struct TestResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
  std::string Header(const std::string& lowercase_name) const {
    auto it = headers.find(lowercase_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class TestClient {
 public:
  explicit TestClient(uint16_t port, int timeout_ms = 20000);
  ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  // Sends one request on the kept-alive connection and reads its response.
  TestResponse Send(const std::string& method, const std::string& target, const std::string& body = {},
                    const std::vector<std::pair<std::string, std::string>>& headers = {});
  TestResponse PostEvent(const std::string& json,
                         const std::vector<std::pair<std::string, std::string>>& headers = {});
  TestResponse Get(const std::string& target) { return Send("GET", target); }

  // Writes raw bytes as they are.
  void WriteRaw(const std::string& bytes);
  // Reads one response from the connection (after WriteRaw); interim 1xx
  // responses are skipped unless skip_interim is false.
  TestResponse ReadResponse(bool skip_interim = true);
  // True when the server has closed the connection (read returns EOF).
  bool ServerClosed();

 private:
  int fd_ = -1;
  std::string buffer_;  // bytes read but not yet parsed
  bool ReadMore();
};

// The bytes of a POST whose body is sent with Transfer-Encoding: chunked,
// in chunks of `chunk_bytes`.
std::string ChunkedPost(const std::string& target, const std::string& body, size_t chunk_bytes = 8192);

// One-shot convenience: a fresh connection per call.
TestResponse HttpRequest(uint16_t port, const std::string& method, const std::string& target,
                         const std::string& body = {},
                         const std::vector<std::pair<std::string, std::string>>& headers = {});

// The value of one un-labelled metric in a /metrics answer, -1 if absent.
double MetricValue(const std::string& metrics_text, const std::string& name);

}  // namespace eventlogger::testing
