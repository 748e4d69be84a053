#include "llm_probe/sse.h"

namespace llm_probe {

SseParser::SseParser(std::size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

void SseParser::Feed(std::string_view bytes, std::vector<SseEvent>& out) {
  if (error_ || bytes.empty()) return;

  std::size_t pos = 0;
  // A "\r\n" split across two reads: the '\r' already ended the line, so this '\n' must not
  // end another (empty) one, which would dispatch the event early.
  if (last_was_cr_ && bytes.front() == '\n') pos = 1;
  last_was_cr_ = false;

  while (pos < bytes.size()) {
    const std::size_t end = bytes.find_first_of("\r\n", pos);
    const std::string_view piece =
        bytes.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (line_.size() + piece.size() > max_line_bytes_) {
      error_ = true;
      std::string().swap(line_);  // give the memory back; the stream is dead anyway
      return;
    }
    if (end == std::string_view::npos) {
      line_.append(piece);
      return;
    }

    // Most lines arrive whole; parse them in place and copy only those split across reads.
    if (line_.empty()) {
      ProcessLine(piece, out);
    } else {
      line_.append(piece);
      ProcessLine(line_, out);
      line_.clear();
    }

    pos = end + 1;
    if (bytes[end] == '\r') {
      if (pos == bytes.size()) {
        last_was_cr_ = true;
      } else if (bytes[pos] == '\n') {
        ++pos;
      }
    }
  }
}

bool SseParser::HasPartialEvent() const {
  // An oversized line was started and never finished, so a failed parser is cut mid-event.
  return error_ || !line_.empty() || event_started_;
}

void SseParser::ProcessLine(std::string_view line, std::vector<SseEvent>& out) {
  if (line.empty()) {
    event_started_ = false;
    // The data buffer holds each data line plus '\n'; empty means no data field was seen, and
    // the spec drops such an event (an "event: ping" alone is not dispatched).
    if (!pending_.data.empty()) {
      pending_.data.pop_back();
      out.push_back(pending_);
    }
    // The id is deliberately kept: per the spec it is the stream's "last event ID", which
    // carries over to later events until the server sends a new one.
    pending_.data.clear();
    pending_.event.clear();
    return;
  }
  if (line.front() == ':') return;  // comment, typically a keep-alive

  const std::size_t colon = line.find(':');
  const std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }

  if (field == "data") {
    pending_.data.append(value);
    pending_.data.push_back('\n');
  } else if (field == "event") {
    pending_.event.assign(value);
  } else if (field == "id") {
    if (value.find('\0') != std::string_view::npos) return;
    pending_.id.assign(value);
  } else {
    return;  // "retry" and unknown fields do not belong to an event
  }
  event_started_ = true;
}

}  // namespace llm_probe
