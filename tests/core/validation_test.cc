// Tests for the shared field rules.
//
// These rules guard storage keys (userId is a key prefix ended by 0x00) and
// what we echo into logs and headers, so each boundary is pinned on both
// sides.
#include "core/validation.h"

#include <gtest/gtest.h>

#include <string>

namespace eventlogger {
namespace {

TEST(IsValidUtf8Test, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii ~"));
  EXPECT_TRUE(IsValidUtf8(std::string(1, '\0')));  // U+0000 is a character
  EXPECT_TRUE(IsValidUtf8("\x7f"));                // last 1-byte
  EXPECT_TRUE(IsValidUtf8("\xC2\x80"));            // first 2-byte, U+0080
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9"));         // é
  EXPECT_TRUE(IsValidUtf8("\xDF\xBF"));            // last 2-byte, U+07FF
  EXPECT_TRUE(IsValidUtf8("\xE0\xA0\x80"));        // first 3-byte, U+0800
  EXPECT_TRUE(IsValidUtf8("\xE2\x82\xAC"));        // €
  EXPECT_TRUE(IsValidUtf8("\xED\x9F\xBF"));        // U+D7FF, just below surrogates
  EXPECT_TRUE(IsValidUtf8("\xEE\x80\x80"));        // U+E000, just above
  EXPECT_TRUE(IsValidUtf8("\xEF\xBF\xBF"));        // U+FFFF
  EXPECT_TRUE(IsValidUtf8("\xF0\x90\x80\x80"));    // first 4-byte, U+10000
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x98\x80"));    // 😀
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));    // U+10FFFF, the last code point
  EXPECT_TRUE(
      IsValidUtf8("a\xC3\xA9"
                  "b\xE2\x82\xAC"
                  "c\xF0\x9F\x98\x80"
                  "d"));
}

TEST(IsValidUtf8Test, RejectsOverlongEncodings) {
  // Overlongs smuggle '/' or NUL past byte-level checks.
  EXPECT_FALSE(IsValidUtf8("\xC0\x80"));          // NUL in 2 bytes
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // '/' in 2 bytes
  EXPECT_FALSE(IsValidUtf8("\xC1\xBF"));          // U+007F in 2 bytes
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\x80"));      // NUL in 3 bytes
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // '/' in 3 bytes
  EXPECT_FALSE(IsValidUtf8("\xE0\x9F\xBF"));      // U+07FF in 3 bytes
  EXPECT_FALSE(IsValidUtf8("\xF0\x80\x80\x80"));  // NUL in 4 bytes
  EXPECT_FALSE(IsValidUtf8("\xF0\x8F\xBF\xBF"));  // U+FFFF in 4 bytes
}

TEST(IsValidUtf8Test, RejectsEncodedSurrogates) {
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));  // U+D800
  EXPECT_FALSE(IsValidUtf8("\xED\xAF\xBF"));  // U+DBFF
  EXPECT_FALSE(IsValidUtf8("\xED\xB0\x80"));  // U+DC00
  EXPECT_FALSE(IsValidUtf8("\xED\xBF\xBF"));  // U+DFFF
  // A surrogate pair encoded as two 3-byte sequences (CESU-8) is not UTF-8.
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\xBD\xED\xB8\x80"));
}

TEST(IsValidUtf8Test, RejectsBeyondU10FFFF) {
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(IsValidUtf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xF7\xBF\xBF\xBF"));
  EXPECT_FALSE(IsValidUtf8("\xF8\x88\x80\x80\x80"));  // old 5-byte form
  EXPECT_FALSE(IsValidUtf8("\xFC\x84\x80\x80\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xFE"));
  EXPECT_FALSE(IsValidUtf8("\xFF"));
}

TEST(IsValidUtf8Test, RejectsTruncatedAndBrokenSequences) {
  EXPECT_FALSE(IsValidUtf8("\xC3"));
  EXPECT_FALSE(IsValidUtf8("a\xC3"));
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));
  EXPECT_FALSE(IsValidUtf8("\xF0\x9F\x98"));
  EXPECT_FALSE(IsValidUtf8("\xF0\x9F"));
  EXPECT_FALSE(
      IsValidUtf8("\xE2\x82"
                  "a"));                  // truncated mid-string
  EXPECT_FALSE(IsValidUtf8("\xC3\x28"));  // bad continuation
  EXPECT_FALSE(IsValidUtf8("\xE2\x28\xA1"));
  EXPECT_FALSE(IsValidUtf8("\xF0\x9F\x28\x80"));
  EXPECT_FALSE(IsValidUtf8("\xC3\xA9\xA9"));  // extra continuation
  EXPECT_FALSE(IsValidUtf8("\x80"));          // lone continuation
  EXPECT_FALSE(IsValidUtf8("\xBF"));
  EXPECT_FALSE(IsValidUtf8(std::string("\xC3\0", 2)));  // NUL is not a continuation
}

TEST(CheckUserIdTest, AcceptsOrdinaryIds) {
  EXPECT_EQ(CheckUserId("12345"), "");
  EXPECT_EQ(CheckUserId("user@example.com"), "");
  EXPECT_EQ(CheckUserId("team/ü 1"), "");  // spaces and slashes are data
  EXPECT_EQ(CheckUserId("\xF0\x9F\x98\x80"), "");
  EXPECT_EQ(CheckUserId("a\xC2\xA0"
                        "b"),
            "");  // U+00A0 is not a control
}

TEST(CheckUserIdTest, RejectsEmpty) { EXPECT_NE(CheckUserId(""), ""); }

TEST(CheckUserIdTest, LimitIs128Bytes) {
  EXPECT_EQ(CheckUserId(std::string(128, 'x')), "");
  EXPECT_NE(CheckUserId(std::string(129, 'x')), "");
  std::string two_byte;
  for (int i = 0; i < 64; ++i) two_byte += "\xC3\xA9";
  EXPECT_EQ(CheckUserId(two_byte), "");                                // 64 chars, 128 bytes
  EXPECT_NE(CheckUserId(two_byte + "x"), "");                          // 65 chars, 129 bytes
  EXPECT_NE(CheckUserId(std::string(126, 'x') + "\xE2\x82\xAC"), "");  // 127 chars, 129 bytes
}

TEST(CheckUserIdTest, RejectsControlCharacters) {
  for (const std::string& bad :
       {std::string(1, '\0'), std::string("a\0b", 3), std::string("\x01"), std::string("a\tb"),
        std::string("a\nb"), std::string("a\x1f"), std::string("a\x7f"),  // DEL
        std::string("\xC2\x80"), std::string("a\xC2\x85"),
        std::string("\xC2\x9F"
                    "b")}) {
    EXPECT_NE(CheckUserId(bad), "") << testing::PrintToString(bad);
  }
}

TEST(CheckUserIdTest, RejectsInvalidUtf8) {
  for (const char* bad : {"\xFF", "a\xC3", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80"}) {
    EXPECT_NE(CheckUserId(bad), "") << testing::PrintToString(std::string(bad));
  }
}

TEST(CheckEventTypeTest, AcceptsTokenCharacters) {
  EXPECT_EQ(CheckEventType("click"), "");
  EXPECT_EQ(CheckEventType("page.view:v2-beta_1"), "");
  EXPECT_EQ(CheckEventType("ABCxyz0189_.:-"), "");
  EXPECT_EQ(CheckEventType("x"), "");
}

TEST(CheckEventTypeTest, RejectsOtherCharacters) {
  for (const std::string& bad :
       {std::string(""), std::string(" "), std::string("a b"), std::string("a/b"),
        std::string("a+b"), std::string("a#b"), std::string("a\"b"), std::string("caf\xC3\xA9"),
        std::string("a\0b", 3), std::string("a\nb"), std::string("a@b"), std::string("a,b")}) {
    EXPECT_NE(CheckEventType(bad), "") << testing::PrintToString(bad);
  }
}

TEST(CheckEventTypeTest, LimitIs64Characters) {
  EXPECT_EQ(CheckEventType(std::string(64, 'e')), "");
  EXPECT_NE(CheckEventType(std::string(65, 'e')), "");
}

TEST(IsAcceptableRequestIdTest, AcceptsTokens) {
  EXPECT_TRUE(IsAcceptableRequestId("abc-123.x:y_z"));
  EXPECT_TRUE(IsAcceptableRequestId("0"));
  EXPECT_TRUE(IsAcceptableRequestId(std::string(128, 'r')));
}

TEST(IsAcceptableRequestIdTest, RejectsWhatCouldBreakHeadersOrLogs) {
  EXPECT_FALSE(IsAcceptableRequestId(""));
  EXPECT_FALSE(IsAcceptableRequestId(std::string(129, 'r')));
  for (const std::string& bad :
       {std::string("bad id!"), std::string("a\r\nX-Injected: 1"), std::string("a\nb"),
        std::string("a\"b"), std::string("a/b"), std::string("a b"), std::string("a\0b", 3),
        std::string("\xC3\xA9")}) {
    EXPECT_FALSE(IsAcceptableRequestId(bad)) << testing::PrintToString(bad);
  }
}

}  // namespace
}  // namespace eventlogger
