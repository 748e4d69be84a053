#include "llm_probe/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <vector>

#include "llm_probe/text.h"

namespace llm_probe {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

// Headers that HTTP clients and proxies add or rewrite after signing (botocore leaves out the
// same ones); signing them would make the signature depend on the path the request takes.
constexpr std::array<std::string_view, 5> kUnsignedHeaders = {"authorization", "user-agent", "expect",
                                                             "connection", "x-amzn-trace-id"};

std::string Hex(const unsigned char* bytes, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    hex += kDigits[bytes[i] >> 4];
    hex += kDigits[bytes[i] & 0xF];
  }
  return hex;
}

using Digest = std::array<unsigned char, 32>;

Digest HmacSha256(std::string_view key, std::string_view data) {
  Digest digest{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data(), &size);
  return digest;
}

std::string_view AsText(const Digest& digest) {
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Query components are decoded before they are encoded again, so that a query sent as
// "%E1%88%B4=bar" and one sent as raw UTF-8 sign alike; a '%' not followed by two hex digits
// stays a literal '%'.
std::string PercentDecode(std::string_view text) {
  std::string decoded;
  decoded.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
        HexValue(text[i + 2]) >= 0) {
      decoded += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      decoded += text[i];
    }
  }
  return decoded;
}

// The path with "." and ".." segments resolved and empty segments dropped (AWS normalises the
// path of every service but S3), each segment encoded again; a trailing '/' stays.
std::string CanonicalPath(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    std::size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view segment = path.substr(pos, end - pos);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    pos = end + 1;
  }
  std::string canonical;
  for (const std::string_view segment : segments) {
    canonical += '/';
    canonical += AwsUriEncode(segment);
  }
  if (canonical.empty() || path.ends_with('/')) canonical += '/';
  return canonical;
}

std::string CanonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> parameters;
  std::size_t pos = 0;
  while (pos < query.size()) {
    std::size_t end = query.find('&', pos);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view parameter = query.substr(pos, end - pos);
    if (!parameter.empty()) {
      const std::size_t equals = parameter.find('=');
      const std::string_view name = parameter.substr(0, equals);
      const std::string_view value =
          equals == std::string_view::npos ? std::string_view{} : parameter.substr(equals + 1);
      parameters.emplace_back(AwsUriEncode(PercentDecode(name)), AwsUriEncode(PercentDecode(value)));
    }
    pos = end + 1;
  }
  std::sort(parameters.begin(), parameters.end());
  std::string canonical;
  for (const auto& [name, value] : parameters) {
    if (!canonical.empty()) canonical += '&';
    canonical += name;
    canonical += '=';
    canonical += value;
  }
  return canonical;
}

// Trimmed, with each run of spaces inside the value made one space.
std::string CanonicalHeaderValue(std::string_view value) {
  std::string canonical;
  bool in_space = false;
  for (const char c : TrimOws(value)) {
    const bool space = c == ' ' || c == '\t';
    if (space && in_space) continue;
    canonical += space ? ' ' : c;
    in_space = space;
  }
  return canonical;
}

bool IsSigned(std::string_view lower_name) {
  return std::find(kUnsignedHeaders.begin(), kUnsignedHeaders.end(), lower_name) == kUnsignedHeaders.end();
}

struct SplitUrl {
  std::string_view authority;
  std::string_view path;
  std::string_view query;
};

SplitUrl Split(std::string_view url) {
  SplitUrl split;
  const std::size_t scheme_end = url.find("://");
  std::string_view rest = scheme_end == std::string_view::npos ? url : url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find('#'));
  const std::size_t path_start = rest.find_first_of("/?");
  split.authority = rest.substr(0, path_start);
  split.authority = split.authority.substr(split.authority.rfind('@') + 1);  // npos + 1 == 0
  if (path_start == std::string_view::npos) {
    split.path = "/";
    return split;
  }
  std::string_view target = rest.substr(path_start);
  const std::size_t query_start = target.find('?');
  split.path = target.substr(0, query_start);
  if (split.path.empty()) split.path = "/";
  if (query_start != std::string_view::npos) split.query = target.substr(query_start + 1);
  return split;
}

std::string CredentialScope(std::string_view amz_date, const SigV4Scope& scope) {
  std::string credential_scope(amz_date.substr(0, 8));
  credential_scope += '/';
  credential_scope += scope.region;
  credential_scope += '/';
  credential_scope += scope.service;
  credential_scope += "/aws4_request";
  return credential_scope;
}

}  // namespace

std::string AwsUriEncode(std::string_view text) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string encoded;
  encoded.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (IsUnreserved(byte)) {
      encoded += c;
    } else {
      encoded += '%';
      encoded += kDigits[byte >> 4];
      encoded += kDigits[byte & 0xF];
    }
  }
  return encoded;
}

std::string Sha256Hex(std::string_view data) {
  Digest digest{};
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr);
  return Hex(digest.data(), digest.size());
}

std::string AmzDate(std::int64_t unix_seconds) {
  const auto seconds = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  std::array<char, 17> text{};
  std::strftime(text.data(), text.size(), "%Y%m%dT%H%M%SZ", &utc);
  return text.data();
}

std::string SigV4CanonicalRequest(const SigV4Message& message, std::string_view payload_sha256_hex) {
  // Lower-cased names in order, values of repeated headers joined with ',' in arrival order.
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [name, value] : *message.headers) {
    std::string lower = AsciiLower(name);
    if (!IsSigned(lower)) continue;
    auto same = std::find_if(headers.begin(), headers.end(),
                             [&](const auto& header) { return header.first == lower; });
    if (same == headers.end()) {
      headers.emplace_back(std::move(lower), CanonicalHeaderValue(value));
    } else {
      same->second += ',';
      same->second += CanonicalHeaderValue(value);
    }
  }
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });

  std::string canonical(message.method);
  canonical += '\n';
  canonical += CanonicalPath(message.path);
  canonical += '\n';
  canonical += CanonicalQuery(message.query);
  canonical += '\n';
  std::string signed_headers;
  for (const auto& [name, value] : headers) {
    canonical += name;
    canonical += ':';
    canonical += value;
    canonical += '\n';
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += name;
  }
  canonical += '\n';
  canonical += signed_headers;
  canonical += '\n';
  canonical += payload_sha256_hex;
  return canonical;
}

std::string SigV4StringToSign(std::string_view amz_date, const SigV4Scope& scope,
                              std::string_view canonical_request) {
  std::string to_sign(kAlgorithm);
  to_sign += '\n';
  to_sign += amz_date;
  to_sign += '\n';
  to_sign += CredentialScope(amz_date, scope);
  to_sign += '\n';
  to_sign += Sha256Hex(canonical_request);
  return to_sign;
}

void SignV4(HttpRequest& request, const AwsCredentials& credentials, const SigV4Scope& scope,
            std::int64_t unix_seconds) {
  const SplitUrl url = Split(request.url);
  const std::string amz_date = AmzDate(unix_seconds);

  // What this function sets replaces whatever the request carried under those names.
  std::erase_if(request.headers, [](const auto& header) {
    const std::string lower = AsciiLower(header.first);
    return lower == "host" || lower == "x-amz-date" || lower == "x-amz-security-token" ||
           lower == "authorization";
  });
  request.headers.emplace_back("Host", std::string(url.authority));
  request.headers.emplace_back("X-Amz-Date", amz_date);
  if (!credentials.session_token.empty()) {
    request.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }

  const SigV4Message message{request.method, url.path, url.query, &request.headers};
  const std::string canonical = SigV4CanonicalRequest(message, Sha256Hex(request.body));
  const std::string to_sign = SigV4StringToSign(amz_date, scope, canonical);

  const Digest date_key = HmacSha256("AWS4" + credentials.secret_access_key, std::string_view(amz_date).substr(0, 8));
  const Digest region_key = HmacSha256(AsText(date_key), scope.region);
  const Digest service_key = HmacSha256(AsText(region_key), scope.service);
  const Digest signing_key = HmacSha256(AsText(service_key), "aws4_request");
  const Digest signature = HmacSha256(AsText(signing_key), to_sign);

  // The signed-header list is the canonical request's second-to-last line.
  const std::size_t hash_line = canonical.rfind('\n');
  const std::size_t headers_line = canonical.rfind('\n', hash_line - 1) + 1;
  std::string authorization(kAlgorithm);
  authorization += " Credential=";
  authorization += credentials.access_key_id;
  authorization += '/';
  authorization += CredentialScope(amz_date, scope);
  authorization += ", SignedHeaders=";
  authorization += canonical.substr(headers_line, hash_line - headers_line);
  authorization += ", Signature=";
  authorization += Hex(signature.data(), signature.size());
  request.headers.emplace_back("Authorization", std::move(authorization));
}

}  // namespace llm_probe
