// SigV4 against AWS's published test suite and AWS's own canonical request for a Bedrock model id
// with ':' (tests/testdata/sigv4/README.md says where each vector comes from).
#include "llm_probe/sigv4.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace llm_probe {
namespace {

using ::testing::HasSubstr;

const std::string kDir = std::string(LLM_PROBE_TESTDATA_DIR) + "/sigv4/";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<std::string> HeaderValue(const HttpRequest& request, std::string_view name) {
  for (const auto& [header, value] : request.headers) {
    if (header == name) return value;
  }
  return std::nullopt;
}

// A header-signed-request.txt of the suite: the request, and the Authorization AWS gave it.
struct SuiteCase {
  HttpRequest request;
  std::string authorization;
  std::string session_token;
};

SuiteCase ParseSuiteCase(const std::string& text) {
  SuiteCase parsed;
  const std::size_t head_end = text.find("\n\n");
  std::istringstream head(text.substr(0, head_end));
  std::string request_line;
  std::getline(head, request_line);
  const std::size_t method_end = request_line.find(' ');
  const std::size_t target_end = request_line.rfind(" HTTP/1.1");
  parsed.request.method = request_line.substr(0, method_end);
  const std::string target = request_line.substr(method_end + 1, target_end - method_end - 1);
  std::string host;
  for (std::string line; std::getline(head, line);) {
    const std::size_t colon = line.find(':');
    const std::string name = line.substr(0, colon);
    const std::string value = line.substr(colon + 1);
    if (name == "Authorization") {
      parsed.authorization = value;
      continue;
    }
    if (name == "Host") host = value;
    if (name == "X-Amz-Security-Token") parsed.session_token = value;
    parsed.request.headers.emplace_back(name, value);
  }
  parsed.request.url = "https://" + host + target;
  parsed.request.body = text.substr(head_end + 2);
  return parsed;
}

constexpr std::int64_t kSuiteTime = 1440938160;  // 2015-08-30T12:36:00Z

class SigV4SuiteTest : public ::testing::TestWithParam<const char*> {};

TEST_P(SigV4SuiteTest, SignsAsAwsReferenceSigner) {
  SuiteCase suite = ParseSuiteCase(ReadFile(kDir + GetParam() + ".txt"));
  ASSERT_FALSE(suite.authorization.empty());
  const AwsCredentials credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                   suite.session_token};
  SignV4(suite.request, credentials, {"us-east-1", "service"}, kSuiteTime);
  EXPECT_EQ(HeaderValue(suite.request, "Authorization"), suite.authorization);
  EXPECT_EQ(HeaderValue(suite.request, "X-Amz-Date"), "20150830T123600Z");
}

INSTANTIATE_TEST_SUITE_P(AwsSigningTestSuite, SigV4SuiteTest,
                         ::testing::Values("get-vanilla-with-session-token", "post-vanilla",
                                           "post-x-www-form-urlencoded", "get-space-normalized",
                                           "get-utf8", "get-vanilla-utf8-query",
                                           "get-slashes-normalized", "get-relative-relative-normalized",
                                           "get-unreserved", "get-header-value-trim",
                                           "get-header-key-duplicate",
                                           "get-vanilla-query-order-key-case"),
                         [](const ::testing::TestParamInfo<const char*>& param) {
                           std::string name = param.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(SigV4Test, BedrockModelIdWithColonSignsAsAwsComputesIt) {
  const auto vector = nlohmann::json::parse(ReadFile(kDir + "bedrock-converse-stream-colon.json"));
  HeaderList headers;
  for (const auto& header : vector["headers"]) headers.emplace_back(header[0], header[1]);
  const std::string path = vector["path"];
  const SigV4Message message{"POST", path, "", &headers};
  const std::string canonical = SigV4CanonicalRequest(message, vector["payload_sha256"].get<std::string>());
  EXPECT_EQ(canonical, vector["canonical_request"].get<std::string>());

  const std::string amz_date = AmzDate(vector["unix_seconds"]);
  EXPECT_EQ(amz_date, "20250921T101604Z");
  EXPECT_EQ(SigV4StringToSign(amz_date, {vector["region"], vector["service"]}, canonical),
            vector["string_to_sign"].get<std::string>());
}

TEST(SigV4Test, AModelIdIsEncodedOnceOnTheWireAndTwiceInTheSignature) {
  const std::string model = "anthropic.claude-3-5-haiku-20241022-v1:0";
  EXPECT_EQ(AwsUriEncode(model), "anthropic.claude-3-5-haiku-20241022-v1%3A0");
  HttpRequest request;
  request.method = "POST";
  request.url = "https://bedrock-runtime.us-east-1.amazonaws.com/model/" + AwsUriEncode(model) + "/converse";
  request.headers = {{"Content-Type", "application/json"}};
  request.body = R"({"messages":[]})";
  const HeaderList before_signing = request.headers;
  SignV4(request, {"AKIDEXAMPLE", "secret", ""}, {"us-east-1", "bedrock"}, kSuiteTime);

  HeaderList signed_headers = before_signing;
  signed_headers.emplace_back("Host", "bedrock-runtime.us-east-1.amazonaws.com");
  signed_headers.emplace_back("X-Amz-Date", "20150830T123600Z");
  const SigV4Message message{"POST", "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse", "",
                             &signed_headers};
  EXPECT_THAT(SigV4CanonicalRequest(message, Sha256Hex(request.body)),
              HasSubstr("\n/model/anthropic.claude-3-5-haiku-20241022-v1%253A0/converse\n"));
  const auto authorization = HeaderValue(request, "Authorization");
  ASSERT_TRUE(authorization);
  EXPECT_THAT(*authorization, HasSubstr("Credential=AKIDEXAMPLE/20150830/us-east-1/bedrock/aws4_request, "
                                        "SignedHeaders=content-type;host;x-amz-date, Signature="));
  EXPECT_EQ(HeaderValue(request, "Host"), "bedrock-runtime.us-east-1.amazonaws.com");
  EXPECT_FALSE(HeaderValue(request, "X-Amz-Security-Token"));
}

TEST(SigV4Test, ASessionTokenIsSentAndSigned) {
  HttpRequest request;
  request.method = "POST";
  request.url = "https://bedrock-runtime.eu-west-1.amazonaws.com/model/m/converse";
  SignV4(request, {"ASIAEXAMPLE", "secret", "FwoGZXIvYXdzE-token"}, {"eu-west-1", "bedrock"}, kSuiteTime);
  EXPECT_EQ(HeaderValue(request, "X-Amz-Security-Token"), "FwoGZXIvYXdzE-token");
  EXPECT_THAT(*HeaderValue(request, "Authorization"),
              HasSubstr("SignedHeaders=host;x-amz-date;x-amz-security-token,"));
}

TEST(SigV4Test, SigningAgainReplacesTheEarlierSignature) {
  HttpRequest request;
  request.method = "POST";
  request.url = "https://bedrock-runtime.us-east-1.amazonaws.com/model/m/converse";
  request.headers = {{"User-Agent", "llm_probe_exporter"}};
  const AwsCredentials credentials{"AKIDEXAMPLE", "secret", ""};
  SignV4(request, credentials, {"us-east-1", "bedrock"}, kSuiteTime);
  const std::string first = *HeaderValue(request, "Authorization");
  SignV4(request, credentials, {"us-east-1", "bedrock"}, kSuiteTime + 60);
  EXPECT_EQ(request.headers.size(), 4u);  // user-agent, host, x-amz-date, authorization
  EXPECT_NE(*HeaderValue(request, "Authorization"), first);
  EXPECT_EQ(HeaderValue(request, "X-Amz-Date"), "20150830T123700Z");
  // A client's own User-Agent may change on the way; it is not part of the signature.
  EXPECT_THAT(*HeaderValue(request, "Authorization"), HasSubstr("SignedHeaders=host;x-amz-date,"));
}

TEST(SigV4Test, TheSecretChangesTheSignatureAndNeverAppearsInTheHeaders) {
  HttpRequest a;
  a.method = "POST";
  a.url = "https://bedrock-runtime.us-east-1.amazonaws.com/model/m/converse";
  HttpRequest b = a;
  SignV4(a, {"AKIDEXAMPLE", "secret-one", ""}, {"us-east-1", "bedrock"}, kSuiteTime);
  SignV4(b, {"AKIDEXAMPLE", "secret-two", ""}, {"us-east-1", "bedrock"}, kSuiteTime);
  EXPECT_NE(*HeaderValue(a, "Authorization"), *HeaderValue(b, "Authorization"));
  for (const auto& [name, value] : a.headers) EXPECT_THAT(value, ::testing::Not(HasSubstr("secret-one")));
}

}  // namespace
}  // namespace llm_probe
