#include "aws/fake_http_server.h"

#include <fcntl.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace eventlogger::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Child processes (dynalite restarts) must not inherit test sockets.
void SetCloseOnExec(int fd) { ::fcntl(fd, F_SETFD, ::fcntl(fd, F_GETFD) | FD_CLOEXEC); }

}  // namespace

std::string FakeRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return {};
}

struct FakeHttpServer::Impl {
  FakeHttpServer* owner = nullptr;
  FakeHandler handler;
  std::optional<asio::ssl::context> ssl;
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::atomic<bool> stopping{false};
  std::thread accept_thread;

  std::mutex mu;
  std::list<std::thread> threads;  // guarded by mu
  std::vector<int> open_fds;       // guarded by mu
  std::string last_sni;            // guarded by mu

  void Register(int fd) {
    std::lock_guard lock(mu);
    open_fds.push_back(fd);
  }
  void Unregister(int fd) {
    std::lock_guard lock(mu);
    std::erase(open_fds, fd);
  }

  template <typename Stream>
  void Serve(Stream& stream) {
    beast::flat_buffer buffer;
    while (!stopping.load()) {
      http::request<http::string_body> request;
      beast::error_code ec;
      http::read(stream, buffer, request, ec);
      if (ec) return;
      owner->requests_.fetch_add(1);
      FakeRequest fake;
      fake.method = std::string(request.method_string());
      fake.target = std::string(request.target());
      for (const auto& field : request) {
        fake.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
      fake.body = std::move(request.body());
      FakeResponse answer = handler(fake);
      if (answer.delay.count() > 0) std::this_thread::sleep_for(answer.delay);
      if (answer.drop) return;
      if (!answer.raw.empty()) {
        asio::write(stream, asio::buffer(answer.raw), ec);
        return;
      }
      http::response<http::string_body> response(static_cast<http::status>(answer.status), 11);
      for (const auto& [name, value] : answer.headers) response.insert(name, value);
      response.body() = std::move(answer.body);
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      http::write(stream, response, ec);
      if (ec || answer.close_after || !request.keep_alive()) return;
    }
  }

  void ServeConnection(tcp::socket socket) {
    const int fd = socket.native_handle();
    Register(fd);
    if (ssl) {
      asio::ssl::stream<tcp::socket> stream(std::move(socket), *ssl);
      beast::error_code ec;
      stream.handshake(asio::ssl::stream_base::server, ec);
      if (!ec) {
        const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
        {
          std::lock_guard lock(mu);
          last_sni = sni == nullptr ? "" : sni;
        }
        Serve(stream);
      }
      Unregister(fd);
      stream.lowest_layer().close(ec);
    } else {
      Serve(socket);
      Unregister(fd);
      beast::error_code ec;
      socket.close(ec);
    }
  }

  void AcceptLoop() {
    while (true) {
      tcp::socket socket(ioc);
      beast::error_code ec;
      acceptor.accept(socket, ec);
      if (stopping.load()) return;
      if (ec) continue;
      SetCloseOnExec(socket.native_handle());
      owner->connections_accepted_.fetch_add(1);
      std::lock_guard lock(mu);
      threads.emplace_back([this, s = std::move(socket)]() mutable { ServeConnection(std::move(s)); });
    }
  }
};

FakeHttpServer::FakeHttpServer(FakeHandler handler, std::optional<FakeTlsConfig> tls)
    : impl_(std::make_unique<Impl>()) {
  impl_->owner = this;
  impl_->handler = std::move(handler);
  if (tls) {
    impl_->ssl.emplace(asio::ssl::context::tls_server);
    impl_->ssl->use_certificate_chain_file(tls->certificate_chain_file);
    impl_->ssl->use_private_key_file(tls->private_key_file, asio::ssl::context::pem);
  }
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol());
  SetCloseOnExec(impl_->acceptor.native_handle());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->accept_thread = std::thread([this] { impl_->AcceptLoop(); });
}

FakeHttpServer::~FakeHttpServer() {
  impl_->stopping.store(true);
  {
    // Wake the blocking accept() with a connection of our own.
    asio::io_context ioc;
    tcp::socket wake(ioc);
    beast::error_code ec;
    wake.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
  }
  impl_->accept_thread.join();
  CloseAllConnections();
  std::list<std::thread> threads;
  {
    std::lock_guard lock(impl_->mu);
    threads.swap(impl_->threads);
  }
  for (std::thread& thread : threads) thread.join();
}

std::string FakeHttpServer::url() const {
  return std::string(impl_->ssl ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

std::string FakeHttpServer::last_sni() const {
  std::lock_guard lock(impl_->mu);
  return impl_->last_sni;
}

void FakeHttpServer::CloseAllConnections() {
  std::lock_guard lock(impl_->mu);
  for (int fd : impl_->open_fds) ::shutdown(fd, SHUT_RDWR);
}

TempDir::TempDir() {
  std::string pattern = "/tmp/eventlogger-aws-test-XXXXXX";
  if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
}

int RunCommand(const std::string& command, std::string* output, std::string* error) {
  TempDir dir;
  const std::string error_file = dir.File("stderr");
  const std::string full = command + " 2>" + error_file;
  FILE* pipe = ::popen(full.c_str(), "r");
  if (pipe == nullptr) return -1;
  std::string text;
  char chunk[4096];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, pipe)) > 0) text.append(chunk, n);
  const int status = ::pclose(pipe);
  if (output) *output = std::move(text);
  if (error) {
    std::ifstream in(error_file);
    std::ostringstream content;
    content << in.rdbuf();
    *error = content.str();
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace eventlogger::testing
