#include "llm_probe/sse.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

namespace llm_probe {

bool operator==(const SseEvent& a, const SseEvent& b) {
  return a.event == b.event && a.data == b.data && a.id == b.id;
}

void PrintTo(const SseEvent& event, std::ostream* os) {
  *os << "{event=\"" << event.event << "\" data=\"" << event.data << "\" id=\"" << event.id
      << "\"}";
}

namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

SseEvent Data(std::string data, std::string event = "", std::string id = "") {
  return SseEvent{std::move(event), std::move(data), std::move(id)};
}

struct ParseOutcome {
  std::vector<SseEvent> events;
  bool partial = false;
  bool error = false;
};

ParseOutcome FeedInPieces(const std::vector<std::string>& pieces, std::size_t max_line = 1 << 20) {
  SseParser parser(max_line);
  ParseOutcome outcome;
  for (const std::string& piece : pieces) parser.Feed(piece, outcome.events);
  outcome.partial = parser.HasPartialEvent();
  outcome.error = parser.error();
  return outcome;
}

ParseOutcome FeedWhole(const std::string& stream) { return FeedInPieces({stream}); }

// Abbreviated but faithful chat.completion.chunk stream, with the usage chunk that
// stream_options.include_usage adds before [DONE].
const std::string kOpenAiStream =
    "data: {\"id\":\"chatcmpl-AbC123\",\"object\":\"chat.completion.chunk\",\"created\":1732712400,"
    "\"model\":\"gpt-4o-2024-08-06\",\"system_fingerprint\":\"fp_50cad350e4\",\"choices\":[{"
    "\"index\":0,"
    "\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,"
    "\"finish_reason\":null}],\"usage\":null}\n"
    "\n"
    "data: {\"id\":\"chatcmpl-AbC123\",\"object\":\"chat.completion.chunk\",\"created\":1732712400,"
    "\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"OK\"},"
    "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n"
    "\n"
    "data: {\"id\":\"chatcmpl-AbC123\",\"object\":\"chat.completion.chunk\",\"created\":1732712400,"
    "\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,"
    "\"finish_reason\":\"stop\"}],\"usage\":null}\n"
    "\n"
    "data: {\"id\":\"chatcmpl-AbC123\",\"object\":\"chat.completion.chunk\",\"created\":1732712400,"
    "\"model\":\"gpt-4o-2024-08-06\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,"
    "\"completion_tokens\":1,\"total_tokens\":10}}\n"
    "\n"
    "data: [DONE]\n"
    "\n";

const std::string kAnthropicStream =
    "event: message_start\n"
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01XFDUDYJgAACzvnptvVoYEL\","
    "\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5-"
    "20250929\","
    "\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":12,\"output_tokens\":"
    "1}}}\n"
    "\n"
    "event: content_block_start\n"
    "data: "
    "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":"
    "\"\"}}\n"
    "\n"
    "event: ping\n"
    "data: {\"type\": \"ping\"}\n"
    "\n"
    "event: content_block_delta\n"
    "data: "
    "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"
    "\"OK\"}}\n"
    "\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":0}\n"
    "\n"
    "event: message_delta\n"
    "data: "
    "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},"
    "\"usage\":{\"output_tokens\":2}}\n"
    "\n"
    "event: message_stop\n"
    "data: {\"type\":\"message_stop\"}\n"
    "\n";

std::string WithLineEndings(std::string stream, const std::string& ending) {
  std::string converted;
  for (const char c : stream) {
    if (c == '\n') {
      converted += ending;
    } else {
      converted += c;
    }
  }
  return converted;
}

TEST(SseParserTest, OpenAiChunkStream) {
  const ParseOutcome outcome = FeedWhole(kOpenAiStream);
  ASSERT_EQ(outcome.events.size(), 5u);
  for (const SseEvent& event : outcome.events) EXPECT_EQ(event.event, "");
  EXPECT_THAT(outcome.events[1].data, ::testing::HasSubstr("\"content\":\"OK\""));
  EXPECT_THAT(outcome.events[3].data, ::testing::HasSubstr("\"completion_tokens\":1"));
  EXPECT_EQ(outcome.events[4].data, "[DONE]");
  EXPECT_FALSE(outcome.partial);
  EXPECT_FALSE(outcome.error);
}

TEST(SseParserTest, AnthropicEventStream) {
  const ParseOutcome outcome = FeedWhole(kAnthropicStream);
  std::vector<std::string> names;
  for (const SseEvent& event : outcome.events) names.push_back(event.event);
  EXPECT_THAT(names,
              ElementsAre("message_start", "content_block_start", "ping", "content_block_delta",
                          "content_block_stop", "message_delta", "message_stop"));
  EXPECT_EQ(outcome.events[3].data,
            "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
            "\"text\":\"OK\"}}");
  EXPECT_FALSE(outcome.partial);
}

TEST(SseParserTest, KeepAliveCommentsProduceNothing) {
  const ParseOutcome outcome = FeedWhole(
      ": OPENROUTER PROCESSING\n\n:\n\ndata: a\n: keep-alive inside an event\ndata: b\n\n");
  EXPECT_THAT(outcome.events, ElementsAre(Data("a\nb")));
  EXPECT_FALSE(outcome.partial);
}

TEST(SseParserTest, CommentsAloneAreNotAPartialEvent) {
  EXPECT_FALSE(FeedWhole(": ping\n").partial);
}

TEST(SseParserTest, MultiLineDataIsJoinedWithNewlines) {
  EXPECT_THAT(FeedWhole("data: first\ndata: second\ndata:third\n\n").events,
              ElementsAre(Data("first\nsecond\nthird")));
}

TEST(SseParserTest, OnlyOneLeadingSpaceIsStripped) {
  EXPECT_THAT(FeedWhole("data:  two spaces \n\n").events, ElementsAre(Data(" two spaces ")));
}

TEST(SseParserTest, EmptyDataFieldsStillDispatch) {
  EXPECT_THAT(FeedWhole("data\n\ndata:\n\ndata:\ndata:\n\n").events,
              ElementsAre(Data(""), Data(""), Data("\n")));
}

TEST(SseParserTest, EventWithoutDataIsNotDispatchedAndItsTypeIsReset) {
  EXPECT_THAT(FeedWhole("event: ping\n\ndata: x\n\n").events, ElementsAre(Data("x")));
}

TEST(SseParserTest, EventTypeAppliesToOneEventOnly) {
  EXPECT_THAT(FeedWhole("event: delta\ndata: 1\n\ndata: 2\n\n").events,
              ElementsAre(Data("1", "delta"), Data("2")));
}

TEST(SseParserTest, IdCarriesOverAsTheLastEventId) {
  EXPECT_THAT(FeedWhole("id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n").events,
              ElementsAre(Data("a", "", "7"), Data("b", "", "7"), Data("c", "", "")));
}

TEST(SseParserTest, IdContainingNulIsIgnored) {
  static constexpr char kStream[] = "id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n";
  EXPECT_THAT(FeedWhole(std::string(kStream, sizeof kStream - 1)).events,
              ElementsAre(Data("a", "", "1"), Data("b", "", "1")));
}

TEST(SseParserTest, UnknownFieldsAndRetryAreIgnored) {
  const ParseOutcome outcome = FeedWhole("retry: 1000\nfoo: bar\nDATA: upper\ndata: kept\n\n");
  EXPECT_THAT(outcome.events, ElementsAre(Data("kept")));
  EXPECT_FALSE(FeedWhole("retry: 1000\n").partial);
}

TEST(SseParserTest, AllLineEndingsWork) {
  const std::vector<SseEvent> expected = FeedWhole(kAnthropicStream).events;
  EXPECT_EQ(FeedWhole(WithLineEndings(kAnthropicStream, "\r\n")).events, expected);
  EXPECT_EQ(FeedWhole(WithLineEndings(kAnthropicStream, "\r")).events, expected);
}

TEST(SseParserTest, CrLfSplitAcrossFeedsIsOneLineEnd) {
  // Were the lone '\n' taken as a blank line, "a" would be dispatched on its own.
  EXPECT_THAT(FeedInPieces({"data: a\r", "\ndata: b\r", "\n\r", "\n"}).events,
              ElementsAre(Data("a\nb")));
}

TEST(SseParserTest, CrFollowedByCrInTheNextFeedIsABlankLine) {
  EXPECT_THAT(FeedInPieces({"data: a\r", "\r"}).events, ElementsAre(Data("a")));
}

TEST(SseParserTest, EmptyFeedKeepsAPendingCr) {
  EXPECT_THAT(FeedInPieces({"data: a\r", "", "\n", "\n"}).events, ElementsAre(Data("a")));
}

TEST(SseParserTest, FeedingInAnyPiecesEqualsFeedingWhole) {
  const std::vector<std::string> streams = {
      kOpenAiStream,
      kAnthropicStream,
      WithLineEndings(kAnthropicStream, "\r\n"),
      WithLineEndings(kOpenAiStream, "\r"),
      "data: a\r\ndata: b\rdata: c\n\r\n: c\r\nevent: e\nid: 9\ndata\r\r",
      "data: unfinished\ndata: more",
      "event: x\n",
      "\r\n\r\n\n\r",
  };
  for (const std::string& stream : streams) {
    SCOPED_TRACE(stream);
    const ParseOutcome whole = FeedWhole(stream);

    std::vector<std::string> bytes;
    for (const char c : stream) bytes.emplace_back(1, c);
    const ParseOutcome byte_at_a_time = FeedInPieces(bytes);
    EXPECT_EQ(byte_at_a_time.events, whole.events);
    EXPECT_EQ(byte_at_a_time.partial, whole.partial);

    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
      const ParseOutcome two_pieces = FeedInPieces({stream.substr(0, cut), stream.substr(cut)});
      EXPECT_EQ(two_pieces.events, whole.events) << "cut at " << cut;
      EXPECT_EQ(two_pieces.partial, whole.partial) << "cut at " << cut;
    }
  }
}

TEST(SseParserTest, StreamWithoutTrailingBlankLineIsPartial) {
  const ParseOutcome unterminated_event = FeedWhole("data: a\n\ndata: b\n");
  EXPECT_THAT(unterminated_event.events, ElementsAre(Data("a")));
  EXPECT_TRUE(unterminated_event.partial);

  EXPECT_TRUE(FeedWhole("data: a\n\ndata: b").partial);  // cut mid-line
  EXPECT_TRUE(FeedWhole("event: x\n").partial);          // fields pending
  EXPECT_FALSE(FeedWhole("data: a\n\n").partial);
  EXPECT_FALSE(FeedWhole("").partial);
}

TEST(SseParserTest, OversizedLineFailsAndLaterInputIsIgnored) {
  SseParser parser(16);
  std::vector<SseEvent> events;
  parser.Feed("data: 0123456789\n\n", events);  // exactly 16 bytes: still fine
  ASSERT_THAT(events, ElementsAre(Data("0123456789")));
  EXPECT_FALSE(parser.error());

  parser.Feed("data: 0123456789A\n\n", events);
  EXPECT_TRUE(parser.error());
  EXPECT_TRUE(parser.HasPartialEvent());

  parser.Feed("data: ok\n\n", events);
  EXPECT_EQ(events.size(), 1u);
}

TEST(SseParserTest, OversizedLineIsCaughtWhenBuiltFromManyFeeds) {
  SseParser parser(16);
  std::vector<SseEvent> events;
  for (int i = 0; i < 100 && !parser.error(); ++i) parser.Feed("data", events);
  EXPECT_TRUE(parser.error());
  EXPECT_THAT(events, IsEmpty());
}

TEST(SseParserTest, EventsCompletedBeforeTheOversizedLineAreKept) {
  const ParseOutcome outcome =
      FeedInPieces({"data: a\n\ndata: " + std::string(64, 'x') + "\n\n"}, 16);
  EXPECT_TRUE(outcome.error);
  EXPECT_THAT(outcome.events, ElementsAre(Data("a")));
}

TEST(SseParserTest, ArbitraryBytesNeverBreakTheParser) {
  // A cheap stand-in for the fuzzer: random soup of the bytes that matter to the grammar.
  static constexpr char kGrammarBytes[] = "data:event id\r\n\0x:";
  const std::string alphabet(kGrammarBytes, sizeof kGrammarBytes - 1);
  unsigned state = 12345;
  for (int round = 0; round < 2000; ++round) {
    SseParser parser(64);
    std::vector<SseEvent> events;
    std::string chunk;
    for (int i = 0; i < 200; ++i) {
      state = state * 1103515245u + 12345u;
      chunk += alphabet[(state >> 16) % alphabet.size()];
      if ((state >> 8) % 7 == 0) {
        parser.Feed(chunk, events);
        chunk.clear();
      }
    }
    parser.Feed(chunk, events);
    for (const SseEvent& event : events) EXPECT_LE(event.event.size(), 64u);
  }
}

}  // namespace
}  // namespace llm_probe
