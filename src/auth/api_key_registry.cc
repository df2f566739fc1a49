#include "auth/api_key_registry.h"

#include "core/log.h"
#include "core/timestamp.h"

namespace eventlogger::auth {
namespace {

// A store that keeps failing is logged once a minute, not four times a second.
constexpr int64_t kFailureLogIntervalMillis = 60'000;

}  // namespace

ApiKeyRegistry::ApiKeyRegistry(MetadataStore& store, const Clock& clock, ApiKeyRegistryOptions options)
    : store_(store), clock_(clock), options_(options), table_(std::make_shared<const Table>()) {}

ApiKeyRegistry::~ApiKeyRegistry() { Stop(); }

Status ApiKeyRegistry::Refresh() {
  std::lock_guard lock(refresh_mutex_);
  Result<std::vector<ApiKeyRow>> rows = store_.ListApiKeys();
  if (!rows.ok()) return rows.status();
  const std::shared_ptr<const Table> old = table_.load(std::memory_order_acquire);
  auto table = std::make_shared<Table>();
  table->reserve(rows->size());
  for (const ApiKeyRow& row : *rows) {
    Entry entry;
    entry.digest = row.secret_digest;
    // A row whose scopes this build does not know grants nothing.
    entry.scopes = ParseScopes(row.scopes, nullptr).value_or(Scopes());
    entry.revoked = !row.revoked_at.empty();
    if (const auto it = old->find(row.id); it != old->end()) {
      entry.last_used = it->second.last_used;
      entry.last_recorded = it->second.last_recorded;
    } else {
      const int64_t recorded = ParseTimestamp(row.last_used_at).value_or(0);
      entry.last_used = std::make_shared<std::atomic<int64_t>>(recorded);
      entry.last_recorded = std::make_shared<std::atomic<int64_t>>(recorded);
    }
    table->emplace(row.id, std::move(entry));
  }
  const bool any = !table->empty();
  table_.store(std::move(table), std::memory_order_release);
  enforced_.store(any, std::memory_order_release);
  return Status::Ok();
}

void ApiKeyRegistry::Start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(run_mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { Run(); });
}

void ApiKeyRegistry::Stop() {
  {
    std::lock_guard lock(run_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
    RecordUses(/*all=*/true);
  }
}

void ApiKeyRegistry::Run() {
  std::unique_lock lock(run_mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, options_.refresh_interval, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    const Status refreshed = Refresh();
    if (!refreshed.ok()) {
      const int64_t now = clock_.NowUnixMillis();
      if (now - failures_logged_at_ >= kFailureLogIntervalMillis) {
        failures_logged_at_ = now;
        log::Warn("cannot re-read the API keys; the last list read stays in force",
                  {{"error", refreshed.ToString()}});
      }
    }
    RecordUses(/*all=*/false);
    lock.lock();
  }
}

void ApiKeyRegistry::RecordUses(bool all) {
  const std::shared_ptr<const Table> table = table_.load(std::memory_order_acquire);
  for (const auto& [id, entry] : *table) {
    const int64_t used = entry.last_used->load(std::memory_order_relaxed);
    const int64_t recorded = entry.last_recorded->load(std::memory_order_relaxed);
    if (used <= recorded) continue;
    if (!all && used - recorded < options_.use_record_interval.count()) continue;
    // A key's first use is written at once (recorded is 0), so `keys list`
    // soon shows which keys are in use at all.
    if (store_.RecordApiKeyUse(id, FormatTimestamp(used)).ok()) {
      entry.last_recorded->store(used, std::memory_order_relaxed);
    }
  }
}

KeyVerdict ApiKeyRegistry::Check(const PresentedKey& key, KeyIdentity* identity) const {
  const std::shared_ptr<const Table> table = table_.load(std::memory_order_acquire);
  // std::string_view lookups need C++20 heterogeneous hashing; one short
  // string is cheaper than a custom hasher for a 16-byte id.
  const auto it = table->find(std::string(key.id));
  if (it == table->end()) return KeyVerdict::kUnknown;
  const Entry& entry = it->second;
  if (!SecretMatches(key.id, key.secret, entry.digest)) return KeyVerdict::kWrongSecret;
  if (entry.revoked) return KeyVerdict::kRevoked;
  // Written at most once a second per key: a store into a line that every
  // request for the key shares would bounce it between cores.
  const int64_t now = clock_.NowUnixMillis();
  if (now - entry.last_used->load(std::memory_order_relaxed) >= 1000) {
    entry.last_used->store(now, std::memory_order_relaxed);
  }
  identity->id = it->first;
  identity->scopes = entry.scopes;
  return KeyVerdict::kAccepted;
}

}  // namespace eventlogger::auth
