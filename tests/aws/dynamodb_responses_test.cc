// DynamoDB's response bodies, parsed without a server: the shapes the
// service reads, and the malformed ones it must refuse with a clear error.
#include "aws/dynamodb_responses.h"

#include <gtest/gtest.h>

namespace eventlogger::aws {
namespace {

TEST(DynamoDbResponsesTest, APageKeepsItsItemsInOrderAndItsLastKey) {
  const auto page = ParseItemPage(
      "Query",
      R"({"Items":[{"k":{"S":"a"},"n":{"N":"1.5"},"b":{"BOOL":false},"z":{"NULL":true}},{"k":{"S":"b"},"l":{"L":[{"S":"x"}]}}],)"
      R"("Count":2,"LastEvaluatedKey":{"k":{"S":"b"}}})");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].at("k"), AttributeValue::S("a"));
  EXPECT_EQ(page->items[0].at("n"), AttributeValue::N("1.5"));
  EXPECT_EQ(page->items[0].at("b"), AttributeValue::Bool(false));
  EXPECT_EQ(page->items[0].at("z"), AttributeValue::Null());
  // A type the client does not model is carried as its typed JSON.
  EXPECT_EQ(page->items[1].at("l").type, AttributeValue::Type::kOtherJson);
  EXPECT_EQ(page->items[1].at("l").value, R"({"L":[{"S":"x"}]})");
  EXPECT_EQ(page->items[1].at("l").TypeName(), "L");
  ASSERT_TRUE(page->last_evaluated_key.has_value());
  EXPECT_EQ(page->last_evaluated_key->at("k"), AttributeValue::S("b"));
}

TEST(DynamoDbResponsesTest, AnEmptyPageHasNoItemsAndNoKey) {
  const auto page = ParseItemPage("Scan", R"({"Count":0})");
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->items.empty());
  EXPECT_FALSE(page->last_evaluated_key.has_value());
}

TEST(DynamoDbResponsesTest, MalformedPagesAreInternalErrorsNamingTheOperation) {
  for (const char* body : {"", "[]", "{", R"({"Items":{}})", R"({"Items":[1]})", R"({"Items":[{"a":{}}]})",
                           R"({"Items":[{"a":{"S":"x","N":"1"}}]})", R"({"LastEvaluatedKey":"k"})"}) {
    const auto page = ParseItemPage("Query", body);
    ASSERT_FALSE(page.ok()) << body;
    EXPECT_EQ(page.status().code(), StatusCode::kInternal) << body;
    EXPECT_NE(page.status().message().find("DynamoDB"), std::string::npos) << page.status().message();
  }
}

TEST(DynamoDbResponsesTest, GetItemTellsAnItemFromNone) {
  const auto found = ParseGetItemResponse(R"({"Item":{"k":{"S":"v"}}})");
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->at("k"), AttributeValue::S("v"));
  const auto none = ParseGetItemResponse("{}");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_FALSE(ParseGetItemResponse(R"({"Item":[]})").ok());
}

TEST(DynamoDbResponsesTest, ATableDescriptionCarriesItsSchema) {
  const auto table = ParseTableDescription(
      R"({"Table":{"TableName":"events","TableStatus":"ACTIVE",)"
      R"("KeySchema":[{"AttributeName":"userId","KeyType":"HASH"},{"AttributeName":"sortKey","KeyType":"RANGE"}],)"
      R"("AttributeDefinitions":[{"AttributeName":"userId","AttributeType":"S"}],)"
      R"("BillingModeSummary":{"BillingMode":"PAY_PER_REQUEST"}}})");
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(table->table_name, "events");
  EXPECT_EQ(table->table_status, "ACTIVE");
  ASSERT_EQ(table->key_schema.size(), 2u);
  EXPECT_EQ(table->key_schema[1], (KeySchemaElement{"sortKey", KeyType::kRange}));
  ASSERT_EQ(table->attribute_definitions.size(), 1u);
  EXPECT_EQ(table->attribute_definitions[0], (AttributeDefinition{"userId", "S"}));
  EXPECT_EQ(table->billing_mode, "PAY_PER_REQUEST");
  EXPECT_FALSE(ParseTableDescription("{}").ok());
  EXPECT_FALSE(ParseTableDescription(R"({"Table":{"KeySchema":[{"AttributeName":1}]}})").ok());
}

TEST(DynamoDbResponsesTest, UnprocessedWritesBecomeTheNextRequest) {
  const auto none = ParseBatchWriteResponse(R"({"UnprocessedItems":{}})");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->count, 0u);
  EXPECT_TRUE(none->request_body.empty());
  const auto some = ParseBatchWriteResponse(
      R"({"UnprocessedItems":{"t":[{"PutRequest":{"Item":{"k":{"S":"1"}}}},{"PutRequest":{"Item":{"k":{"S":"2"}}}}]}})");
  ASSERT_TRUE(some.ok());
  EXPECT_EQ(some->count, 2u);
  EXPECT_EQ(some->request_body,
            R"({"RequestItems":{"t":[{"PutRequest":{"Item":{"k":{"S":"1"}}}},{"PutRequest":{"Item":{"k":{"S":"2"}}}}]}})");
  EXPECT_FALSE(ParseBatchWriteResponse(R"({"UnprocessedItems":{"t":{}}})").ok());
}

TEST(DynamoDbResponsesTest, AnErrorNamesItsTypeWithoutTheNamespace) {
  const ErrorResponse error = ParseErrorResponse(
      R"({"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"})",
      std::nullopt);
  EXPECT_EQ(error.name, "ConditionalCheckFailedException");
  EXPECT_EQ(error.message, "The conditional request failed");
  // Some errors spell it Message; a body that says nothing falls back on the header.
  EXPECT_EQ(ParseErrorResponse(R"({"__type":"x#A","Message":"m"})", std::nullopt).message, "m");
  const ErrorResponse from_header = ParseErrorResponse("<html>", "ThrottlingException:http://internal");
  EXPECT_EQ(from_header.name, "ThrottlingException");
  EXPECT_TRUE(from_header.message.empty());
  EXPECT_TRUE(ParseErrorResponse("", std::nullopt).name.empty());
}

}  // namespace
}  // namespace eventlogger::aws
