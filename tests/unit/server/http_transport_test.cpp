// The request pieces the transport decodes itself: the path's and the query's percent escapes.
#include "http_transport.h"

#include <gtest/gtest.h>

namespace llm_probe::internal {
namespace {

TEST(PercentDecodeTest, DecodesEscapesAndPlusOnlyWhereAsked) {
  EXPECT_EQ(PercentDecode("/api%2Fv1", false), "/api/v1");
  EXPECT_EQ(PercentDecode("a+b%20c", true), "a b c");
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");
  EXPECT_EQ(PercentDecode("100%", true), "100%") << "a cut escape stays as sent";
  EXPECT_EQ(PercentDecode("%zz%4", true), "%zz%4");
}

TEST(IncomingRequestTest, ParamsAndHeadersAreFoundByName) {
  IncomingRequest request;
  request.query = "target=relay%2Dmain&probe=chat&debug=true&empty=&flag";
  request.headers = {{"Accept-Encoding", "gzip"}, {"origin", "http://x"}};
  EXPECT_EQ(request.param("target"), "relay-main");
  EXPECT_EQ(request.param("debug"), "true");
  EXPECT_TRUE(request.has_param("empty"));
  EXPECT_TRUE(request.has_param("flag"));
  EXPECT_FALSE(request.has_param("group"));
  EXPECT_EQ(request.param("group"), "");
  EXPECT_EQ(request.header("accept-encoding"), "gzip");
  EXPECT_EQ(request.header("Origin"), "http://x");
  EXPECT_FALSE(request.has_header("Authorization"));
}

}  // namespace
}  // namespace llm_probe::internal
