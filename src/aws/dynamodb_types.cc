#include "aws/dynamodb_types.h"

#include <rapidjson/document.h>

#include <string_view>

namespace eventlogger::aws {
namespace {

size_t NumberSize(std::string_view number) {
  // Significant digits: strip sign, exponent, point, leading/trailing zeros.
  std::string digits;
  for (char c : number) {
    if (c == 'e' || c == 'E') break;
    if (c >= '0' && c <= '9') digits.push_back(c);
  }
  const size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return 1;
  const size_t last = digits.find_last_not_of('0');
  const size_t significant = last - first + 1;
  return (significant + 1) / 2 + 1;
}

}  // namespace

std::string AttributeValue::TypeName() const {
  switch (type) {
    case Type::kString: return "S";
    case Type::kNumber: return "N";
    case Type::kBool: return "BOOL";
    case Type::kNull: return "NULL";
    case Type::kOtherJson: {
      rapidjson::Document document;
      document.Parse(value.data(), value.size());
      if (document.HasParseError() || !document.IsObject() || document.MemberCount() != 1) return "?";
      return std::string(document.MemberBegin()->name.GetString(), document.MemberBegin()->name.GetStringLength());
    }
  }
  return "?";
}

size_t ItemSizeBytes(const Item& item) {
  size_t total = 0;
  for (const auto& [name, value] : item) {
    total += name.size();
    switch (value.type) {
      case AttributeValue::Type::kString: total += value.value.size(); break;
      case AttributeValue::Type::kNumber: total += NumberSize(value.value); break;
      case AttributeValue::Type::kBool:
      case AttributeValue::Type::kNull: total += 1; break;
      case AttributeValue::Type::kOtherJson: total += value.value.size(); break;
    }
  }
  return total;
}

}  // namespace eventlogger::aws
