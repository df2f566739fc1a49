// The durability promise under kill -9: several rounds of load against the
// real binary, each ended by SIGKILL at a random moment, then one clean run
// that drains the outbox. Every event answered 201 or 202 (alone, or as an
// item of a batch) must then be in both stores exactly once, and no event
// may be in only one store.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "integration/backend.h"
#include "integration/child_process.h"
#include "integration/service_fixture.h"
#include "integration/test_client.h"

namespace eventlogger::testing {
namespace {

// The event ids a response acknowledges: a single POST's, or every item
// of a batch answered 201 or 202.
std::vector<std::string> AcknowledgedIds(const TestResponse& response, bool batch) {
  rapidjson::Document parsed;
  parsed.Parse(response.body.data(), response.body.size());
  std::vector<std::string> ids;
  if (!parsed.IsObject()) return ids;
  if (!batch) {
    if ((response.status == 201 || response.status == 202) && parsed.HasMember("eventId")) {
      ids.push_back(parsed["eventId"].GetString());
    }
    return ids;
  }
  if ((response.status != 200 && response.status != 207) || !parsed.HasMember("results")) return ids;
  for (const auto& item : parsed["results"].GetArray()) {
    const int status = item["status"].GetInt();
    if (status == 201 || status == 202) ids.push_back(item["eventId"].GetString());
  }
  return ids;
}

void KillNineRounds(bool batch) {
  TempDir dir;
  const std::string data_dir = (dir.path() / "data").string();
  const unsigned seed = std::random_device{}();
  std::mt19937 random(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));

  std::mutex mutex;
  std::set<std::string> acknowledged;
  int64_t refused = 0;
  constexpr int kRounds = 4;
  constexpr int kClients = 8;
  for (int round = 0; round < kRounds; ++round) {
    ChildProcess server({"serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir, "--access-log", "false"});
    const uint16_t port = WaitForPort(server);
    ASSERT_NE(port, 0) << server.Output();
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&, c] {
        int i = 0;
        while (!stop.load()) {
          try {
            TestClient client(port, 5000);
            while (!stop.load()) {
              ++i;
              const auto event = [&](int n) {
                return R"({"userId":"crash-)" + std::to_string((c * 7 + i + n) % 13) +
                       R"(","eventType":"load","jsonDetails":{"round":)" + std::to_string(round) +
                       R"(,"client":)" + std::to_string(c) + R"(,"i":)" + std::to_string(i) +
                       R"(,"n":)" + std::to_string(n) + "}}";
              };
              std::string body;
              if (batch) {
                body = R"({"events":[)";
                for (int n = 0; n < 20; ++n) body += (n > 0 ? "," : "") + event(n);
                body += "]}";
              } else {
                body = event(0);
              }
              const TestResponse r = batch ? client.Send("POST", "/events/batch", body,
                                                         {{"Content-Type", "application/json"}})
                                           : client.PostEvent(body);
              const std::vector<std::string> ids = AcknowledgedIds(r, batch);
              std::lock_guard lock(mutex);
              acknowledged.insert(ids.begin(), ids.end());
              if (ids.empty()) ++refused;
            }
          } catch (const std::exception&) {
            // The server died mid-request: that request was never acknowledged.
            if (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(250, 900)(random)));
    server.Signal(SIGKILL);
    EXPECT_EQ(server.WaitForExit(std::chrono::seconds(10)), -1);  // killed, not exited
    stop.store(true);
    for (auto& t : clients) t.join();
  }
  ASSERT_GT(acknowledged.size(), 100u) << "the load never got going";

  // A clean start resumes whatever the crashes left in the outbox.
  {
    ChildProcess server({"serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir});
    ASSERT_NE(WaitForPort(server), 0) << server.Output();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (ReadOutboxPending(std::filesystem::path(data_dir) / "outbox.db") != 0 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(ReadOutboxPending(std::filesystem::path(data_dir) / "outbox.db"), 0);
    server.Signal(SIGTERM);
    ASSERT_EQ(server.WaitForExit(std::chrono::seconds(30)), 0) << server.Output();
  }

  const std::vector<MetadataRow> rows = ReadSqliteRows(std::filesystem::path(data_dir) / "metadata.db");
  const std::vector<DocumentRow> documents = ReadRocksDbRows(std::filesystem::path(data_dir) / "documents");
  std::set<std::string> metadata_ids, document_ids;
  for (const auto& row : rows) metadata_ids.insert(row.event_id);
  for (const auto& document : documents) document_ids.insert(document.event_id);
  EXPECT_EQ(metadata_ids.size(), rows.size()) << "duplicate metadata rows";
  EXPECT_EQ(document_ids.size(), documents.size()) << "duplicate documents";
  // Nothing in one store only.
  EXPECT_EQ(metadata_ids, document_ids);
  // Nothing acknowledged is lost.
  size_t lost = 0;
  for (const std::string& id : acknowledged) {
    if (metadata_ids.count(id) == 0 || document_ids.count(id) == 0) ++lost;
  }
  EXPECT_EQ(lost, 0u) << "of " << acknowledged.size() << " acknowledged events";
  ::testing::Test::RecordProperty("acknowledged", static_cast<int>(acknowledged.size()));
}

TEST(CrashTest, KillNineLosesNoAcknowledgedEventAndLeavesNoHalfWrites) {
  EVENTLOGGER_EMBEDDED_ONLY();
  KillNineRounds(/*batch=*/false);
}

TEST(CrashTest, KillNineDuringBatchesLosesNoAcknowledgedItemAndDuplicatesNone) {
  EVENTLOGGER_EMBEDDED_ONLY();
  KillNineRounds(/*batch=*/true);
}

}  // namespace
}  // namespace eventlogger::testing
