// IntentLog: an append-only, group-committed, crash-safe write-ahead log of
// events, kept until each event has been settled (written to both stores, or
// handed to the SQLite outbox after a failure).
//
// It takes the place of committing every event into the SQLite outbox before
// the store writes: a B-tree insert and a later delete cost ~15 µs of CPU per
// event, while the log costs one pwrite and one fdatasync per batch. After a
// crash, Open() returns the events of every segment still live, for the
// service to hand to the outbox, whose retry worker rewrites them (store
// writes are idempotent, so an event replayed after it had already reached
// both stores is harmless).
//
// Files. The log is a directory of segment files named by a 16-hex-digit
// sequence number that only grows ("0000000000000007.log"), plus at most two
// spare files ("0000000000000003.spare", named after their last life). A new
// segment file is created at its full size and filled with zeros (file and
// directory fsynced), so that an append overwrites allocated blocks and its
// fdatasync never has to journal a size change. A segment whose events are
// all released is recycled when the log next moves to a new segment: renamed
// to the new sequence number, or kept as a spare, or deleted when two spares
// already wait. The directory is fsynced after every rename.
//
// Record layout (all integers little-endian):
//   [u32 payload length][u32 crc32][payload]
// where the crc32 (zlib's) covers the segment's sequence number as 8 bytes
// followed by the payload. Because recycled files still hold the records of
// their earlier lives, binding the checksum to the sequence number is what
// tells a stale record (right length, valid payload, other segment) from a
// live one. The payload is the event's fields in this order:
//   event_id, user_id, event_type, timestamp   each [u32 length][bytes]
//   unix_millis                                 i64 (two's complement)
//   details_json, idempotency_key, request_hash each [u32 length][bytes]
//   occurred_at                                 [u32 length][bytes], only when
//                                               the client gave occurredAt
// A payload is never empty, so the zeros of a fresh file read as "end".
//
// Replay reads each segment from its start and stops at the first record that
// is zero-length, truncated, fails its checksum or belongs to another
// sequence number: that is a torn tail of a batch that was never
// acknowledged, or an older life of the file, not an error. A record whose
// checksum is valid but whose payload cannot be decoded was written by some
// other format, and fails Open() rather than dropping events silently.
//
// When events may come back: an event is replayed by every Open() until its
// segment is recycled, i.e. until it and every other event of its segment
// are released and the log has since moved to a new segment (or, for the
// segments found at Open, until DiscardReplayed). Release is a promise that
// the event is safe elsewhere; it does not remove it from the disk.
//
// A failed Append: the log overwrites the batch's records with zeros (where
// replay stops), so that an event answered "not stored" does not come back
// at the next start; only if that fails too is the outcome unknown (the
// records may then be replayed after a crash). Either way the log abandons
// the current segment, so nothing is ever written after a possibly torn
// record.
//
// Thread safety: Append must be called from one thread at a time (the
// pipeline's writer thread). Release and Stats may be called from any thread
// at any time; they never wait for disk I/O. DiscardReplayed may run
// concurrently with Append. One IntentLog per directory: Open takes an
// exclusive advisory lock (flock) on the directory, so a second log on the
// same directory, in this process or another, fails to open.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "core/status.h"

namespace eventlogger {

struct IntentLogOptions {
  std::string directory;            // created if missing; one log per directory
  // Preallocated size of one segment file, bytes (>= 4096). A new data dir
  // zero-fills and fsyncs its first segment before serving: 16 MiB took the
  // cold start from 22 to 66 ms; 4 MiB still holds over 10,000 small events,
  // ten times what the 100 ms sync interval keeps at 35,000 POST/s.
  size_t segment_bytes = 4 << 20;
  // Runs before each append's write (step "write") and before its fdatasync
  // (step "sync"); a non-OK status fails that step as a disk error would.
  // For tests: a failing disk cannot be produced on demand. Unset in
  // production.
  std::function<Status(std::string_view step)> fault_injector;
};

struct IntentLogStats {
  // Segments holding at least one unreleased event, plus the current one.
  // Fully released segments waiting for the next roll to recycle them are
  // counted neither here nor as spares.
  int64_t live_segments = 0;
  // Events appended (or replayed by Open and not yet discarded) and not yet
  // released.
  int64_t unreleased_events = 0;
  int64_t spare_segments = 0;  // zeroed/recycled files ready for reuse (at most 2)
  // Group commit at work, since Open: batches Append wrote and synced, the
  // events in them, and the time their write and fdatasync took. Failed
  // appends and empty batches are not counted.
  int64_t appends = 0;
  int64_t appended_events = 0;
  double append_seconds = 0;
};

// What a log directory holds for the next Open to replay (IntentLog::Inspect).
struct IntentLogInspection {
  // A running IntentLog (a service) holds the directory: its events are in
  // flight, not waiting for a start, so nothing else is reported.
  bool in_use = false;
  int64_t events = 0;    // events the next Open would replay
  int64_t segments = 0;  // segment files holding at least one of them
  int64_t oldest_unix_millis = 0;  // the earliest of those events' receipts; 0 if none
};

class IntentLog {
 public:
  // Reads what the next Open would replay, without changing anything and
  // without keeping the directory from being opened meanwhile (an operator's
  // look at a stopped or crashed service). A missing directory holds nothing.
  // Events of a run that stopped uncleanly are counted even if they had
  // already reached both stores: replay rewrites them, harmlessly.
  static Result<IntentLogInspection> Inspect(const std::string& directory);

  // Opens (creating) the log. Every event found in the existing segments is
  // appended to *replayed (in log order); those segments stay on disk until
  // DiscardReplayed(). Then starts a new current segment, from a spare file if
  // there is one. Fails with InvalidArgument for bad options or a null
  // `replayed`, FailedPrecondition when another IntentLog holds the
  // directory or a record cannot be decoded, Unavailable on I/O errors.
  static Result<std::unique_ptr<IntentLog>> Open(const IntentLogOptions& options,
                                                 std::vector<Event>* replayed);
  ~IntentLog();
  IntentLog(const IntentLog&) = delete;
  IntentLog& operator=(const IntentLog&) = delete;

  // Durably appends the batch: one write of all records, then fdatasync.
  // Returns the segment number that holds every event of the batch (a batch
  // never spans segments: if it does not fit in the current segment's
  // remaining space the log moves to a fresh segment first; a batch larger
  // than a whole segment is still written into one segment, which then grows
  // past segment_bytes). An empty batch writes nothing and returns the
  // current segment. On error the batch's outcome is unknown (see above).
  // REQUIRES: called from one thread at a time.
  Result<uint64_t> Append(EventBatch events);

  // `count` events of `segment` (a number returned by Append) are settled: in
  // both stores, or safe in the outbox. Cheap (a mutex and a map lookup, no
  // I/O); any thread. Releasing more events than were appended is a bug.
  void Release(uint64_t segment, size_t count = 1);

  // The replayed events are now safe elsewhere: their segments become spares
  // (or are deleted beyond two spares), durably, so that the next Open does
  // not replay them again. Call once after Open; later calls do nothing.
  Status DiscardReplayed();

  // A clean stop: retires every segment whose events are all released, the
  // current one included, so that the next Open replays nothing it does not
  // have to (a clean restart would otherwise rewrite up to a segment of
  // already-stored events). Segments with unreleased events stay for replay.
  // REQUIRES: no Append after this; the log is otherwise unusable for writes.
  Status CloseCleanly();

  IntentLogStats Stats() const;  // any thread

 private:
  struct Impl;
  explicit IntentLog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace eventlogger
