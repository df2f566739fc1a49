#include "aws/dynamodb_responses.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace eventlogger::aws {
namespace {

std::string ToJson(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string_view View(const rapidjson::Value& value) {
  return std::string_view(value.GetString(), value.GetStringLength());
}

Result<AttributeValue> ParseValue(const rapidjson::Value& json) {
  if (!json.IsObject() || json.MemberCount() != 1) {
    return Status::Internal("DynamoDB returned an attribute value that is not a one-member object");
  }
  const auto& member = *json.MemberBegin();
  const std::string_view type = View(member.name);
  if (type == "S" && member.value.IsString()) return AttributeValue::S(std::string(View(member.value)));
  if (type == "N" && member.value.IsString()) return AttributeValue::N(std::string(View(member.value)));
  if (type == "BOOL" && member.value.IsBool()) return AttributeValue::Bool(member.value.GetBool());
  if (type == "NULL") return AttributeValue::Null();
  return AttributeValue{AttributeValue::Type::kOtherJson, ToJson(json)};
}

Result<Item> ParseItem(const rapidjson::Value& json) {
  if (!json.IsObject()) return Status::Internal("DynamoDB returned an item that is not an object");
  Item item;
  for (const auto& member : json.GetObject()) {
    Result<AttributeValue> value = ParseValue(member.value);
    if (!value.ok()) return value.status();
    item.emplace(std::string(View(member.name)), std::move(value).value());
  }
  return item;
}

Result<rapidjson::Document> ParseJson(std::string_view operation, std::string_view body) {
  rapidjson::Document document;
  document.Parse(body.data(), body.size());
  if (document.HasParseError() || !document.IsObject()) {
    return Status::Internal("DynamoDB " + std::string(operation) + " returned a response that is not a JSON object");
  }
  return document;
}

// A string member of `object`, or "" when absent or not a string.
std::string StringMember(const rapidjson::Value& object, const char* key) {
  auto it = object.FindMember(key);
  return it != object.MemberEnd() && it->value.IsString() ? std::string(View(it->value)) : std::string();
}

// True when `element` is an object with string members `a` and `b`.
bool HasStrings(const rapidjson::Value& element, const char* a, const char* b) {
  if (!element.IsObject()) return false;
  auto first = element.FindMember(a);
  auto second = element.FindMember(b);
  return first != element.MemberEnd() && first->value.IsString() && second != element.MemberEnd() &&
         second->value.IsString();
}

}  // namespace

Result<ItemPage> ParseItemPage(std::string_view operation, std::string_view body) {
  Result<rapidjson::Document> document = ParseJson(operation, body);
  if (!document.ok()) return document.status();
  ItemPage page;
  auto items = document->FindMember("Items");
  if (items != document->MemberEnd()) {
    if (!items->value.IsArray()) return Status::Internal("DynamoDB " + std::string(operation) + ": Items is not an array");
    page.items.reserve(items->value.Size());
    for (const auto& json : items->value.GetArray()) {
      Result<Item> item = ParseItem(json);
      if (!item.ok()) return item.status();
      page.items.push_back(std::move(item).value());
    }
  }
  auto last = document->FindMember("LastEvaluatedKey");
  if (last != document->MemberEnd()) {
    Result<Item> key = ParseItem(last->value);
    if (!key.ok()) return key.status();
    page.last_evaluated_key = std::move(key).value();
  }
  return page;
}

Result<std::optional<Item>> ParseGetItemResponse(std::string_view body) {
  Result<rapidjson::Document> document = ParseJson("GetItem", body);
  if (!document.ok()) return document.status();
  auto item = document->FindMember("Item");
  if (item == document->MemberEnd()) return std::optional<Item>();
  Result<Item> parsed = ParseItem(item->value);
  if (!parsed.ok()) return parsed.status();
  return std::optional<Item>(std::move(parsed).value());
}

Result<TableDescription> ParseTableDescription(std::string_view body) {
  Result<rapidjson::Document> document = ParseJson("DescribeTable", body);
  if (!document.ok()) return document.status();
  auto table = document->FindMember("Table");
  if (table == document->MemberEnd() || !table->value.IsObject()) {
    return Status::Internal("DynamoDB DescribeTable: response has no Table");
  }
  const rapidjson::Value& t = table->value;
  TableDescription description;
  description.table_name = StringMember(t, "TableName");
  description.table_status = StringMember(t, "TableStatus");
  if (auto it = t.FindMember("KeySchema"); it != t.MemberEnd() && it->value.IsArray()) {
    for (const auto& element : it->value.GetArray()) {
      if (!HasStrings(element, "AttributeName", "KeyType")) {
        return Status::Internal("DynamoDB DescribeTable: malformed KeySchema");
      }
      description.key_schema.push_back({StringMember(element, "AttributeName"),
                                        StringMember(element, "KeyType") == "HASH" ? KeyType::kHash : KeyType::kRange});
    }
  }
  if (auto it = t.FindMember("AttributeDefinitions"); it != t.MemberEnd() && it->value.IsArray()) {
    for (const auto& element : it->value.GetArray()) {
      if (!HasStrings(element, "AttributeName", "AttributeType")) {
        return Status::Internal("DynamoDB DescribeTable: malformed AttributeDefinitions");
      }
      description.attribute_definitions.push_back(
          {StringMember(element, "AttributeName"), StringMember(element, "AttributeType")});
    }
  }
  if (auto it = t.FindMember("BillingModeSummary"); it != t.MemberEnd() && it->value.IsObject()) {
    description.billing_mode = StringMember(it->value, "BillingMode");
  }
  return description;
}

Result<UnprocessedWrites> ParseBatchWriteResponse(std::string_view body) {
  Result<rapidjson::Document> document = ParseJson("BatchWriteItem", body);
  if (!document.ok()) return document.status();
  UnprocessedWrites result;
  auto unprocessed = document->FindMember("UnprocessedItems");
  if (unprocessed == document->MemberEnd() || !unprocessed->value.IsObject()) return result;
  for (const auto& table : unprocessed->value.GetObject()) {
    if (!table.value.IsArray()) return Status::Internal("DynamoDB BatchWriteItem: malformed UnprocessedItems");
    result.count += table.value.Size();
  }
  if (result.count == 0) return result;
  // UnprocessedItems has exactly the shape of RequestItems: resent as is.
  rapidjson::StringBuffer resend;
  rapidjson::Writer<rapidjson::StringBuffer> writer(resend);
  writer.StartObject();
  writer.Key("RequestItems");
  unprocessed->value.Accept(writer);
  writer.EndObject();
  result.request_body.assign(resend.GetString(), resend.GetSize());
  return result;
}

ErrorResponse ParseErrorResponse(std::string_view body, std::optional<std::string_view> error_type_header) {
  ErrorResponse error;
  rapidjson::Document document;
  document.Parse(body.data(), body.size());
  if (!document.HasParseError() && document.IsObject()) {
    error.name = StringMember(document, "__type");
    error.message = StringMember(document, "message");
    if (error.message.empty()) error.message = StringMember(document, "Message");
  }
  if (error.name.empty() && error_type_header) {
    error.name = std::string(error_type_header->substr(0, error_type_header->find(':')));
  }
  if (const size_t hash = error.name.rfind('#'); hash != std::string::npos) error.name.erase(0, hash + 1);
  return error;
}

}  // namespace eventlogger::aws
