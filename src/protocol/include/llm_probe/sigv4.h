// AWS Signature Version 4 for the Bedrock probes: a pure function of the request, the keys, the
// region and the time (passed in, never read from a clock). Follows the algorithm of AWS's
// SigV4 reference and its test suite (tests/testdata/sigv4/README.md) for non-S3 services:
// the path is normalised and each segment URI-encoded once more on top of the encoding it has
// on the wire, so Bedrock's `/model/anthropic.claude-...-v1%3A0/converse` signs as `%253A0`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "llm_probe/exchange.h"

namespace llm_probe {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;  // a secret: never logged, never in a label
  std::string session_token;      // empty unless the keys are temporary (STS)
};

// Where the signature is valid: the region and the signing name ("bedrock" for Bedrock Runtime,
// not the "bedrock-runtime" of its host name).
struct SigV4Scope {
  std::string region;
  std::string service;
};

// Signs `request` (its url, method, headers and body as they will be sent) at `unix_seconds`:
// adds Host (so the signed value is the one sent), X-Amz-Date, X-Amz-Security-Token when a
// session token is set, and Authorization; an Authorization already there is replaced. Every
// header of the request is signed except the few that HTTP clients and proxies rewrite
// (user-agent, expect, connection, x-amzn-trace-id).
void SignV4(HttpRequest& request, const AwsCredentials& credentials, const SigV4Scope& scope,
            std::int64_t unix_seconds);

// The steps, exposed so that tests can compare each one with AWS's published strings.
// `path` and `query` are as on the wire (already percent-encoded once, no '?').
struct SigV4Message {
  std::string_view method;
  std::string_view path;
  std::string_view query;
  const HeaderList* headers = nullptr;  // every header to sign, host and x-amz-date included
};
std::string SigV4CanonicalRequest(const SigV4Message& message, std::string_view payload_sha256_hex);
std::string SigV4StringToSign(std::string_view amz_date, const SigV4Scope& scope,
                              std::string_view canonical_request);
// "20150830T123600Z" for 2015-08-30 12:36:00 UTC.
std::string AmzDate(std::int64_t unix_seconds);

// RFC 3986 percent-encoding as SigV4 defines it: A-Z a-z 0-9 - . _ ~ stay, every other byte
// becomes %XY (upper-case hex). Also builds the wire form of a path segment such as a model id.
std::string AwsUriEncode(std::string_view text);

std::string Sha256Hex(std::string_view data);

}  // namespace llm_probe
