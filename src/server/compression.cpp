#include "llm_probe/compression.h"
#include "llm_probe/text.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

namespace llm_probe {
namespace {

// q of one coding's parameters ("q=0.5"); 1 when absent, 0 when malformed (not acceptable).
double Quality(std::string_view parameters) {
  while (!parameters.empty()) {
    const auto semicolon = parameters.find(';');
    const std::string_view parameter = TrimOws(parameters.substr(0, semicolon));
    parameters = semicolon == std::string_view::npos ? std::string_view() : parameters.substr(semicolon + 1);
    if (parameter.size() < 2 || AsciiLower(parameter[0]) != 'q' || parameter[1] != '=') {
      continue;
    }
    const std::string_view number = TrimOws(parameter.substr(2));
    double q = 0;
    const auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), q);
    return error == std::errc() && end == number.data() + number.size() ? q : 0;
  }
  return 1;
}

}  // namespace

bool AcceptsGzip(std::string_view accept_encoding) {
  std::optional<double> gzip_q;
  std::optional<double> any_q;
  while (!accept_encoding.empty()) {
    const auto comma = accept_encoding.find(',');
    const std::string_view element = accept_encoding.substr(0, comma);
    accept_encoding = comma == std::string_view::npos ? std::string_view() : accept_encoding.substr(comma + 1);
    const auto semicolon = element.find(';');
    const std::string_view coding = TrimOws(element.substr(0, semicolon));
    const double q = semicolon == std::string_view::npos ? 1 : Quality(element.substr(semicolon + 1));
    if (EqualsIgnoringCase(coding, "gzip") || EqualsIgnoringCase(coding, "x-gzip")) gzip_q = q;
    if (coding == "*") any_q = q;
  }
  return gzip_q ? *gzip_q > 0 : any_q.value_or(0) > 0;
}

bool GzipFast(std::string_view data, std::string& out) {
  z_stream stream{};
  // 15 window bits + 16: a gzip header and trailer rather than a zlib one.
  if (deflateInit2(&stream, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return false;
  // Text the size of a scrape compresses 10-20x; the string grows if it does not.
  out.resize(std::max(data.size() / 8, std::size_t{4096}));
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  constexpr std::size_t kChunk = 1u << 30;  // avail_in and avail_out are 32-bit
  std::size_t consumed = 0;
  int result = Z_OK;
  while (result == Z_OK) {
    if (stream.avail_in == 0) {
      stream.avail_in = static_cast<uInt>(std::min(kChunk, data.size() - consumed));
      consumed += stream.avail_in;
    }
    if (stream.total_out == out.size()) out.resize(out.size() * 2);
    stream.next_out = reinterpret_cast<Bytef*>(out.data() + stream.total_out);
    stream.avail_out = static_cast<uInt>(std::min(kChunk, out.size() - stream.total_out));
    result = deflate(&stream, consumed == data.size() ? Z_FINISH : Z_NO_FLUSH);
    if (result == Z_BUF_ERROR) result = Z_OK;  // no progress possible: more output room next turn
  }
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return result == Z_STREAM_END;
}

}  // namespace llm_probe
