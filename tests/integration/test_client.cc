#include "integration/test_client.h"

#include <cstdio>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <stdexcept>

#include "core/json_output.h"

namespace eventlogger::testing {

TestClient::TestClient(uint16_t port, int timeout_ms) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) throw std::runtime_error("socket failed");
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd_);
    throw std::runtime_error(std::string("connect failed: ") + std::strerror(errno));
  }
}

TestClient::~TestClient() {
  if (fd_ >= 0) ::close(fd_);
}

void TestClient::WriteRaw(const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error("send failed");
    sent += static_cast<size_t>(n);
  }
}

bool TestClient::ReadMore() {
  char chunk[16384];
  const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n < 0) throw std::runtime_error("recv failed or timed out");
  if (n == 0) return false;
  buffer_.append(chunk, static_cast<size_t>(n));
  return true;
}

bool TestClient::ServerClosed() {
  try {
    while (buffer_.empty()) {
      if (!ReadMore()) return true;
    }
  } catch (const std::exception&) {
    return true;  // reset counts as closed
  }
  return false;
}

TestResponse TestClient::ReadResponse(bool skip_interim) {
  size_t header_end;
  while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!ReadMore()) throw std::runtime_error("connection closed before a response");
  }
  TestResponse response;
  const std::string head = buffer_.substr(0, header_end);
  buffer_.erase(0, header_end + 4);
  size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  if (status_line.size() < 12) throw std::runtime_error("bad status line: " + status_line);
  response.status = std::stoi(status_line.substr(9, 3));
  while (line_end != std::string::npos) {
    const size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    response.headers[name] = value;
  }
  if (response.status == 100) return skip_interim ? ReadResponse() : response;
  const size_t length = response.headers.count("content-length") ? std::stoul(response.headers["content-length"]) : 0;
  while (buffer_.size() < length) {
    if (!ReadMore()) throw std::runtime_error("connection closed inside a body");
  }
  response.body = buffer_.substr(0, length);
  buffer_.erase(0, length);
  return response;
}

namespace {

// With EVENTLOGGER_TEST_RESPONSE_LOG set, every response a test receives
// through Send is appended there as one JSON line, and scripts/test.sh
// validates them all against the OpenAPI document
// (tests/openapi/validate_responses.js).
void RecordResponse(const std::string& method, const std::string& target, const TestResponse& response) {
  static const char* const path = std::getenv("EVENTLOGGER_TEST_RESPONSE_LOG");
  if (path == nullptr || *path == '\0') return;
  std::string line = "{\"method\":";
  AppendJsonString(line, method);
  line += ",\"target\":";
  AppendJsonString(line, target);
  line += ",\"status\":" + std::to_string(response.status) + ",\"contentType\":";
  AppendJsonString(line, response.Header("content-type"));
  line += ",\"body\":";
  AppendJsonString(line, response.body);
  line += "}\n";
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  std::ofstream(path, std::ios::app) << line;
}

}  // namespace

TestResponse TestClient::Send(const std::string& method, const std::string& target, const std::string& body,
                              const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  if (!body.empty() || method == "POST") request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  request += "\r\n";
  request += body;
  WriteRaw(request);
  TestResponse response = ReadResponse();
  RecordResponse(method, target, response);
  return response;
}

TestResponse TestClient::PostEvent(const std::string& json,
                                   const std::vector<std::pair<std::string, std::string>>& headers) {
  auto all = headers;
  all.emplace_back("Content-Type", "application/json");
  return Send("POST", "/events", json, all);
}

TestResponse HttpRequest(uint16_t port, const std::string& method, const std::string& target,
                         const std::string& body,
                         const std::vector<std::pair<std::string, std::string>>& headers) {
  TestClient client(port);
  return client.Send(method, target, body, headers);
}

double MetricValue(const std::string& metrics_text, const std::string& name) {
  const std::string prefix = "\n" + name + " ";
  const size_t at = metrics_text.find(prefix);
  if (at == std::string::npos) return -1;
  return std::stod(metrics_text.substr(at + prefix.size()));
}

std::string ChunkedPost(const std::string& target, const std::string& body, size_t chunk_bytes) {
  std::string request = "POST " + target +
                        " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (size_t offset = 0; offset < body.size(); offset += chunk_bytes) {
    const std::string piece = body.substr(offset, chunk_bytes);
    char size[24];
    std::snprintf(size, sizeof size, "%zx", piece.size());
    request += std::string(size) + "\r\n" + piece + "\r\n";
  }
  return request + "0\r\n\r\n";
}

}  // namespace eventlogger::testing
