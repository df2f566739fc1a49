#include "storage/rocksdb_document_store.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include "core/event_time.h"
#include "core/timestamp.h"
#include "core/uuid.h"

namespace eventlogger {
namespace {

// Value formats: 1 = [1][type length][type][details]; 2 (an event with a
// client occurredAt) = [2][type length][type][occurredAt, 24 bytes][details].
// Events without occurredAt keep format 1, so a store written by this build
// stays readable by the previous one unless clients send occurredAt.
constexpr char kValueFormat = 1;
constexpr char kValueFormatWithOccurredAt = 2;
constexpr size_t kEventIdLength = 36;

// Translates a RocksDB status into ours, in one place.
Status FromRocksDb(const rocksdb::Status& status, std::string_view what) {
  if (status.ok()) return Status::Ok();
  std::string message(what);
  message += ": ";
  message += status.ToString();
  if (status.IsNotFound()) return Status::NotFound(std::move(message));
  if (status.IsIOError() || status.IsBusy() || status.IsTimedOut() || status.IsTryAgain() ||
      status.IsIncomplete()) {
    return Status::Unavailable(std::move(message));
  }
  return Status::Internal(std::move(message));
}

std::string EncodeValue(const Event& event) {
  std::string value;
  value.reserve(2 + event.event_type.size() + event.occurred_at.size() + event.details_json.size());
  value.push_back(event.occurred_at.empty() ? kValueFormat : kValueFormatWithOccurredAt);
  value.push_back(static_cast<char>(event.event_type.size()));
  value += event.event_type;
  value += event.occurred_at;  // kTimestampLength bytes when present
  value += event.details_json;
  return value;
}

// Splits key and value into a DocumentView; false if either is malformed.
bool DecodeDocument(rocksdb::Slice key, rocksdb::Slice value, DocumentView* view) {
  const std::string_view k(key.data(), key.size());
  const std::string_view v(value.data(), value.size());
  const size_t separator = k.find('\0');
  if (separator == std::string_view::npos ||
      k.size() != separator + 1 + kTimestampLength + kEventIdLength) {
    return false;
  }
  if (v.size() < 2 || (v[0] != kValueFormat && v[0] != kValueFormatWithOccurredAt)) return false;
  const size_t type_length = static_cast<uint8_t>(v[1]);
  const size_t occurred_length = v[0] == kValueFormatWithOccurredAt ? kTimestampLength : 0;
  if (v.size() < 2 + type_length + occurred_length) return false;
  view->user_id = k.substr(0, separator);
  view->timestamp = k.substr(separator + 1, kTimestampLength);
  view->event_id = k.substr(separator + 1 + kTimestampLength);
  view->event_type = v.substr(2, type_length);
  view->occurred_at = v.substr(2 + type_length, occurred_length);
  view->details_json = v.substr(2 + type_length + occurred_length);
  return true;
}

// True when `rule` covers events of this type.
bool RuleCoversType(const ExpiryRule& rule, std::string_view event_type) {
  const auto named = [event_type](const std::vector<std::string>& types) {
    return std::find(types.begin(), types.end(), event_type) != types.end();
  };
  return rule.event_types.empty() ? !named(rule.except_types) : named(rule.event_types);
}

// Which sweep a DeleteExpired call continues: its types, not its `before`,
// which moves with the clock from one call to the next.
std::string SweepIdentity(const ExpiryRule& rule) {
  std::string identity;
  for (const std::string& type : rule.event_types) identity += type + '\0';
  identity += '\1';
  for (const std::string& type : rule.except_types) identity += type + '\0';
  return identity;
}

class RocksDbDocumentStore final : public DocumentStore {
 public:
  explicit RocksDbDocumentStore(std::unique_ptr<rocksdb::DB> db) : db_(std::move(db)) {}

  ~RocksDbDocumentStore() override {
    // Flush the memtable so the next start replays no WAL; failure here only
    // costs replay time, the WAL already holds every acknowledged write.
    (void)db_->FlushWAL(/*sync=*/true);
    (void)db_->Close();
  }

  Status WriteBatch(EventBatch events) override { return Write(events, /*sync=*/true); }
  Status WriteBatchWithoutSync(EventBatch events) override { return Write(events, /*sync=*/false); }

  // Writes without a sync leave their WAL records in RocksDB's buffer
  // (manual_wal_flush), not even in the OS: one write(2) per sync instead of
  // one per batch. Flushing and syncing it makes every earlier write durable.
  // A crash before that loses them from RocksDB, never from the service: the
  // intent log keeps each event until a SyncWrites after its write succeeded.
  // Durable writes (WriteBatch, sync=true) flush the buffer themselves.
  Status SyncWrites() override { return FromRocksDb(db_->FlushWAL(/*sync=*/true), "syncing the document WAL"); }

  bool ReadsFromMemory() const override { return true; }

  Status ReadUserRange(std::string_view user_id, const UserRangeQuery& query,
                       const std::function<bool(const DocumentView&)>& visit) override {
    // The user's keys are "userId\0<timestamp><eventId>", so timestamp
    // bounds are key bounds: from inclusive is the key prefix itself; to
    // exclusive is too, since every key with that timestamp is longer.
    std::string prefix(user_id);
    prefix.push_back('\0');
    const std::string lower = prefix + query.from;
    std::string upper = prefix + query.to;
    if (query.to.empty()) upper.back() = '\1';  // past every key of the user
    if (lower >= upper) return Status::Ok();
    const std::string after =
        query.after ? RocksDbDocumentKey(user_id, query.after->timestamp, query.after->event_id) : std::string();
    rocksdb::Slice lower_bound(lower), upper_bound(upper);
    rocksdb::ReadOptions options;
    options.iterate_lower_bound = &lower_bound;
    options.iterate_upper_bound = &upper_bound;
    // The memtables and the block cache only: where a block would have to be
    // read from a file the iterator stops with Incomplete.
    if (query.memory_only) options.read_tier = rocksdb::kBlockCacheTier;
    // Both bounds are explicit and lie inside the user's prefix, so the seek
    // is a prefix seek (the files' prefix filters apply) without
    // prefix_same_as_start, which would extract and compare the prefix of
    // every key the iterator steps over.
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options));
    const bool forward = query.order == ReadOrder::kOldestFirst;
    if (forward) {
      it->Seek(!after.empty() && after > lower ? after : lower);
    } else {
      // The last key at or before the target; "prefix\xff" is past every
      // timestamp (digits), and the prefix keeps the user's filter in play.
      std::string target = query.to.empty() ? prefix + '\xff' : upper;
      if (!after.empty() && after < target) target = after;
      it->SeekForPrev(target);
    }
    DocumentView view;
    for (; it->Valid(); forward ? it->Next() : it->Prev()) {
      const rocksdb::Slice key = it->key();
      // The bounds are RocksDB's to keep, but a read must never leak into
      // another user's range, so check them here as well.
      if (key.compare(rocksdb::Slice(lower)) < 0 || key.compare(rocksdb::Slice(upper)) >= 0) break;
      if (!after.empty() && key == rocksdb::Slice(after)) continue;  // the cursor's own document
      if (!DecodeDocument(key, it->value(), &view)) {
        return Status::Internal("corrupt document record for user in RocksDB");
      }
      if (!query.event_types.empty() &&
          !std::binary_search(query.event_types.begin(), query.event_types.end(), view.event_type)) {
        continue;
      }
      if (!visit(view)) return Status::Ok();
    }
    if (query.memory_only && it->status().IsIncomplete()) return Status::WouldBlock("the page is not all in memory");
    return FromRocksDb(it->status(), "reading a user's documents");
  }

  Status FindEvent(std::string_view user_id, std::string_view event_id,
                   const std::function<void(const DocumentView&)>& visit) override {
    // A UUIDv7 carries its millisecond timestamp, which is the event's
    // timestamp, so the full key is known without an index.
    const std::optional<UuidBytes> uuid = ParseUuid(event_id);
    if (!uuid || UuidVersion(*uuid) != 7) return Status::NotFound("no such event");
    return Find(RocksDbDocumentKey(user_id, FormatTimestamp(Uuid7UnixMillis(*uuid)), FormatUuid(*uuid)), visit);
  }

  Status FindEventAt(std::string_view user_id, const DocumentKey& key,
                     const std::function<void(const DocumentView&)>& visit) override {
    if (key.timestamp.size() != kTimestampLength || key.event_id.size() != kEventIdLength) {
      return Status::NotFound("no such event");
    }
    return Find(RocksDbDocumentKey(user_id, key.timestamp, key.event_id), visit);
  }

  Status Find(const std::string& key, const std::function<void(const DocumentView&)>& visit) {
    rocksdb::PinnableSlice value;
    const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), key, &value);
    if (s.IsNotFound()) return Status::NotFound("no such event");
    if (!s.ok()) return FromRocksDb(s, "reading a document");
    DocumentView view;
    if (!DecodeDocument(key, value, &view)) return Status::Internal("corrupt document record");
    visit(view);
    return Status::Ok();
  }

  Status Scan(const ScanFilter& filter,
              const std::function<bool(const DocumentView&)>& visit) override {
    std::string lower, upper;
    if (!filter.user_id.empty()) {
      lower = filter.user_id + '\0' + filter.since;
      upper = filter.user_id + '\1';
    }
    rocksdb::Slice upper_bound(upper);
    rocksdb::ReadOptions options;
    if (!upper.empty()) {
      options.iterate_upper_bound = &upper_bound;
      options.prefix_same_as_start = true;  // one user: the prefix filters apply
    } else {
      options.total_order_seek = true;  // every user: no prefix filtering
    }
    options.fill_cache = false;  // a bulk scan should not evict the hot read set
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options));
    DocumentView view;
    for (lower.empty() ? it->SeekToFirst() : it->Seek(lower); it->Valid(); it->Next()) {
      if (!DecodeDocument(it->key(), it->value(), &view)) {
        return Status::Internal("corrupt document record in RocksDB");
      }
      if (!filter.since.empty() && view.timestamp < filter.since) continue;
      if (!filter.until.empty() && view.timestamp >= filter.until) {
        if (!filter.user_id.empty()) break;  // one user's range is time-ordered
        continue;
      }
      if (!visit(view)) return Status::Ok();
    }
    return FromRocksDb(it->status(), "scanning documents");
  }

  // Tombstones whole runs of erasable keys with DeleteRange, so an erasure
  // costs a few records however long the history, and point-deletes a run
  // of one key (a point tombstone is cheaper for later reads than a range).
  // A range starts just past the kept key before its run (or at the user's
  // range start), never at a document key: see DocumentKeyUserPrefix.
  Result<int64_t> EraseUserEvents(const UserErasure& erasure, int limit) override {
    if (limit <= 0) return Status::InvalidArgument("an erasure's limit must be positive");
    const std::string lower = UserRangeStart(erasure.user_id);
    std::string upper = lower;
    upper.back() = '\1';  // past every key of the user
    rocksdb::Slice lower_bound(lower), upper_bound(upper);
    rocksdb::ReadOptions options;
    options.iterate_lower_bound = &lower_bound;
    options.iterate_upper_bound = &upper_bound;
    options.fill_cache = false;  // erased documents will not be read again

    // A range tombstone deletes every key in its range that is older than
    // itself, seen or not. Were a document written into a run between the
    // scan and the tombstone (a late-received event with an old timestamp),
    // the tombstone would delete it unseen. Holding writers off for the
    // scan and the write closes that window; documents written before are
    // seen by the scan, those written after outlive the tombstone.
    std::unique_lock no_writes(range_writes_);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options));
    rocksdb::WriteBatch batch;
    // Where a run beginning at the next key would start: nothing lies
    // between it and that key.
    std::string next_run_start = lower;
    std::string run_start, run_last;
    int64_t run_length = 0, erased = 0;
    const auto close_run = [&] {
      if (run_length == 1) {
        batch.Delete(run_last);
      } else if (run_length > 1) {
        batch.DeleteRange(run_start, KeySuccessor(run_last));
      }
      run_length = 0;
    };
    for (it->Seek(lower); it->Valid() && erased < limit; it->Next()) {
      const std::string_view key(it->key().data(), it->key().size());
      if (key.size() != lower.size() + kTimestampLength + kEventIdLength) {
        return Status::Internal("corrupt document key for user in RocksDB");
      }
      // An id that is not a UUIDv7 carries no receipt: erased, as reads
      // already hide it once the user has an erasure (privacy/read_visibility.cc).
      if (ReceivedMillisOf(key.substr(key.size() - kEventIdLength), 0) > erasure.received_cutoff_ms) {
        close_run();  // received after the cutoff: kept, and no range may span it
        next_run_start = KeySuccessor(key);
        continue;
      }
      if (run_length == 0) run_start = next_run_start;
      run_last.assign(key);
      ++run_length;
      ++erased;
    }
    close_run();
    if (Status scanned = FromRocksDb(it->status(), "scanning a user's documents to erase"); !scanned.ok()) {
      return scanned;
    }
    if (erased == 0) return int64_t{0};
    rocksdb::WriteOptions durable;
    durable.sync = true;
    if (Status written = FromRocksDb(db_->Write(durable, &batch), "erasing a user's documents"); !written.ok()) {
      return written;
    }
    return erased;
  }

  // Walks the store in key order from where the previous call of the same
  // sweep stopped. Within a user the keys go by timestamp, so the first
  // document at or after `before` ends that user's part of the sweep: the
  // walk seeks to the next user instead of reading the rest.
  Result<int64_t> DeleteExpired(const ExpiryRule& rule, const std::function<bool(std::string_view)>& is_held,
                                int limit) override {
    if (limit <= 0) return Status::InvalidArgument("a sweep's limit must be positive");
    // One call of a sweep at a time: each continues from the last one's key.
    std::lock_guard sweeping(sweep_mutex_);
    const std::string identity = SweepIdentity(rule);
    rocksdb::ReadOptions options;
    options.total_order_seek = true;  // every user: no prefix filtering
    options.fill_cache = false;       // a sweep should not evict the hot read set
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options));
    if (auto resume = sweep_resume_keys_.find(identity); resume != sweep_resume_keys_.end()) {
      it->Seek(resume->second);
    } else {
      it->SeekToFirst();
    }
    rocksdb::WriteBatch batch;
    std::string last_deleted, user;
    bool user_held = false;
    int64_t deleted = 0;
    DocumentView view;
    while (it->Valid() && deleted < limit) {
      const rocksdb::Slice key = it->key();
      const std::string_view k(key.data(), key.size());
      const size_t separator = k.find('\0');
      if (separator == std::string_view::npos || k.size() != separator + 1 + kTimestampLength + kEventIdLength) {
        return Status::Internal("corrupt document key in RocksDB");
      }
      if (k.substr(0, separator) != user) {
        user.assign(k.substr(0, separator));
        user_held = is_held && is_held(user);
      }
      if (user_held || k.substr(separator + 1, kTimestampLength) >= rule.before) {
        it->Seek(user + '\1');  // past the rest of this user
        continue;
      }
      if (!DecodeDocument(key, it->value(), &view)) return Status::Internal("corrupt document record in RocksDB");
      if (RuleCoversType(rule, view.event_type)) {
        batch.Delete(key);
        last_deleted.assign(k);
        ++deleted;
      }
      it->Next();
    }
    if (Status scanned = FromRocksDb(it->status(), "sweeping expired documents"); !scanned.ok()) return scanned;
    if (deleted > 0) {
      rocksdb::WriteOptions durable;
      durable.sync = true;
      if (Status written = FromRocksDb(db_->Write(durable, &batch), "deleting expired documents"); !written.ok()) {
        return written;
      }
    }
    // A full call may have stopped mid-store; a short one reached the end,
    // and the next call starts a new sweep from the beginning.
    if (deleted == limit) {
      sweep_resume_keys_[identity] = KeySuccessor(last_deleted);
    } else {
      sweep_resume_keys_.erase(identity);
    }
    return deleted;
  }

  // RocksDB takes values of gigabytes; the HTTP body limit is what binds.
  size_t MaxDocumentBytes() const override { return size_t{1} << 30; }

  // The embedded store needs no schema beyond its key layout.
  Status Migrate() override { return Status::Ok(); }
  Status CheckSchema() override { return Status::Ok(); }

  Status Ping() override {
    std::string ignored;
    const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), rocksdb::Slice("\x01ping"), &ignored);
    return s.IsNotFound() ? Status::Ok() : FromRocksDb(s, "pinging RocksDB");
  }

  std::string_view Kind() const override { return "rocksdb"; }

 private:
  // "userId\0": the first key of the user's range, and the prefix of all.
  static std::string UserRangeStart(std::string_view user_id) {
    std::string start(user_id);
    start.push_back('\0');
    return start;
  }

  // The smallest key after `key`: a range ending there includes `key`.
  static std::string KeySuccessor(std::string_view key) {
    std::string successor(key);
    successor.push_back('\0');
    return successor;
  }

  Status Write(EventBatch events, bool sync) {
    // Shared: writers never wait for each other, only for an erasure's
    // scan and tombstones (see EraseUserEvents); once per batch, not per event.
    std::shared_lock no_erasure(range_writes_);
    rocksdb::WriteBatch batch;
    for (const Event* event : events) {
      batch.Put(RocksDbDocumentKey(event->user_id, event->timestamp, event->event_id),
                EncodeValue(*event));
    }
    rocksdb::WriteOptions options;
    options.sync = sync;
    return FromRocksDb(db_->Write(options, &batch), "writing documents");
  }

  std::unique_ptr<rocksdb::DB> db_;
  // Writers hold it shared, an erasure exclusive (see EraseUserEvents).
  std::shared_mutex range_writes_;
  // Where each unfinished sweep (by SweepIdentity) continues.
  std::mutex sweep_mutex_;
  std::map<std::string, std::string> sweep_resume_keys_;
};

}  // namespace

std::string RocksDbDocumentKey(std::string_view user_id, std::string_view timestamp,
                               std::string_view event_id) {
  std::string key;
  key.reserve(user_id.size() + 1 + timestamp.size() + event_id.size());
  key += user_id;
  key.push_back('\0');
  key += timestamp;
  key += event_id;
  return key;
}

namespace {

// The user part of a document key ("userId\0"). Each user's events arrive in
// time order, so a user's next key belongs right after that user's last one:
// RocksDB remembers where each prefix last inserted into the memtable and
// starts the next insert there instead of descending the whole skip list
// (that search was the document writer's largest cost under load).
class UserPrefix : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "eventlogger.UserPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    const void* separator = std::memchr(key.data(), '\0', key.size());
    return rocksdb::Slice(key.data(), static_cast<const char*>(separator) - key.data() + 1);
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return std::memchr(key.data(), '\0', key.size()) != nullptr;
  }
};

// The same prefix for the memtable's insert hints, but of whole document
// keys only. RocksDB 7.8 keeps one hint per prefix for both of a memtable's
// skip lists, documents and range tombstones, so a hint left in one
// misplaces an insert into the other (an assertion in RocksDB's debug
// builds, a corrupt memtable in others; later releases hint documents only).
// No range tombstone starts at a document key (see EraseUserEvents), so
// every one of them is inserted without a hint.
class DocumentKeyUserPrefix final : public UserPrefix {
 public:
  const char* Name() const override { return "eventlogger.DocumentKeyUserPrefix"; }
  bool InDomain(const rocksdb::Slice& key) const override {
    const void* separator = std::memchr(key.data(), '\0', key.size());
    if (separator == nullptr) return false;
    const size_t user_length = static_cast<size_t>(static_cast<const char*>(separator) - key.data());
    return key.size() == user_length + 1 + kTimestampLength + kEventIdLength;
  }
};

}  // namespace

Result<std::unique_ptr<DocumentStore>> OpenRocksDbDocumentStore(const RocksDbDocumentOptions& options) {
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.write_buffer_size = options.write_buffer_bytes;
  db_options.max_background_jobs = 2;
  db_options.manual_wal_flush = true;  // see SyncWrites
  // Flushes and compactions hand their files to the disk a megabyte at a
  // time instead of in one burst at the end: a burst queued ahead of the
  // intent log's fdatasync, which every POST waits for (a 60 s POST run:
  // p99 10-13 ms without, 5 ms with).
  db_options.bytes_per_sync = 1 << 20;
  // Levels 0 and 1 hold only the newest few hundred MB, and compaction
  // rewrites them again and again: compressing them spent CPU on every flush
  // and every L0->L1 pass (snappy was 3% of the CPU under POST load; without
  // it the background threads used 0.7 µs less per POST). Deeper levels,
  // which hold nearly all the data, stay compressed.
  db_options.compression_per_level.assign(db_options.num_levels, rocksdb::kSnappyCompression);
  db_options.compression_per_level[0] = rocksdb::kNoCompression;
  db_options.compression_per_level[1] = rocksdb::kNoCompression;
  // Every flushed file spans nearly every user (keys go by user, writes
  // arrive in time order), so each level-0 compaction rewrites all of
  // level 1 (up to 256 MiB) however few files it takes in. Waiting for eight
  // files instead of four halves how often that happens: in a 40 s POST run
  // flushes and compactions wrote 1.29 GB instead of 1.89 (compaction took
  // 1.3 instead of 2.0 µs of CPU per POST), and post-16k, which runs on a
  // level 1 the earlier scenarios filled, spent 41 instead of 86 µs of
  // compaction CPU per POST. A read then checks up to eight level-0 files
  // (their filters and indexes stay pinned in the cache); the slowdown and
  // stop thresholds move up by as much, so bursts keep their headroom.
  db_options.level0_file_num_compaction_trigger = 8;
  db_options.level0_slowdown_writes_trigger = 24;
  db_options.level0_stop_writes_trigger = 40;
  const auto user_prefix = std::make_shared<UserPrefix>();
  db_options.memtable_insert_with_hint_prefix_extractor = std::make_shared<DocumentKeyUserPrefix>();
  // Every read is of one user's range, so each SST file gets a Bloom filter
  // of the user prefixes it holds, and a read skips the files without its
  // user. Without it a read opened a data block in every level-0 file and
  // every level, which after a few GiB of writes made a 90/10 GET/POST mix
  // on small users run at half its speed (docs/performance.md).
  db_options.prefix_extractor = user_prefix;
  if (options.min_blob_bytes > 0) {
    db_options.enable_blob_files = true;
    db_options.min_blob_size = options.min_blob_bytes;
    db_options.blob_compression_type = rocksdb::kSnappyCompression;  // as the SST files
    // No blob garbage collection: collection relocated the oldest quarter
    // of the blobs in every compaction (in a 16 KiB POST run: 115 instead
    // of 13 µs of compaction CPU per request). Without it, the blob of an
    // erased or expired document stays on disk, unreadable through the
    // store, until every blob of its file is garbage and RocksDB deletes the
    // file; erasure that must reach the disk sooner needs collection, or a
    // forced one over the erased range.
    db_options.enable_blob_garbage_collection = false;
  }
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  if (db_options.enable_blob_files) {
    // Large documents read from blob files are cached too, within the block
    // cache's bound: without a blob cache every read of one is a pread and a
    // decompression.
    db_options.blob_cache = table.block_cache;
  }
  // Index and filter blocks live in the block cache too, so memory stays
  // within its bound as the data grows (otherwise every open SST file keeps
  // its own outside it: RSS crept up for minutes under load); the level-0
  // ones are pinned because every read consults them.
  table.cache_index_and_filter_blocks = true;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));  // ~1% false positives
  table.whole_key_filtering = false;  // lookups go by user (FindEvent's Get checks the prefix too)
  // 16 KiB data blocks instead of 4: a quarter of the index entries. With
  // 4 KiB blocks a 64 MiB file's index is about a megabyte; once the files'
  // indexes outgrew the cache, each read fetched, checksummed and copied
  // them again from the file (a 90/10 GET/POST mix after 2 GB of writes ran
  // at half speed). Partitioned indexes fixed that too but cost 20-25 MiB
  // more RSS under write load.
  table.block_size = 16 << 10;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  db_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, &raw);
  if (!s.ok()) return FromRocksDb(s, "opening RocksDB at " + options.path);
  return std::unique_ptr<DocumentStore>(new RocksDbDocumentStore(std::unique_ptr<rocksdb::DB>(raw)));
}

}  // namespace eventlogger
