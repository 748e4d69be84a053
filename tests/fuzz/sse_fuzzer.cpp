// The SSE parser over arbitrary bytes, fed in arbitrary pieces. Besides not crashing, the events
// must not depend on how the bytes were split into reads (a "\r\n" split across two reads, a
// line split anywhere), and a parser past its line limit stays failed.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "llm_probe/sse.h"

namespace {

bool SameEvents(const std::vector<llm_probe::SseEvent>& a, const std::vector<llm_probe::SseEvent>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].event != b[i].event || a[i].data != b[i].data || a[i].id != b[i].id) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  // First byte: the line limit (small, so the limit is reached); second: the read-size seed.
  const std::size_t max_line = 1 + data[0] * 4;
  unsigned seed = data[1];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 2), size - 2);

  llm_probe::SseParser whole(max_line);
  std::vector<llm_probe::SseEvent> whole_events;
  whole.Feed(bytes, whole_events);

  llm_probe::SseParser pieces(max_line);
  std::vector<llm_probe::SseEvent> piece_events;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    seed = seed * 1103515245u + 12345u;
    const std::size_t length = 1 + (seed >> 16) % 17;
    pieces.Feed(bytes.substr(pos, length), piece_events);
    pos += length;
  }

  if (whole.error() != pieces.error()) __builtin_trap();
  if (!SameEvents(whole_events, piece_events)) __builtin_trap();
  if (!whole.error() && whole.HasPartialEvent() != pieces.HasPartialEvent()) __builtin_trap();
  for (const auto& event : whole_events) {
    if (event.data.size() > bytes.size()) __builtin_trap();
  }
  return 0;
}
