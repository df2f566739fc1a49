// Tests for AppendJsonString.
//
// The function hand-rolls JSON escaping on the hot path, so the oracle is an
// independent parser: whatever we write, RapidJSON must read back as exactly
// the bytes we started with.
#include "core/json_output.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace eventlogger {
namespace {

std::string Quote(std::string_view value) {
  std::string out;
  AppendJsonString(out, value);
  return out;
}

// Parses `json` (which must be one JSON string literal) with RapidJSON,
// validating UTF-8, and returns the decoded bytes.
testing::AssertionResult DecodesTo(const std::string& json, std::string_view expected) {
  rapidjson::Document document;
  document.Parse<rapidjson::kParseValidateEncodingFlag>(json.c_str(), json.size());
  if (document.HasParseError()) {
    return testing::AssertionFailure()
           << "RapidJSON rejected " << testing::PrintToString(json) << ": "
           << rapidjson::GetParseError_En(document.GetParseError()) << " at "
           << document.GetErrorOffset();
  }
  if (!document.IsString()) return testing::AssertionFailure() << "not a string: " << json;
  const std::string decoded(document.GetString(), document.GetStringLength());
  if (decoded != expected) {
    return testing::AssertionFailure()
           << testing::PrintToString(json) << " decodes to " << testing::PrintToString(decoded)
           << ", expected " << testing::PrintToString(std::string(expected));
  }
  return testing::AssertionSuccess();
}

// JSON forbids raw bytes below 0x20 inside strings.
bool HasRawControlCharacter(std::string_view json) {
  for (char c : json) {
    if (static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

// Encodes one code point as UTF-8. REQUIRES: a Unicode scalar value.
void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | cp >> 6));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | cp >> 12));
    out.push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | cp >> 18));
    out.push_back(static_cast<char>(0x80 | (cp >> 12 & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

TEST(AppendJsonStringTest, PlainTextIsQuotedAndCopied) {
  EXPECT_EQ(Quote(""), "\"\"");
  EXPECT_EQ(Quote("hello world"), "\"hello world\"");
  EXPECT_TRUE(DecodesTo(Quote(""), ""));
}

TEST(AppendJsonStringTest, AppendsWithoutTouchingExistingContent) {
  // Callers build whole documents in one string.
  std::string out = "{\"a\":";
  AppendJsonString(out, "x\"y");
  out += "}";
  EXPECT_EQ(out, R"({"a":"x\"y"})");
}

TEST(AppendJsonStringTest, EscapesQuotesAndBackslashes) {
  EXPECT_EQ(Quote("\""), R"("\"")");
  EXPECT_EQ(Quote("\\"), R"("\\")");
  EXPECT_EQ(Quote(R"(a"b\c\\"")"), R"("a\"b\\c\\\\\"\"")");
  for (std::string_view s :
       {"\"", "\\", "\\\"", "\"\\", "end with backslash\\", "\\u0041", "/slash/"}) {
    EXPECT_TRUE(DecodesTo(Quote(s), s));
  }
}

TEST(AppendJsonStringTest, EveryControlCharacterRoundTrips) {
  for (int c = 0x00; c < 0x20; ++c) {
    SCOPED_TRACE(c);
    const std::string value = "a" + std::string(1, static_cast<char>(c)) + "b";
    const std::string json = Quote(value);
    EXPECT_FALSE(HasRawControlCharacter(json)) << testing::PrintToString(json);
    EXPECT_TRUE(DecodesTo(json, value));
  }
}

TEST(AppendJsonStringTest, UsesShortEscapesWhereJsonHasThem) {
  EXPECT_EQ(Quote("\n"), R"("\n")");
  EXPECT_EQ(Quote("\r"), R"("\r")");
  EXPECT_EQ(Quote("\t"), R"("\t")");
  EXPECT_EQ(Quote("\b"), R"("\b")");
  EXPECT_EQ(Quote("\f"), R"("\f")");
  EXPECT_EQ(Quote(std::string(1, '\0')), R"("\u0000")");
  EXPECT_EQ(Quote("\x01"), R"("\u0001")");
  EXPECT_EQ(Quote("\x1f"), R"("\u001f")");
}

TEST(AppendJsonStringTest, AllControlCharactersTogetherRoundTrip) {
  std::string value;
  for (int c = 0x00; c < 0x20; ++c) value.push_back(static_cast<char>(c));
  value += "\"\\\x7f";
  const std::string json = Quote(value);
  EXPECT_FALSE(HasRawControlCharacter(json));
  EXPECT_TRUE(DecodesTo(json, value));
}

TEST(AppendJsonStringTest, EveryEscapeIsFoundAtEveryPositionOfAWord) {
  // The scan reads eight bytes at a time: a byte to escape must be found in
  // any lane of any word, and its neighbours (0x1f/0x20, '!'/'#', '['/']')
  // must not be taken for one.
  for (const char special : {'"', '\\', '\x00', '\x1f', '\n'}) {
    for (size_t at = 0; at < 21; ++at) {
      std::string value(21, 'a');
      value[at] = special;
      const std::string quoted = Quote(value);
      EXPECT_TRUE(DecodesTo(quoted, value)) << at;
      EXPECT_GT(quoted.size(), value.size() + 2) << "not escaped at " << at;
    }
  }
  const std::string neighbours = " !#[]~\x7f aaaaaaaaaaaaaaaaa";
  EXPECT_EQ(Quote(neighbours), "\"" + neighbours + "\"");
  const std::string utf8 = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xe2\x82\xac\xe2\x82\xac\xf0\x9f\x98\x80";
  EXPECT_EQ(Quote(utf8), "\"" + utf8 + "\"");
}

TEST(AppendJsonStringTest, NonAsciiUtf8IsCopiedThroughUnescaped) {
  // Copying is what the contract says; escaping would only cost bytes.
  const std::string value = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF \x7f";
  EXPECT_EQ(Quote(value), "\"" + value + "\"");
  EXPECT_TRUE(DecodesTo(Quote(value), value));
  // U+2028/U+2029 are valid in JSON strings (only JavaScript minds them).
  EXPECT_TRUE(DecodesTo(Quote("\xE2\x80\xA8\xE2\x80\xA9"), "\xE2\x80\xA8\xE2\x80\xA9"));
}

TEST(AppendJsonStringTest, RandomValidUtf8RoundTrips) {
  // Fixed seed: a failure is reproducible. Code points are drawn so that
  // ASCII controls, quotes and backslashes are frequent, and every UTF-8
  // length (1-4 bytes) and the edges of each range appear.
  std::mt19937 random(20250629);
  std::uniform_int_distribution<int> kind(0, 9);
  std::uniform_int_distribution<int> length(0, 40);
  const auto draw = [&](uint32_t lo, uint32_t hi) {
    return std::uniform_int_distribution<uint32_t>(lo, hi)(random);
  };
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::string value;
    const int n = length(random);
    for (int i = 0; i < n; ++i) {
      uint32_t cp;
      switch (kind(random)) {
        case 0:
          cp = draw(0x00, 0x1F);
          break;
        case 1:
          cp = draw(0, 1) == 0 ? '"' : '\\';
          break;
        case 2:
        case 3:
          cp = draw(0x20, 0x7F);
          break;
        case 4:
          cp = draw(0x80, 0x7FF);
          break;
        case 5:
          cp = draw(0x800, 0xD7FF);
          break;
        case 6:
          cp = draw(0xE000, 0xFFFF);
          break;
        case 7:
          cp = draw(0x10000, 0x10FFFF);
          break;
        case 8: {
          static constexpr uint32_t kEdges[] = {0x7F,   0x80,   0x7FF,  0x800,   0xD7FF,
                                                0xE000, 0xFFFD, 0xFFFF, 0x10000, 0x10FFFF};
          cp = kEdges[draw(0, std::size(kEdges) - 1)];
          break;
        }
        default:
          cp = draw('a', 'z');
          break;
      }
      AppendUtf8(value, cp);
    }
    const std::string json = Quote(value);
    ASSERT_FALSE(HasRawControlCharacter(json)) << "iteration " << iteration;
    ASSERT_TRUE(DecodesTo(json, value)) << "iteration " << iteration;
  }
}

}  // namespace
}  // namespace eventlogger
