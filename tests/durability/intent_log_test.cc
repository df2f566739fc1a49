// Tests for the IntentLog on real files in a temporary directory: what a
// reopen replays (every field, in order), when released events stop being
// replayed, torn and corrupted tails, stale records in recycled files, a
// batch larger than a segment, the bound on files and spares, the stats, and
// Release from several threads. Damaged files are made by editing the bytes
// at offsets computed from the record layout documented in intent_log.h,
// independently of the log's own encoder.
#include "durability/intent_log.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "integration/service_fixture.h"  // TempDir

namespace eventlogger {
namespace {

using testing::TempDir;
namespace fs = std::filesystem;

constexpr size_t kSmallSegment = 4096;  // the smallest the log accepts

// Events whose fields all have a fixed size for a given details length, so
// that records line up from one life of a file to the next.
Event MakeEvent(int n, size_t details_bytes = 40) {
  // A UUIDv7 whose millisecond is the event's: when the service received it.
  const int64_t millis = 1'750'000'000'000 + n;
  char id[40];
  std::snprintf(id, sizeof(id), "%08llx-%04llx-7000-8000-%012d", static_cast<unsigned long long>(millis >> 16),
                static_cast<unsigned long long>(millis & 0xffff), n);
  Event event;
  event.event_id = id;
  event.user_id = "user-" + std::to_string(n % 10);
  event.event_type = "bet.placed";
  event.timestamp = "2025-06-15T15:06:40.000Z";
  event.unix_millis = millis;
  event.details_json = std::string(details_bytes, static_cast<char>('a' + n % 26));
  event.idempotency_key = "key-" + std::to_string(n % 10);
  event.request_hash =
      "hash-" + std::to_string(n % 10);  // non-empty: a record never ends in a zero
  return event;
}

std::vector<Event> MakeEvents(int first, int count, size_t details_bytes = 40) {
  std::vector<Event> events;
  for (int n = first; n < first + count; ++n) events.push_back(MakeEvent(n, details_bytes));
  return events;
}

// Record size from the documented layout: an 8-byte header, then seven
// length-prefixed strings and the 8-byte unix_millis.
size_t RecordBytes(const Event& e) {
  return 8 + 7 * 4 + 8 + e.event_id.size() + e.user_id.size() + e.event_type.size() +
         e.timestamp.size() + e.details_json.size() + e.idempotency_key.size() +
         e.request_hash.size();
}

std::string SegmentName(uint64_t seq) {
  char name[32];
  std::snprintf(name, sizeof(name), "%016llx.log", static_cast<unsigned long long>(seq));
  return name;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFile(const fs::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

ino_t Inode(const fs::path& path) {
  struct stat info {};
  EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
  return info.st_ino;
}

void ExpectSameEvents(const std::vector<Event>& actual, const std::vector<Event>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    SCOPED_TRACE("event " + std::to_string(i));
    EXPECT_EQ(actual[i].event_id, expected[i].event_id);
    EXPECT_EQ(actual[i].user_id, expected[i].user_id);
    EXPECT_EQ(actual[i].event_type, expected[i].event_type);
    EXPECT_EQ(actual[i].timestamp, expected[i].timestamp);
    EXPECT_EQ(actual[i].unix_millis, expected[i].unix_millis);
    EXPECT_EQ(actual[i].details_json, expected[i].details_json);
    EXPECT_EQ(actual[i].idempotency_key, expected[i].idempotency_key);
    EXPECT_EQ(actual[i].request_hash, expected[i].request_hash);
    EXPECT_EQ(actual[i].occurred_at, expected[i].occurred_at);
  }
}

std::vector<Event> Concat(std::vector<Event> a, const std::vector<Event>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

class IntentLogTest : public ::testing::Test {
 protected:
  // Opens the log on `directory_` (reopening it if open); returns what it replayed.
  std::vector<Event> Reopen(size_t segment_bytes = 1 << 20) {
    log_.reset();
    std::vector<Event> replayed;
    Result<std::unique_ptr<IntentLog>> opened = IntentLog::Open(
        {.directory = directory_.string(), .segment_bytes = segment_bytes}, &replayed);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    if (opened.ok()) log_ = std::move(*opened);
    return replayed;
  }

  // Opens the log (small segments) on a disk whose syncs take `sync_delay`
  // and fail while *fail_sync is true.
  void OpenWithFaultySync(const bool* fail_sync,
                          std::chrono::milliseconds sync_delay = std::chrono::milliseconds(0)) {
    log_.reset();
    std::vector<Event> none;
    Result<std::unique_ptr<IntentLog>> opened = IntentLog::Open(
        {.directory = directory_.string(),
         .segment_bytes = kSmallSegment,
         .fault_injector = [fail_sync, sync_delay](std::string_view step) {
           if (step != "sync") return Status::Ok();
           std::this_thread::sleep_for(sync_delay);
           return *fail_sync ? Status::Unavailable("injected: fdatasync EIO") : Status::Ok();
         }},
        &none);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    log_ = std::move(*opened);
  }

  Result<uint64_t> TryAppend(const std::vector<Event>& events) {
    std::vector<const Event*> pointers;
    for (const Event& e : events) pointers.push_back(&e);
    return log_->Append(EventBatch(pointers));
  }

  uint64_t Append(const std::vector<Event>& events) {
    Result<uint64_t> seq = TryAppend(events);
    EXPECT_TRUE(seq.ok()) << seq.status().ToString();
    return seq.ok() ? *seq : 0;
  }

  // The directory's file names, sorted.
  std::vector<std::string> Files() const {
    std::vector<std::string> names;
    for (const fs::directory_entry& entry : fs::directory_iterator(directory_)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  int CountFiles(const std::string& suffix) const {
    const std::vector<std::string> names = Files();
    return static_cast<int>(std::count_if(names.begin(), names.end(), [&](const std::string& name) {
      return name.size() > suffix.size() && name.ends_with(suffix);
    }));
  }

  fs::path SegmentPath(uint64_t seq) const { return directory_ / SegmentName(seq); }

  static void ExpectStats(const IntentLogStats& stats, int64_t live, int64_t unreleased,
                          int64_t spares) {
    EXPECT_EQ(stats.live_segments, live);
    EXPECT_EQ(stats.unreleased_events, unreleased);
    EXPECT_EQ(stats.spare_segments, spares);
  }

  TempDir dir_;
  fs::path directory_ = dir_.path() / "intents" / "log";  // two missing levels: Open makes both
  std::unique_ptr<IntentLog> log_;
};

TEST_F(IntentLogTest, FreshLogStartsWithOneZeroedFullSizeSegment) {
  EXPECT_TRUE(Reopen(kSmallSegment).empty());
  ASSERT_NE(log_, nullptr);
  EXPECT_EQ(Files(), (std::vector<std::string>{"0000000000000001.log"}));
  const std::string data = ReadFile(SegmentPath(1));
  EXPECT_EQ(data, std::string(kSmallSegment, '\0'));
  ExpectStats(log_->Stats(), 1, 0, 0);
}

TEST_F(IntentLogTest, ReopenReplaysEveryFieldOfEveryAppendedEventInOrder) {
  Reopen();
  ASSERT_NE(log_, nullptr);
  Event keyed = MakeEvent(1);
  Event no_key = MakeEvent(2);
  no_key.idempotency_key = "";
  no_key.request_hash = "";
  no_key.details_json = R"({"blob":")" + std::string(100 << 10, 'x') + R"("})";  // 100 KiB
  Event non_ascii = MakeEvent(3);
  non_ascii.user_id = "Zoë-東京-🎲";
  non_ascii.unix_millis = -1;  // before 1970: the sign survives
  Event binary = MakeEvent(4);
  binary.request_hash = std::string("\0\xff\x01", 3);  // any bytes, including NUL
  Event client_timed = MakeEvent(5);
  client_timed.occurred_at = "2025-06-15T14:06:40.000Z";
  client_timed.timestamp = "2025-06-15T14:06:39.500Z";

  const std::vector<Event> first = {keyed, no_key};
  const std::vector<Event> second = {non_ascii, binary, client_timed};
  EXPECT_EQ(Append(first), 1u);
  EXPECT_EQ(Append(second), 1u);

  ExpectSameEvents(Reopen(), Concat(first, second));
}

TEST_F(IntentLogTest, OnlyAnOccurredAtAddsToTheEarlierRecordLayout) {
  // Records of events without occurredAt are what earlier versions wrote
  // (the layout RecordBytes computes), so their logs replay after an
  // upgrade; a client-timed event adds one trailing length-prefixed field.
  Reopen();
  Event plain = MakeEvent(1);
  Event client_timed = MakeEvent(2);
  client_timed.occurred_at = "2025-06-15T14:06:40.000Z";
  ASSERT_EQ(Append({plain}), 1u);
  ASSERT_EQ(Append({client_timed}), 1u);
  const std::string data = ReadFile(directory_ / SegmentName(1));
  const size_t first = RecordBytes(plain);
  ASSERT_GT(data.size(), first + 8);
  const uint32_t first_length = static_cast<uint8_t>(data[0]) | static_cast<uint8_t>(data[1]) << 8 |
                                static_cast<uint8_t>(data[2]) << 16 | static_cast<uint32_t>(static_cast<uint8_t>(data[3])) << 24;
  EXPECT_EQ(first_length + 8, first);
  const uint32_t second_length = static_cast<uint8_t>(data[first]) | static_cast<uint8_t>(data[first + 1]) << 8;
  EXPECT_EQ(second_length + 8, RecordBytes(client_timed) + 4 + client_timed.occurred_at.size());
  EXPECT_EQ(data.substr(first + RecordBytes(client_timed), 4 + 24),
            std::string("\x18\0\0\0", 4) + client_timed.occurred_at);
  ExpectSameEvents(Reopen(), {plain, client_timed});
}

TEST_F(IntentLogTest, EmptyBatchWritesNothing) {
  Reopen(kSmallSegment);
  ASSERT_NE(log_, nullptr);
  EXPECT_EQ(Append({}), 1u);
  EXPECT_EQ(ReadFile(SegmentPath(1)), std::string(kSmallSegment, '\0'));
  ExpectStats(log_->Stats(), 1, 0, 0);
}

TEST_F(IntentLogTest, SequenceNumbersKeepGrowingAcrossReopens) {
  Reopen(kSmallSegment);
  ASSERT_NE(log_, nullptr);
  const std::vector<Event> a = MakeEvents(1, 2);
  EXPECT_EQ(Append(a), 1u);
  ExpectSameEvents(Reopen(kSmallSegment), a);
  // The replayed segment stays; appends go to a new one.
  EXPECT_EQ(Append(MakeEvents(3, 1)), 2u);
  EXPECT_EQ(Files(), (std::vector<std::string>{"0000000000000001.log", "0000000000000002.log"}));
}

TEST_F(IntentLogTest, ReleasedEventsAreReplayedUntilTheirSegmentIsRolledPast) {
  Reopen(kSmallSegment);
  ASSERT_NE(log_, nullptr);
  const std::vector<Event> a = MakeEvents(1, 1);
  ASSERT_EQ(Append(a), 1u);
  log_->Release(1);
  // Released, but segment 1 is still the current one: still on disk, so a
  // crash now replays it (harmless: rewrites are idempotent).
  ExpectSameEvents(Reopen(kSmallSegment), a);
  ASSERT_TRUE(log_->DiscardReplayed().ok());

  const std::vector<Event> b = MakeEvents(2, 1);
  const uint64_t b_seq = Append(b);
  EXPECT_EQ(b_seq, 2u);
  log_->Release(b_seq);
  // A batch that cannot fit next to b moves the log to a new segment, which
  // recycles b's fully released one.
  const std::vector<Event> c = MakeEvents(3, 1, kSmallSegment - 200);
  EXPECT_EQ(Append(c), 3u);
  EXPECT_FALSE(fs::exists(SegmentPath(b_seq)));

  ExpectSameEvents(Reopen(kSmallSegment), c);
}

TEST_F(IntentLogTest, PartlyReleasedSegmentsSurviveRolls) {
  Reopen(kSmallSegment);
  ASSERT_NE(log_, nullptr);
  const std::vector<Event> a = MakeEvents(1, 2);
  ASSERT_EQ(Append(a), 1u);
  log_->Release(1);  // one of the two

  const std::vector<Event> b = MakeEvents(3, 1, kSmallSegment - 200);
  ASSERT_EQ(Append(b), 2u);
  log_->Release(2);
  const std::vector<Event> c = MakeEvents(4, 1, kSmallSegment - 200);
  ASSERT_EQ(Append(c), 3u);  // recycles segment 2, not segment 1

  EXPECT_TRUE(fs::exists(SegmentPath(1)));
  EXPECT_FALSE(fs::exists(SegmentPath(2)));
  // Replay is per segment: the released half of segment 1 comes back too.
  ExpectSameEvents(Reopen(kSmallSegment), Concat(a, c));
}

TEST_F(IntentLogTest, DiscardReplayedTurnsReplayedSegmentsIntoSpares) {
  Reopen(kSmallSegment);
  ASSERT_NE(log_, nullptr);
  const std::vector<Event> a = MakeEvents(1, 3);
  ASSERT_EQ(Append(a), 1u);

  ExpectSameEvents(Reopen(kSmallSegment), a);
  // Replayed segment 1 counts as live with its events until discarded.
  ExpectStats(log_->Stats(), 2, 3, 0);
  ASSERT_TRUE(log_->DiscardReplayed().ok());
  ExpectStats(log_->Stats(), 1, 0, 1);
  EXPECT_EQ(Files(), (std::vector<std::string>{"0000000000000001.spare", "0000000000000002.log"}));
  EXPECT_TRUE(log_->DiscardReplayed().ok()) << "a second call does nothing";

  // The spare, still holding a's records of segment 1, becomes segment 3 at
  // the next open; none of its stale records come back.
  const ino_t spare_inode = Inode(directory_ / "0000000000000001.spare");
  EXPECT_TRUE(Reopen(kSmallSegment).empty());
  EXPECT_EQ(Inode(SegmentPath(3)), spare_inode);
  EXPECT_EQ(log_->Stats().spare_segments, 0);
  EXPECT_TRUE(Reopen(kSmallSegment).empty());
}

TEST_F(IntentLogTest, CloseCleanlyRetiresReleasedSegmentsAndKeepsUnreleasedOnes) {
  Reopen(kSmallSegment);
  ASSERT_NE(log_, nullptr);
  const std::vector<Event> a = MakeEvents(1, 2);
  ASSERT_EQ(Append(a), 1u);
  log_->Release(1, 2);
  ASSERT_TRUE(log_->CloseCleanly().ok());
  // Everything was released: nothing comes back, and the file waits as a spare.
  EXPECT_TRUE(Reopen(kSmallSegment).empty());
  ASSERT_TRUE(log_->DiscardReplayed().ok());

  // With one event still unreleased, its segment stays and is replayed.
  const std::vector<Event> b = MakeEvents(10, 2);
  const uint64_t segment = Append(b);
  log_->Release(segment, 1);
  ASSERT_TRUE(log_->CloseCleanly().ok());
  ExpectSameEvents(Reopen(kSmallSegment), b);
}

IntentLogInspection InspectOk(const fs::path& directory) {
  Result<IntentLogInspection> inspection = IntentLog::Inspect(directory.string());
  EXPECT_TRUE(inspection.ok()) << inspection.status().ToString();
  return inspection.ok() ? *inspection : IntentLogInspection{};
}

TEST_F(IntentLogTest, InspectOfADirectoryNeverOpenedFindsNothing) {
  const IntentLogInspection inspection = InspectOk(directory_);
  EXPECT_FALSE(inspection.in_use);
  EXPECT_EQ(inspection.events, 0);
  EXPECT_EQ(inspection.segments, 0);
  EXPECT_EQ(inspection.oldest_unix_millis, 0);
  EXPECT_FALSE(fs::exists(directory_)) << "Inspect must not create the log";
}

TEST_F(IntentLogTest, InspectCountsWhatTheNextOpenReplaysAndChangesNothing) {
  Reopen(kSmallSegment);
  ASSERT_NE(log_, nullptr);
  const std::vector<Event> a = MakeEvents(5, 3);
  ASSERT_EQ(Append(a), 1u);
  const std::vector<Event> b = MakeEvents(2, 1, kSmallSegment - 200);  // rolls to segment 2
  ASSERT_EQ(Append(b), 2u);
  EXPECT_TRUE(InspectOk(directory_).in_use) << "an open log's events are in flight, not waiting";
  log_.reset();  // a crash: no CloseCleanly

  const std::vector<std::string> files_before = Files();
  const std::string first_segment = ReadFile(SegmentPath(1));
  const IntentLogInspection inspection = InspectOk(directory_);
  EXPECT_FALSE(inspection.in_use);
  EXPECT_EQ(inspection.events, 4);
  EXPECT_EQ(inspection.segments, 2);
  EXPECT_EQ(inspection.oldest_unix_millis, MakeEvent(2).unix_millis);  // the earliest, not the first
  EXPECT_EQ(Files(), files_before);
  EXPECT_EQ(ReadFile(SegmentPath(1)), first_segment);
  ExpectSameEvents(Reopen(kSmallSegment), Concat(a, b));
}

TEST_F(IntentLogTest, InspectAfterACleanCloseFindsOnlyUnreleasedEvents) {
  Reopen(kSmallSegment);
  ASSERT_NE(log_, nullptr);
  const uint64_t segment = Append(MakeEvents(1, 3));
  log_->Release(segment, 3);
  ASSERT_TRUE(log_->CloseCleanly().ok());
  log_.reset();
  EXPECT_EQ(InspectOk(directory_).events, 0);
}

// A closed log whose segment 1 holds three one-event batches, with the
// offset where each record starts (and where the last one ends), for tests
// that damage the file.
class IntentLogDamageTest : public IntentLogTest {
 protected:
  void SetUp() override {
    Reopen(kSmallSegment);
    ASSERT_NE(log_, nullptr);
    events_ = MakeEvents(1, 3);
    size_t offset = 0;
    for (const Event& e : events_) {
      offsets_.push_back(offset);
      ASSERT_EQ(Append({e}), 1u);
      offset += RecordBytes(e);
    }
    offsets_.push_back(offset);
    log_.reset();
    path_ = SegmentPath(1);
    data_ = ReadFile(path_);
    ASSERT_EQ(data_.size(), kSmallSegment);
    ASSERT_NE(data_[offsets_[3] - 1], '\0')
        << "the layout in intent_log.h gives other record sizes";
    ASSERT_EQ(data_.substr(offsets_[3]), std::string(kSmallSegment - offsets_[3], '\0'));
  }

  std::vector<Event> First(size_t n) const { return {events_.begin(), events_.begin() + n}; }

  std::vector<Event> events_;
  std::vector<size_t> offsets_;
  fs::path path_;
  std::string data_;
};

TEST_F(IntentLogDamageTest, IntactFileReplaysAllThreeRecords) {
  ExpectSameEvents(Reopen(kSmallSegment), events_);
}

TEST_F(IntentLogDamageTest, FileCutInsideTheLastRecordReplaysTheRecordsBeforeIt) {
  const size_t last = offsets_[2];
  for (size_t cut : {last + 1, last + 7, last + 8, last + 20, offsets_[3] - 1}) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    WriteFile(path_, data_.substr(0, cut));
    ExpectSameEvents(Reopen(kSmallSegment), First(2));
    log_.reset();
  }
}

TEST_F(IntentLogDamageTest, FlippedByteInTheLastRecordReplaysTheRecordsBeforeIt) {
  const size_t last = offsets_[2];
  // In the length, in the checksum, in the payload, and its very last byte.
  for (size_t at : {last, last + 5, last + 30, offsets_[3] - 1}) {
    SCOPED_TRACE("byte " + std::to_string(at));
    std::string damaged = data_;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x04);
    WriteFile(path_, damaged);
    ExpectSameEvents(Reopen(kSmallSegment), First(2));
    log_.reset();
  }
}

TEST_F(IntentLogDamageTest, ReplayStopsAtTheFirstBadRecordEvenIfLaterOnesAreIntact) {
  std::string damaged = data_;
  damaged[offsets_[1] + 40] = static_cast<char>(damaged[offsets_[1] + 40] ^ 0x01);
  WriteFile(path_, damaged);
  ExpectSameEvents(Reopen(kSmallSegment), First(1));
}

TEST_F(IntentLogDamageTest, HugeLengthsNeverReadPastTheFile) {
  for (uint32_t length :
       {0xFFFFFFFFu, 0x80000000u, static_cast<uint32_t>(kSmallSegment - offsets_[2] - 7)}) {
    SCOPED_TRACE("length " + std::to_string(length));
    std::string damaged = data_;
    for (int i = 0; i < 4; ++i) damaged[offsets_[2] + i] = static_cast<char>(length >> (8 * i));
    WriteFile(path_, damaged);
    ExpectSameEvents(Reopen(kSmallSegment), First(2));
    log_.reset();
  }
  // The same at the very end of a file cut to leave only a partial header.
  fs::resize_file(path_, offsets_[2] + 3);
  ExpectSameEvents(Reopen(kSmallSegment), First(2));
}

TEST_F(IntentLogDamageTest, ValidChecksumOverAnUnknownPayloadFailsOpen) {
  // A record the log did not write (say, a newer layout): 4 bytes that are
  // no event, with a correct checksum for segment 1.
  const std::string payload = "abcd";
  std::string seq_and_payload(8, '\0');
  seq_and_payload[0] = 1;
  seq_and_payload += payload;
  const uint32_t crc =
      static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(seq_and_payload.data()),
                                  static_cast<uInt>(seq_and_payload.size())));
  std::string damaged = data_;
  std::string record(8, '\0');
  for (int i = 0; i < 4; ++i) {
    record[i] = static_cast<char>(payload.size() >> (8 * i));
    record[4 + i] = static_cast<char>(crc >> (8 * i));
  }
  record += payload;
  damaged.replace(offsets_[3], record.size(), record);
  WriteFile(path_, damaged);

  std::vector<Event> replayed;
  Result<std::unique_ptr<IntentLog>> opened = IntentLog::Open(
      {.directory = directory_.string(), .segment_bytes = kSmallSegment}, &replayed);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kFailedPrecondition) << opened.status().ToString();
  EXPECT_TRUE(replayed.empty()) << "a failed open hands back nothing";
}

TEST_F(IntentLogTest, StaleRecordsOfARecycledSegmentAreNotReplayed) {
  Reopen(kSmallSegment);
  ASSERT_NE(log_, nullptr);
  const size_t record_bytes = RecordBytes(MakeEvent(0));
  const int fit = static_cast<int>(kSmallSegment / record_bytes);
  ASSERT_GE(fit, 4);

  // Fill segment 1, release it all, then append two events of the same size:
  // they do not fit, so segment 1's file is renamed to segment 2 and the two
  // records overwrite the first two old ones, exactly aligned with the rest.
  ASSERT_EQ(Append(MakeEvents(100, fit)), 1u);
  log_->Release(1, static_cast<size_t>(fit));
  const ino_t inode = Inode(SegmentPath(1));
  const std::string old_data = ReadFile(SegmentPath(1));
  const std::vector<Event> fresh = MakeEvents(200, 2);
  ASSERT_EQ(Append(fresh), 2u);

  EXPECT_FALSE(fs::exists(SegmentPath(1)));
  EXPECT_EQ(Inode(SegmentPath(2)), inode) << "segment 2 reuses segment 1's file";
  const std::string new_data = ReadFile(SegmentPath(2));
  ASSERT_EQ(new_data.size(), old_data.size());
  EXPECT_EQ(new_data.substr(2 * record_bytes), old_data.substr(2 * record_bytes))
      << "old records follow the new ones";
  EXPECT_NE(new_data.substr(0, 2 * record_bytes), old_data.substr(0, 2 * record_bytes));

  ExpectSameEvents(Reopen(kSmallSegment), fresh);
}

TEST_F(IntentLogTest, BatchLargerThanASegmentGoesIntoOneGrownSegment) {
  Reopen(kSmallSegment);
  ASSERT_NE(log_, nullptr);
  const std::vector<Event> small = MakeEvents(1, 1);
  ASSERT_EQ(Append(small), 1u);

  const std::vector<Event> big = MakeEvents(10, 40);  // ~5 KiB
  size_t big_bytes = 0;
  for (const Event& e : big) big_bytes += RecordBytes(e);
  ASSERT_GT(big_bytes, kSmallSegment);
  // Segment 1 is not empty: the batch moves to a fresh segment, which grows.
  EXPECT_EQ(Append(big), 2u);
  EXPECT_EQ(fs::file_size(SegmentPath(2)), big_bytes);
  // The full segment takes nothing more.
  const std::vector<Event> after = MakeEvents(60, 1);
  EXPECT_EQ(Append(after), 3u);
  ExpectStats(log_->Stats(), 3, 42, 0);

  ExpectSameEvents(Reopen(kSmallSegment), Concat(Concat(small, big), after));
  // A grown file is not kept as a spare: spares all have the segment size.
  ASSERT_TRUE(log_->DiscardReplayed().ok());
  EXPECT_FALSE(fs::exists(directory_ / "0000000000000002.spare"));
  EXPECT_EQ(log_->Stats().spare_segments, 2);
}

TEST_F(IntentLogTest, RollingWithReleasesKeepsTheFileCountBounded) {
  Reopen(kSmallSegment);
  ASSERT_NE(log_, nullptr);
  const int fit = static_cast<int>(kSmallSegment / RecordBytes(MakeEvent(0)));
  uint64_t previous = 0;
  std::vector<Event> last;
  for (int round = 0; round < 40; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    last = MakeEvents(round * 1000, fit);
    const uint64_t seq = Append(last);  // fills a whole segment: each round rolls
    EXPECT_GT(seq, previous);
    previous = seq;
    log_->Release(seq, static_cast<size_t>(fit));
    EXPECT_EQ(CountFiles(".log"), 1);
    EXPECT_LE(CountFiles(".spare"), 2);
    EXPECT_EQ(CountFiles(".spare"), log_->Stats().spare_segments);
    ExpectStats(log_->Stats(), 1, 0, log_->Stats().spare_segments);
  }
  EXPECT_EQ(previous, 40u);
  // Only the last segment, released but not yet rolled past, comes back.
  ExpectSameEvents(Reopen(kSmallSegment), last);
}

TEST_F(IntentLogTest, SparesBeyondTwoAreDeleted) {
  Reopen(kSmallSegment);
  ASSERT_NE(log_, nullptr);
  const int fit = static_cast<int>(kSmallSegment / RecordBytes(MakeEvent(0)));
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(Append(MakeEvents(i * 1000, fit)), static_cast<uint64_t>(i + 1));
  EXPECT_EQ(CountFiles(".log"), 5);
  ExpectStats(log_->Stats(), 5, 5 * fit, 0);
  for (uint64_t seq = 1; seq <= 5; ++seq) log_->Release(seq, static_cast<size_t>(fit));
  ExpectStats(log_->Stats(), 1, 0, 0);  // released files wait for the next roll

  const std::vector<Event> next = MakeEvents(9000, 1, kSmallSegment - 200);
  ASSERT_EQ(Append(next), 6u);
  // Five released files: one became segment 6, two are spares, two are gone.
  EXPECT_EQ(CountFiles(".log"), 1);
  EXPECT_EQ(CountFiles(".spare"), 2);
  EXPECT_EQ(Files().size(), 3u);
  ExpectStats(log_->Stats(), 1, 1, 2);
  ExpectSameEvents(Reopen(kSmallSegment), next);
}

TEST_F(IntentLogTest, StatsCountLiveSegmentsUnreleasedEventsAndSpares) {
  Reopen(kSmallSegment);
  ASSERT_NE(log_, nullptr);
  ExpectStats(log_->Stats(), 1, 0, 0);
  ASSERT_EQ(Append(MakeEvents(1, 3)), 1u);
  ExpectStats(log_->Stats(), 1, 3, 0);
  log_->Release(1);
  ExpectStats(log_->Stats(), 1, 2, 0);

  const int fit = static_cast<int>(kSmallSegment / RecordBytes(MakeEvent(0)));
  ASSERT_EQ(Append(MakeEvents(100, fit)), 2u);
  ExpectStats(log_->Stats(), 2, 2 + fit, 0);
  log_->Release(1, 2);
  ExpectStats(log_->Stats(), 1, fit, 0);
  log_->Release(2, static_cast<size_t>(fit));
  ExpectStats(log_->Stats(), 1, 0, 0);

  const std::vector<Event> third = MakeEvents(200, fit);
  ASSERT_EQ(Append(third), 3u);  // reuses segment 1's file; segment 2's becomes a spare
  ExpectStats(log_->Stats(), 1, fit, 1);

  // After a reopen the replayed segment is live with its events; the new
  // current segment took the spare.
  ExpectSameEvents(Reopen(kSmallSegment), third);
  ExpectStats(log_->Stats(), 2, fit, 0);
  ASSERT_TRUE(log_->DiscardReplayed().ok());
  ExpectStats(log_->Stats(), 1, 0, 1);
}

TEST_F(IntentLogTest, ReleaseFromManyThreadsWhileAppending) {
  Reopen(16 << 10);
  ASSERT_NE(log_, nullptr);
  // 400 events in batches of 50, spread over several segments.
  std::vector<uint64_t> event_segments;
  for (int batch = 0; batch < 8; ++batch) {
    const uint64_t seq = Append(MakeEvents(batch * 50, 50));
    event_segments.insert(event_segments.end(), 50, seq);
  }
  ASSERT_GT(event_segments.back(), event_segments.front());
  ExpectStats(log_->Stats(), log_->Stats().live_segments, 400, 0);

  // Four threads release one event at a time while this one keeps appending
  // (and rolling, which recycles what they have released).
  std::vector<std::thread> releasers;
  for (int t = 0; t < 4; ++t) {
    releasers.emplace_back([&, t] {
      for (size_t i = static_cast<size_t>(t); i < event_segments.size(); i += 4)
        log_->Release(event_segments[i]);
    });
  }
  std::vector<uint64_t> later_segments;
  for (int batch = 0; batch < 20; ++batch)
    later_segments.push_back(Append(MakeEvents(10'000 + batch * 10, 10)));
  for (std::thread& t : releasers) t.join();
  EXPECT_EQ(log_->Stats().unreleased_events, 200);

  for (uint64_t seq : later_segments) log_->Release(seq, 10);
  EXPECT_EQ(log_->Stats().unreleased_events, 0);
  ASSERT_NE(Append(MakeEvents(20'000, 1, (16 << 10) - 200)),
            0u);  // a roll recycles everything released
  EXPECT_EQ(CountFiles(".log"), 1);
  EXPECT_LE(CountFiles(".spare"), 2);
}

TEST_F(IntentLogTest, AFailedAppendIsVoidedSoItIsNotReplayed) {
  // The batch reaches the file, then its fdatasync fails: the caller answers
  // "not stored", so the next start must not bring those events back, while
  // the batches acknowledged before it, and after it, must come back.
  bool fail_sync = false;
  ASSERT_NO_FATAL_FAILURE(OpenWithFaultySync(&fail_sync));
  const std::vector<Event> before = MakeEvents(1, 2);
  const std::vector<Event> failed = MakeEvents(10, 3);
  const std::vector<Event> after = MakeEvents(20, 2);
  const Result<uint64_t> first = TryAppend(before);
  ASSERT_TRUE(first.ok());
  fail_sync = true;
  const Result<uint64_t> refused = TryAppend(failed);
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  fail_sync = false;
  const Result<uint64_t> second = TryAppend(after);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_NE(*second, *first) << "the log moves on to a fresh segment after a failed append";

  std::vector<Event> expected = before;
  expected.insert(expected.end(), after.begin(), after.end());
  ExpectSameEvents(Reopen(kSmallSegment), expected);
}

TEST_F(IntentLogTest, StatsCountTheSyncedBatchesTheirEventsAndTheirWriteAndSyncTime) {
  // The group-commit counters behind /metrics: only batches that reached the
  // disk count, and the time covers each batch's write and fdatasync.
  bool fail_sync = false;
  // A slow disk: every sync takes at least 20 ms.
  ASSERT_NO_FATAL_FAILURE(OpenWithFaultySync(&fail_sync, std::chrono::milliseconds(20)));
  IntentLogStats stats = log_->Stats();
  EXPECT_EQ(stats.appends, 0);
  EXPECT_EQ(stats.appended_events, 0);
  EXPECT_EQ(stats.append_seconds, 0);

  ASSERT_TRUE(TryAppend(MakeEvents(1, 3)).ok());
  ASSERT_TRUE(TryAppend(MakeEvents(10, 2)).ok());
  ASSERT_TRUE(TryAppend({}).ok());  // nothing written, nothing counted
  fail_sync = true;
  EXPECT_FALSE(TryAppend(MakeEvents(20, 4)).ok());  // not on disk: not counted
  stats = log_->Stats();
  EXPECT_EQ(stats.appends, 2);
  EXPECT_EQ(stats.appended_events, 5);
  EXPECT_GE(stats.append_seconds, 0.040);
  EXPECT_LT(stats.append_seconds, 10.0);
}

TEST_F(IntentLogTest, SecondLogOnTheSameDirectoryIsRefused) {
  Reopen(kSmallSegment);
  ASSERT_NE(log_, nullptr);
  std::vector<Event> replayed;
  Result<std::unique_ptr<IntentLog>> second = IntentLog::Open(
      {.directory = directory_.string(), .segment_bytes = kSmallSegment}, &replayed);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition) << second.status().ToString();
  EXPECT_EQ(Files(), (std::vector<std::string>{"0000000000000001.log"}))
      << "the refused open changed nothing";

  log_.reset();  // closing releases the lock
  Reopen(kSmallSegment);
  EXPECT_NE(log_, nullptr);
}

TEST(IntentLogOpenTest, RejectsInvalidOptions) {
  TempDir dir;
  std::vector<Event> replayed;
  const std::string directory = (dir.path() / "log").string();
  const auto code = [&](const IntentLogOptions& options, std::vector<Event>* out) {
    Result<std::unique_ptr<IntentLog>> opened = IntentLog::Open(options, out);
    return opened.ok() ? StatusCode::kOk : opened.status().code();
  };
  EXPECT_EQ(code({.directory = ""}, &replayed), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({.directory = directory, .segment_bytes = 4095}, &replayed),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code({.directory = directory}, nullptr), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(directory)) << "options are checked before anything is created";
}

TEST(IntentLogOpenTest, ReportsAnUnusableDirectoryAsUnavailable) {
  TempDir dir;
  const fs::path file = dir.path() / "a-file";
  WriteFile(file, "not a directory");
  std::vector<Event> replayed;
  Result<std::unique_ptr<IntentLog>> opened = IntentLog::Open(
      {.directory = (file / "log").string(), .segment_bytes = kSmallSegment}, &replayed);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(opened.status().message().find(file.string()), std::string::npos)
      << opened.status().message();
}

}  // namespace
}  // namespace eventlogger
