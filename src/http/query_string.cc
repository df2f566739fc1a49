#include "http/query_string.h"

#include "core/percent_encoding.h"

namespace eventlogger::http {

std::optional<std::vector<QueryParameter>> ParseQueryString(std::string_view query) {
  std::vector<QueryParameter> parameters;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t equals = pair.find('=');
    std::optional<std::string> name = PercentDecode(pair.substr(0, equals));
    std::optional<std::string> value =
        PercentDecode(equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1));
    if (!name || !value) return std::nullopt;
    parameters.push_back({std::move(*name), std::move(*value)});
  }
  return parameters;
}

std::string_view QueryOf(std::string_view target) {
  const size_t question = target.find('?');
  if (question == std::string_view::npos) return {};
  const std::string_view rest = target.substr(question + 1);
  return rest.substr(0, rest.find('#'));
}

}  // namespace eventlogger::http
