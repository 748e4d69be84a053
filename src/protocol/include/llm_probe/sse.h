// Incremental parser for text/event-stream (the WHATWG EventSource rules): bytes go in as they
// arrive, complete events come out.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace llm_probe {

struct SseEvent {
  std::string event;  // empty when the stream named no event type ("message")
  std::string data;   // data lines joined with '\n'
  std::string id;
};

class SseParser {
 public:
  // A line longer than max_line_bytes makes the parser fail (error() == true) rather than grow.
  explicit SseParser(std::size_t max_line_bytes = 1 << 20);

  // Appends the events completed by `bytes` to `out`. After an error, input is ignored.
  void Feed(std::string_view bytes, std::vector<SseEvent>& out);
  bool error() const { return error_; }
  // True while an event or line has started but not ended: at end of stream it means a cut.
  bool HasPartialEvent() const;

 private:
  void ProcessLine(std::string_view line, std::vector<SseEvent>& out);

  std::size_t max_line_bytes_;
  std::string line_;
  bool last_was_cr_ = false;
  bool error_ = false;
  bool event_started_ = false;
  SseEvent pending_;
};

}  // namespace llm_probe
