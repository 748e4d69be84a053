// Incremental decoder for AWS event streams (application/vnd.amazon.eventstream, the framing of
// Bedrock's ConverseStream): bytes go in as they arrive, whole checked messages come out.
//
// A message: total length (u32), headers length (u32), CRC32 of those 8 bytes, the headers,
// the payload, CRC32 of everything before it; integers big-endian. A header: name length (u8),
// name, value type (u8), value. Both CRCs are checked; any damage fails the decoder for good,
// and a stream that ends inside a message is cut (HasPartialMessage): the probe maps both to
// BAD_RESPONSE.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llm_probe {

enum class EventStreamValueType : std::uint8_t {
  kBoolTrue = 0,
  kBoolFalse = 1,
  kByte = 2,
  kInt16 = 3,
  kInt32 = 4,
  kInt64 = 5,
  kBytes = 6,
  kString = 7,
  kTimestamp = 8,  // milliseconds since the Unix epoch
  kUuid = 9,
};

struct EventStreamHeader {
  std::string name;
  EventStreamValueType type = EventStreamValueType::kString;
  std::int64_t number = 0;  // booleans (0/1), integers and timestamps
  std::string bytes;        // byte arrays, strings and UUIDs (16 bytes)
};

struct EventStreamMessage {
  std::vector<EventStreamHeader> headers;
  std::string payload;
  std::size_t wire_size = 0;  // bytes the whole message took in the stream

  // The value of a string header (":message-type", ":event-type", ":exception-type"), if any.
  std::optional<std::string_view> StringHeader(std::string_view name) const;
};

enum class EventStreamError : std::uint8_t {
  kNone,
  kLength,       // total length below 16, above the limit, or headers longer than the message
  kPreludeCrc,
  kMessageCrc,
  kHeaders,      // a header that overruns the header block or has an unknown value type
};

class EventStreamDecoder {
 public:
  // AWS's own limit for one message (aws-c-event-stream: 16 MiB); a probe may pass less.
  static constexpr std::size_t kDefaultMaxMessageBytes = 16 * 1024 * 1024;

  explicit EventStreamDecoder(std::size_t max_message_bytes = kDefaultMaxMessageBytes);

  // Appends the messages completed by `bytes` to `out`. After an error, input is ignored.
  void Feed(std::string_view bytes, std::vector<EventStreamMessage>& out);
  EventStreamError error() const { return error_; }
  // True while a message has started but not ended: at the end of a stream it means a cut.
  bool HasPartialMessage() const { return !buffer_.empty(); }

 private:
  bool DecodeOne(std::string_view input, std::vector<EventStreamMessage>& out);

  std::size_t max_message_bytes_;
  std::string buffer_;
  std::size_t expected_length_ = 0;  // of the message being read, once its prelude is checked
  EventStreamError error_ = EventStreamError::kNone;
};

std::string_view EventStreamErrorName(EventStreamError error);

// The wire form of `message` (its wire_size is ignored): prelude, prelude CRC, headers, payload,
// message CRC — what EventStreamDecoder reads back. Header values are written as their type
// wants them (numbers truncated to the type's width, strings and byte arrays with a u16 length,
// UUIDs as their 16 bytes). The mock upstream's ConverseStream is written with it.
std::string EncodeEventStreamMessage(const EventStreamMessage& message);

}  // namespace llm_probe
