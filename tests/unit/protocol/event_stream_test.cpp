// The AWS event-stream decoder on aws-c-event-stream's published messages
// (tests/testdata/event_stream/aws-c-event-stream.json), whole and split at every byte, and on
// damaged copies of them.
#include "llm_probe/event_stream.h"

#include <gtest/gtest.h>

#include "test_corpus.h"

namespace llm_probe {
namespace {

struct Vector {
  std::string name;
  std::string bytes;
  nlohmann::json expect;
};

std::vector<Vector> PublishedVectors() {
  const auto file = test_corpus::LoadCorpus("event_stream/aws-c-event-stream.json");
  std::vector<Vector> vectors;
  for (const auto& item : file["positive"]) {
    const std::string hex = item["hex"];
    std::string bytes;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
      bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    }
    vectors.push_back({item["name"], bytes, item});
  }
  EXPECT_GE(vectors.size(), 6u);
  return vectors;
}

void ExpectDecodedAsPublished(const EventStreamMessage& message, const Vector& vector) {
  SCOPED_TRACE(vector.name);
  EXPECT_EQ(message.payload, vector.expect["payload"].get<std::string>());
  EXPECT_EQ(message.wire_size, vector.bytes.size());
  const auto& headers = vector.expect["headers"];
  ASSERT_EQ(message.headers.size(), headers.size());
  for (std::size_t i = 0; i < headers.size(); ++i) {
    EXPECT_EQ(message.headers[i].name, headers[i]["name"].get<std::string>());
    EXPECT_EQ(static_cast<int>(message.headers[i].type), headers[i]["type"].get<int>());
    if (headers[i].contains("string")) {
      EXPECT_EQ(message.headers[i].bytes, headers[i]["string"].get<std::string>());
    }
    if (headers[i].contains("number")) {
      EXPECT_EQ(message.headers[i].number, headers[i]["number"].get<std::int64_t>());
    }
  }
}

using test_corpus::BigEndian;
using test_corpus::Crc32;

std::string BigEndian32(std::uint32_t value) { return BigEndian(value, 4); }
std::string Frame(const std::string& headers, const std::string& payload) {
  return test_corpus::EventStreamFrame(headers, payload);
}
std::string Header(std::string_view name, char type, std::string_view value) {
  return test_corpus::EventStreamHeader(name, type, value);
}

TEST(EventStreamTest, DecodesEveryPublishedMessage) {
  for (const Vector& vector : PublishedVectors()) {
    EventStreamDecoder decoder;
    std::vector<EventStreamMessage> messages;
    decoder.Feed(vector.bytes, messages);
    ASSERT_EQ(messages.size(), 1u) << vector.name;
    EXPECT_EQ(decoder.error(), EventStreamError::kNone);
    EXPECT_FALSE(decoder.HasPartialMessage());
    ExpectDecodedAsPublished(messages[0], vector);
  }
}

TEST(EventStreamTest, EncoderWritesEveryPublishedMessageByteForByte) {
  for (const Vector& vector : PublishedVectors()) {
    EventStreamDecoder decoder;
    std::vector<EventStreamMessage> messages;
    decoder.Feed(vector.bytes, messages);
    ASSERT_EQ(messages.size(), 1u) << vector.name;
    EXPECT_EQ(EncodeEventStreamMessage(messages[0]), vector.bytes) << vector.name;
  }
}

TEST(EventStreamTest, EncodedHeadersOfEveryTypeRoundTrip) {
  EventStreamMessage message;
  message.payload = R"({"delta":{"text":"Hi"}})";
  using Type = EventStreamValueType;
  message.headers = {{"t", Type::kBoolTrue, 1, ""},          {"f", Type::kBoolFalse, 0, ""},
                     {"b", Type::kByte, -2, ""},             {"s", Type::kInt16, -300, ""},
                     {"i", Type::kInt32, -70000, ""},        {"l", Type::kInt64, -5000000000, ""},
                     {"y", Type::kBytes, 0, std::string("\0\xff", 2)}, {":event-type", Type::kString, 0, "contentBlockDelta"},
                     {"ts", Type::kTimestamp, 1700000000123, ""}, {"u", Type::kUuid, 0, std::string(16, '\x5a')}};
  const std::string wire = EncodeEventStreamMessage(message);
  EventStreamDecoder decoder;
  std::vector<EventStreamMessage> decoded;
  decoder.Feed(wire, decoded);
  ASSERT_EQ(decoded.size(), 1u);
  EXPECT_EQ(decoder.error(), EventStreamError::kNone);
  EXPECT_EQ(decoded[0].payload, message.payload);
  EXPECT_EQ(decoded[0].wire_size, wire.size());
  ASSERT_EQ(decoded[0].headers.size(), message.headers.size());
  for (std::size_t i = 0; i < message.headers.size(); ++i) {
    EXPECT_EQ(decoded[0].headers[i].name, message.headers[i].name);
    EXPECT_EQ(decoded[0].headers[i].type, message.headers[i].type);
    EXPECT_EQ(decoded[0].headers[i].number, message.headers[i].number) << message.headers[i].name;
    EXPECT_EQ(decoded[0].headers[i].bytes, message.headers[i].bytes) << message.headers[i].name;
  }
}

TEST(EventStreamTest, AllMessagesInOneStreamSplitAtEveryByteDecodeAlike) {
  const std::vector<Vector> vectors = PublishedVectors();
  std::string stream;
  for (const Vector& vector : vectors) stream += vector.bytes;
  for (std::size_t piece = 1; piece <= 17; ++piece) {
    EventStreamDecoder decoder;
    std::vector<EventStreamMessage> messages;
    for (std::size_t pos = 0; pos < stream.size(); pos += piece) {
      decoder.Feed(std::string_view(stream).substr(pos, piece), messages);
    }
    ASSERT_EQ(messages.size(), vectors.size()) << "pieces of " << piece;
    for (std::size_t i = 0; i < vectors.size(); ++i) ExpectDecodedAsPublished(messages[i], vectors[i]);
    EXPECT_FALSE(decoder.HasPartialMessage());
  }
}

TEST(EventStreamTest, AStreamCutInsideAMessageIsPartial) {
  const Vector vector = PublishedVectors()[2];
  for (std::size_t cut = 1; cut < vector.bytes.size(); ++cut) {
    EventStreamDecoder decoder;
    std::vector<EventStreamMessage> messages;
    decoder.Feed(vector.bytes.substr(0, cut), messages);
    EXPECT_TRUE(messages.empty());
    EXPECT_EQ(decoder.error(), EventStreamError::kNone);
    EXPECT_TRUE(decoder.HasPartialMessage()) << "cut at " << cut;
  }
}

TEST(EventStreamTest, EveryFlippedBitIsCaught) {
  // Damage anywhere fails one CRC or the other; the decoder never yields the damaged message.
  for (const Vector& vector : PublishedVectors()) {
    for (std::size_t byte = 0; byte < vector.bytes.size(); ++byte) {
      std::string damaged = vector.bytes;
      damaged[byte] = static_cast<char>(damaged[byte] ^ 0x10);
      EventStreamDecoder decoder;
      std::vector<EventStreamMessage> messages;
      decoder.Feed(damaged, messages);
      EXPECT_TRUE(messages.empty()) << vector.name << " byte " << byte;
      const EventStreamError expected = byte < 12 ? EventStreamError::kPreludeCrc : EventStreamError::kMessageCrc;
      EXPECT_EQ(decoder.error(), expected) << vector.name << " byte " << byte;
    }
  }
}

TEST(EventStreamTest, AfterAnErrorInputIsIgnored) {
  const std::vector<Vector> vectors = PublishedVectors();
  std::string damaged = vectors[1].bytes;
  damaged[20] = 'X';
  EventStreamDecoder decoder;
  std::vector<EventStreamMessage> messages;
  decoder.Feed(vectors[0].bytes + damaged, messages);
  EXPECT_EQ(messages.size(), 1u);  // the good one before the damage
  EXPECT_EQ(decoder.error(), EventStreamError::kMessageCrc);
  decoder.Feed(vectors[0].bytes, messages);
  EXPECT_EQ(messages.size(), 1u);
  EXPECT_FALSE(decoder.HasPartialMessage());
  EXPECT_EQ(EventStreamErrorName(decoder.error()), "message CRC mismatch");
}

TEST(EventStreamTest, ReadsEveryHeaderType) {
  const std::string headers =
      Header("t", 0, "") + Header("f", 1, "") + Header("b", 2, "\xCF") + Header("s", 3, std::string("\xFF\xFE", 2)) +
      Header("i", 4, std::string("\x00\x00\xA0\x0C", 4)) +
      Header("l", 5, std::string("\x00\x00\x00\x00\x02\x87\x57\xB2", 8)) +
      Header("y", 6, std::string("\x00\x03\x01\x02\x03", 5)) + Header(":event-type", 7, std::string("\x00\x11", 2) + "contentBlockDelta") +
      Header("ts", 8, std::string("\x00\x00\x00\x00\x00\x84\x5F\xED", 8)) +
      Header("u", 9, std::string("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0A\x0B\x0C\x0D\x0E\x0F", 16));
  EventStreamDecoder decoder;
  std::vector<EventStreamMessage> messages;
  decoder.Feed(Frame(headers, "{}"), messages);
  ASSERT_EQ(messages.size(), 1u);
  const auto& h = messages[0].headers;
  ASSERT_EQ(h.size(), 10u);
  EXPECT_EQ(h[0].number, 1);
  EXPECT_EQ(h[1].number, 0);
  EXPECT_EQ(h[2].number, -49);
  EXPECT_EQ(h[3].number, -2);
  EXPECT_EQ(h[4].number, 40972);
  EXPECT_EQ(h[5].number, 42424242);
  EXPECT_EQ(h[6].bytes, std::string("\x01\x02\x03", 3));
  EXPECT_EQ(messages[0].StringHeader(":event-type"), "contentBlockDelta");
  EXPECT_EQ(h[8].number, 8675309);
  EXPECT_EQ(h[9].bytes.size(), 16u);
  EXPECT_FALSE(messages[0].StringHeader("y"));  // a byte array is not a string
  EXPECT_EQ(messages[0].payload, "{}");
}

TEST(EventStreamTest, MalformedHeadersFailTheDecoder) {
  const std::vector<std::string> bad = {
      Header("x", 10, ""),                          // no such type
      Header("x", 7, std::string("\x00\x09", 2) + "short"),  // string longer than the block
      Header("x", 4, std::string("\x00\x01", 2)),   // int32 cut short
      std::string(1, '\0') + "\x07",                // empty name
      std::string(1, '\x05') + "ab",                // name longer than the block
  };
  for (const std::string& headers : bad) {
    EventStreamDecoder decoder;
    std::vector<EventStreamMessage> messages;
    decoder.Feed(Frame(headers, "{}"), messages);
    EXPECT_TRUE(messages.empty());
    EXPECT_EQ(decoder.error(), EventStreamError::kHeaders);
  }
}

TEST(EventStreamTest, LengthsOutsideTheLimitsFailBeforeBuffering) {
  EventStreamDecoder small(64);
  std::vector<EventStreamMessage> messages;
  small.Feed(Frame("", std::string(100, 'a')).substr(0, 12), messages);  // the prelude alone
  EXPECT_EQ(small.error(), EventStreamError::kLength);

  // Total length 15 (below the 16 of an empty message), with a correct prelude CRC.
  std::string prelude = BigEndian32(15) + BigEndian32(0);
  EventStreamDecoder decoder;
  decoder.Feed(prelude + BigEndian32(Crc32(prelude)), messages);
  EXPECT_EQ(decoder.error(), EventStreamError::kLength);

  // Headers said to be longer than the message.
  prelude = BigEndian32(20) + BigEndian32(5);
  EventStreamDecoder headers;
  headers.Feed(prelude + BigEndian32(Crc32(prelude)), messages);
  EXPECT_EQ(headers.error(), EventStreamError::kLength);
  EXPECT_TRUE(messages.empty());
}

}  // namespace
}  // namespace llm_probe
