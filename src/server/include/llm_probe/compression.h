// Response compression for /metrics. A scrape of 1,000 probes is ~6 MB of text: zlib at its
// default level (what cpp-httplib applies) spends most of a scrape compressing it; the fastest
// level makes a body only a little larger in a fraction of the time (docs/benchmarks.md).
#pragma once

#include <string>
#include <string_view>

namespace llm_probe {

// Whether an Accept-Encoding header value accepts gzip: a "gzip" or "*" coding whose q is not 0
// (RFC 9110 §12.5.3). Codings are case-insensitive; an explicit gzip;q=0 wins over "*".
bool AcceptsGzip(std::string_view accept_encoding);

// `data` as one gzip member at zlib's fastest level, into `out` (replaced, its capacity kept).
// False only when zlib cannot allocate.
bool GzipFast(std::string_view data, std::string& out);

}  // namespace llm_probe
