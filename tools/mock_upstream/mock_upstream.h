// A fake AI API upstream for tests, the demo and benchmarks. It speaks the real wire formats
// (OpenAI and Anthropic JSON, their error envelopes, SSE, rate-limit headers) and its behaviour
// is scripted per scenario: every scenario has its own base URL,
//   http://HOST:PORT/s/<scenario>/v1          (OpenAI-compatible and Anthropic paths)
//   http://HOST:PORT/s/<scenario>             (Azure: /openai/deployments/<name>/...)
// Paths without /s/<scenario> use the scenario "default".
//
// Served by the same server, for the binary, the demo and shell tests (see README.md):
//   PUT  /_mock/scenarios/<name>           behaviour object, or an array of them (a cycle)
//   POST /_mock/scenarios/<name>/enqueue   behaviour object (or array): the next requests' one-shots
//   GET  /_mock/scenarios/<name>/requests  {"count": N}
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mock_upstream {

// Shape of a streamed reply (OpenAI chat.completion.chunk events or Anthropic message events).
struct StreamScript {
  int first_token_delay_ms = 0;  // after the headers and the role-only first chunk
  int token_count = 5;
  int token_interval_ms = 0;
  int cut_after_tokens = -1;    // >= 0: close the connection after that many, with no end event
  int error_after_tokens = -1;  // >= 0: send an error event after that many, then end
  bool keepalive_comments = true;  // ": keep-alive" lines between events
  int reasoning_tokens = 0;        // delta.reasoning_content / thinking deltas before content
  int damaged_crc_after_tokens = -1;  // Bedrock: >= 0: that many token frames, then one whose message CRC is wrong
};

enum class BodyKind {
  kNormal,          // the API's usual success body
  kEmptyContent,    // well formed, content "" and finish_reason "length"
  kNoChoices,       // well formed JSON, "choices": [] (Anthropic: "content": [])
  kMalformedJson,   // truncated JSON with the success content type
  kHtml,            // an HTML error page, as proxies send (use with a 5xx status)
  kErrorEnvelope,   // the provider's error envelope, whatever the status (also with 200)
  kJsonArray,       // a JSON array where an object is expected
  kEmptyModelList,  // models: "data": []
  // Gemini's content filters (elsewhere a normal reply): a candidate with finishReason SAFETY
  // and no content, or promptFeedback.blockReason and no candidate; never streamed.
  kSafetyBlock,
  kPromptBlocked,
};
// A streamed reply is sent for chat requests with "stream": true, a 2xx status and one of
// kNormal, kEmptyContent, kNoChoices (OpenAI: chunks with "choices": [], Anthropic: no content
// blocks); every other case answers with a plain body. Per endpoint, kEmptyContent means an empty
// embedding or model list, kNoChoices an empty "data" array.

// Every member has an initializer, so designated initializers (Behaviour{.status = 429}) stay
// clear of -Wmissing-field-initializers.
struct Behaviour {
  int status = 200;
  int delay_ms = 0;  // before the response starts
  BodyKind body = BodyKind::kNormal;
  // Error envelope fields; used when status is not 2xx or body is kErrorEnvelope.
  std::string error_type{};   // OpenAI "type" / Anthropic error.type
  std::string error_code{};   // OpenAI "code"
  std::string error_message = "mock error";
  bool hang = false;          // accept and never answer (until the mock stops: then a 503)
  bool reset_mid_body = false;  // send headers and part of the body, then close the connection
  std::string served_model{};  // empty: echo the requested model
  // Non-streamed replies obey the request's max_tokens / max_completion_tokens (reasoning tokens
  // spend it first) and then say "length" / "max_tokens"; streams follow the script.
  std::string content = "OK";
  std::vector<std::string> models = {"gpt-4o", "gpt-4o-mini", "text-embedding-3-small",
                                     "claude-sonnet-4-5", "deepseek-v3.2"};
  std::map<std::string, std::string> headers{};  // extra reply headers (rate limits, Retry-After)
  bool omit_usage = false;
  int prompt_tokens = 8;
  int completion_tokens = -1;  // -1: the number of content tokens sent (reasoning included)
  StreamScript stream{};
  // The provider's usual rate-limit headers: x-ratelimit-{limit,remaining,reset}-{requests,tokens}
  // on OpenAI paths, anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-* on
  // /messages; remaining is 0 on a 429. Entries in `headers` win over them.
  bool ratelimit_headers = false;
  // Tools and json probes, non-streamed replies only. A request with tools gets a call of its
  // first tool instead of text, in the flavour's form (OpenAI tool_calls, Responses
  // function_call, Anthropic tool_use, Gemini functionCall, Bedrock toolUse); a request for JSON
  // output (OpenAI response_format json_schema, Responses text.format json_schema, Gemini
  // responseMimeType application/json + responseSchema) gets a JSON text as its content. Both
  // hold every required key of the schema, each "mock" — unless scripted: "missing": no call /
  // plain `content` text (the request's tools or schema ignored, as a relay that drops them);
  // "missing_key": the first required key left out; "invalid_json": the JSON cut in half (OpenAI
  // chat and Responses send arguments as a JSON string; Anthropic, Gemini and Bedrock send
  // objects, so there the cut text goes as a string where the object belongs).
  std::string structured{};
  // Gemini's models.list: at most this many models a page, whatever pageSize asks (Google's
  // reference: the service "may return fewer models"), so a probe asking for 1000 walks pages.
  // 0: pageSize as asked (default 50).
  int models_page_size = 0;
};

// Gemini (http://HOST:PORT/s/<scenario>/v1beta, paths /models, /models/<id>:generateContent,
// :streamGenerateContent?alt=sse, :embedContent) accepts only this key, in x-goog-api-key or
// ?key=; any other gets Google's 400 API_KEY_INVALID envelope.
inline constexpr const char* kGeminiApiKey = "mock-gemini-api-key";

// Bedrock Runtime (http://HOST:PORT/s/<scenario>, paths /model/<id>/converse and
// /model/<id>/converse-stream) checks each request's SigV4 signature (service "bedrock", any
// region) against these keys; a missing, tampered or wrongly keyed one gets AWS's 403
// InvalidSignatureException (or UnrecognizedClientException for an unknown access key id).
inline constexpr const char* kAwsAccessKeyId = "AKIDMOCKUPSTREAM0001";
inline constexpr const char* kAwsSecretAccessKey = "mock+upstream/secret/access/key/000000001";

// What the mock received, for asserting the probe's request.
struct RecordedRequest {
  std::string method;
  std::string path;  // without the /s/<scenario> prefix
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::map<std::string, std::string> params;  // query parameters, e.g. Azure's api-version
};

class MockUpstream {
 public:
  MockUpstream();
  // Every open connection holds a worker, so hanging and streaming requests need many of them.
  explicit MockUpstream(std::size_t worker_threads);
  ~MockUpstream();
  MockUpstream(const MockUpstream&) = delete;
  MockUpstream& operator=(const MockUpstream&) = delete;

  // Binds (port 0 picks a free one), serves on background threads, returns the bound port once
  // it accepts connections. Throws std::runtime_error when it cannot bind. Starts once.
  int Start(const std::string& host = "127.0.0.1", int port = 0);
  // Releases hanging requests and stops serving.
  void Stop();
  int port() const;

  std::string BaseUrl(const std::string& scenario) const;  // ends in /v1
  std::string RootUrl(const std::string& scenario) const;  // without /v1, for Azure

  // Requests to the scenario cycle through `cycle` (one behaviour: always that one).
  void SetBehaviour(const std::string& scenario, std::vector<Behaviour> cycle);
  void SetBehaviour(const std::string& scenario, Behaviour behaviour);
  // The next requests use these, in order, before the cycle resumes.
  void Enqueue(const std::string& scenario, Behaviour once);

  int RequestCount(const std::string& scenario) const;
  // The latest requests, oldest first; only the last 1000 are kept, so benchmarks stay bounded.
  std::vector<RecordedRequest> Requests(const std::string& scenario) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The control API's JSON form of a behaviour; unknown keys are an error (std::invalid_argument).
// Keys are the field names above ("stream" a nested object; "body" one of "normal",
// "empty_content", "no_choices", "malformed_json", "html", "error_envelope", "json_array",
// "empty_model_list"); a wrong type is an error too.
Behaviour BehaviourFromJson(const nlohmann::json& json);
// An object is a single behaviour, an array a cycle.
std::vector<Behaviour> CycleFromJson(const nlohmann::json& json);

}  // namespace mock_upstream
