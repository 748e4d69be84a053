// Dispatch to the API flavours, and the judgement every flavour shares: transport and HTTP
// failures, rate-limit headers, stream timing and the checks on the reply.
#include "llm_probe/probe.h"

#include <regex>
#include <set>
#include <string>
#include <vector>

#include "llm_probe/classify.h"
#include "llm_probe/upstream_headers.h"
#include "reply.h"

namespace llm_probe {
namespace internal {
std::string StringAt(const nlohmann::json& object, const char* key) {
  const auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : std::string();
}

std::optional<double> NumberAt(const nlohmann::json& object, const char* key) {
  const auto found = object.find(key);
  if (found == object.end() || !found->is_number()) return std::nullopt;
  return found->get<double>();
}

bool ReadModelList(std::string_view body, ModelList& list) {
  const auto reply = ParseJson(body);
  if (!reply || !reply->is_object() || !reply->contains("data") || !reply->at("data").is_array()) return false;
  for (const auto& model : reply->at("data")) {
    if (model.is_object()) list.ids.insert(StringAt(model, "id"));
  }
  list.count += static_cast<int>(reply->at("data").size());
  return true;
}

std::string NamingUpstreamError(std::string what, std::string_view name) {
  if (!name.empty()) (what += ": ") += name;
  return what;
}

Classification ReadJsonErrorEnvelope(int status, const HeaderList& /*headers*/, std::string_view body) {
  return ClassifyHttpError(status, body);
}

std::optional<std::string> StructuredMismatch(const StructuredPayload& payload, const std::vector<std::string>& required) {
  std::optional<nlohmann::json> parsed;
  if (payload.sent_as_text) {
    if (!payload.value.is_string()) return "not a JSON text (a string)";
    parsed = ParseJson(payload.value.get_ref<const std::string&>());
    if (!parsed) return "not valid JSON";
  }
  const nlohmann::json& value = parsed ? *parsed : payload.value;
  if (!value.is_object()) return "not a JSON object";
  for (const std::string& key : required) {
    if (!value.contains(key)) return "the required key \"" + key + "\" is missing";
  }
  return std::nullopt;
}

nlohmann::json SchemaOf(const ProbeConfig& probe) {
  return ParseJson(probe.reply_schema.json_schema).value_or(nlohmann::json::object());
}

}  // namespace internal

namespace {

using internal::ModelList;
using internal::ProviderAdapter;
using internal::ReplyFacts;

// Upstream text in a malformed reply's detail (an exception type, an error code) is cut like
// the other details a human skims on the status page.
constexpr std::size_t kMaxMalformedDetailBytes = 200;

// Counts the listed models and checks expect_models against them (every flavour's list).
void JudgeListedModels(const ProbeConfig& probe, const ModelList& listed, std::size_t pages, ProbeResult& result) {
  result.models_listed = listed.count;
  std::string missing;
  for (const auto& expected : probe.expect_models) {
    const bool present = listed.ids.count(expected) > 0;
    result.expected_models.emplace_back(expected, present);
    if (!present) missing += (missing.empty() ? "" : ", ") + expected;
  }
  if (!missing.empty()) {
    result.result_class = ResultClass::kModelNotFound;
    result.detail = "not listed: " + missing;
    if (!listed.next_page_token.empty()) result.detail += " (the list goes on past page " + std::to_string(pages) + ")";
  } else if (listed.count == 0) {
    result.result_class = ResultClass::kEmptyContent;
    result.detail = "the model list is empty";
  }
}

ReplyFacts ReadSseStream(const ProviderAdapter& adapter, const HttpExchange& exchange) {
  ReplyFacts facts;
  const auto content_type = exchange.Header("content-type");
  if (!content_type || content_type->find("text/event-stream") == std::string_view::npos) {
    facts.malformed = "reply is not an event stream";
    return facts;
  }
  const auto read_event = adapter.read_sse_event;
  SseParser parser;
  std::vector<SseEvent> events;
  std::size_t begin = 0;
  for (const BodyArrival& arrival : exchange.arrivals) {
    parser.Feed(std::string_view(exchange.body).substr(begin, arrival.end - begin), events);
    begin = arrival.end;
    for (const SseEvent& event : events) {
      read_event(event, arrival.seconds, facts);
      if (facts.malformed) return facts;
    }
    events.clear();
  }
  if (parser.error()) facts.malformed = "stream line over the size limit";
  return facts;
}

// AWS event-stream (application/vnd.amazon.eventstream): binary frames with two CRCs each; a
// damaged frame or a stream that ends inside one is not the promised reply.
ReplyFacts ReadAwsEventStream(const ProviderAdapter& adapter, const HttpExchange& exchange) {
  ReplyFacts facts;
  const auto content_type = exchange.Header("content-type");
  if (!content_type || content_type->find("application/vnd.amazon.eventstream") == std::string_view::npos) {
    facts.malformed = "reply is not an AWS event stream";
    return facts;
  }
  EventStreamDecoder decoder;
  std::vector<EventStreamMessage> messages;
  std::size_t begin = 0;
  for (const BodyArrival& arrival : exchange.arrivals) {
    decoder.Feed(std::string_view(exchange.body).substr(begin, arrival.end - begin), messages);
    begin = arrival.end;
    for (const EventStreamMessage& message : messages) {
      adapter.read_event_stream_message(message, arrival.seconds, facts);
      if (facts.malformed) return facts;
    }
    messages.clear();
    if (decoder.error() != EventStreamError::kNone) {
      facts.malformed = "damaged event-stream frame: " + std::string(EventStreamErrorName(decoder.error()));
      return facts;
    }
  }
  if (decoder.HasPartialMessage()) facts.malformed = "stream ended inside an event-stream frame";
  return facts;
}

// The framing's decoder cuts the stream into events for the provider's event reader.
ReplyFacts ReadStream(const Provider& provider, const ProviderAdapter& adapter, const HttpExchange& exchange) {
  switch (provider.stream_framing) {
    case StreamFraming::kSse:
      return ReadSseStream(adapter, exchange);
    case StreamFraming::kAwsEventStream:
      return ReadAwsEventStream(adapter, exchange);
  }
  ReplyFacts facts;  // only for a value cast from outside the enumeration
  facts.malformed = "unknown stream framing";
  return facts;
}

void MeasureStream(const ReplyFacts& facts, ProbeResult& result) {
  if (!facts.first_content_seconds) return;
  result.time_to_first_token_seconds = *facts.first_content_seconds;
  const double streaming_seconds = facts.last_event_seconds - *facts.first_content_seconds;
  // Reasoning tokens stream before the first content token, so they are not part of this rate.
  const double tokens = facts.usage ? facts.usage->completion - facts.usage->reasoning
                                    : static_cast<double>(facts.content_events);
  if (streaming_seconds > 0 && tokens > 0) result.output_tokens_per_second = tokens / streaming_seconds;
}

// expect_content runs over at most the first 4 KiB of the reply, on libstdc++'s breadth-first
// executor (__polynomial; the config loader compiles the pattern with the same flags, so a
// back-reference, which it cannot run, is refused at load). The default depth-first executor
// recurses once per character: a 3 MiB reply checked against ".+" overflowed the loop thread's
// stack and killed the exporter (tests/faults, "huge-content"). The cut also bounds the time a
// pattern can take on the loop thread; probe replies are a few tokens.
constexpr std::size_t kMaxContentMatchedBytes = 4096;

bool ContentMatches(const std::string& content, const std::string& pattern) {
  const std::string_view head = std::string_view(content).substr(0, kMaxContentMatchedBytes);
  try {
    return std::regex_search(head.begin(), head.end(),
                             std::regex(pattern, std::regex::ECMAScript | std::regex_constants::__polynomial));
  } catch (const std::regex_error&) {
    return false;  // only reachable for a config not made by the loader
  }
}

std::string NoContentDetail(const ReplyFacts& facts) {
  return facts.length_limited ? "no content: the token limit was spent (finish_reason " + facts.finish_reason + ")"
                              : "no content in the reply";
}

// The part of a tools or json reply the schema judges: the call to the probe's function, or the
// structured output (the reply's text, or the forced tool's call where the API has no JSON mode).
std::optional<internal::StructuredPayload> StructuredPart(const ProviderAdapter& adapter, const ProbeConfig& probe,
                                                          const ReplyFacts& facts) {
  if (probe.type == ProbeType::kJson && !adapter.json_through_tool) {
    if (facts.content.empty()) return std::nullopt;
    return internal::StructuredPayload{facts.content, true};
  }
  for (const internal::ToolCall& call : facts.tool_calls) {
    if (call.name == probe.reply_schema.name) return call.arguments;
  }
  return std::nullopt;
}

// A reply with nothing at all is EMPTY_CONTENT, as for chat; one whose call or output is
// missing, does not parse or lacks a required key is CONTENT_MISMATCH, unless the token limit cut
// it (EMPTY_CONTENT: max_tokens is too small, nothing is broken upstream).
void JudgeStructured(const ProviderAdapter& adapter, const ProbeConfig& probe, const ReplyFacts& facts,
                     ProbeResult& result) {
  const bool tool_call = probe.type == ProbeType::kTools || adapter.json_through_tool;
  const std::string what = tool_call ? "the call to " + probe.reply_schema.name : "the JSON output";
  const auto part = StructuredPart(adapter, probe, facts);
  std::optional<std::string> problem;
  if (!part) {
    if (facts.content.empty() && facts.tool_calls.empty()) {
      result.result_class = ResultClass::kEmptyContent;
      result.detail = NoContentDetail(facts);
      return;
    }
    problem = tool_call ? "no call to " + probe.reply_schema.name + " in the reply" +
                              (facts.tool_calls.empty() ? "" : " (another function was called)")
                        : "no JSON output in the reply";
  } else if (auto mismatch = internal::StructuredMismatch(*part, probe.reply_schema.required)) {
    problem = (tool_call ? "the arguments of " + probe.reply_schema.name : std::string("the JSON output")) + ": " +
              *mismatch;
  }
  if (!problem) return;
  if (facts.length_limited) {
    result.result_class = ResultClass::kEmptyContent;
    result.detail = "the token limit was spent before " + what + " was complete (finish_reason " +
                    facts.finish_reason + "): " + *problem;
    return;
  }
  result.result_class = ResultClass::kContentMismatch;
  result.detail = *problem;
}

void Judge(const Provider& provider, const ProviderAdapter& adapter, const ProbeConfig& probe,
           const ReplyFacts& facts, const std::optional<std::string>& served_model, ProbeResult& result) {
  auto fail = [&result](ResultClass result_class, std::string detail) {
    result.result_class = result_class;
    result.detail = std::move(detail);
  };
  if (facts.malformed) return fail(ResultClass::kBadResponse, *facts.malformed);
  if (probe.type == ProbeType::kStream && !facts.stream_completed) {
    return fail(ResultClass::kBadResponse, "stream ended before its end event");
  }
  if (provider.checks_served_model && facts.served_model &&
      !ServedModelMatches(probe.model, *facts.served_model)) {
    return fail(ResultClass::kModelMismatch,
                "served " + SanitizeUpstreamText(*served_model, 128) + ", asked for " + probe.model);
  }
  if (probe.type == ProbeType::kTools || probe.type == ProbeType::kJson) {
    return JudgeStructured(adapter, probe, facts, result);
  }
  if (facts.content.empty()) return fail(ResultClass::kEmptyContent, NoContentDetail(facts));
  if (!probe.expect_content.empty() && !ContentMatches(facts.content, probe.expect_content)) {
    return fail(ResultClass::kContentMismatch, "reply does not match expect_content");
  }
}

}  // namespace

HttpRequest BuildProbeRequest(const TargetConfig& target, const ProbeConfig& probe) {
  HttpRequest request = ProviderOf(target).AdapterFor(probe).build_request(target, probe);
  for (const auto& [name, value] : target.headers) request.headers.emplace_back(name, value);
  request.timeout = probe.timeout;
  request.follow_redirects = probe.follow_redirects;
  request.ca_file = target.tls.ca_file;
  request.insecure_skip_verify = target.tls.insecure_skip_verify;
  request.tls_session_resumption = target.tls.session_resumption;
  request.proxy_url = target.proxy_url;
  return request;
}

std::optional<HttpRequest> CompleteRequestForRun(const TargetConfig& target, const HttpRequest& built,
                                                 double now_unix) {
  const auto complete = ProviderOf(target).adapter->complete_for_run;
  if (complete == nullptr) return std::nullopt;
  HttpRequest request = built;
  complete(target, now_unix, request);
  return request;
}

namespace {

// One exchange of a run: what every exchange reports (timings, status, rate limits), its class
// when it failed, and its reply read. A model list's page goes into `models`, judged once the
// walk over its pages is over.
ProbeResult InterpretOne(const Provider& provider, const ProviderAdapter& adapter, const ProbeConfig& probe,
                         const HttpExchange& exchange, double now_unix, const Redactor& redactor,
                         ModelList& models) {
  ProbeResult result;
  result.duration_seconds = exchange.total_seconds;
  result.phases = exchange.phases;
  result.http_status = exchange.status;
  result.tls_cert_expiry_unix = exchange.tls_cert_expiry_unix;
  result.rate_limits = ParseRateLimits(exchange.headers, now_unix);

  // A stream that broke off after a 2xx started is the upstream failing mid-answer: its events
  // are read and the missing end makes it BAD_RESPONSE, as when the end event never comes.
  const bool stream_cut = probe.type == ProbeType::kStream && exchange.error == TransportError::kRecv &&
                          exchange.status >= 200 && exchange.status <= 299;
  if (exchange.error != TransportError::kNone && !stream_cut) {
    auto [result_class, detail] = ClassifyTransport(exchange.error, redactor.Redact(exchange.error_detail));
    result.result_class = result_class;
    result.detail = std::move(detail);
    return result;
  }
  if (exchange.status < 200 || exchange.status > 299) {
    if (const auto retry_after = exchange.Header("retry-after")) {
      result.retry_after_seconds = ParseRetryAfter(*retry_after, now_unix);
    }
    // The class from the reply as it came (a secret may look like anything), the detail from
    // the reply redacted, then cut.
    const auto read_error = adapter.read_error;
    result.result_class = read_error(exchange.status, exchange.headers, exchange.body).result_class;
    result.detail = read_error(exchange.status, exchange.headers, redactor.Redact(exchange.body)).detail;
    return result;
  }
  if (probe.type == ProbeType::kModels) {
    if (!adapter.read_model_list(exchange.body, models)) {
      result.result_class = ResultClass::kBadResponse;
      result.detail = "reply is not a model list";
    }
    return result;
  }
  ReplyFacts facts = probe.type == ProbeType::kStream ? ReadStream(provider, adapter, exchange)
                                                      : adapter.read_reply(probe.type, exchange.body);
  // It may name the upstream's error: redacted, then cut.
  if (facts.malformed) facts.malformed = SanitizeUpstreamText(redactor.Redact(*facts.malformed), kMaxMalformedDetailBytes);
  result.usage = facts.usage;
  if (facts.served_model) result.served_model = redactor.Redact(*facts.served_model);
  if (probe.type == ProbeType::kStream) MeasureStream(facts, result);
  Judge(provider, adapter, probe, facts, result.served_model, result);
  return result;
}

void AddPhases(const PhaseTimings& page, PhaseTimings& walk) {
  walk.resolve += page.resolve;
  walk.connect += page.connect;
  walk.tls += page.tls;
  walk.processing += page.processing;
  walk.transfer += page.transfer;
}

}  // namespace

std::optional<HttpRequest> NextPageRequest(const TargetConfig& target, const ProbeConfig& probe,
                                           const HttpRequest& first, const HttpExchange& page,
                                           std::size_t pages_read) {
  const ProviderAdapter& adapter = ProviderOf(target).AdapterFor(probe);
  if (probe.type != ProbeType::kModels || adapter.ask_for_page == nullptr || pages_read >= kMaxListPages ||
      page.error != TransportError::kNone || page.status < 200 || page.status > 299) {
    return std::nullopt;
  }
  ModelList list;
  if (!adapter.read_model_list(page.body, list) || list.next_page_token.empty()) return std::nullopt;
  HttpRequest next = first;
  adapter.ask_for_page(list.next_page_token, next);
  return next;
}

ProbeResult InterpretExchange(const TargetConfig& target, const ProbeConfig& probe,
                              const HttpExchange& exchange, double now_unix, const Redactor& redactor) {
  return InterpretExchanges(target, probe, std::span(&exchange, 1), now_unix, redactor);
}

ProbeResult InterpretExchanges(const TargetConfig& target, const ProbeConfig& probe,
                               std::span<const HttpExchange> exchanges, double now_unix,
                               const Redactor& redactor) {
  const Provider& provider = ProviderOf(target);
  const ProviderAdapter& adapter = provider.AdapterFor(probe);
  ModelList models;
  ProbeResult result;
  double walk_seconds = 0;
  PhaseTimings walk_phases;
  for (const HttpExchange& exchange : exchanges) {
    result = InterpretOne(provider, adapter, probe, exchange, now_unix, redactor, models);
    walk_seconds += result.duration_seconds;
    AddPhases(result.phases, walk_phases);
    result.duration_seconds = walk_seconds;
    result.phases = walk_phases;
    if (result.result_class != ResultClass::kUp) return result;  // the page that failed decides
  }
  if (probe.type == ProbeType::kModels) JudgeListedModels(probe, models, exchanges.size(), result);
  return result;
}

}  // namespace llm_probe
