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

}  // namespace
}  // namespace llm_probe
