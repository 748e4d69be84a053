#include "llm_probe/event_stream.h"

#include <zlib.h>

#include "llm_probe/enum_names.h"

namespace llm_probe {
namespace {

constexpr std::size_t kPreludeBytes = 12;  // total length, headers length, prelude CRC
constexpr std::size_t kTrailerBytes = 4;   // message CRC

constexpr EnumNames<EventStreamError, 5> kErrorNames = {{
    {EventStreamError::kNone, "none"},
    {EventStreamError::kLength, "length out of range"},
    {EventStreamError::kPreludeCrc, "prelude CRC mismatch"},
    {EventStreamError::kMessageCrc, "message CRC mismatch"},
    {EventStreamError::kHeaders, "malformed headers"},
}};

std::uint64_t BigEndian(std::string_view bytes) {
  std::uint64_t value = 0;
  for (const char c : bytes) value = (value << 8) | static_cast<unsigned char>(c);
  return value;
}

std::uint32_t Crc32(std::string_view bytes) {
  return static_cast<std::uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

// Signed value of a big-endian two's-complement integer of 1, 2, 4 or 8 bytes.
std::int64_t SignedBigEndian(std::string_view bytes) {
  const std::uint64_t value = BigEndian(bytes);
  const unsigned bits = static_cast<unsigned>(bytes.size() * 8);
  if (bits == 64) return static_cast<std::int64_t>(value);
  const std::uint64_t sign = std::uint64_t{1} << (bits - 1);
  return static_cast<std::int64_t>((value ^ sign) - sign);
}

// Reads the header block; false when a header overruns it or names an unknown value type.
bool ReadHeaders(std::string_view block, std::vector<EventStreamHeader>& headers) {
  std::size_t pos = 0;
  auto take = [&](std::size_t size, std::string_view& field) {
    if (block.size() - pos < size) return false;
    field = block.substr(pos, size);
    pos += size;
    return true;
  };
  while (pos < block.size()) {
    std::string_view field;
    if (!take(1, field) || field[0] == '\0') return false;
    EventStreamHeader header;
    if (!take(static_cast<unsigned char>(field[0]), field)) return false;
    header.name = field;
    if (!take(1, field)) return false;
    const auto type = static_cast<unsigned char>(field[0]);
    if (type > static_cast<unsigned char>(EventStreamValueType::kUuid)) return false;
    header.type = static_cast<EventStreamValueType>(type);
    switch (header.type) {
      case EventStreamValueType::kBoolTrue:
        header.number = 1;
        break;
      case EventStreamValueType::kBoolFalse:
        break;
      case EventStreamValueType::kByte:
      case EventStreamValueType::kInt16:
      case EventStreamValueType::kInt32:
      case EventStreamValueType::kInt64:
      case EventStreamValueType::kTimestamp: {
        static constexpr std::size_t kSizes[] = {0, 0, 1, 2, 4, 8, 0, 0, 8};
        if (!take(kSizes[type], field)) return false;
        header.number = SignedBigEndian(field);
        break;
      }
      case EventStreamValueType::kBytes:
      case EventStreamValueType::kString:
        if (!take(2, field) || !take(BigEndian(field), field)) return false;
        header.bytes = field;
        break;
      case EventStreamValueType::kUuid:
        if (!take(16, field)) return false;
        header.bytes = field;
        break;
    }
    headers.push_back(std::move(header));
  }
  return true;
}

}  // namespace

std::string_view EventStreamErrorName(EventStreamError error) { return NameOf(kErrorNames, error); }

namespace {

void AppendBigEndian(std::string& out, std::uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((value >> (8 * i)) & 0xFF);
}

void AppendHeader(std::string& out, const EventStreamHeader& header) {
  out += static_cast<char>(header.name.size());
  out += header.name;
  out += static_cast<char>(header.type);
  const auto number = static_cast<std::uint64_t>(header.number);
  switch (header.type) {
    case EventStreamValueType::kBoolTrue:
    case EventStreamValueType::kBoolFalse: break;
    case EventStreamValueType::kByte: AppendBigEndian(out, number, 1); break;
    case EventStreamValueType::kInt16: AppendBigEndian(out, number, 2); break;
    case EventStreamValueType::kInt32: AppendBigEndian(out, number, 4); break;
    case EventStreamValueType::kInt64:
    case EventStreamValueType::kTimestamp: AppendBigEndian(out, number, 8); break;
    case EventStreamValueType::kBytes:
    case EventStreamValueType::kString:
      AppendBigEndian(out, header.bytes.size(), 2);
      out += header.bytes;
      break;
    case EventStreamValueType::kUuid: out += header.bytes; break;
  }
}

}  // namespace

std::string EncodeEventStreamMessage(const EventStreamMessage& message) {
  std::string headers;
  for (const EventStreamHeader& header : message.headers) AppendHeader(headers, header);
  std::string out;
  AppendBigEndian(out, 16 + headers.size() + message.payload.size(), 4);
  AppendBigEndian(out, headers.size(), 4);
  AppendBigEndian(out, Crc32(out), 4);
  out += headers;
  out += message.payload;
  AppendBigEndian(out, Crc32(out), 4);
  return out;
}

std::optional<std::string_view> EventStreamMessage::StringHeader(std::string_view name) const {
  for (const EventStreamHeader& header : headers) {
    if (header.name == name && header.type == EventStreamValueType::kString) return header.bytes;
  }
  return std::nullopt;
}

EventStreamDecoder::EventStreamDecoder(std::size_t max_message_bytes)
    : max_message_bytes_(max_message_bytes) {}

void EventStreamDecoder::Feed(std::string_view bytes, std::vector<EventStreamMessage>& out) {
  if (error_ != EventStreamError::kNone) return;
  // Whole messages are decoded where they lie (in `bytes` when nothing was left over), and the
  // buffer is cut once per call: a large read of many small messages costs no quadratic copying.
  const bool buffered = !buffer_.empty();
  if (buffered) buffer_.append(bytes);
  const std::string_view input = buffered ? std::string_view(buffer_) : bytes;
  std::size_t consumed = 0;
  while (DecodeOne(input.substr(consumed), out)) consumed += out.back().wire_size;
  if (error_ != EventStreamError::kNone) {
    buffer_.clear();
  } else if (buffered) {
    buffer_.erase(0, consumed);
  } else {
    buffer_.assign(input.substr(consumed));
  }
}

// Decodes the message that starts `input`; false when it is not complete yet or is damaged.
bool EventStreamDecoder::DecodeOne(std::string_view input, std::vector<EventStreamMessage>& out) {
  if (expected_length_ == 0) {
    if (input.size() < kPreludeBytes) return false;
    if (Crc32(input.substr(0, 8)) != BigEndian(input.substr(8, 4))) {
      error_ = EventStreamError::kPreludeCrc;
      return false;
    }
    const std::uint64_t total = BigEndian(input.substr(0, 4));
    const std::uint64_t headers_length = BigEndian(input.substr(4, 4));
    if (total < kPreludeBytes + kTrailerBytes || total > max_message_bytes_ ||
        headers_length > total - kPreludeBytes - kTrailerBytes) {
      error_ = EventStreamError::kLength;
      return false;
    }
    expected_length_ = total;
  }
  if (input.size() < expected_length_) return false;

  const std::string_view message = input.substr(0, expected_length_);
  const std::size_t crc_at = message.size() - kTrailerBytes;
  if (Crc32(message.substr(0, crc_at)) != BigEndian(message.substr(crc_at))) {
    error_ = EventStreamError::kMessageCrc;
    return false;
  }
  const std::size_t headers_length = BigEndian(message.substr(4, 4));
  EventStreamMessage decoded;
  if (!ReadHeaders(message.substr(kPreludeBytes, headers_length), decoded.headers)) {
    error_ = EventStreamError::kHeaders;
    return false;
  }
  const std::size_t payload_at = kPreludeBytes + headers_length;
  decoded.payload = message.substr(payload_at, crc_at - payload_at);
  decoded.wire_size = message.size();
  out.push_back(std::move(decoded));
  expected_length_ = 0;
  return true;
}

}  // namespace llm_probe
