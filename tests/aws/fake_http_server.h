// FakeHttpServer: a tiny HTTP/1.1 (optionally HTTPS) server on 127.0.0.1
// for tests of the AWS HTTP and DynamoDB clients. A handler decides each
// answer: a response, a delay, a response followed by a silent close (as a
// server dropping a keep-alive connection does), or a close with no response
// at all. Handlers can proxy to a real server (dynalite) to inject faults
// around real behaviour.
//
// One thread per connection, blocking I/O: simple and plenty for tests.
//
// Thread safety: the handler runs on connection threads, possibly several at
// once; it must synchronise its own state. Counters are atomics.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace eventlogger::testing {

struct FakeRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // First header with this name, case-insensitive; empty if absent.
  std::string Header(std::string_view name) const;
};

struct FakeResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Length is added
  std::string body;
  std::chrono::milliseconds delay{0};  // wait before answering
  bool close_after = false;            // close the connection silently after answering
  bool drop = false;                   // close the connection instead of answering
  std::string raw;                     // if set, written verbatim instead of a response
};

using FakeHandler = std::function<FakeResponse(const FakeRequest&)>;

struct FakeTlsConfig {
  std::string certificate_chain_file;  // PEM
  std::string private_key_file;        // PEM
};

class FakeHttpServer {
 public:
  explicit FakeHttpServer(FakeHandler handler, std::optional<FakeTlsConfig> tls = std::nullopt);
  ~FakeHttpServer();
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port>" (https:// with TLS).
  std::string url() const;

  int connections_accepted() const { return connections_accepted_.load(); }
  int requests() const { return requests_.load(); }
  // The SNI name the last TLS client sent ("" when none).
  std::string last_sni() const;

  // Shuts down every open connection (as a restarting server would), without
  // stopping the listener.
  void CloseAllConnections();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
  std::atomic<int> connections_accepted_{0};
  std::atomic<int> requests_{0};
};

// A temporary directory removed with everything in it at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Runs a shell command; returns its exit code and fills *output with its
// stdout (stderr goes to *error when given).
int RunCommand(const std::string& command, std::string* output, std::string* error = nullptr);

}  // namespace eventlogger::testing
