// A fake AI API upstream for tests, the demo and benchmarks. It speaks the real wire formats
// (OpenAI and Anthropic JSON, their error envelopes, SSE, rate-limit headers) and its behaviour
// is scripted per scenario: every scenario has its own base URL,
//   http://HOST:PORT/s/<scenario>/v1          (OpenAI-compatible and Anthropic paths)
//   http://HOST:PORT/s/<scenario>             (Azure: /openai/deployments/<name>/...)
// Paths without /s/<scenario> use the scenario "default".
#pragma once

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
};

struct Behaviour {
  int status = 200;
  int delay_ms = 0;  // before the response starts
  BodyKind body = BodyKind::kNormal;
  // Error envelope fields; used when status is not 2xx or body is kErrorEnvelope.
  std::string error_type;     // OpenAI "type" / Anthropic error.type
  std::string error_code;     // OpenAI "code"
  std::string error_message = "mock error";
  bool hang = false;          // accept and never answer (until the mock stops)
  bool reset_mid_body = false;  // send headers and part of the body, then close the connection
  std::string served_model;   // empty: echo the requested model
  std::string content = "OK";
  std::vector<std::string> models = {"gpt-4o", "gpt-4o-mini", "text-embedding-3-small",
                                     "claude-sonnet-4-5", "deepseek-v3.2"};
  std::map<std::string, std::string> headers;  // extra reply headers (rate limits, Retry-After)
  bool omit_usage = false;
  int prompt_tokens = 8;
  int completion_tokens = -1;  // -1: the number of content tokens sent
  StreamScript stream;
};

// What the mock received, for asserting the probe's request.
struct RecordedRequest {
  std::string method;
  std::string path;  // without the /s/<scenario> prefix
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

class MockUpstream {
 public:
  MockUpstream();
  ~MockUpstream();
  MockUpstream(const MockUpstream&) = delete;
  MockUpstream& operator=(const MockUpstream&) = delete;

  // Binds (port 0 picks a free one), serves on background threads, returns the bound port.
  // Throws std::runtime_error when it cannot bind.
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
  std::vector<RecordedRequest> Requests(const std::string& scenario) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The control API's JSON form of a behaviour; unknown keys are an error (std::invalid_argument).
Behaviour BehaviourFromJson(const nlohmann::json& json);

}  // namespace mock_upstream
