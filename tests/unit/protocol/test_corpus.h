// Test helpers shared by the protocol tests: the published replies of tests/testdata and AWS
// event-stream frames built around them.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "llm_probe/sse.h"

namespace llm_probe::test_corpus {

// A corpus file under tests/testdata ("real/gemini-native.json").
inline nlohmann::json LoadCorpus(const std::string& relative_path) {
  std::ifstream in(std::string(LLM_PROBE_TESTDATA_DIR) + "/" + relative_path);
  EXPECT_TRUE(in) << relative_path;
  return nlohmann::json::parse(in);
}

// The case of that file with this id.
inline nlohmann::json CorpusCase(const std::string& relative_path, const std::string& id) {
  const nlohmann::json corpus = LoadCorpus(relative_path);
  for (const nlohmann::json& item : corpus["cases"]) {
    if (item["id"] == id) return item;
  }
  ADD_FAILURE() << "no case " << id << " in " << relative_path;
  return nlohmann::json::object();
}

// The facts a flavour's SSE event reader gathers from a whole stream body, its events 0.1 s
// apart, up to the first event that makes it malformed (as probe.cpp reads a stream) when the
// facts can say so.
template <typename Facts, typename ReadEvent>
Facts ReadSseStream(std::string_view body, ReadEvent read_event) {
  SseParser parser;
  std::vector<SseEvent> events;
  parser.Feed(body, events);
  Facts facts;
  double seconds = 0;
  for (const SseEvent& event : events) {
    read_event(event, seconds += 0.1, facts);
    if constexpr (requires { facts.malformed; }) {
      if (facts.malformed) break;
    }
  }
  return facts;
}

inline std::string BigEndian(std::uint32_t value, int bytes) {
  std::string out(static_cast<std::size_t>(bytes), '\0');
  for (int i = bytes - 1; i >= 0; --i, value >>= 8) out[static_cast<std::size_t>(i)] = static_cast<char>(value & 0xFF);
  return out;
}

inline std::uint32_t Crc32(std::string_view bytes) {
  return static_cast<std::uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

// One event-stream header: name length, name, value type, value bytes as the type wants them.
inline std::string EventStreamHeader(std::string_view name, char type, std::string_view value) {
  return std::string(1, static_cast<char>(name.size())) + std::string(name) + type + std::string(value);
}

inline std::string EventStreamStringHeader(std::string_view name, std::string_view value) {
  return EventStreamHeader(name, '\x07', BigEndian(static_cast<std::uint32_t>(value.size()), 2) + std::string(value));
}

// A message with correct CRCs around a header block and a payload.
inline std::string EventStreamFrame(const std::string& headers, const std::string& payload) {
  const std::string prelude = BigEndian(static_cast<std::uint32_t>(16 + headers.size() + payload.size()), 4) +
                              BigEndian(static_cast<std::uint32_t>(headers.size()), 4);
  const std::string message = prelude + BigEndian(Crc32(prelude), 4) + headers + payload;
  return message + BigEndian(Crc32(message), 4);
}

}  // namespace llm_probe::test_corpus
