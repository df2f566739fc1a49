#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/log.h"
#include "core/status.h"

namespace eventlogger {

// The SQL metadata stores' connection pool (libpq sessions, ODBC
// connections): at most `size` connections, opened on demand and kept while
// they stay usable; a caller waits up to `wait` for one when all are in use.
//
// `Connection` is an owning handle (a std::unique_ptr) to one connection.
template <typename Connection>
class ConnectionPool {
 public:
  struct Options {
    int size = 1;
    std::chrono::milliseconds wait{1000};
    // For messages: "session" or "connection", and what they connect to
    // (credentials already masked).
    std::string noun = "connection";
    std::string where;
    std::function<Result<Connection>()> connect;
    // Whether an idle connection may serve the next caller. Checked when it
    // is taken from the pool (`taking`, where a check may ask the server,
    // since the connection sat idle) and when it is given back.
    std::function<bool(Connection&, bool taking)> usable;
    // After a failed operation: whether the link itself is gone, rather
    // than the statement having failed on a good connection.
    std::function<bool(Connection&)> broken;
  };

  explicit ConnectionPool(Options options) : options_(std::move(options)) {}
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;
  ~ConnectionPool() { DiscardIdle(); }

  // One connection for one operation; goes back to the pool when destroyed,
  // unless it is no longer usable.
  class Lease {
   public:
    Lease(ConnectionPool* pool, Connection conn, bool reused)
        : pool_(pool), conn_(std::move(conn)), reused_(reused) {}
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)),
          conn_(std::move(other.conn_)),
          reused_(other.reused_) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (pool_ != nullptr) pool_->Return(std::move(conn_));
    }

    auto get() const { return conn_.get(); }
    // True if the connection had served an earlier operation (so it may have
    // gone stale since), false if it was opened for this one.
    bool reused() const { return reused_; }
    bool broken() { return pool_->options_.broken(conn_); }

   private:
    ConnectionPool* pool_;
    Connection conn_;
    bool reused_;
  };

  Result<Lease> Acquire() {
    const auto deadline = std::chrono::steady_clock::now() + options_.wait;
    std::unique_lock lock(mutex_);
    for (;;) {
      while (!idle_.empty()) {
        Connection conn = std::move(idle_.back());
        idle_.pop_back();
        lock.unlock();
        if (options_.usable(conn, /*taking=*/true)) return Lease(this, std::move(conn), true);
        conn.reset();  // stale: close it and use its slot for a new connection
        lock.lock();
        --open_;
      }
      if (open_ < options_.size) {
        ++open_;  // reserve the slot while connecting without the lock
        lock.unlock();
        Result<Connection> conn = options_.connect();
        if (conn.ok()) return Lease(this, std::move(*conn), false);
        lock.lock();
        --open_;
        available_.notify_one();
        return conn.status();
      }
      if (available_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          open_ >= options_.size) {
        return Status::Unavailable("all " + std::to_string(options_.size) + " " + options_.noun +
                                   "s to " + options_.where + " stayed busy for " +
                                   std::to_string(options_.wait.count()) + " ms");
      }
    }
  }

  // Takes a connection opened elsewhere (e.g. the one a store's Open probed
  // the server with) as an idle one.
  void Adopt(Connection conn) {
    std::lock_guard lock(mutex_);
    ++open_;
    idle_.push_back(std::move(conn));
  }

  // Closes every idle connection: after one turned out broken, the others
  // were most likely cut by the same server restart.
  void DiscardIdle() {
    std::vector<Connection> doomed;
    {
      std::lock_guard lock(mutex_);
      doomed.swap(idle_);
      open_ -= static_cast<int>(doomed.size());
    }
    available_.notify_all();
  }  // closed here, outside the lock

  // Runs `operation(raw connection, bool* delivered)` on a pooled
  // connection. When the connection turns out to have been cut (typically:
  // the server restarted while it sat idle), it is dropped with the other
  // idle ones and the operation runs once more on a fresh connection. The
  // operation sets *delivered once it has handed results to its caller;
  // from then on it is not repeated. Only for operations that are safe to
  // repeat when their outcome is unknown.
  template <typename Operation>
  Status Run(Operation&& operation) {
    for (int attempt = 0;; ++attempt) {
      Result<Lease> lease = Acquire();
      if (!lease.ok()) return lease.status();
      bool delivered = false;
      Status status = operation(lease->get(), &delivered);
      if (status.ok() || !lease->broken()) return status;
      const bool retry = attempt == 0 && lease->reused() && !delivered;
      DiscardIdle();
      if (!retry) return status;
      log::Warn(options_.noun + " lost; retrying on a new " + options_.noun,
                {{"store", options_.where}, {"error", status.message()}});
    }
  }

 private:
  void Return(Connection conn) {
    const bool keep = conn && options_.usable(conn, /*taking=*/false);
    if (!keep) conn.reset();
    {
      std::lock_guard lock(mutex_);
      if (keep) {
        idle_.push_back(std::move(conn));
      } else {
        --open_;
      }
    }
    available_.notify_one();
  }

  const Options options_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<Connection> idle_;
  int open_ = 0;  // idle + leased + being connected
};

}  // namespace eventlogger
