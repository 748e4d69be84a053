#include "llm_probe/compression.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>

namespace llm_probe {
namespace {

std::string Gunzip(const std::string& data) {
  z_stream stream{};
  EXPECT_EQ(inflateInit2(&stream, 15 + 16), Z_OK);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buffer[65536];
  int result = Z_OK;
  while (result == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof buffer;
    result = inflate(&stream, Z_NO_FLUSH);
    out.append(buffer, sizeof buffer - stream.avail_out);
  }
  EXPECT_EQ(result, Z_STREAM_END) << "one complete gzip member";
  EXPECT_EQ(stream.avail_in, 0u) << "nothing after it";
  inflateEnd(&stream);
  return out;
}

TEST(AcceptsGzipTest, FollowsTheCodingsAndTheirQuality) {
  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("gzip, deflate, br"));
  EXPECT_TRUE(AcceptsGzip("br;q=1.0, GZIP;q=0.5"));
  EXPECT_TRUE(AcceptsGzip("identity, x-gzip"));
  EXPECT_TRUE(AcceptsGzip("*"));
  EXPECT_TRUE(AcceptsGzip(" deflate ,\tgzip ; q=0.001"));
  EXPECT_FALSE(AcceptsGzip(""));
  EXPECT_FALSE(AcceptsGzip("identity"));
  EXPECT_FALSE(AcceptsGzip("deflate, br"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0.0, *"));
  EXPECT_FALSE(AcceptsGzip("*;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzipped"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=zero")) << "a malformed q is not a yes";
}

TEST(GzipFastTest, RoundTripsTextOfEverySize) {
  std::mt19937 random(7);
  for (const std::size_t size : {0u, 1u, 100u, 4096u, 65537u, 3'000'000u}) {
    std::string text;
    text.reserve(size);
    // Exposition-format-like text: compressible, with some noise.
    while (text.size() < size) {
      text += "llm_probe_total{target=\"t" + std::to_string(random() % 1000) + "\",status=\"UP\"} " +
              std::to_string(random()) + "\n";
    }
    text.resize(size);
    std::string gzipped_text = "stale contents are replaced";
    ASSERT_TRUE(GzipFast(text, gzipped_text));
    const std::string* gzipped = &gzipped_text;
    ASSERT_GE(gzipped->size(), 18u) << "gzip header and trailer";
    EXPECT_EQ(static_cast<unsigned char>((*gzipped)[0]), 0x1f);
    EXPECT_EQ(static_cast<unsigned char>((*gzipped)[1]), 0x8b);
    EXPECT_EQ(Gunzip(*gzipped), text) << size;
    if (size >= 65537) {
      EXPECT_LT(gzipped->size(), size / 3) << "it does compress";
    }
  }
}

TEST(GzipFastTest, IncompressibleDataGrowsTheBufferAndStillRoundTrips) {
  std::mt19937 random(11);
  std::string noise(1'000'000, '\0');
  for (char& c : noise) c = static_cast<char>(random());
  std::string gzipped_noise;
  ASSERT_TRUE(GzipFast(noise, gzipped_noise));
  const std::string* gzipped = &gzipped_noise;
  EXPECT_GT(gzipped->size(), noise.size());
  EXPECT_EQ(Gunzip(*gzipped), noise);
}

}  // namespace
}  // namespace llm_probe
