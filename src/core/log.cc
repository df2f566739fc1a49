#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "core/json_output.h"
#include "core/timestamp.h"

namespace eventlogger::log {
namespace {

constexpr size_t kFlushThresholdBytes = size_t{64} * 1024;

std::atomic<int> minimum_level{static_cast<int>(Level::kInfo)};

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

void WriteAll(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(STDOUT_FILENO, data.data(), data.size());
    if (n <= 0) return;  // stdout closed: nowhere left to report it
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// The process-wide sink. Lives for the whole program (never destroyed) so
// that logging from static destructors or detached threads stays safe.
class Sink {
 public:
  Sink() : thread_([this] { Run(); }) { thread_.detach(); }

  void Append(std::string_view line) {
    bool wake;
    {
      std::lock_guard lock(mutex_);
      pending_ += line;
      wake = pending_.size() >= kFlushThresholdBytes;
    }
    if (wake) wake_.notify_one();
  }

  void Flush() {
    std::lock_guard write_lock(write_mutex_);
    std::string batch;
    {
      std::lock_guard lock(mutex_);
      batch.swap(pending_);
    }
    WriteAll(batch);
  }

 private:
  void Run() {
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, std::chrono::milliseconds(50),
                       [&] { return pending_.size() >= kFlushThresholdBytes; });
        if (pending_.empty()) continue;
      }
      Flush();
    }
  }

  std::mutex mutex_;        // guards pending_
  std::mutex write_mutex_;  // keeps batches in order on stdout
  std::condition_variable wake_;
  std::string pending_;
  std::thread thread_;
};

Sink& TheSink() {
  static Sink* sink = new Sink();  // intentionally leaked; see Sink
  return *sink;
}

void AppendValue(std::string& out, const Value& field) {
  const auto& value = field.get();
  if (const auto* text = std::get_if<std::string_view>(&value)) {
    AppendJsonString(out, *text);
  } else if (const auto* integer = std::get_if<long long>(&value)) {
    out += std::to_string(*integer);
  } else if (const auto* real = std::get_if<double>(&value)) {
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, *real,
                                   std::chars_format::fixed, 3);
    out.append(buffer, ec == std::errc() ? end : buffer);
  } else {
    out += std::get<bool>(value) ? "true" : "false";
  }
}

}  // namespace

namespace {
std::atomic<bool> has_process_context{false};
std::mutex process_context_mutex;
std::string process_context;  // ",\"name\":value…", guarded by process_context_mutex
}  // namespace

void SetProcessContext(std::initializer_list<Field> fields) {
  std::string text;
  for (const auto& [name, value] : fields) {
    text += ',';
    AppendJsonString(text, name);
    text += ':';
    AppendValue(text, value);
  }
  std::lock_guard lock(process_context_mutex);
  process_context = std::move(text);
  has_process_context.store(!process_context.empty(), std::memory_order_release);
}

void Write(Level level, std::string_view message, std::initializer_list<Field> fields) {
  if (static_cast<int>(level) < minimum_level.load(std::memory_order_relaxed)) return;
  std::string line;
  line.reserve(160);
  line += "{\"time\":\"";
  line += FormatTimestamp(SystemClock::Instance().NowUnixMillis());
  line += "\",\"level\":\"";
  line += LevelName(level);
  line += "\",\"msg\":";
  AppendJsonString(line, message);
  for (const auto& [name, value] : fields) {
    line += ',';
    AppendJsonString(line, name);
    line += ':';
    AppendValue(line, value);
  }
  if (has_process_context.load(std::memory_order_acquire)) {
    std::lock_guard lock(process_context_mutex);
    line += process_context;
  }
  line += "}\n";
  TheSink().Append(line);
}

void SetMinimumLevel(Level level) { minimum_level.store(static_cast<int>(level)); }

void Flush() { TheSink().Flush(); }

}  // namespace eventlogger::log
