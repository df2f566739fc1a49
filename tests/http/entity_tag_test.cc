// Tests for StrongEntityTag and IfNoneMatchMatches (RFC 9110 §8.8.3, §13.1.2).
#include "http/entity_tag.h"

#include <gtest/gtest.h>

#include <xxhash.h>

#include <cstdio>
#include <set>

namespace eventlogger::http {
namespace {

TEST(StrongEntityTagTest, IsTheQuotedXxh3Digest) {
  const std::string body = R"([{"userId":"u"}])";
  const std::string tag = StrongEntityTag(body);
  ASSERT_EQ(tag.size(), 34u);
  EXPECT_EQ(tag.front(), '"');
  EXPECT_EQ(tag.back(), '"');
  // Independently: the library's canonical (big-endian) digest bytes.
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, XXH3_128bits(body.data(), body.size()));
  std::string hex;
  for (unsigned char byte : canonical.digest) {
    char two[3];
    std::snprintf(two, sizeof two, "%02x", byte);
    hex += two;
  }
  EXPECT_EQ(tag, "\"" + hex + "\"");
}

TEST(StrongEntityTagTest, DiffersWhenOneByteDiffers) {
  std::set<std::string> tags;
  std::string body(1000, 'a');
  tags.insert(StrongEntityTag(body));
  for (size_t i = 0; i < body.size(); i += 97) {
    std::string changed = body;
    changed[i] = 'b';
    tags.insert(StrongEntityTag(changed));
  }
  EXPECT_EQ(tags.size(), 1 + (body.size() + 96) / 97);
  EXPECT_EQ(StrongEntityTag(body), StrongEntityTag(std::string(1000, 'a')));
}

TEST(IfNoneMatchTest, MatchesTheTagAListOrAStar) {
  const std::string tag = "\"abc\"";
  EXPECT_TRUE(IfNoneMatchMatches("\"abc\"", tag));
  EXPECT_TRUE(IfNoneMatchMatches("*", tag));
  EXPECT_TRUE(IfNoneMatchMatches(" * ", tag));
  EXPECT_TRUE(IfNoneMatchMatches("\"x\", \"abc\"", tag));
  EXPECT_TRUE(IfNoneMatchMatches("\"x\",\"y\" ,\t\"abc\"", tag));
  // Weak comparison: W/ on either side still matches.
  EXPECT_TRUE(IfNoneMatchMatches("W/\"abc\"", tag));
  EXPECT_TRUE(IfNoneMatchMatches("\"abc\"", "W/\"abc\""));
}

TEST(IfNoneMatchTest, MatchesNothingElse) {
  const std::string tag = "\"abc\"";
  EXPECT_FALSE(IfNoneMatchMatches("", tag));
  EXPECT_FALSE(IfNoneMatchMatches("\"abcd\"", tag));
  EXPECT_FALSE(IfNoneMatchMatches("\"ab\"", tag));
  EXPECT_FALSE(IfNoneMatchMatches("abc", tag)) << "an unquoted tag is malformed";
  EXPECT_FALSE(IfNoneMatchMatches("\"x\" \"abc\"", tag)) << "a list needs commas";
  EXPECT_FALSE(IfNoneMatchMatches("\"abc", tag));
  EXPECT_FALSE(IfNoneMatchMatches("*, \"x\"", tag)) << "* stands alone";
  EXPECT_FALSE(IfNoneMatchMatches("w/\"abc\"", tag)) << "W/ is case-sensitive";
}

}  // namespace
}  // namespace eventlogger::http
