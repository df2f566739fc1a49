// ApiKeyRegistry: the API keys this instance accepts, held in memory and
// re-read from the metadata store every refresh_interval, so a key created
// or revoked by `eventlogger keys` (or by any instance sharing the store)
// takes effect here within that interval, without a store round trip on
// the request path.
//
// It also notes when each key was last used and writes that back to the
// store at most once per use_record_interval per key.
//
// Thread safety: Check, enforced and the counters may be called from any
// thread; Start/Stop from one controlling thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "auth/api_key.h"
#include "auth/scopes.h"
#include "core/clock.h"
#include "core/status.h"
#include "storage/metadata_store.h"

namespace eventlogger::auth {

struct ApiKeyRegistryOptions {
  // How long a revocation (or a new key) may take to reach this instance.
  std::chrono::milliseconds refresh_interval{250};
  // How often a key's last_used_at is written back to the store.
  std::chrono::milliseconds use_record_interval{60'000};
};

// Who a key is, once its secret checked out.
struct KeyIdentity {
  std::string id;
  Scopes scopes;
};

enum class KeyVerdict { kAccepted, kUnknown, kWrongSecret, kRevoked };

class ApiKeyRegistry {
 public:
  ApiKeyRegistry(MetadataStore& store, const Clock& clock, ApiKeyRegistryOptions options);
  ~ApiKeyRegistry();  // Stop()s
  ApiKeyRegistry(const ApiKeyRegistry&) = delete;
  ApiKeyRegistry& operator=(const ApiKeyRegistry&) = delete;

  // Reads the keys now. Until the first read succeeds, the registry knows
  // of no key but says keys are enforced (it cannot tell that none exist).
  Status Refresh();
  // Refreshes every refresh_interval on a thread of its own (a failed
  // refresh keeps the last table and is logged), and records uses.
  void Start();
  // Stops the thread and writes back the uses not recorded yet.
  void Stop();

  // True when requests must carry a credential: some key exists in the
  // store (a revoked one counts: revoking the last key must not open the
  // service up), or the keys could not be read yet.
  bool enforced() const { return enforced_.load(std::memory_order_acquire); }

  KeyVerdict Check(const PresentedKey& key, KeyIdentity* identity) const;

 private:
  struct Entry {
    std::string digest;
    Scopes scopes;
    bool revoked = false;
    // Unix millis of the last accepted use, shared by every table built
    // while the key exists, so a refresh does not lose it.
    std::shared_ptr<std::atomic<int64_t>> last_used;
    std::shared_ptr<std::atomic<int64_t>> last_recorded;
  };
  using Table = std::unordered_map<std::string, Entry>;

  void Run();
  void RecordUses(bool all);

  MetadataStore& store_;
  const Clock& clock_;
  const ApiKeyRegistryOptions options_;
  std::atomic<std::shared_ptr<const Table>> table_;
  std::atomic<bool> enforced_{true};
  std::mutex refresh_mutex_;  // one Refresh at a time
  std::mutex run_mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
  int64_t failures_logged_at_ = 0;
};

}  // namespace eventlogger::auth
