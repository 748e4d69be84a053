// The AWS event-stream decoder over arbitrary bytes, fed in arbitrary pieces. Besides not
// crashing, the messages and the error must not depend on how the bytes were split into reads,
// a message never claims more bytes than came in, and a decoder that neither failed nor holds a
// partial message has accounted for every byte.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "llm_probe/event_stream.h"

namespace {

bool SameMessages(const std::vector<llm_probe::EventStreamMessage>& a,
                  const std::vector<llm_probe::EventStreamMessage>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].payload != b[i].payload || a[i].wire_size != b[i].wire_size ||
        a[i].headers.size() != b[i].headers.size()) {
      return false;
    }
    for (std::size_t h = 0; h < a[i].headers.size(); ++h) {
      const auto& x = a[i].headers[h];
      const auto& y = b[i].headers[h];
      if (x.name != y.name || x.type != y.type || x.number != y.number || x.bytes != y.bytes) return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  // First byte: the message size limit (small, so the limit is reached); second: the read-size seed.
  const std::size_t max_message = 16 + data[0] * 64;
  unsigned seed = data[1];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 2), size - 2);

  llm_probe::EventStreamDecoder whole(max_message);
  std::vector<llm_probe::EventStreamMessage> whole_messages;
  whole.Feed(bytes, whole_messages);

  llm_probe::EventStreamDecoder pieces(max_message);
  std::vector<llm_probe::EventStreamMessage> piece_messages;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    seed = seed * 1103515245u + 12345u;
    const std::size_t length = 1 + (seed >> 16) % 23;
    pieces.Feed(bytes.substr(pos, length), piece_messages);
    pos += length;
  }

  if (whole.error() != pieces.error()) __builtin_trap();
  if (!SameMessages(whole_messages, piece_messages)) __builtin_trap();
  if (whole.HasPartialMessage() != pieces.HasPartialMessage()) __builtin_trap();
  std::size_t decoded = 0;
  for (const auto& message : whole_messages) {
    if (message.wire_size > max_message || message.payload.size() + 16 > message.wire_size) __builtin_trap();
    decoded += message.wire_size;
  }
  if (decoded > bytes.size()) __builtin_trap();
  if (whole.error() == llm_probe::EventStreamError::kNone && !whole.HasPartialMessage() &&
      decoded != bytes.size()) {
    __builtin_trap();
  }
  return 0;
}
