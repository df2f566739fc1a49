// Tests for ParseEventRequest and MinifyJson.
//
// The parser is the trust boundary of POST /events: everything it accepts is
// stored, and jsonDetails is stored as the client's own text. So the tests
// pin three things: (1) jsonDetails survives byte for byte apart from
// insignificant whitespace, (2) every rejection names the offending field,
// and (3) hostile input (deep nesting, bad UTF-8, NUL bytes) is refused
// without crashing.
#include "core/event_request.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace eventlogger {
namespace {

// Builds a body from raw JSON fragments, so tests can put any JSON (or
// non-JSON) in each member's value position.
std::string Body(std::string_view user_id_json, std::string_view event_type_json,
                 std::string_view details_json) {
  std::string body = "{\"userId\":";
  body += user_id_json;
  body += ",\"eventType\":";
  body += event_type_json;
  body += ",\"jsonDetails\":";
  body += details_json;
  body += "}";
  return body;
}

std::string Quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

// A body whose userId is `user_id` (raw bytes placed between quotes, so it
// must not need escaping) and whose other members are valid.
std::string BodyWithUserId(std::string_view user_id) {
  return Body(Quoted(user_id), "\"click\"", "{}");
}

std::string BodyWithEventType(std::string_view event_type) {
  return Body("\"u1\"", Quoted(event_type), "{}");
}

std::string BodyWithDetails(std::string_view details) {
  return Body("\"u1\"", "\"click\"", details);
}

// The messages for `field`, in order; empty when the field has no error.
std::vector<std::string> ErrorsFor(const EventRequestParse& parse, std::string_view field) {
  std::vector<std::string> messages;
  for (const FieldError& e : parse.error.errors) {
    if (e.field == field) messages.push_back(e.message);
  }
  return messages;
}

std::string DescribeErrors(const EventRequestParse& parse) {
  std::string out = "detail=\"" + parse.error.detail + "\"";
  for (const FieldError& e : parse.error.errors) {
    out += " [" + e.field + ": " + e.message + "]";
  }
  return out;
}

// Asserts the body is rejected with an error naming `field`.
void ExpectRejectedFor(std::string_view body, std::string_view field) {
  SCOPED_TRACE(testing::Message() << "body: " << body.substr(0, 200));
  const EventRequestParse parse = ParseEventRequest(body);
  EXPECT_FALSE(parse.request.has_value()) << "accepted: " << parse.request->details_json;
  EXPECT_FALSE(parse.error.detail.empty());
  EXPECT_FALSE(ErrorsFor(parse, field).empty())
      << "no error for field \"" << field << "\"; got " << DescribeErrors(parse);
}

// Asserts the body is accepted and returns the parsed details.
std::string ExpectAccepted(std::string_view body) {
  const EventRequestParse parse = ParseEventRequest(body);
  EXPECT_TRUE(parse.request.has_value())
      << "rejected: " << DescribeErrors(parse) << "\nbody: " << body.substr(0, 200);
  return parse.request ? parse.request->details_json : std::string();
}

// jsonDetails nested `levels` deep, jsonDetails itself being level 1.
// Alternates objects and arrays so both count as levels.
std::string NestedDetails(int levels) {
  std::string open, close;
  open += "{\"k\":";
  close = "}";
  for (int level = 2; level <= levels; ++level) {
    if (level % 2 == 0) {
      open += "[";
      close.insert(0, "]");
    } else {
      open += "{\"k\":";
      close.insert(0, "}");
    }
  }
  // The innermost container needs a value: 1 inside an array, or inside an
  // object after its key.
  return open + "1" + close;
}

// ---------------------------------------------------------------------------
// Accepted bodies

TEST(ParseEventRequestTest, AcceptsValidBody) {
  const EventRequestParse parse =
      ParseEventRequest(R"({"userId":"user-42","eventType":"page.view","jsonDetails":{"a":1}})");
  ASSERT_TRUE(parse.request.has_value()) << DescribeErrors(parse);
  EXPECT_EQ(parse.request->user_id, "user-42");
  EXPECT_EQ(parse.request->event_type, "page.view");
  EXPECT_EQ(parse.request->details_json, R"({"a":1})");
  EXPECT_TRUE(parse.error.errors.empty());
}

TEST(ParseEventRequestTest, AcceptsMembersInAnyOrderAndSurroundingWhitespace) {
  // JSON object members are unordered; clients serialise in any order.
  const EventRequestParse parse = ParseEventRequest(
      " \r\n\t{ \"jsonDetails\" : { } , \"eventType\" : \"t\" , \"userId\" : \"u\" } \n");
  ASSERT_TRUE(parse.request.has_value()) << DescribeErrors(parse);
  EXPECT_EQ(parse.request->user_id, "u");
  EXPECT_EQ(parse.request->event_type, "t");
  EXPECT_EQ(parse.request->details_json, "{}");
}

TEST(ParseEventRequestTest, DecodesEscapesInUserId) {
  // userId is a JSON string: its value is the decoded text, not the escapes.
  const EventRequestParse parse =
      ParseEventRequest(Body(R"("caf\u00e9 \"x\" \\ \/")", "\"t\"", "{}"));
  ASSERT_TRUE(parse.request.has_value()) << DescribeErrors(parse);
  EXPECT_EQ(parse.request->user_id, "caf\xC3\xA9 \"x\" \\ /");
}

TEST(ParseEventRequestTest, KeepsDetailsTextExactlyApartFromWhitespace) {
  // Re-serialising would turn 12345678901234567890 into 1.2345678901234567e19,
  // 0.1000 into 0.1 and \u00e9 into raw bytes; the API promises the client's
  // own text back.
  const std::string details =
      "{ \"big\" : 12345678901234567890 ,\n"
      "  \"negbig\": -98765432109876543210987654321,\n"
      "  \"frac\" : 0.1000 , \"negzero\" : -0 , \"exp\": 1.5E-300, \"e2\": 2e+10,\n"
      "  \"s\" : \"caf\\u00e9 \\\"quoted\\\" \\\\ \\/ \\n\\t\" ,\n"
      "  \"ws\" : \"  two  spaces  \" ,\t\"nested\" : [ 1 , { \"x\" : null } , true , false ] ,\r\n"
      "  \"raw\" : \"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\" , \"empty\" : { } , \"arr\" : [ ] }";
  const std::string expected =
      "{\"big\":12345678901234567890,"
      "\"negbig\":-98765432109876543210987654321,"
      "\"frac\":0.1000,\"negzero\":-0,\"exp\":1.5E-300,\"e2\":2e+10,"
      "\"s\":\"caf\\u00e9 \\\"quoted\\\" \\\\ \\/ \\n\\t\","
      "\"ws\":\"  two  spaces  \",\"nested\":[1,{\"x\":null},true,false],"
      "\"raw\":\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\",\"empty\":{},\"arr\":[]}";
  EXPECT_EQ(ExpectAccepted(BodyWithDetails(details)), expected);
}

TEST(ParseEventRequestTest, KeepsNumbersBeyondDoubleRangeAsWritten) {
  // 1e400 overflows a double. JSON (RFC 8259) has no range limit and we never
  // convert jsonDetails numbers, so the text must be accepted and kept.
  EXPECT_EQ(ExpectAccepted(BodyWithDetails(R"({"e": 1e400})")), R"({"e":1e400})");
  EXPECT_EQ(ExpectAccepted(BodyWithDetails(R"({"e": -1E+400})")), R"({"e":-1E+400})");
  EXPECT_EQ(ExpectAccepted(BodyWithDetails(R"({"e": 1e-400})")), R"({"e":1e-400})");
  const std::string huge_integer = "1" + std::string(400, '0');
  EXPECT_EQ(ExpectAccepted(BodyWithDetails("{\"n\": " + huge_integer + "}")),
            "{\"n\":" + huge_integer + "}");
}

TEST(ParseEventRequestTest, OutOfRangeNumbersDoNotDisturbTheRestOfTheBody) {
  // Strings that look like numbers, escaped quotes before a number, and
  // several big numbers in one body: everything else must parse as usual.
  const EventRequestParse parse = ParseEventRequest(
      R"({"userId":"u1e400","eventType":"t","jsonDetails":{"1e400" : 1e400, "s":"\"", )"
      R"("a":[ -2E+999 , 0.5e999999 , 7 ], "x": 1.5}})");
  ASSERT_TRUE(parse.request.has_value()) << DescribeErrors(parse);
  EXPECT_EQ(parse.request->user_id, "u1e400");
  EXPECT_EQ(parse.request->details_json,
            R"({"1e400":1e400,"s":"\"","a":[-2E+999,0.5e999999,7],"x":1.5})");
}

TEST(ParseEventRequestTest, OutOfRangeNumbersDoNotHideOtherErrors) {
  // Malformed numbers stay malformed even next to (or inside) a big one.
  for (std::string_view bad :
       {R"({"e":1e400.5})", R"({"e":1e400,"f":01})", R"({"e":1e400,"f":-})",
        R"({"e":1e400,"f":1.})", R"({"e":1e400e4})", R"({"e":--1e400})", R"({"e":1e400 1})"}) {
    SCOPED_TRACE(bad);
    ExpectRejectedFor(BodyWithDetails(bad), "");
  }
  // A big number where a string belongs is a type error, not malformed JSON.
  ExpectRejectedFor(Body("1e400", "\"t\"", "{}"), "userId");
  // And depth still counts.
  ExpectRejectedFor(
      BodyWithDetails("{\"e\":1e400,\"d\":" + std::string(40, '[') + std::string(40, ']') + "}"),
      "jsonDetails");
}

TEST(ParseEventRequestTest, DetailsMayCarryKeysNamedLikeTopLevelMembers) {
  // Only top-level keys are members; the same names deeper are just data.
  EXPECT_EQ(ExpectAccepted(BodyWithDetails(
                R"({"userId":1,"eventType":[],"jsonDetails":"x","extra":{"userId":null}})")),
            R"({"userId":1,"eventType":[],"jsonDetails":"x","extra":{"userId":null}})");
}

// ---------------------------------------------------------------------------
// Member presence, type, duplicates

TEST(ParseEventRequestTest, RejectsEachMissingMemberByName) {
  ExpectRejectedFor(R"({"eventType":"t","jsonDetails":{}})", "userId");
  ExpectRejectedFor(R"({"userId":"u","jsonDetails":{}})", "eventType");
  ExpectRejectedFor(R"({"userId":"u","eventType":"t"})", "jsonDetails");

  // All three missing: one error per member, so clients see everything at once.
  const EventRequestParse parse = ParseEventRequest("{}");
  EXPECT_FALSE(parse.request.has_value());
  EXPECT_EQ(ErrorsFor(parse, "userId").size(), 1u);
  EXPECT_EQ(ErrorsFor(parse, "eventType").size(), 1u);
  EXPECT_EQ(ErrorsFor(parse, "jsonDetails").size(), 1u);
}

TEST(ParseEventRequestTest, RejectsMistypedUserIdAndEventType) {
  for (std::string_view wrong :
       {"1", "1.5", "true", "false", "null", "[]", "[\"u\"]", "{}", "{\"a\":\"u\"}"}) {
    SCOPED_TRACE(wrong);
    ExpectRejectedFor(Body(wrong, "\"t\"", "{}"), "userId");
    ExpectRejectedFor(Body("\"u\"", wrong, "{}"), "eventType");
  }
}

TEST(ParseEventRequestTest, RejectsDetailsThatAreNotAnObject) {
  for (std::string_view wrong : {"[]", "[{}]", "\"{}\"", "\"x\"", "null", "1", "true"}) {
    SCOPED_TRACE(wrong);
    ExpectRejectedFor(BodyWithDetails(wrong), "jsonDetails");
  }
}

TEST(ParseEventRequestTest, MistypedMemberGetsOneErrorNotAlsoARuleViolation) {
  // A number userId is reported as mistyped; it must not additionally be
  // reported as, say, empty.
  const EventRequestParse parse = ParseEventRequest(Body("7", "\"t\"", "{}"));
  EXPECT_EQ(ErrorsFor(parse, "userId").size(), 1u) << DescribeErrors(parse);
}

TEST(ParseEventRequestTest, RejectsDuplicateMembers) {
  // Parsers disagree on which duplicate wins; accepting them would let a
  // proxy and this service see different userIds.
  ExpectRejectedFor(R"({"userId":"a","userId":"b","eventType":"t","jsonDetails":{}})", "userId");
  ExpectRejectedFor(R"({"userId":"a","eventType":"t","eventType":"t","jsonDetails":{}})",
                    "eventType");
  ExpectRejectedFor(R"({"userId":"a","eventType":"t","jsonDetails":{},"jsonDetails":{}})",
                    "jsonDetails");
}

TEST(ParseEventRequestTest, RejectsUnknownMembersNamingThem) {
  ExpectRejectedFor(R"({"userId":"a","eventType":"t","jsonDetails":{},"extra":1})", "extra");
  ExpectRejectedFor(R"({"userId":"a","eventType":"t","jsonDetails":{},"userid":"a"})", "userid");
  ExpectRejectedFor(R"({"userId":"a","eventType":"t","jsonDetails":{},"x":{"y":[1]}})", "x");
}

// ---------------------------------------------------------------------------
// userId rules

TEST(ParseEventRequestTest, RejectsEmptyUserId) { ExpectRejectedFor(BodyWithUserId(""), "userId"); }

TEST(ParseEventRequestTest, UserIdLimitIs128Bytes) {
  ExpectAccepted(BodyWithUserId(std::string(128, 'u')));
  ExpectRejectedFor(BodyWithUserId(std::string(129, 'u')), "userId");
}

TEST(ParseEventRequestTest, UserIdLimitCountsBytesNotCharacters) {
  // 64 x "é" is 64 characters but 128 bytes: the limit is on bytes because
  // storage keys are.
  std::string e64;
  for (int i = 0; i < 64; ++i) e64 += "\xC3\xA9";
  EXPECT_EQ(e64.size(), 128u);
  ExpectAccepted(BodyWithUserId(e64));
  // 65 characters, 130 bytes.
  ExpectRejectedFor(BodyWithUserId(e64 + "\xC3\xA9"), "userId");
  // 127 ASCII + one 2-byte character = 129 bytes in 128 characters.
  ExpectRejectedFor(BodyWithUserId(std::string(127, 'u') + "\xC3\xA9"), "userId");
  // 32 x 4-byte emoji = 128 bytes.
  std::string emoji32;
  for (int i = 0; i < 32; ++i) emoji32 += "\xF0\x9F\x98\x80";
  ExpectAccepted(BodyWithUserId(emoji32));
  // The limit applies to the decoded value, not the escaped text: 64 "\u00e9"
  // escapes are 384 bytes of JSON but 128 bytes of userId.
  std::string escaped;
  for (int i = 0; i < 64; ++i) escaped += "\\u00e9";
  ExpectAccepted(BodyWithUserId(escaped));
  ExpectRejectedFor(BodyWithUserId(escaped + "\\u00e9"), "userId");
}

TEST(ParseEventRequestTest, RejectsControlCharactersInUserId) {
  // C0 (including escaped NUL), DEL and C1 controls, both escaped and raw.
  for (std::string_view user_id :
       {"a\\u0000b", "a\\u0001", "\\u001f", "a\\nb", "a\\tb", "a\\u007f", "a\\u0080", "a\\u0085",
        "a\\u009f", "a\x7f", "a\xC2\x85", "a\xC2\x9F"}) {
    SCOPED_TRACE(user_id);
    ExpectRejectedFor(BodyWithUserId(user_id), "userId");
  }
  // Just outside the ranges: space, U+00A0.
  ExpectAccepted(BodyWithUserId("a b"));
  ExpectAccepted(BodyWithUserId("a\\u00a0b"));
}

// ---------------------------------------------------------------------------
// eventType rules

TEST(ParseEventRequestTest, EventTypeCharset) {
  ExpectAccepted(BodyWithEventType("Az09_.:-"));
  for (std::string_view bad :
       {"a b", "a/b", "a#b", "caf\xC3\xA9", "a\\u0000", "a+b", "a,b", "a\\\"b"}) {
    SCOPED_TRACE(bad);
    ExpectRejectedFor(BodyWithEventType(bad), "eventType");
  }
  ExpectRejectedFor(BodyWithEventType(""), "eventType");
}

TEST(ParseEventRequestTest, EventTypeLimitIs64Characters) {
  ExpectAccepted(BodyWithEventType(std::string(64, 't')));
  ExpectRejectedFor(BodyWithEventType(std::string(65, 't')), "eventType");
}

TEST(ParseEventRequestTest, ReportsEveryInvalidFieldAtOnce) {
  const EventRequestParse parse = ParseEventRequest(Body("\"\"", "\"bad type\"", "[]"));
  EXPECT_FALSE(parse.request.has_value());
  EXPECT_FALSE(ErrorsFor(parse, "userId").empty()) << DescribeErrors(parse);
  EXPECT_FALSE(ErrorsFor(parse, "eventType").empty()) << DescribeErrors(parse);
  EXPECT_FALSE(ErrorsFor(parse, "jsonDetails").empty()) << DescribeErrors(parse);
}

// ---------------------------------------------------------------------------
// Nesting depth

TEST(ParseEventRequestTest, NestedDetailsHelperBuildsTheRequestedDepth) {
  // Guards the helper the depth tests rely on.
  EXPECT_EQ(NestedDetails(1), "{\"k\":1}");
  EXPECT_EQ(NestedDetails(3), "{\"k\":[{\"k\":1}]}");
}

TEST(ParseEventRequestTest, AcceptsDetailsExactly32LevelsDeep) {
  const std::string details = NestedDetails(32);
  EXPECT_EQ(ExpectAccepted(BodyWithDetails(details)), details);
}

TEST(ParseEventRequestTest, RejectsDetails33LevelsDeep) {
  ExpectRejectedFor(BodyWithDetails(NestedDetails(33)), "jsonDetails");
}

TEST(ParseEventRequestTest, ArraysAloneCountAsLevels) {
  // jsonDetails (level 1) holding 31 nested arrays is 32 levels; 32 arrays is 33.
  const auto with_arrays = [](int arrays) {
    return "{\"a\":" + std::string(arrays, '[') + std::string(arrays, ']') + "}";
  };
  ExpectAccepted(BodyWithDetails(with_arrays(31)));
  ExpectRejectedFor(BodyWithDetails(with_arrays(32)), "jsonDetails");
}

TEST(ParseEventRequestTest, RejectsHostileNestingWithoutCrashing) {
  // 100000 levels would overflow the stack of a recursive parser.
  constexpr int kLevels = 100000;
  const std::string closed =
      "{\"a\":" + std::string(kLevels, '[') + std::string(kLevels, ']') + "}";
  ExpectRejectedFor(BodyWithDetails(closed), "jsonDetails");
  // Never closed: must be refused for depth, not read to the end.
  ExpectRejectedFor(BodyWithDetails("{\"a\":" + std::string(kLevels, '[')), "jsonDetails");
  // Objects too.
  std::string objects;
  for (int i = 0; i < kLevels; ++i) objects += "{\"a\":";
  ExpectRejectedFor(BodyWithDetails(objects), "jsonDetails");
}

TEST(ParseEventRequestTest, DeepNestingUnderAnUnknownMemberIsRejectedToo) {
  // Nesting costs memory whichever member carries it.
  const std::string body = R"({"userId":"u","eventType":"t","jsonDetails":{},"x":)" +
                           std::string(100000, '[') + std::string(100000, ']') + "}";
  const EventRequestParse parse = ParseEventRequest(body);
  EXPECT_FALSE(parse.request.has_value());
}

// ---------------------------------------------------------------------------
// Encoding

TEST(ParseEventRequestTest, RejectsInvalidUtf8Anywhere) {
  // Invalid bytes: a lone continuation, an overlong '/', an encoded surrogate,
  // a truncated sequence, a byte never valid in UTF-8.
  for (std::string_view bad :
       {"\x80", "\xC0\xAF", "\xED\xA0\x80", "\xE2\x82", "\xFF", "\xF4\x90\x80\x80"}) {
    SCOPED_TRACE(testing::PrintToString(std::string(bad)));
    const std::string b(bad);
    EXPECT_FALSE(ParseEventRequest(BodyWithUserId("u" + b)).request.has_value());
    EXPECT_FALSE(ParseEventRequest(BodyWithEventType("t" + b)).request.has_value());
    EXPECT_FALSE(ParseEventRequest(BodyWithDetails("{\"s\":\"x" + b + "\"}")).request.has_value());
    EXPECT_FALSE(ParseEventRequest(BodyWithDetails("{\"k" + b + "\":1}")).request.has_value());
    EXPECT_FALSE(
        ParseEventRequest(R"({"userId":"u","eventType":"t","jsonDetails":{},")" + b + "\":1}")
            .request.has_value());
  }
}

TEST(ParseEventRequestTest, RejectsLoneSurrogateEscapes) {
  // A lone UTF-16 surrogate has no UTF-8 encoding; storing it would hand
  // readers text their JSON parser may refuse.
  for (std::string_view bad : {"\\ud800", "\\udbff", "\\udc00", "\\udfff", "\\ud800x",
                               "\\ud800\\u0041", "\\udc00\\ud800"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(
        ParseEventRequest(BodyWithUserId(std::string("u") + std::string(bad))).request.has_value());
    EXPECT_FALSE(ParseEventRequest(BodyWithDetails("{\"s\":\"" + std::string(bad) + "\"}"))
                     .request.has_value());
    EXPECT_FALSE(
        ParseEventRequest(BodyWithDetails("{\"" + std::string(bad) + "\":1}")).request.has_value());
    // Deep inside jsonDetails too, and reported against the body as a whole.
    ExpectRejectedFor(BodyWithDetails("{\"a\":[{\"b\":[\"" + std::string(bad) + "\"]}]}"), "");
  }
  // A proper pair is fine and is kept as written in jsonDetails.
  EXPECT_EQ(ExpectAccepted(BodyWithDetails(R"({"s":"\ud83d\ude00"})")), R"({"s":"\ud83d\ude00"})");
  const EventRequestParse pair = ParseEventRequest(BodyWithUserId("\\ud83d\\ude00"));
  ASSERT_TRUE(pair.request.has_value()) << DescribeErrors(pair);
  EXPECT_EQ(pair.request->user_id, "\xF0\x9F\x98\x80");
}

TEST(ParseEventRequestTest, InvalidUtf8IsReportedAtItsByteOffset) {
  const std::string body = BodyWithDetails("{\"s\":\"abcdefgh\xC3\x28\"}");
  const EventRequestParse parse = ParseEventRequest(body);
  ASSERT_FALSE(parse.request.has_value());
  const std::vector<std::string> messages = ErrorsFor(parse, "");
  ASSERT_EQ(messages.size(), 1u) << DescribeErrors(parse);
  EXPECT_EQ(messages[0], "malformed JSON at byte " + std::to_string(body.find('\xC3')) + ": invalid UTF-8");
}

TEST(ParseEventRequestTest, StringsAreDecodedExactlyAtEveryAlignment) {
  // The reader copies unescaped runs 16 bytes at a time (RAPIDJSON_SSE2),
  // stepping byte by byte up to an aligned address first: move escapes,
  // multibyte characters and the closing quote across every offset of a
  // 16-byte block, and through runs longer than a block.
  for (size_t shift = 0; shift < 40; ++shift) {
    SCOPED_TRACE(shift);
    const std::string run(shift, 'a');
    const std::string written = run + R"(\\\"\u00e9)" + run + "\xC3\xA9" + run;
    const std::string decoded = run + "\\\"\xC3\xA9" + run + "\xC3\xA9" + run;
    const EventRequestParse user = ParseEventRequest(BodyWithUserId(written));
    ASSERT_TRUE(user.request.has_value()) << DescribeErrors(user);
    EXPECT_EQ(user.request->user_id, decoded);
    // jsonDetails keeps its text as written, in keys and values alike.
    const std::string details = "{\"k" + written + "\":\"" + written + "\\n\"}";
    const EventRequestParse parse = ParseEventRequest(BodyWithDetails(details));
    ASSERT_TRUE(parse.request.has_value()) << DescribeErrors(parse);
    EXPECT_EQ(parse.request->details_json, details);
  }
}

TEST(ParseEventRequestTest, LargeDetailsAreKeptByteForByte) {
  // Tens of kilobytes: many 16-byte blocks, escapes scattered through them.
  std::string text;
  for (int i = 0; i < 4000; ++i) text += i % 97 == 0 ? "\\\"" : (i % 13 == 0 ? "\\u00e9" : "xyz");
  const std::string details = R"({"text":")" + text + R"(","n":[1,2,3],"nested":{"t":")" + text + R"("}})";
  const EventRequestParse parse = ParseEventRequest(BodyWithDetails(details));
  ASSERT_TRUE(parse.request.has_value()) << DescribeErrors(parse);
  EXPECT_EQ(parse.request->details_json, details);
}

// ---------------------------------------------------------------------------
// Malformed bodies: reported against the body as a whole (field "").

TEST(ParseEventRequestTest, RejectsMalformedJson) {
  for (std::string_view bad : {
           R"({"userId":"u","eventType":"t","jsonDetails":{},})",       // trailing comma
           R"({"userId":"u" "eventType":"t","jsonDetails":{}})",        // missing comma
           R"({"userId":"u","eventType":"t","jsonDetails":{})",         // unclosed
           R"({'userId':'u','eventType':'t','jsonDetails':{}})",        // single quotes
           R"({userId:"u","eventType":"t","jsonDetails":{}})",          // bare key
           R"({"userId":"u","eventType":"t","jsonDetails":{"a":01}})",  // leading zero
           R"({"userId":"u","eventType":"t","jsonDetails":{"a":1.}})",  // bare point
           R"({"userId":"u","eventType":"t","jsonDetails":{"a":NaN}})",
           R"({"userId":"u","eventType":"t","jsonDetails":{"a":"\x"}})",  // bad escape
           "{\"userId\":\"u\",\"eventType\":\"t\",\"jsonDetails\":{\"a\":\"tab\there\"}}",
           R"({"userId":"u","eventType":"t","jsonDetails":{"a":1}/*c*/})",
       }) {
    SCOPED_TRACE(bad);
    ExpectRejectedFor(bad, "");
  }
}

TEST(ParseEventRequestTest, RejectsTrailingGarbage) {
  const std::string valid = BodyWithDetails("{}");
  for (std::string_view tail : {"x", "{}", ",", "]", "}", " 1", "\"\"", " null"}) {
    SCOPED_TRACE(tail);
    ExpectRejectedFor(valid + std::string(tail), "");
  }
}

TEST(ParseEventRequestTest, RejectsEmptyBody) {
  ExpectRejectedFor("", "");
  ExpectRejectedFor("   \r\n\t ", "");
}

TEST(ParseEventRequestTest, RejectsRawNulByteAnywhere) {
  // RapidJSON stops at NUL, so a NUL followed by garbage would otherwise look
  // like a clean end of input.
  const std::string valid = BodyWithDetails("{}");
  ExpectRejectedFor(valid + std::string(1, '\0'), "");
  ExpectRejectedFor(valid + std::string(1, '\0') + "garbage", "");
  ExpectRejectedFor(std::string(1, '\0') + valid, "");
  std::string in_string = BodyWithUserId("ab");
  in_string[in_string.find("ab") + 1] = '\0';
  ExpectRejectedFor(in_string, "");
}

TEST(ParseEventRequestTest, RejectsRootThatIsNotAnObject) {
  for (std::string_view bad :
       {"[]", "[{\"userId\":\"u\"}]", "\"x\"", "1", "-0.5", "null", "true"}) {
    SCOPED_TRACE(bad);
    ExpectRejectedFor(bad, "");
  }
}

// ---------------------------------------------------------------------------
// MinifyJson

TEST(ParseEventRequestTest, TakesOccurredAtAndSentAtAsInstants) {
  const EventRequestParse parse = ParseEventRequest(
      R"({"userId":"u","eventType":"t","jsonDetails":{},"occurredAt":"2025-06-29T16:32:45.1239+02:00",)"
      R"("sentAt":"2025-06-29t14:33:00z"})");
  ASSERT_TRUE(parse.request) << parse.error.detail;
  ASSERT_TRUE(parse.request->times.occurred_at);
  EXPECT_EQ(parse.request->times.occurred_at->unix_millis, 1751207565123);  // 14:32:45.123Z
  EXPECT_TRUE(parse.request->times.occurred_at->sub_millisecond);
  ASSERT_TRUE(parse.request->times.sent_at);
  EXPECT_EQ(parse.request->times.sent_at->unix_millis, 1751207580000);
  // Both are optional.
  const EventRequestParse plain = ParseEventRequest(Body("\"u\"", "\"t\"", "{}"));
  ASSERT_TRUE(plain.request);
  EXPECT_FALSE(plain.request->times.occurred_at);
  EXPECT_FALSE(plain.request->times.sent_at);
}

TEST(ParseEventRequestTest, ABadOccurredAtOrSentAtIsNamed) {
  for (const char* bad : {R"("2025-06-29")", R"("2025-06-29T14:32:45")", R"("yesterday")", R"("")",
                          R"("2025-13-01T00:00:00Z")", "1751207565123", "null", "{}"}) {
    for (const char* field : {"occurredAt", "sentAt"}) {
      const std::string body =
          std::string(R"({"userId":"u","eventType":"t","jsonDetails":{},")") + field + "\":" + bad + "}";
      const EventRequestParse parse = ParseEventRequest(body);
      ASSERT_FALSE(parse.request) << body;
      ASSERT_EQ(parse.error.errors.size(), 1u) << body;
      EXPECT_EQ(parse.error.errors[0].field, field) << body;
    }
  }
  const EventRequestParse twice = ParseEventRequest(
      R"({"userId":"u","eventType":"t","jsonDetails":{},"occurredAt":"2025-06-29T14:32:45Z","occurredAt":"2025-06-29T14:32:45Z"})");
  ASSERT_FALSE(twice.request);
  EXPECT_EQ(twice.error.errors[0].field, "occurredAt");
  EXPECT_EQ(twice.error.errors[0].message, "appears more than once");
}

TEST(ParseEventRequestTest, SentAtIsRefusedWhereTheEnvelopeOwnsIt) {
  EventRequestOptions options;
  options.allow_idempotency_key = true;
  options.allow_sent_at = false;
  const EventRequestParse parse =
      ParseEventRequest(R"({"userId":"u","eventType":"t","jsonDetails":{},"sentAt":"2025-06-29T14:32:45Z"})", options);
  ASSERT_FALSE(parse.request);
  ASSERT_EQ(parse.error.errors.size(), 1u);
  EXPECT_EQ(parse.error.errors[0].field, "sentAt");
  EXPECT_EQ(parse.error.errors[0].message,
            "is not a known member (expected userId, eventType, jsonDetails, idempotencyKey, occurredAt)");
}

TEST(MinifyJsonTest, RemovesWhitespaceOutsideStrings) {
  EXPECT_EQ(MinifyJson(" {\n\t\"a\" : [ 1 ,\r\n 2 ] , \"b\" : { } }\n"), R"({"a":[1,2],"b":{}})");
}

TEST(MinifyJsonTest, KeepsWhitespaceAndEscapesInsideStrings) {
  EXPECT_EQ(MinifyJson(R"({ "a b" : " x  y " })"), R"({"a b":" x  y "})");
  // An escaped quote does not end the string; an escaped backslash before the
  // closing quote does not escape it.
  EXPECT_EQ(MinifyJson(R"({ "q" : "say \" hi \" " , "bs" : "c:\\" , "n" : 1 })"),
            R"({"q":"say \" hi \" ","bs":"c:\\","n":1})");
  EXPECT_EQ(MinifyJson(R"([ "\\\" x" , "\u0020 " ])"), R"(["\\\" x","\u0020 "])");
}

TEST(MinifyJsonTest, LeavesMinifiedAndScalarTextUnchanged) {
  for (std::string_view json :
       {R"({"a":[1,2.50,-0,1e400],"b":"c"})", "{}", "[]", "0.1000", "\"  \"", "null"}) {
    EXPECT_EQ(MinifyJson(json), json);
  }
  EXPECT_EQ(MinifyJson(""), "");
}

TEST(MinifyJsonTest, WhitespaceOnlyInsideStringsIsKept) {
  EXPECT_EQ(MinifyJson(R"({"a":"x y","b":["\t", " "]})"), R"({"a":"x y","b":["\t"," "]})");
  EXPECT_EQ(MinifyJson("{\"a\":\"tab\there\"}"), "{\"a\":\"tab\there\"}");
}

TEST(MinifyJsonTest, StaysInBoundsOnTextCutOffInsideAnEscape) {
  // Callers pass validated JSON; text cut off mid-escape must still not be
  // read past its end.
  EXPECT_EQ(MinifyJson(" \"ab\\"), "\"ab\\");
  EXPECT_EQ(MinifyJson(" \"ab"), "\"ab");
}

}  // namespace
}  // namespace eventlogger
