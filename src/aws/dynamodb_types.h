// The values DynamoDB's JSON protocol carries (attribute values, items,
// key schemas, table descriptions, result pages), apart from the client
// that sends them, so that the response parsers and their fuzz target need
// no HTTP.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace eventlogger::aws {

// One attribute value. The scalar types S, N, BOOL and NULL are modelled;
// any other type (B, SS, NS, BS, L, M) is carried as its typed JSON text,
// e.g. {"L":[{"S":"a"}]}, so items round-trip without this client needing
// to understand them.
struct AttributeValue {
  enum class Type { kString, kNumber, kBool, kNull, kOtherJson };
  Type type = Type::kNull;
  // kString: the text (UTF-8); kNumber: the number as text; kBool: "true" or
  // "false"; kNull: empty; kOtherJson: the whole typed JSON object.
  std::string value;

  static AttributeValue S(std::string text) { return {Type::kString, std::move(text)}; }
  static AttributeValue N(std::string number) { return {Type::kNumber, std::move(number)}; }
  static AttributeValue Bool(bool flag) { return {Type::kBool, flag ? "true" : "false"}; }
  static AttributeValue Null() { return {Type::kNull, ""}; }

  // "S", "N", "BOOL", "NULL", or for kOtherJson the key of its JSON object.
  std::string TypeName() const;

  friend bool operator==(const AttributeValue&, const AttributeValue&) = default;
};

using Item = std::map<std::string, AttributeValue, std::less<>>;

// Item size as DynamoDB counts it against the 400 KB limit: per attribute,
// the UTF-8 bytes of its name plus its value's size (strings: UTF-8 bytes;
// numbers: about one byte per two significant digits plus one; BOOL/NULL:
// one byte). kOtherJson values count as the length of their JSON text,
// which overestimates.
size_t ItemSizeBytes(const Item& item);
inline constexpr size_t kMaxItemBytes = size_t{400} * 1024;
// BatchWriteItem's per-call limit.
inline constexpr size_t kMaxBatchWriteItems = 25;

enum class KeyType { kHash, kRange };

struct KeySchemaElement {
  std::string attribute_name;
  KeyType key_type = KeyType::kHash;
  friend bool operator==(const KeySchemaElement&, const KeySchemaElement&) = default;
};

struct AttributeDefinition {
  std::string attribute_name;
  std::string attribute_type;  // "S", "N" or "B"
  friend bool operator==(const AttributeDefinition&, const AttributeDefinition&) = default;
};

struct TableDescription {
  std::string table_name;
  std::string table_status;  // CREATING, ACTIVE, UPDATING, DELETING, ...
  std::vector<KeySchemaElement> key_schema;
  std::vector<AttributeDefinition> attribute_definitions;
  std::string billing_mode;  // empty when DynamoDB omits it (provisioned)
};

// One page of a Query or Scan. More pages follow while last_evaluated_key
// is set (a page may be empty and still not be the last one).
struct ItemPage {
  std::vector<Item> items;
  std::optional<Item> last_evaluated_key;
};

}  // namespace eventlogger::aws
