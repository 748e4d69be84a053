#include "llm_probe/classify.h"

#include "json_parse.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <nlohmann/json.hpp>

#include "llm_probe/text.h"

namespace llm_probe {
namespace {

using nlohmann::json;

// Upstream text in a detail is for a human skimming the status page or a log line.
constexpr std::size_t kMaxDetailMessageBytes = 200;
constexpr std::size_t kMaxDetailKeyBytes = 64;

// Error types and codes that say more than the status does, compared without case. Checked
// before the status so that, e.g., a 429 insufficient_quota is out of credit rather than
// throttled, and a Gemini 400 API_KEY_INVALID is a bad key rather than a bad request.
// Deliberately absent: OpenAI's 429 types "tokens"/"requests" (the code rate_limit_exceeded
// says it), and generic types like invalid_request_error or api_error (the status says more).
struct EnvelopeRule {
  std::string_view key;
  ResultClass result_class;
  int only_with_status = 0;  // 0: any status
};

constexpr std::array<EnvelopeRule, 29> kEnvelopeRules = {{
    {"invalid_api_key", ResultClass::kAuthError},
    {"authentication_error", ResultClass::kAuthError},
    {"invalid_authentication", ResultClass::kAuthError},
    {"invalid_key", ResultClass::kAuthError},
    {"API_KEY_INVALID", ResultClass::kAuthError},  // Google's ErrorInfo reason
    {"permission_error", ResultClass::kForbidden},
    {"permission_denied", ResultClass::kForbidden},
    {"unsupported_country_region_territory", ResultClass::kForbidden},
    {"unsupported_region", ResultClass::kForbidden},
    {"insufficient_quota", ResultClass::kQuotaExceeded},
    {"billing_error", ResultClass::kQuotaExceeded},
    {"billing_hard_limit_reached", ResultClass::kQuotaExceeded},
    {"quota_exceeded", ResultClass::kQuotaExceeded},
    {"insufficient_user_quota", ResultClass::kQuotaExceeded},  // one-api/new-api relays, on a 403
    {"insufficient_credits", ResultClass::kQuotaExceeded},
    {"budget_exceeded", ResultClass::kQuotaExceeded},  // LiteLLM proxy budgets, on a 429 or 400
    {"rate_limit_exceeded", ResultClass::kRateLimited},
    {"rate_limit_error", ResultClass::kRateLimited},
    {"model_not_found", ResultClass::kModelNotFound},  // new-api sends it on a 503
    // A retired model, or one that needs a dedicated endpoint, answered with 400: the config
    // must name another model, and no retry will change that.
    {"model_decommissioned", ResultClass::kModelNotFound},            // Groq
    {"model_not_available", ResultClass::kModelNotFound},             // Together
    {"dedicated_endpoint_not_running", ResultClass::kModelNotFound},  // Together
    {"DeploymentNotFound", ResultClass::kModelNotFound},              // Azure
    // Anthropic uses not_found_error for any missing path or object; only on a 404 from a
    // model call is it the model.
    {"not_found_error", ResultClass::kModelNotFound, 404},
    {"overloaded_error", ResultClass::kOverloaded},
    {"server_overloaded", ResultClass::kOverloaded},
    {"engine_overloaded", ResultClass::kOverloaded},
    {"request_too_large", ResultClass::kBadRequest},  // Anthropic's 413
}};

// Well-known wording, for envelopes whose type and code are generic (Anthropic's
// invalid_request_error "Your credit balance is too low", Google's FAILED_PRECONDITION "User
// location is not supported") and for relays that send only a message. Matched without ASCII
// case against the message, or the whole non-HTML body when there is no message; every
// fragment of a rule must occur. Asked after the envelope's type and code and before the
// status; the first rule that matches wins, so the narrower actions come first.
struct WordingRule {
  std::array<std::string_view, 2> fragments;  // an empty second fragment matches anything
  ResultClass result_class;
};

constexpr std::array<WordingRule, 19> kWordingRules = {{
    {{"location is not supported", ""}, ResultClass::kForbidden},  // Gemini
    {{"region, or territory not supported", ""}, ResultClass::kForbidden},
    {{"not available in your region", ""}, ResultClass::kForbidden},
    {{"incorrect api key", ""}, ResultClass::kAuthError},  // xAI answers a bad key with 400
    {{"credit balance is too low", ""}, ResultClass::kQuotaExceeded},  // Anthropic, on a 400
    {{"insufficient balance", ""}, ResultClass::kQuotaExceeded},       // DeepSeek
    // Gemini's 429 RESOURCE_EXHAUSTED when the project's prepaid credit is spent; its per-minute
    // 429s say "check your plan and billing details", which is no such rule.
    {{"prepayment credits", "depleted"}, ResultClass::kQuotaExceeded},
    {{"insufficient credits", ""}, ResultClass::kQuotaExceeded},       // OpenRouter and relays
    {{"more credits", ""}, ResultClass::kQuotaExceeded},
    {{"budget has been exceeded", ""}, ResultClass::kQuotaExceeded},  // LiteLLM
    {{"quota is not enough", ""}, ResultClass::kQuotaExceeded},       // one-api/new-api
    {{"额度不足", ""}, ResultClass::kQuotaExceeded},  // "quota not enough"
    {{"model", "decommissioned"}, ResultClass::kModelNotFound},
    {{"model", "does not exist"}, ResultClass::kModelNotFound},
    {{"model", "not found"}, ResultClass::kModelNotFound},
    {{"invalid model", ""}, ResultClass::kModelNotFound},         // LiteLLM, Perplexity
    {{"non-serverless model", ""}, ResultClass::kModelNotFound},  // Together
    // A relay with no channel for the model answers 503, but nothing recovers by waiting.
    {{"无可用渠道", ""}, ResultClass::kModelNotFound},  // "no available channel"
    {{"no available channel", ""}, ResultClass::kModelNotFound},
}};

// 408 and 504 are TIMEOUT although a reply arrived: a proxy or the upstream gave up waiting for
// the model, which is the same outage for the customer as our own timeout firing.
struct StatusRule {
  int status;
  ResultClass result_class;
};

constexpr std::array<StatusRule, 13> kStatusRules = {{
    {400, ResultClass::kBadRequest},
    {401, ResultClass::kAuthError},
    {402, ResultClass::kQuotaExceeded},
    {403, ResultClass::kForbidden},
    {404, ResultClass::kModelNotFound},
    {408, ResultClass::kTimeout},
    {413, ResultClass::kBadRequest},  // the probe request is too large for this upstream or its proxy
    {422, ResultClass::kBadRequest},
    {429, ResultClass::kRateLimited},
    {503, ResultClass::kOverloaded},
    {504, ResultClass::kTimeout},
    {524, ResultClass::kTimeout},  // Cloudflare: the origin did not answer in time
    {529, ResultClass::kOverloaded},
}};

// kOther and anything not listed (kNone is a caller bug) is a CONNECTION_ERROR: never UP for
// an exchange that failed.
struct TransportRule {
  TransportError error;
  ResultClass result_class;
};

constexpr std::array<TransportRule, 7> kTransportRules = {{
    {TransportError::kTimeout, ResultClass::kTimeout},
    {TransportError::kDns, ResultClass::kDnsError},
    {TransportError::kConnect, ResultClass::kConnectionError},
    {TransportError::kTls, ResultClass::kTlsError},
    {TransportError::kRecv, ResultClass::kConnectionError},
    {TransportError::kBodyTooLarge, ResultClass::kBadResponse},
    {TransportError::kTooManyRedirects, ResultClass::kHttpError},
}};

bool IsAsciiLetter(char c) {
  const char lower = AsciiLower(c);
  return lower >= 'a' && lower <= 'z';
}

const WordingRule* FindWordingRule(std::string_view text) {
  if (text.empty()) return nullptr;
  const auto found =
      std::find_if(kWordingRules.begin(), kWordingRules.end(), [&](const WordingRule& rule) {
        return std::all_of(rule.fragments.begin(), rule.fragments.end(),
                           [&](std::string_view fragment) { return ContainsIgnoringCase(text, fragment); });
      });
  return found == kWordingRules.end() ? nullptr : &*found;
}

bool IsControlOrSpace(char32_t code_point) {
  return code_point <= 0x20 || (code_point >= 0x7F && code_point <= 0x9F);
}

// Error codes come as strings, numbers (Google, vLLM) or null.
std::string ScalarText(const json& object, const char* key) {
  const auto found = object.find(key);
  if (found == object.end()) return {};
  if (found->is_string()) return found->get<std::string>();
  if (found->is_number()) return found->dump();
  return {};
}

// Google's machine-readable reason ("API_KEY_INVALID") hides in details[] behind a generic
// status like INVALID_ARGUMENT.
std::string GoogleErrorReason(const json& error) {
  const auto details = error.find("details");
  if (details == error.end() || !details->is_array()) return {};
  for (const json& detail : *details) {
    if (!detail.is_object()) continue;
    std::string reason = ScalarText(detail, "reason");
    if (!reason.empty()) return reason;
  }
  return {};
}

std::optional<ErrorEnvelope> EnvelopeFromErrorValue(const json& error) {
  ErrorEnvelope envelope;
  if (error.is_string()) {
    envelope.message = error.get<std::string>();  // Ollama and some relays: {"error": "text"}
  } else if (error.is_object()) {
    envelope.type = ScalarText(error, "type");
    if (envelope.type.empty()) envelope.type = ScalarText(error, "status");  // Google
    envelope.code = GoogleErrorReason(error);
    if (envelope.code.empty()) envelope.code = ScalarText(error, "code");
    envelope.message = ScalarText(error, "message");
  }
  // Relays written in Go often send a zero-value "error": "" or {"message": ""} in successful
  // replies; only an error that says something counts.
  if (envelope.type.empty() && envelope.code.empty() && envelope.message.empty()) {
    return std::nullopt;
  }
  return envelope;
}

const EnvelopeRule* FindEnvelopeRule(std::string_view key, int status) {
  if (key.empty()) return nullptr;
  const auto found =
      std::find_if(kEnvelopeRules.begin(), kEnvelopeRules.end(), [&](const EnvelopeRule& rule) {
        return EqualsIgnoringCase(rule.key, key) &&
               (rule.only_with_status == 0 || rule.only_with_status == status);
      });
  return found == kEnvelopeRules.end() ? nullptr : &*found;
}

ResultClass ClassFromStatus(int status) {
  const auto found = std::find_if(kStatusRules.begin(), kStatusRules.end(),
                                  [&](const StatusRule& rule) { return rule.status == status; });
  if (found != kStatusRules.end()) return found->result_class;
  if (status >= 500 && status <= 599) return ResultClass::kServerError;
  return ResultClass::kHttpError;
}

bool LooksLikeHtml(std::string_view body) {
  const std::size_t first = body.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && body[first] == '<';
}

void AppendDetailPart(std::string& detail, std::string_view text, std::size_t max_bytes) {
  std::string clean = SanitizeUpstreamText(text, max_bytes);
  if (clean.empty()) return;
  detail += ": ";
  detail += clean;
}

// Google wraps the error object in a one-element array; vLLM's older replies put the error
// fields at the top level with "object": "error".
const json* FindErrorValue(const json& root) {
  const json& candidate = root.is_array() && !root.empty() ? root.front() : root;
  if (!candidate.is_object()) return nullptr;
  const auto error = candidate.find("error");
  if (error != candidate.end()) return &*error;
  const auto object = candidate.find("object");
  if (object != candidate.end() && *object == "error") return &candidate;
  return nullptr;
}

// A snapshot suffix is a date or version number of three or more digits: "-2024-08-06",
// "-0613", "-002", "@20240620". Shorter numbers, or digits running into letters, name other
// models: "claude-sonnet-4" must not accept "claude-sonnet-4-5-20250929", nor "gpt-4" accept
// "gpt-4-32k", nor "qwen3" accept "qwen3-235b-a22b".
bool IsSameModelOrSnapshot(std::string_view requested, std::string_view served) {
  if (EqualsIgnoringCase(requested, served)) return true;
  if (requested.empty() || !StartsWithIgnoringCase(served, requested)) return false;
  const std::string_view suffix = served.substr(requested.size());
  if (suffix.front() != '-' && suffix.front() != '@') return false;
  const std::string_view version = suffix.substr(1);
  const std::size_t digits = std::min(version.find_first_not_of("0123456789"), version.size());
  const bool runs_into_letter = digits < version.size() && IsAsciiLetter(version[digits]);
  return digits >= 3 && !runs_into_letter;
}

std::string_view WithoutProviderPrefix(std::string_view model) {
  const std::size_t slash = model.rfind('/');
  return slash == std::string_view::npos ? model : model.substr(slash + 1);
}

}  // namespace

// Invalid bytes are replaced because nlohmann's dump() throws on them when the status API
// serialises the detail.
std::string SanitizeUpstreamText(std::string_view text, std::size_t max_bytes) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::string clean;
  bool pending_space = false;
  while (!text.empty()) {
    char32_t code_point = 0;
    const std::size_t length = DecodeUtf8(text, code_point);
    const std::string_view piece = length == 0 ? kReplacement : text.substr(0, length);
    text.remove_prefix(std::max<std::size_t>(length, 1));
    if (length != 0 && IsControlOrSpace(code_point)) {
      pending_space = !clean.empty();
      continue;
    }
    const std::size_t needed = piece.size() + (pending_space ? 1 : 0);
    if (clean.size() + needed > max_bytes) {
      clean += "...";
      break;
    }
    if (pending_space) clean += ' ';
    clean += piece;
    pending_space = false;
  }
  return clean;
}

std::optional<ErrorEnvelope> ParseErrorEnvelope(std::string_view body) {
  const std::optional<json> root = internal::ParseJson(body);
  if (!root) return std::nullopt;
  const json* error = FindErrorValue(*root);
  if (error == nullptr) return std::nullopt;
  return EnvelopeFromErrorValue(*error);
}

Classification ClassifyTransport(TransportError error, std::string_view curl_detail) {
  const auto found = std::find_if(kTransportRules.begin(), kTransportRules.end(),
                                  [&](const TransportRule& rule) { return rule.error == error; });
  Classification classification{
      found == kTransportRules.end() ? ResultClass::kConnectionError : found->result_class,
      std::string(TransportErrorName(error))};
  AppendDetailPart(classification.detail, curl_detail, kMaxDetailMessageBytes);
  return classification;
}

Classification ClassifyHttpError(int status, std::string_view body) {
  Classification classification{ClassFromStatus(status), "HTTP " + std::to_string(status)};
  const std::optional<ErrorEnvelope> envelope = ParseErrorEnvelope(body);
  if (!envelope) {
    // A proxy's HTML error page says nothing the status does not, and its boilerplate must not
    // match any wording; plain text often does ("upstream connect error or disconnect/reset
    // before headers"), and so does JSON that is not an error envelope.
    if (LooksLikeHtml(body)) return classification;
    if (const WordingRule* rule = FindWordingRule(body)) classification.result_class = rule->result_class;
    AppendDetailPart(classification.detail, body, kMaxDetailMessageBytes);
    return classification;
  }

  // The code is the more specific of the two in OpenAI's envelope (type "invalid_request_error",
  // code "invalid_api_key"), so it is asked first and shown first, unless it is a number: Google
  // and Azure repeat the HTTP status there, which the detail already shows.
  const bool code_adds_nothing =
      envelope->code.find_first_not_of("0123456789") == std::string::npos;
  std::string_view shown_key = code_adds_nothing ? envelope->type : envelope->code;
  bool envelope_decided = false;
  for (const std::string_view key :
       {std::string_view(envelope->code), std::string_view(envelope->type)}) {
    if (const EnvelopeRule* rule = FindEnvelopeRule(key, status)) {
      classification.result_class = rule->result_class;
      shown_key = key;
      envelope_decided = true;
      break;
    }
  }
  // An error whose message is not text (LiteLLM nests an object there) is read whole.
  const std::string_view wording = envelope->message.empty() ? body : std::string_view(envelope->message);
  if (!envelope_decided) {
    if (const WordingRule* rule = FindWordingRule(wording)) classification.result_class = rule->result_class;
  }
  AppendDetailPart(classification.detail, shown_key, kMaxDetailKeyBytes);
  AppendDetailPart(classification.detail, envelope->message, kMaxDetailMessageBytes);
  return classification;
}

bool ServedModelMatches(std::string_view requested, std::string_view served) {
  // Routers answer with the provider in front ("openai/gpt-4o"); the prefix may be on either
  // side, but two different prefixes are two different models.
  return IsSameModelOrSnapshot(requested, served) ||
         IsSameModelOrSnapshot(requested, WithoutProviderPrefix(served)) ||
         IsSameModelOrSnapshot(WithoutProviderPrefix(requested), served);
}

}  // namespace llm_probe
