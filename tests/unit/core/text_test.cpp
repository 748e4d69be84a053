#include "llm_probe/text.h"

#include <gtest/gtest.h>

#include "llm_probe/enum_names.h"

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

TEST(AsciiLowerTest, FoldsOnlyAsciiLettersWhateverTheLocale) {
  EXPECT_EQ(AsciiLower("Content-Type: X-RateLimit"), "content-type: x-ratelimit");
  EXPECT_EQ(AsciiLower("\xc3\x84" "BC"), "\xc3\x84" "bc") << "bytes above 0x7F stay as they are";
  EXPECT_EQ(AsciiLower('Q'), 'q');
  EXPECT_EQ(AsciiLower('['), '[') << "the byte after Z";
}

TEST(StartsWithIgnoringCaseTest, ComparesThePrefixOnly) {
  EXPECT_TRUE(StartsWithIgnoringCase("Basic dXNlcjpwdw==", "basic "));
  EXPECT_TRUE(StartsWithIgnoringCase("GPT-4o-2024-08-06", "gpt-4o"));
  EXPECT_FALSE(StartsWithIgnoringCase("gpt", "gpt-4o"));
  EXPECT_TRUE(StartsWithIgnoringCase("anything", ""));
}

TEST(ContainsIgnoringCaseTest, FindsTheFragmentAnywhere) {
  EXPECT_TRUE(ContainsIgnoringCase("The provided model identifier is invalid.", "Model Identifier"));
  EXPECT_TRUE(ContainsIgnoringCase("abc", ""));
  EXPECT_FALSE(ContainsIgnoringCase("model id", "model identifier"));
  EXPECT_FALSE(ContainsIgnoringCase("", "a"));
}

TEST(DecodeUtf8Test, ReadsWellFormedSequencesOnly) {
  char32_t code_point = 0;
  EXPECT_EQ(DecodeUtf8("a", code_point), 1u);
  EXPECT_EQ(code_point, U'a');
  EXPECT_EQ(DecodeUtf8("\xc3\xa4x", code_point), 2u);
  EXPECT_EQ(code_point, U'\u00e4');
  EXPECT_EQ(DecodeUtf8("\xe2\x82\xac", code_point), 3u);
  EXPECT_EQ(code_point, U'\u20ac');
  EXPECT_EQ(DecodeUtf8("\xf0\x9f\x98\x80", code_point), 4u);
  EXPECT_EQ(code_point, U'\U0001F600');
  EXPECT_EQ(DecodeUtf8("", code_point), 0u);
  EXPECT_EQ(DecodeUtf8("\xc3", code_point), 0u) << "truncated";
  EXPECT_EQ(DecodeUtf8("\xc0\xaf", code_point), 0u) << "overlong '/'";
  EXPECT_EQ(DecodeUtf8("\xed\xa0\x80", code_point), 0u) << "surrogate U+D800";
  EXPECT_EQ(DecodeUtf8("\xf4\x90\x80\x80", code_point), 0u) << "above U+10FFFF";
  EXPECT_EQ(DecodeUtf8("\x80", code_point), 0u) << "lone continuation byte";
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

// The pinned values were checked against an independent implementation: shard placement and
// config checksums depend on them (docs/scaling.md).
TEST(Fnv1a64Test, MatchesThePublishedFunction) {
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

enum class Colour { kRed, kGreen };
constexpr EnumNames<Colour, 2> kColourNames = {{{Colour::kRed, "red"}, {Colour::kGreen, "green"}}};

TEST(EnumNamesTest, ReadsTheTableBothWays) {
  EXPECT_EQ(NameOf(kColourNames, Colour::kGreen), "green");
  EXPECT_EQ(NameOf(kColourNames, static_cast<Colour>(7)), "unknown");
  EXPECT_EQ(NameOf(kColourNames, static_cast<Colour>(7), "other"), "other");
  EXPECT_EQ(ValueOf(kColourNames, "red"), Colour::kRed);
  EXPECT_EQ(ValueOf(kColourNames, "Red"), std::nullopt);
  static_assert(NameOf(kColourNames, Colour::kRed) == "red");
}

}  // namespace
}  // namespace llm_probe
