// The SQL stores' connection pool, against connections that only count what
// is done to them: the pool's own rules (bounds, waiting, reuse, discarding,
// the one retry) are what is under test here; the stores' tests run the same
// pool against the real PostgreSQL server, including its restarts.
#include "storage/connection_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <vector>
#include <thread>

namespace eventlogger {
namespace {

using std::chrono::milliseconds;

struct Counters {
  std::atomic<int> opened{0};
  std::atomic<int> closed{0};
};

struct FakeConnection {
  FakeConnection(int id, Counters* counters) : id(id), counters(counters) {}
  ~FakeConnection() { ++counters->closed; }
  int id;
  Counters* counters;
  bool cut = false;          // the server side went away
  bool in_statement = false;  // left mid-transaction: not reusable
};
using Connection = std::unique_ptr<FakeConnection>;
using Pool = ConnectionPool<Connection>;

class ConnectionPoolTest : public ::testing::Test {
 protected:
  Pool::Options MakeOptions(int size, milliseconds wait = milliseconds(2000)) {
    return {.size = size,
            .wait = wait,
            .noun = "connection",
            .where = "test-db",
            .connect = [this]() -> Result<Connection> {
              if (refuse_next_connect_.exchange(false)) {
                return Status::Unavailable("connecting to test-db: refused");
              }
              return std::make_unique<FakeConnection>(++counters_.opened, &counters_);
            },
            .usable = [](Connection& conn,
                         bool taking) { return !conn->cut && (taking || !conn->in_statement); },
            .broken = [](Connection& conn) { return conn->cut; }};
  }

  Counters counters_;
  std::atomic<bool> refuse_next_connect_{false};
};

TEST_F(ConnectionPoolTest, OpensOnDemandAndHandsBackTheIdleConnection) {
  Pool pool(MakeOptions(4));
  EXPECT_EQ(counters_.opened, 0);  // nothing opened before it is needed
  int first_id = 0;
  {
    Result<Pool::Lease> lease = pool.Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status().ToString();
    EXPECT_FALSE(lease->reused());
    first_id = lease->get()->id;
  }
  Result<Pool::Lease> again = pool.Acquire();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->reused());
  EXPECT_EQ(again->get()->id, first_id);
  EXPECT_EQ(counters_.opened, 1);
  EXPECT_EQ(counters_.closed, 0);
}

TEST_F(ConnectionPoolTest, NeverOpensMoreThanItsSizeAndTimesOutWithUnavailable) {
  Pool pool(MakeOptions(2, milliseconds(50)));
  Result<Pool::Lease> a = pool.Acquire();
  Result<Pool::Lease> b = pool.Acquire();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->get()->id, b->get()->id);

  const auto start = std::chrono::steady_clock::now();
  Result<Pool::Lease> c = pool.Acquire();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(c.status().message(), "all 2 connections to test-db stayed busy for 50 ms");
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(50));
  EXPECT_EQ(counters_.opened, 2);
}

TEST_F(ConnectionPoolTest, AWaitingCallerGetsTheConnectionAnotherGivesBack) {
  Pool pool(MakeOptions(1));
  std::optional<Pool::Lease> held;
  {
    Result<Pool::Lease> lease = pool.Acquire();
    ASSERT_TRUE(lease.ok());
    held.emplace(std::move(*lease));
  }
  std::thread releaser([&held] {
    std::this_thread::sleep_for(milliseconds(30));
    held.reset();
  });
  Result<Pool::Lease> waited = pool.Acquire();
  releaser.join();
  ASSERT_TRUE(waited.ok()) << waited.status().ToString();
  EXPECT_TRUE(waited->reused());
  EXPECT_EQ(counters_.opened, 1);
}

TEST_F(ConnectionPoolTest, AFailedConnectReturnsItsErrorAndFreesItsSlot) {
  Pool pool(MakeOptions(1, milliseconds(50)));
  refuse_next_connect_ = true;
  Result<Pool::Lease> refused = pool.Acquire();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(), "connecting to test-db: refused");
  // The slot reserved for the failed attempt is free again, not leaked.
  Result<Pool::Lease> next = pool.Acquire();
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_FALSE(next->reused());
}

TEST_F(ConnectionPoolTest, AConnectionGivenBackUnusableIsClosedAndItsSlotReused) {
  Pool pool(MakeOptions(1, milliseconds(50)));
  {
    Result<Pool::Lease> lease = pool.Acquire();
    ASSERT_TRUE(lease.ok());
    lease->get()->in_statement = true;
  }
  EXPECT_EQ(counters_.closed, 1);
  Result<Pool::Lease> fresh = pool.Acquire();
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_FALSE(fresh->reused());
  EXPECT_EQ(fresh->get()->id, 2);
}

TEST_F(ConnectionPoolTest, AnIdleConnectionFoundStaleWhenTakenIsReplaced) {
  Pool pool(MakeOptions(1, milliseconds(50)));
  FakeConnection* first = nullptr;
  {
    Result<Pool::Lease> lease = pool.Acquire();
    ASSERT_TRUE(lease.ok());
    first = lease->get();
  }
  first->cut = true;  // the server went away while it sat idle
  Result<Pool::Lease> next = pool.Acquire();
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->get()->id, 2);
  EXPECT_FALSE(next->reused());
  EXPECT_EQ(counters_.closed, 1);
}

TEST_F(ConnectionPoolTest, AnAdoptedConnectionIsServedFirstAndCountsTowardTheSize) {
  Pool pool(MakeOptions(1, milliseconds(50)));
  pool.Adopt(std::make_unique<FakeConnection>(100, &counters_));
  Result<Pool::Lease> lease = pool.Acquire();
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(lease->get()->id, 100);
  EXPECT_TRUE(lease->reused());
  EXPECT_FALSE(pool.Acquire().ok());  // size 1: the adopted one is it
  EXPECT_EQ(counters_.opened, 0);
}

TEST_F(ConnectionPoolTest, RunRetriesOnceOnAFreshConnectionWhenAReusedOneWasCut) {
  Pool pool(MakeOptions(3));
  {  // two idle connections, as after earlier work
    Result<Pool::Lease> a = pool.Acquire();
    Result<Pool::Lease> b = pool.Acquire();
    ASSERT_TRUE(a.ok() && b.ok());
  }
  ASSERT_EQ(counters_.opened, 2);
  std::vector<int> attempts;  // the connection each attempt ran on
  const Status status = pool.Run([&](FakeConnection* conn, bool*) {
    attempts.push_back(conn->id);
    if (attempts.size() == 1) {
      conn->cut = true;  // a server restart cut it while it sat idle
      return Status::Unavailable("server closed the connection");
    }
    return Status::Ok();
  });
  EXPECT_TRUE(status.ok()) << status.ToString();
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_LE(attempts[0], 2);  // an idle one
  EXPECT_EQ(attempts[1], 3);  // a new connection, not the other idle one
  EXPECT_EQ(counters_.closed, 2);  // the cut one, and the idle one discarded with it
}

TEST_F(ConnectionPoolTest, RunDoesNotRepeatAfterDeliveringOrOnAFreshConnection) {
  Pool pool(MakeOptions(2));
  {
    Result<Pool::Lease> warm = pool.Acquire();
    ASSERT_TRUE(warm.ok());
  }
  int calls = 0;
  Status status = pool.Run([&](FakeConnection* conn, bool* delivered) {
    ++calls;
    *delivered = true;  // rows already went to the caller
    conn->cut = true;
    return Status::Unavailable("cut mid-read");
  });
  EXPECT_EQ(status.message(), "cut mid-read");
  EXPECT_EQ(calls, 1);

  // The pool is empty now, so the next operation runs on a fresh connection;
  // if that one fails too, the server is down: no second try.
  calls = 0;
  status = pool.Run([&](FakeConnection* conn, bool*) {
    ++calls;
    conn->cut = true;
    return Status::Unavailable("refused mid-statement");
  });
  EXPECT_EQ(status.message(), "refused mid-statement");
  EXPECT_EQ(calls, 1);
}

TEST_F(ConnectionPoolTest, RunReturnsAStatementErrorOnAGoodConnectionWithoutRetrying) {
  Pool pool(MakeOptions(1));
  {
    Result<Pool::Lease> warm = pool.Acquire();
    ASSERT_TRUE(warm.ok());
  }
  int calls = 0;
  const Status status = pool.Run([&](FakeConnection*, bool*) {
    ++calls;
    return Status::InvalidArgument("constraint violated");
  });
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(counters_.closed, 0);  // the connection is still good and back in the pool
  Result<Pool::Lease> again = pool.Acquire();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->reused());
}

}  // namespace
}  // namespace eventlogger
