#include "llm_probe/text.h"

#include <gtest/gtest.h>

namespace llm_probe {
namespace {

TEST(TrimOwsTest, RemovesSpacesAndTabsAtBothEndsOnly) {
  EXPECT_EQ(TrimOws(" \tgzip ;q=1\t "), "gzip ;q=1");
  EXPECT_EQ(TrimOws("gzip"), "gzip");
  EXPECT_EQ(TrimOws(" \t "), "");
  EXPECT_EQ(TrimOws(""), "");
  EXPECT_EQ(TrimOws("\r\ngzip\r\n"), "\r\ngzip\r\n") << "CR and LF are not optional whitespace";
}

TEST(EqualsIgnoringCaseTest, ComparesAsciiLettersWithoutCase) {
  EXPECT_TRUE(EqualsIgnoringCase("GZip", "gzip"));
  EXPECT_TRUE(EqualsIgnoringCase("", ""));
  EXPECT_FALSE(EqualsIgnoringCase("gzip", "gzi"));
  EXPECT_FALSE(EqualsIgnoringCase("gzip", "gzip "));
  EXPECT_FALSE(EqualsIgnoringCase("\xc3\x84", "\xc3\xa4")) << "only ASCII folds";
}

// "모델" is two 3-byte characters: a cut at 4 or 5 bytes keeps only the first.
TEST(Utf8LabelValueTest, CutsOnACodePointBoundary) {
  EXPECT_EQ(Utf8LabelValue("\xEB\xAA\xA8\xEB\x8D\xB8", 6), "\xEB\xAA\xA8\xEB\x8D\xB8");
  EXPECT_EQ(Utf8LabelValue("\xEB\xAA\xA8\xEB\x8D\xB8", 5), "\xEB\xAA\xA8");
  EXPECT_EQ(Utf8LabelValue("\xEB\xAA\xA8\xEB\x8D\xB8", 4), "\xEB\xAA\xA8");
  EXPECT_EQ(Utf8LabelValue("\xEB\xAA\xA8\xEB\x8D\xB8", 2), "");
  EXPECT_EQ(Utf8LabelValue("gpt-4o\xF0\x9F\x98\x80", 9), "gpt-4o") << "a 4-byte emoji is kept whole or not at all";
  EXPECT_EQ(Utf8LabelValue("gpt-4o", 128), "gpt-4o");
}

TEST(Utf8LabelValueTest, ReplacesInvalidBytes) {
  EXPECT_EQ(Utf8LabelValue("a\xFF" "b", 128), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(Utf8LabelValue("a\xEB\xAA", 128), "a\xEF\xBF\xBD\xEF\xBF\xBD") << "a character cut by the upstream";
  EXPECT_EQ(Utf8LabelValue("\xC0\xAF", 128), "\xEF\xBF\xBD\xEF\xBF\xBD") << "an overlong form";
  EXPECT_EQ(Utf8LabelValue("\xED\xA0\x80", 128), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD") << "a surrogate";
}

}  // namespace
}  // namespace llm_probe
