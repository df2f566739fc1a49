// A Lambda Runtime API on loopback, following AWS's documented interface
// (2018-06-01): the test queues events; the runtime under test takes them
// with GET …/invocation/next and answers with …/response or …/error, or
// reports …/init/error. What it answered is kept for the test to read.
//
// One thread accepts; each connection gets a thread (the runtime keeps
// one alive). Blocking Beast I/O: the emulator is the simplest server
// that speaks the protocol, not a fast one.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace eventlogger::testing {

class RuntimeApiEmulator {
 public:
  struct Outcome {
    bool is_error = false;
    std::string body;        // the response, or the error document
    std::string error_type;  // Lambda-Runtime-Function-Error-Type of an error
  };

  RuntimeApiEmulator() : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~RuntimeApiEmulator() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      for (auto* socket : sockets_) {
        boost::system::error_code ignored;
        socket->shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
      }
    }
    changed_.notify_all();
    // A blocked accept() does not return when its socket is closed: a
    // connection wakes it, and it sees stopping_.
    {
      boost::asio::ip::tcp::socket wake(io_);
      boost::system::error_code ignored;
      wake.connect(acceptor_.local_endpoint(), ignored);
      accept_thread_.join();
    }
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (auto& thread : connection_threads_) thread.join();
  }
  RuntimeApiEmulator(const RuntimeApiEmulator&) = delete;
  RuntimeApiEmulator& operator=(const RuntimeApiEmulator&) = delete;

  // What AWS_LAMBDA_RUNTIME_API holds: host:port.
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }

  // Queues an invocation; returns its request id. `deadline` is from now.
  std::string Enqueue(std::string event, std::chrono::milliseconds deadline = std::chrono::seconds(30),
                      std::string trace_id = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1") {
    std::lock_guard lock(mutex_);
    const std::string id = "8476a536-e9f4-11e8-9739-" + std::to_string(100000000000 + next_id_++);
    const auto deadline_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 (std::chrono::system_clock::now() + deadline).time_since_epoch())
                                 .count();
    queue_.push_back({id, std::move(event), deadline_ms, std::move(trace_id)});
    changed_.notify_all();
    return id;
  }

  // The runtime's answer to invocation `id`, once it came (nullopt after `limit`).
  std::optional<Outcome> WaitFor(const std::string& id, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, limit, [&] { return outcomes_.count(id) > 0; })) return std::nullopt;
    return outcomes_.at(id);
  }
  std::optional<Outcome> WaitForInitError(std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, limit, [&] { return init_error_.has_value(); })) return std::nullopt;
    return init_error_;
  }
  // Waits until the runtime has asked for `count` invocations in all.
  bool WaitForNextCalls(int count, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, limit, [&] { return next_calls_ >= count; });
  }
  int next_calls() {
    std::lock_guard lock(mutex_);
    return next_calls_;
  }

 private:
  struct Queued {
    std::string id;
    std::string event;
    int64_t deadline_ms;
    std::string trace_id;
  };
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  using Response = boost::beast::http::response<boost::beast::http::string_body>;

  void AcceptLoop() {
    for (;;) {
      auto socket = std::make_unique<boost::asio::ip::tcp::socket>(io_);
      boost::system::error_code ec;
      acceptor_.accept(*socket, ec);
      if (ec) return;
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      sockets_.push_back(socket.get());
      connection_threads_.emplace_back([this, s = std::move(socket)]() mutable { Serve(std::move(s)); });
    }
  }

  void Serve(std::unique_ptr<boost::asio::ip::tcp::socket> socket) {
    boost::beast::flat_buffer buffer;
    for (;;) {
      Request request;
      boost::system::error_code ec;
      boost::beast::http::read(*socket, buffer, request, ec);
      if (ec) break;
      Response response = Handle(request);
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      boost::beast::http::write(*socket, response, ec);
      if (ec || !request.keep_alive()) break;
    }
    std::lock_guard lock(mutex_);
    sockets_.erase(std::find(sockets_.begin(), sockets_.end(), socket.get()));
  }

  Response Handle(const Request& request) {
    const std::string target(request.target());
    const std::string prefix = "/2018-06-01/runtime/";
    Response response(boost::beast::http::status::accepted, 11);
    response.set("Content-Type", "application/json");
    response.body() = R"({"status":"OK"})";
    if (request.method() == boost::beast::http::verb::get && target == prefix + "invocation/next") {
      std::unique_lock lock(mutex_);
      ++next_calls_;
      changed_.notify_all();
      changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) {
        response.result(boost::beast::http::status::internal_server_error);
        return response;
      }
      Queued next = std::move(queue_.front());
      queue_.pop_front();
      response.result(boost::beast::http::status::ok);
      response.set("Lambda-Runtime-Aws-Request-Id", next.id);
      response.set("Lambda-Runtime-Deadline-Ms", std::to_string(next.deadline_ms));
      response.set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:events");
      response.set("Lambda-Runtime-Trace-Id", next.trace_id);
      response.body() = std::move(next.event);
      return response;
    }
    const auto error_type = request["Lambda-Runtime-Function-Error-Type"];
    if (request.method() == boost::beast::http::verb::post && target == prefix + "init/error") {
      std::lock_guard lock(mutex_);
      init_error_ = Outcome{true, request.body(), std::string(error_type)};
      changed_.notify_all();
      return response;
    }
    const std::string invocation = prefix + "invocation/";
    if (request.method() == boost::beast::http::verb::post && target.starts_with(invocation)) {
      const std::string rest = target.substr(invocation.size());
      const size_t slash = rest.find('/');
      const std::string id = rest.substr(0, slash);
      const std::string kind = slash == std::string::npos ? "" : rest.substr(slash + 1);
      if (kind == "response" || kind == "error") {
        std::lock_guard lock(mutex_);
        outcomes_[id] = Outcome{kind == "error", request.body(), std::string(error_type)};
        changed_.notify_all();
        return response;
      }
    }
    response.result(boost::beast::http::status::not_found);
    response.body() = R"({"errorMessage":"no such resource","errorType":"InvalidRequest"})";
    return response;
  }

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread accept_thread_;
  std::vector<std::thread> connection_threads_;  // guarded by mutex_ while accepting
  std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  std::vector<boost::asio::ip::tcp::socket*> sockets_;
  std::deque<Queued> queue_;
  std::map<std::string, Outcome> outcomes_;
  std::optional<Outcome> init_error_;
  int next_calls_ = 0;
  int64_t next_id_ = 0;
};

}  // namespace eventlogger::testing
