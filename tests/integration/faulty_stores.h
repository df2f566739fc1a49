// Fault injection for integration tests: real stores wrapped so that their
// writes fail or stall on demand (faults a real embedded store cannot
// produce at will), plus bounded polling for the background retry worker.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "storage/document_store.h"
#include "storage/metadata_store.h"

namespace eventlogger::testing {

// What a wrapped store does with its next writes.
class Fault {
 public:
  enum class Mode { kPass, kFail, kStall };
  void Set(Mode mode) {
    std::lock_guard lock(mutex_);
    mode_ = mode;
    changed_.notify_all();
  }
  // Applies the current mode: returns an error to report, or OK to go on.
  Status Apply() {
    std::unique_lock lock(mutex_);
    if (mode_ == Mode::kStall) {
      ++stalled_;
      changed_.notify_all();
      changed_.wait(lock, [&] { return mode_ != Mode::kStall; });
    }
    return mode_ == Mode::kFail ? Status::Unavailable("injected failure") : Status::Ok();
  }
  // Blocks until a write is stalled.
  void WaitForStall() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return stalled_ > 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  Mode mode_ = Mode::kPass;
  int stalled_ = 0;
};

class FaultyMetadataStore final : public MetadataStore {
 public:
  FaultyMetadataStore(std::unique_ptr<MetadataStore> inner, Fault& fault) : inner_(std::move(inner)), fault_(fault) {}
  Status WriteBatch(EventBatch events) override {
    if (Status s = fault_.Apply(); !s.ok()) return s;
    return inner_->WriteBatch(events);
  }
  Status ScanUser(std::string_view user, const std::function<bool(const EventMetadata&)>& visit) override {
    return inner_->ScanUser(user, visit);
  }
  Status Scan(const ScanFilter& filter, const std::function<bool(const EventMetadata&)>& visit) override {
    return inner_->Scan(filter, visit);
  }
  Result<EventMetadata> FindByIdempotencyKey(std::string_view user, std::string_view key) override {
    return inner_->FindByIdempotencyKey(user, key);
  }
  Result<EventMetadata> FindEvent(std::string_view user, std::string_view id) override {
    return inner_->FindEvent(user, id);
  }
  // Keys pass through untouched: a fault here is about event writes.
  Status InsertApiKey(const ApiKeyRow& row) override { return inner_->InsertApiKey(row); }
  Result<std::vector<ApiKeyRow>> ListApiKeys() override { return inner_->ListApiKeys(); }
  Status RevokeApiKey(std::string_view id, std::string_view at) override { return inner_->RevokeApiKey(id, at); }
  Status RecordApiKeyUse(std::string_view id, std::string_view at) override {
    return inner_->RecordApiKeyUse(id, at);
  }
  // Privacy passes through too: its faults are the stores' own.
  Result<int64_t> EraseUserEvents(const UserErasure& e, int limit) override { return inner_->EraseUserEvents(e, limit); }
  Result<int64_t> DeleteExpired(const ExpiryRule& rule, int limit) override { return inner_->DeleteExpired(rule, limit); }
  Status PutLegalHold(const LegalHoldRow& row) override { return inner_->PutLegalHold(row); }
  Status DeleteLegalHold(std::string_view user) override { return inner_->DeleteLegalHold(user); }
  Result<std::vector<LegalHoldRow>> ListLegalHolds() override { return inner_->ListLegalHolds(); }
  Status InsertErasureJob(const ErasureJobRow& row) override { return inner_->InsertErasureJob(row); }
  Status UpdateErasureJob(const ErasureJobRow& row) override { return inner_->UpdateErasureJob(row); }
  Result<ErasureJobRow> FindErasureJob(std::string_view id) override { return inner_->FindErasureJob(id); }
  Result<std::vector<ErasureJobRow>> ListErasureJobs(std::string_view created_since) override {
    return inner_->ListErasureJobs(created_since);
  }
  Status Migrate() override { return inner_->Migrate(); }
  Status CheckSchema() override { return inner_->CheckSchema(); }
  Status Ping() override { return fault_.Apply(); }
  std::string_view Kind() const override { return inner_->Kind(); }

 private:
  std::unique_ptr<MetadataStore> inner_;
  Fault& fault_;
};

class FaultyDocumentStore final : public DocumentStore {
 public:
  FaultyDocumentStore(std::unique_ptr<DocumentStore> inner, Fault& fault) : inner_(std::move(inner)), fault_(fault) {}
  Status WriteBatch(EventBatch events) override {
    if (Status s = fault_.Apply(); !s.ok()) return s;
    return inner_->WriteBatch(events);
  }
  Status ReadUserRange(std::string_view user, const UserRangeQuery& query,
                       const std::function<bool(const DocumentView&)>& visit) override {
    return inner_->ReadUserRange(user, query, visit);
  }
  Status FindEvent(std::string_view user, std::string_view id,
                   const std::function<void(const DocumentView&)>& visit) override {
    return inner_->FindEvent(user, id, visit);
  }
  Status FindEventAt(std::string_view user, const DocumentKey& key,
                     const std::function<void(const DocumentView&)>& visit) override {
    return inner_->FindEventAt(user, key, visit);
  }
  Status Scan(const ScanFilter& filter, const std::function<bool(const DocumentView&)>& visit) override {
    return inner_->Scan(filter, visit);
  }
  Result<int64_t> EraseUserEvents(const UserErasure& e, int limit) override { return inner_->EraseUserEvents(e, limit); }
  Result<int64_t> DeleteExpired(const ExpiryRule& rule, const std::function<bool(std::string_view)>& is_held,
                                int limit) override {
    return inner_->DeleteExpired(rule, is_held, limit);
  }
  Result<int64_t> ClearExpiry(std::string_view user_id) override { return inner_->ClearExpiry(user_id); }
  size_t MaxDocumentBytes() const override { return inner_->MaxDocumentBytes(); }
  Status Migrate() override { return inner_->Migrate(); }
  Status CheckSchema() override { return inner_->CheckSchema(); }
  Status Ping() override { return fault_.Apply(); }
  std::string_view Kind() const override { return inner_->Kind(); }

 private:
  std::unique_ptr<DocumentStore> inner_;
  Fault& fault_;
};

// Polls (bounded) until `done` holds: the retry worker runs on its own beat.
inline bool Eventually(const std::function<bool()>& done,
                       std::chrono::seconds limit = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

}  // namespace eventlogger::testing
