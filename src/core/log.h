// Structured logging: one JSON object per line on stdout.
//
// Lines are appended to an in-memory buffer and written by a background
// thread (every 50 ms, or sooner when 64 KiB have gathered), so a request
// never waits on the terminal or a pipe. Flush() writes everything pending;
// the service calls it at shutdown. Payloads are never logged; callers pass
// only ids, routes, statuses and error messages.
//
// Thread safety: all functions may be called from any thread.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace eventlogger::log {

enum class Level { kDebug, kInfo, kWarn, kError };

// A field value: text, integer, real or boolean. Text is only viewed: it must
// outlive the Write() call, which copies it.
class Value {
 public:
  Value(std::string_view text) : value_(text) {}            // NOLINT: implicit by design
  Value(const char* text) : value_(std::string_view(text)) {}  // NOLINT
  Value(const std::string& text) : value_(std::string_view(text)) {}  // NOLINT
  Value(bool flag) : value_(flag) {}                          // NOLINT
  Value(int number) : value_(static_cast<long long>(number)) {}  // NOLINT
  Value(long number) : value_(static_cast<long long>(number)) {}  // NOLINT
  Value(long long number) : value_(number) {}                 // NOLINT
  Value(unsigned number) : value_(static_cast<long long>(number)) {}  // NOLINT
  Value(unsigned long number) : value_(static_cast<long long>(number)) {}  // NOLINT
  Value(double number) : value_(number) {}                    // NOLINT

  const std::variant<std::string_view, long long, double, bool>& get() const { return value_; }

 private:
  std::variant<std::string_view, long long, double, bool> value_;
};
using Field = std::pair<std::string_view, Value>;

// Writes {"time":…,"level":…,"msg":…, fields…}.
void Write(Level level, std::string_view message, std::initializer_list<Field> fields = {});

inline void Info(std::string_view message, std::initializer_list<Field> fields = {}) {
  Write(Level::kInfo, message, fields);
}
inline void Warn(std::string_view message, std::initializer_list<Field> fields = {}) {
  Write(Level::kWarn, message, fields);
}
inline void Error(std::string_view message, std::initializer_list<Field> fields = {}) {
  Write(Level::kError, message, fields);
}

// Fields every line carries from now on, after its own, until replaced; an
// empty list clears them. For a process that handles one thing at a time
// (a Lambda invocation's request and trace ids): every thread's lines
// carry them. Copied; costs a line nothing while none are set.
void SetProcessContext(std::initializer_list<Field> fields);

// Lines below `level` are dropped (default kInfo).
void SetMinimumLevel(Level level);
// Blocks until every line written so far is on stdout.
void Flush();

}  // namespace eventlogger::log
