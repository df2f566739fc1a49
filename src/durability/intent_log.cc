#include "durability/intent_log.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>

#include "core/event_time.h"
#include "core/log.h"

namespace eventlogger {
namespace {

constexpr size_t kRecordHeaderBytes = 8;  // u32 payload length + u32 crc32
constexpr size_t kLengthPrefixBytes = 4;
constexpr size_t kStringFieldsPerEvent = 7;
constexpr size_t kFixedPayloadBytes =
    kStringFieldsPerEvent * kLengthPrefixBytes + 8;  // + unix_millis
constexpr size_t kMaxPayloadBytes = std::numeric_limits<uint32_t>::max();
constexpr size_t kMinSegmentBytes = 4096;
constexpr size_t kMaxSpareSegments = 2;
// Zeros are written in chunks of this size when a segment file is created.
constexpr size_t kZeroChunkBytes = 1 << 20;

// The one place where errno becomes a Status.
Status IoError(std::string_view action, const std::string& path, int error_number) {
  return Status::Unavailable(std::string(action) + " " + path + ": " +
                             std::generic_category().message(error_number));
}

// Owns a file descriptor.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() { Reset(); }

  int get() const { return fd_; }
  // Every byte that matters was fsynced before, so a failing close loses nothing.
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

Result<FileDescriptor> OpenFile(const std::string& path, int flags, mode_t mode = 0) {
  for (;;) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd >= 0) return FileDescriptor(fd);
    if (errno != EINTR) return IoError("opening", path, errno);
  }
}

Status WriteAll(int fd, std::string_view data, uint64_t offset, const std::string& path) {
  while (!data.empty()) {
    const ssize_t written = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (written < 0) {
      if (errno == EINTR) continue;
      return IoError("writing", path, errno);
    }
    // pwrite makes no progress only on a full device it does not report.
    if (written == 0) return IoError("writing", path, ENOSPC);
    data.remove_prefix(static_cast<size_t>(written));
    offset += static_cast<uint64_t>(written);
  }
  return Status::Ok();
}

// Reads the whole file into *data (reusing its buffer).
Status ReadAll(const std::string& path, std::string* data) {
  Result<FileDescriptor> file = OpenFile(path, O_RDONLY);
  if (!file.ok()) return file.status();
  struct stat info;
  if (::fstat(file->get(), &info) != 0) return IoError("reading the size of", path, errno);
  data->resize(static_cast<size_t>(info.st_size));
  size_t done = 0;
  while (done < data->size()) {
    const ssize_t n =
        ::pread(file->get(), data->data() + done, data->size() - done, static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("reading", path, errno);
    }
    if (n == 0) break;  // shorter than fstat said: read what is there
    done += static_cast<size_t>(n);
  }
  data->resize(done);
  return Status::Ok();
}

// fdatasync when only the data changed (the hot path: segments are
// preallocated), fsync when the size or the directory entries did.
Status Sync(int fd, bool data_only, const std::string& path) {
  for (;;) {
    if ((data_only ? ::fdatasync(fd) : ::fsync(fd)) == 0) return Status::Ok();
    if (errno != EINTR) return IoError("syncing", path, errno);
  }
}

Status Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0)
    return IoError("renaming", from + " to " + to, errno);
  return Status::Ok();
}

// Creates `directory` and any missing parent, fsyncing each new entry's
// parent: an acknowledged append must not vanish along with a directory
// entry that the crash forgot.
Status CreateDirectoryDurably(const std::string& directory) {
  std::filesystem::path path = std::filesystem::path(directory).lexically_normal();
  if (!path.has_filename() && path.has_parent_path()) path = path.parent_path();  // "a/b/"
  std::vector<std::filesystem::path> missing;
  for (std::filesystem::path p = path; !p.empty(); p = p.parent_path()) {
    struct stat info;
    if (::stat(p.c_str(), &info) == 0) {
      if (!S_ISDIR(info.st_mode)) return IoError("using as a directory", p.string(), ENOTDIR);
      break;
    }
    if (errno != ENOENT) return IoError("looking up", p.string(), errno);
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0755) != 0 && errno != EEXIST)
      return IoError("creating", it->string(), errno);
    const std::string parent = it->has_parent_path() ? it->parent_path().string() : ".";
    Result<FileDescriptor> parent_fd = OpenFile(parent, O_RDONLY | O_DIRECTORY);
    if (!parent_fd.ok()) return parent_fd.status();
    if (Status s = Sync(parent_fd->get(), /*data_only=*/false, parent); !s.ok()) return s;
  }
  return Status::Ok();
}

// --- File names ---

enum class FileKind { kSegment, kSpare };

std::string FileName(uint64_t seq, FileKind kind) {
  char name[32];
  std::snprintf(name, sizeof(name), "%016" PRIx64 "%s", seq,
                kind == FileKind::kSegment ? ".log" : ".spare");
  return name;
}

struct ParsedFileName {
  uint64_t seq = 0;
  FileKind kind = FileKind::kSegment;
};

// One of our file names, or nullopt. Sequence 0 is never used (it means "no
// segment"), so a file claiming it is not ours.
std::optional<ParsedFileName> ParseFileName(std::string_view name) {
  constexpr size_t kDigits = 16;
  if (name.size() <= kDigits) return std::nullopt;
  ParsedFileName parsed;
  const std::string_view suffix = name.substr(kDigits);
  if (suffix == ".log") {
    parsed.kind = FileKind::kSegment;
  } else if (suffix == ".spare") {
    parsed.kind = FileKind::kSpare;
  } else {
    return std::nullopt;
  }
  const std::string_view digits = name.substr(0, kDigits);
  if (!std::all_of(digits.begin(), digits.end(),
                   [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); })) {
    return std::nullopt;
  }
  std::from_chars(digits.data(), digits.data() + digits.size(), parsed.seq, 16);
  if (parsed.seq == 0) return std::nullopt;
  return parsed;
}

// --- Record encoding (layout documented in the header) ---

void EncodeFixed32(char* out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(value >> (8 * i));
}

void EncodeFixed64(char* out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(value >> (8 * i));
}

uint32_t DecodeFixed32(const char* in) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i)
    value |= static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  return value;
}

uint64_t DecodeFixed64(const char* in) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i)
    value |= static_cast<uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  return value;
}

// crc32 of the segment's sequence number, then the payload: a record is only
// valid in the life of the file that wrote it.
uint32_t RecordChecksum(uint64_t seq, std::string_view payload) {
  char seq_bytes[8];
  EncodeFixed64(seq_bytes, seq);
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(seq_bytes), sizeof(seq_bytes));
  // payload.size() <= kMaxPayloadBytes, which fits zlib's 32-bit length.
  crc =
      crc32(crc, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size()));
  return static_cast<uint32_t>(crc);
}

size_t PayloadBytes(const Event& event) {
  return kFixedPayloadBytes + event.event_id.size() + event.user_id.size() +
         event.event_type.size() + event.timestamp.size() + event.details_json.size() +
         event.idempotency_key.size() + event.request_hash.size() +
         (event.occurred_at.empty() ? 0 : kLengthPrefixBytes + event.occurred_at.size());
}

void PutString(std::string* out, const std::string& text) {
  char length[kLengthPrefixBytes];
  EncodeFixed32(length, static_cast<uint32_t>(text.size()));
  out->append(length, sizeof(length));
  out->append(text);
}

// Appends one record to *out. REQUIRES: PayloadBytes(event) <= kMaxPayloadBytes.
void AppendRecord(uint64_t seq, const Event& event, std::string* out) {
  const size_t start = out->size();
  out->append(kRecordHeaderBytes,
              '\0');  // length and checksum, filled in once the payload is there
  PutString(out, event.event_id);
  PutString(out, event.user_id);
  PutString(out, event.event_type);
  PutString(out, event.timestamp);
  char millis[8];
  EncodeFixed64(millis, static_cast<uint64_t>(event.unix_millis));
  out->append(millis, sizeof(millis));
  PutString(out, event.details_json);
  PutString(out, event.idempotency_key);
  PutString(out, event.request_hash);
  // A trailing field, only on events whose client gave occurredAt: records
  // without it are byte for byte what earlier versions wrote, and a log
  // those versions left is replayed as it is.
  if (!event.occurred_at.empty()) PutString(out, event.occurred_at);
  const std::string_view payload(out->data() + start + kRecordHeaderBytes,
                                 out->size() - start - kRecordHeaderBytes);
  EncodeFixed32(out->data() + start, static_cast<uint32_t>(payload.size()));
  EncodeFixed32(out->data() + start + 4, RecordChecksum(seq, payload));
}

// Reads a payload's fields; every read is bounds-checked, so a payload that
// lies about its lengths fails instead of reading past its end.
class PayloadReader {
 public:
  explicit PayloadReader(std::string_view data) : data_(data) {}

  bool ReadString(std::string* out) {
    if (data_.size() < kLengthPrefixBytes) return false;
    const uint32_t length = DecodeFixed32(data_.data());
    data_.remove_prefix(kLengthPrefixBytes);
    if (length > data_.size()) return false;
    out->assign(data_.data(), length);
    data_.remove_prefix(length);
    return true;
  }

  bool ReadInt64(int64_t* out) {
    if (data_.size() < 8) return false;
    *out = static_cast<int64_t>(DecodeFixed64(data_.data()));
    data_.remove_prefix(8);
    return true;
  }

  bool AtEnd() const { return data_.empty(); }

 private:
  std::string_view data_;
};

bool DecodePayload(std::string_view payload, Event* event) {
  PayloadReader reader(payload);
  return reader.ReadString(&event->event_id) && reader.ReadString(&event->user_id) &&
         reader.ReadString(&event->event_type) && reader.ReadString(&event->timestamp) &&
         reader.ReadInt64(&event->unix_millis) && reader.ReadString(&event->details_json) &&
         reader.ReadString(&event->idempotency_key) && reader.ReadString(&event->request_hash) &&
         (reader.AtEnd() || (reader.ReadString(&event->occurred_at) && reader.AtEnd()));
}

// Appends the events of one segment's contents to *events; returns how many.
Result<int64_t> ParseSegment(uint64_t seq, std::string_view data, const std::string& path,
                             std::vector<Event>* events) {
  int64_t count = 0;
  size_t position = 0;
  while (data.size() - position >= kRecordHeaderBytes) {
    const char* header = data.data() + position;
    const uint32_t length = DecodeFixed32(header);
    const uint32_t checksum = DecodeFixed32(header + 4);
    // The end: zeros of a fresh file, a torn tail, or the records of an
    // earlier life of a recycled file (their checksums bind another seq).
    if (length == 0) break;
    if (length > data.size() - position - kRecordHeaderBytes) break;
    const std::string_view payload = data.substr(position + kRecordHeaderBytes, length);
    if (RecordChecksum(seq, payload) != checksum) break;
    Event event;
    if (!DecodePayload(payload, &event)) {
      return Status::FailedPrecondition(path + ": the record at offset " +
                                        std::to_string(position) +
                                        " has a valid checksum but an unknown layout "
                                        "(written by another version?)");
    }
    events->push_back(std::move(event));
    ++count;
    position += kRecordHeaderBytes + length;
  }
  return count;
}

// The log directory's segment and spare files, each list in sequence order.
struct LogFiles {
  std::vector<uint64_t> segments;
  std::vector<uint64_t> spares;
  uint64_t highest_seq = 0;  // over both kinds; 0 if there are none
};

Result<LogFiles> ListLogFiles(const std::string& directory) {
  LogFiles files;
  std::error_code error;
  for (std::filesystem::directory_iterator it(directory, error), end; !error && it != end;
       it.increment(error)) {
    const std::optional<ParsedFileName> name = ParseFileName(it->path().filename().string());
    if (!name) continue;
    (name->kind == FileKind::kSegment ? files.segments : files.spares).push_back(name->seq);
    files.highest_seq = std::max(files.highest_seq, name->seq);
  }
  if (error) return IoError("listing", directory, error.value());
  std::sort(files.segments.begin(), files.segments.end());
  std::sort(files.spares.begin(), files.spares.end());
  return files;
}

}  // namespace

struct IntentLog::Impl {
  // A segment file leaving the live set: its sequence number and size.
  struct SegmentFile {
    uint64_t seq = 0;
    uint64_t bytes = 0;
  };

  struct Segment {
    int64_t unreleased = 0;  // events appended (or replayed) and not yet released
    uint64_t bytes = 0;      // the file's size
    bool sealed = false;     // no longer current: recycled by the next roll once unreleased is 0
    bool replayed = false;   // found by Open: only DiscardReplayed retires it
  };

  Impl(IntentLogOptions options_in, FileDescriptor directory_in)
      : options(std::move(options_in)), directory(std::move(directory_in)) {}

  std::string PathOf(uint64_t seq, FileKind kind) const {
    return options.directory + "/" + FileName(seq, kind);
  }

  Status SyncDirectory() const {
    return Sync(directory.get(), /*data_only=*/false, options.directory);
  }

  // Reads every segment on disk into *replayed and registers it as replayed;
  // keeps usable spares. Before the log is shared: no locking needed.
  Status Replay(std::vector<Event>* replayed) {
    Result<LogFiles> files = ListLogFiles(options.directory);
    if (!files.ok()) return files.status();
    // Higher than every name ever used, so higher than the seq of any record
    // left in a recycled file.
    next_seq = files->highest_seq + 1;

    std::string data;
    for (uint64_t seq : files->segments) {
      const std::string path = PathOf(seq, FileKind::kSegment);
      if (Status s = ReadAll(path, &data); !s.ok()) return s;
      Result<int64_t> count = ParseSegment(seq, data, path, replayed);
      if (!count.ok()) return count.status();
      segments[seq] =
          Segment{.unreleased = *count, .bytes = data.size(), .sealed = true, .replayed = true};
    }

    // Spares of another size (segment_bytes changed, or a creation cut short)
    // or beyond the limit are deleted; losing a deletion in a crash is harmless.
    for (uint64_t seq : files->spares) {
      const std::string path = PathOf(seq, FileKind::kSpare);
      struct stat info;
      if (::stat(path.c_str(), &info) != 0) return IoError("reading the size of", path, errno);
      const auto bytes = static_cast<uint64_t>(info.st_size);
      if (bytes == options.segment_bytes && spares.size() < kMaxSpareSegments) {
        spares.push_back({seq, bytes});
      } else if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        return IoError("deleting", path, errno);
      }
    }
    return Status::Ok();
  }

  // Creates a segment file at its full size, filled with zeros and fsynced
  // (the caller fsyncs the directory).
  Status CreateZeroedSegment(const std::string& path) const {
    Result<FileDescriptor> file = OpenFile(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (!file.ok()) return file.status();
    const std::string zeros(std::min(kZeroChunkBytes, options.segment_bytes), '\0');
    Status status;
    for (uint64_t offset = 0; status.ok() && offset < options.segment_bytes;
         offset += zeros.size()) {
      const size_t chunk = std::min<uint64_t>(zeros.size(), options.segment_bytes - offset);
      status = WriteAll(file->get(), std::string_view(zeros.data(), chunk), offset, path);
    }
    if (status.ok()) status = Sync(file->get(), /*data_only=*/false, path);
    if (!status.ok()) ::unlink(path.c_str());  // a half-made file is no segment
    return status;
  }

  // Turns files that left the live set into spares (up to the limit) or
  // deletes them, taking them off *files as it goes, so that on error
  // *files holds those still untouched. The caller fsyncs the directory.
  // REQUIRES: files_mutex held.
  Status Retire(std::vector<SegmentFile>* files) {
    while (!files->empty()) {
      const SegmentFile file = files->back();
      const std::string path = PathOf(file.seq, FileKind::kSegment);
      if (file.bytes == options.segment_bytes && spares.size() < kMaxSpareSegments) {
        if (Status s = Rename(path, PathOf(file.seq, FileKind::kSpare)); !s.ok()) return s;
        std::lock_guard lock(mutex);
        spares.push_back(file);
      } else if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        return IoError("deleting", path, errno);
      }
      files->pop_back();
    }
    return Status::Ok();
  }

  // Puts files that could not be retired back as sealed, fully released
  // segments, so that the next roll tries again.
  void Reregister(const std::vector<SegmentFile>& files) {
    std::lock_guard lock(mutex);
    for (const SegmentFile& file : files)
      segments[file.seq] = Segment{.bytes = file.bytes, .sealed = true};
  }

  // Seals the current segment (if any), recycles the fully released ones and
  // makes a new current segment: from a just-released file (one rename),
  // else a spare, else a newly created file.
  Status Roll() {
    std::lock_guard files_lock(files_mutex);
    std::vector<SegmentFile> released;
    {
      std::lock_guard lock(mutex);
      if (current_seq != 0) segments[current_seq].sealed = true;
      current_seq = 0;
      for (auto it = segments.begin(); it != segments.end();) {
        const Segment& segment = it->second;
        if (segment.sealed && !segment.replayed && segment.unreleased == 0) {
          released.push_back({it->first, segment.bytes});
          it = segments.erase(it);
        } else {
          ++it;
        }
      }
    }
    current_file.Reset();

    const uint64_t seq = next_seq++;
    const std::string path = PathOf(seq, FileKind::kSegment);
    Status status;
    const auto reusable = std::find_if(
        released.begin(), released.end(),
        [this](const SegmentFile& file) { return file.bytes == options.segment_bytes; });
    if (reusable != released.end()) {
      status = Rename(PathOf(reusable->seq, FileKind::kSegment), path);
      if (status.ok()) released.erase(reusable);
    } else if (!spares.empty()) {
      status = Rename(PathOf(spares.back().seq, FileKind::kSpare), path);
      if (status.ok()) {
        std::lock_guard lock(mutex);
        spares.pop_back();
      }
    } else {
      status = CreateZeroedSegment(path);
    }
    if (!status.ok()) {
      Reregister(released);
      return status;
    }

    // Failing to recycle the other files does not stop this roll: they wait
    // for the next one.
    if (Status retired = Retire(&released); !retired.ok()) {
      log::Warn("intent log: could not recycle a segment", {{"error", retired.message()}});
      Reregister(released);
    }

    // The new name must be durable before anything written under it is
    // acknowledged.
    status = SyncDirectory();
    Result<FileDescriptor> file =
        status.ok() ? OpenFile(path, O_WRONLY) : Result<FileDescriptor>(status);
    if (!file.ok()) {
      Reregister({{seq, options.segment_bytes}});
      return file.status();
    }
    current_file = std::move(*file);
    current_path = path;
    write_offset = 0;
    current_abandoned = false;
    std::lock_guard lock(mutex);
    segments[seq] = Segment{.bytes = options.segment_bytes};
    current_seq = seq;
    return Status::Ok();
  }

  Result<uint64_t> Append(EventBatch events) {
    size_t batch_bytes = 0;
    for (const Event* event : events) {
      const size_t payload_bytes = PayloadBytes(*event);
      if (payload_bytes > kMaxPayloadBytes) {
        return Status::InvalidArgument("event " + event->event_id +
                                       " is too large for the intent log");
      }
      batch_bytes += kRecordHeaderBytes + payload_bytes;
    }
    // A batch that does not fit starts a fresh segment, unless the current one
    // is still empty: a batch larger than a segment then grows that one.
    const bool fits = write_offset + batch_bytes <= options.segment_bytes;
    if (current_seq == 0 || current_abandoned || (!fits && write_offset > 0)) {
      if (Status s = Roll(); !s.ok()) return s;
    }
    const uint64_t seq = current_seq;  // only this thread changes it
    if (events.empty()) return seq;

    buffer.clear();
    buffer.reserve(batch_bytes);
    for (const Event* event : events) AppendRecord(seq, *event, &buffer);
    const auto injected = [this](std::string_view step) {
      return options.fault_injector ? options.fault_injector(step) : Status::Ok();
    };
    const auto started = std::chrono::steady_clock::now();
    Status status = injected("write");
    if (status.ok()) status = WriteAll(current_file.get(), buffer, write_offset, current_path);
    if (status.ok()) status = injected("sync");
    if (status.ok()) status = Sync(current_file.get(), /*data_only=*/true, current_path);
    if (!status.ok()) {
      // The caller answers "not stored", so the batch must not come back at
      // the next start: void its records with zeros, where replay stops.
      // Best effort: if the disk refuses this too, the outcome stays unknown.
      const std::string zeros(buffer.size(), '\0');
      if (WriteAll(current_file.get(), zeros, write_offset, current_path).ok()) {
        (void)Sync(current_file.get(), /*data_only=*/true, current_path);
      }
    }
    const uint64_t end = write_offset + buffer.size();
    std::lock_guard lock(mutex);
    Segment& segment = segments[seq];
    segment.bytes = std::max(segment.bytes, end);  // even a failed write may have grown the file
    if (!status.ok()) {
      // Part of the batch may be on disk, perhaps a torn record: never write
      // after it, or a later replay could stop short of acknowledged events.
      current_abandoned = true;
      return status;
    }
    write_offset = end;
    segment.unreleased += static_cast<int64_t>(events.size());
    ++appends;
    appended_events += static_cast<int64_t>(events.size());
    append_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return seq;
  }

  void Release(uint64_t seq, size_t count) {
    std::lock_guard lock(mutex);
    const auto it = segments.find(seq);
    assert(it != segments.end() && it->second.unreleased >= static_cast<int64_t>(count) &&
           "released more events than were appended");
    if (it == segments.end()) return;
    it->second.unreleased -= std::min(it->second.unreleased, static_cast<int64_t>(count));
  }

  Status DiscardReplayed() {
    std::lock_guard files_lock(files_mutex);
    std::vector<SegmentFile> replayed;
    {
      std::lock_guard lock(mutex);
      for (auto it = segments.begin(); it != segments.end();) {
        if (it->second.replayed) {
          replayed.push_back({it->first, it->second.bytes});
          it = segments.erase(it);
        } else {
          ++it;
        }
      }
    }
    if (replayed.empty()) return Status::Ok();
    Status status = Retire(&replayed);
    if (!status.ok()) Reregister(replayed);  // retried by the next roll
    Status synced = SyncDirectory();
    return status.ok() ? synced : status;
  }

  Status CloseCleanly() {
    std::lock_guard files_lock(files_mutex);
    std::vector<SegmentFile> released;
    {
      std::lock_guard lock(mutex);
      for (auto it = segments.begin(); it != segments.end();) {
        if (it->second.unreleased == 0) {
          released.push_back({it->first, it->second.bytes});
          it = segments.erase(it);
        } else {
          ++it;
        }
      }
      current_seq = 0;
    }
    current_file.Reset();
    current_abandoned = true;  // any later Append rolls to a fresh segment
    if (released.empty()) return Status::Ok();
    Status status = Retire(&released);
    if (!status.ok()) Reregister(released);
    Status synced = SyncDirectory();
    return status.ok() ? synced : status;
  }

  IntentLogStats Stats() const {
    std::lock_guard lock(mutex);
    IntentLogStats stats;
    for (const auto& [seq, segment] : segments) {
      if (seq == current_seq || segment.unreleased > 0) ++stats.live_segments;
      stats.unreleased_events += segment.unreleased;
    }
    stats.spare_segments = static_cast<int64_t>(spares.size());
    stats.appends = appends;
    stats.appended_events = appended_events;
    stats.append_seconds = append_seconds;
    return stats;
  }

  const IntentLogOptions options;
  // Held open to fsync the directory, and for the flock that makes the log
  // exclusive.
  const FileDescriptor directory;

  // The writer's state: used only by Append (one thread at a time) and by
  // Roll, which only Append and Open call.
  FileDescriptor current_file;
  std::string current_path;
  uint64_t write_offset = 0;
  bool current_abandoned = false;  // an append failed in this segment
  std::string buffer;              // the batch's records, reused across batches

  // Serialises the file-system changes (renames, creations, deletions) of
  // Roll and DiscardReplayed. Taken before `mutex`.
  std::mutex files_mutex;
  uint64_t next_seq = 1;            // guarded by files_mutex
  std::vector<SegmentFile> spares;  // changed holding both mutexes; read holding either

  // The accounting. Never held during I/O, so Release and Stats never wait
  // for the disk.
  mutable std::mutex mutex;
  std::map<uint64_t, Segment> segments;
  uint64_t current_seq = 0;  // 0: none (a roll failed); changed only by Roll
  int64_t appends = 0;            // IntentLogStats' group-commit counters
  int64_t appended_events = 0;
  double append_seconds = 0;
};

IntentLog::IntentLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
IntentLog::~IntentLog() = default;

Result<std::unique_ptr<IntentLog>> IntentLog::Open(const IntentLogOptions& options,
                                                   std::vector<Event>* replayed) {
  if (replayed == nullptr)
    return Status::InvalidArgument("intent log: `replayed` must not be null");
  if (options.directory.empty()) return Status::InvalidArgument("intent log: no directory given");
  if (options.segment_bytes < kMinSegmentBytes) {
    return Status::InvalidArgument("intent log: segment_bytes must be at least " +
                                   std::to_string(kMinSegmentBytes));
  }
  if (Status s = CreateDirectoryDurably(options.directory); !s.ok()) return s;
  Result<FileDescriptor> directory = OpenFile(options.directory, O_RDONLY | O_DIRECTORY);
  if (!directory.ok()) return directory.status();
  for (;;) {
    if (::flock(directory->get(), LOCK_EX | LOCK_NB) == 0) break;
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) {
      return Status::FailedPrecondition("intent log " + options.directory +
                                        " is already open (in this or another process)");
    }
    return IoError("locking", options.directory, errno);
  }

  auto impl = std::make_unique<Impl>(options, std::move(*directory));
  // Into a local vector, so that a failed Open hands back nothing.
  std::vector<Event> events;
  if (Status s = impl->Replay(&events); !s.ok()) return s;
  if (Status s = impl->Roll(); !s.ok()) return s;
  replayed->insert(replayed->end(), std::make_move_iterator(events.begin()),
                   std::make_move_iterator(events.end()));
  return std::unique_ptr<IntentLog>(new IntentLog(std::move(impl)));
}

namespace {

// True if an IntentLog holds `directory` now. Probes with a shared lock and
// lets go at once, so a service starting meanwhile is never refused.
Result<bool> DirectoryInUse(int directory_fd, const std::string& directory) {
  for (;;) {
    if (::flock(directory_fd, LOCK_SH | LOCK_NB) == 0) {
      ::flock(directory_fd, LOCK_UN);
      return false;
    }
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return true;
    return IoError("locking", directory, errno);
  }
}

}  // namespace

Result<IntentLogInspection> IntentLog::Inspect(const std::string& directory) {
  IntentLogInspection inspection;
  Result<FileDescriptor> directory_fd = OpenFile(directory, O_RDONLY | O_DIRECTORY);
  if (!directory_fd.ok()) {
    if (!std::filesystem::exists(directory)) return inspection;  // never opened: nothing to replay
    return directory_fd.status();
  }
  Result<bool> in_use = DirectoryInUse(directory_fd->get(), directory);
  if (!in_use.ok()) return in_use.status();
  if (*in_use) {
    inspection.in_use = true;
    return inspection;
  }

  Result<LogFiles> files = ListLogFiles(directory);
  if (!files.ok()) return files.status();
  std::string data;
  std::vector<Event> events;
  for (uint64_t seq : files->segments) {
    const std::string path = (std::filesystem::path(directory) / FileName(seq, FileKind::kSegment)).string();
    if (Status s = ReadAll(path, &data); !s.ok()) {
      // A service that started after the probe may have recycled the file.
      if (!std::filesystem::exists(path)) continue;
      return s;
    }
    events.clear();
    Result<int64_t> count = ParseSegment(seq, data, path, &events);
    if (!count.ok()) return count.status();
    if (*count == 0) continue;
    ++inspection.segments;
    inspection.events += *count;
    for (const Event& event : events) {
      const int64_t received = ReceivedMillisOf(event.event_id, event.unix_millis);
      if (inspection.oldest_unix_millis == 0 || received < inspection.oldest_unix_millis) {
        inspection.oldest_unix_millis = received;
      }
    }
  }
  // A service that started during the scan has taken these events over.
  in_use = DirectoryInUse(directory_fd->get(), directory);
  if (!in_use.ok()) return in_use.status();
  if (*in_use) return IntentLogInspection{.in_use = true};
  return inspection;
}

Result<uint64_t> IntentLog::Append(EventBatch events) { return impl_->Append(events); }

void IntentLog::Release(uint64_t segment, size_t count) { impl_->Release(segment, count); }

Status IntentLog::DiscardReplayed() { return impl_->DiscardReplayed(); }

Status IntentLog::CloseCleanly() { return impl_->CloseCleanly(); }

IntentLogStats IntentLog::Stats() const { return impl_->Stats(); }

}  // namespace eventlogger
