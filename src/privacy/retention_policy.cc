#include "privacy/retention_policy.h"

#include <charconv>

#include "core/timestamp.h"
#include "core/validation.h"

namespace eventlogger {
namespace {

constexpr int64_t kMillisPerDay = int64_t{24} * 60 * 60 * 1000;

std::string_view Trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

// Days as the flags give them: a decimal count within the bounds.
std::optional<int64_t> ParseDays(std::string_view text) {
  int64_t days = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), days);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (days < kMinRetentionDays || days > kMaxRetentionDays) return std::nullopt;
  return days;
}

std::string DaysBoundsText() {
  return "a whole number of days from " + std::to_string(kMinRetentionDays) + " to " +
         std::to_string(kMaxRetentionDays);
}

}  // namespace

Result<RetentionPolicy> RetentionPolicy::Parse(std::string_view rules, int64_t default_days) {
  RetentionPolicy policy;
  if (default_days != 0) {
    if (default_days < kMinRetentionDays || default_days > kMaxRetentionDays) {
      return Status::InvalidArgument("--retention-default-days must be 0 (keep forever) or " + DaysBoundsText());
    }
    policy.default_days_ = default_days;
  }
  rules = Trim(rules);
  if (rules.empty()) return policy;
  while (true) {
    size_t comma = rules.find(',');
    std::string_view entry = Trim(rules.substr(0, comma));
    size_t equals = entry.find('=');
    if (equals == std::string_view::npos) {
      return Status::InvalidArgument("--retention entry '" + std::string(entry) + "' is not eventType=days");
    }
    std::string_view type = Trim(entry.substr(0, equals));
    if (std::string problem = CheckEventType(type); !problem.empty()) {
      return Status::InvalidArgument("--retention entry '" + std::string(entry) + "': " + problem);
    }
    std::optional<int64_t> days = ParseDays(Trim(entry.substr(equals + 1)));
    if (!days) {
      return Status::InvalidArgument("--retention entry '" + std::string(entry) + "': days must be " +
                                     DaysBoundsText());
    }
    if (!policy.days_by_type_.emplace(std::string(type), *days).second) {
      return Status::InvalidArgument("--retention names '" + std::string(type) + "' twice");
    }
    if (comma == std::string_view::npos) break;
    rules.remove_prefix(comma + 1);
  }
  return policy;
}

std::optional<int64_t> RetentionPolicy::DaysFor(std::string_view event_type) const {
  if (auto it = days_by_type_.find(event_type); it != days_by_type_.end()) return it->second;
  if (default_days_ > 0) return default_days_;
  return std::nullopt;
}

std::optional<int64_t> RetentionPolicy::ExpiryMillisOf(std::string_view event_type, int64_t timestamp_ms) const {
  std::optional<int64_t> days = DaysFor(event_type);
  if (!days) return std::nullopt;
  return timestamp_ms + *days * kMillisPerDay;
}

std::vector<ExpiryRule> RetentionPolicy::RulesAt(int64_t now_ms) const {
  std::vector<ExpiryRule> rules;
  for (const auto& [type, days] : days_by_type_) {
    ExpiryRule rule;
    rule.event_types = {type};
    rule.before_ms = now_ms - days * kMillisPerDay;
    rule.before = FormatTimestamp(rule.before_ms);
    rules.push_back(std::move(rule));
  }
  if (default_days_ > 0) {
    ExpiryRule rule;
    for (const auto& [type, days] : days_by_type_) rule.except_types.push_back(type);
    rule.before_ms = now_ms - default_days_ * kMillisPerDay;
    rule.before = FormatTimestamp(rule.before_ms);
    rules.push_back(std::move(rule));
  }
  return rules;
}

std::string RetentionPolicy::Describe() const {
  if (!enabled()) return "keep forever";
  std::string text;
  for (const auto& [type, days] : days_by_type_) {
    if (!text.empty()) text += ',';
    text += type + "=" + std::to_string(days);
  }
  if (!text.empty()) text += "; ";
  text += default_days_ > 0 ? "other types " + std::to_string(default_days_) + " days" : "other types forever";
  return text;
}

}  // namespace eventlogger
