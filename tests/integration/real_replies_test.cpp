// Replays every real provider reply of tests/testdata/real through the exporter as the user
// runs it: a local server answers with the recorded status, headers and body (streams in
// pieces, one event at a time; AWS event-stream replies as binary frames, one per piece; a
// model-list page that answers a pageToken to the request carrying it), and one running
// llm_probe_exporter probes one target per case. Each target must end in the class the corpus names, UP streams must have a time to
// first token, nothing may crash, and the key the probes send must never show on the pages.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "llm_probe/event_stream.h"
#include "test_support.h"

namespace llm_probe {
namespace {

using nlohmann::json;
using testing::Process;
using testing::ReadFile;
using testing::TempDir;

const std::string kCorpusDir = std::string(LLM_PROBE_TESTDATA_DIR) + "/real";
constexpr const char* kReplayAccessKeyId = "AKIDREPLAY0000000001";

struct ReplayCase {
  std::string provider;
  json data;
  std::string id() const { return data.at("id"); }
  bool stream() const { return data.at("probe") == "stream"; }
};

std::vector<ReplayCase> LoadCorpus() {
  std::vector<ReplayCase> cases;
  for (const auto& entry : std::filesystem::directory_iterator(kCorpusDir)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream file(entry.path());
    const json document = json::parse(file);
    for (const json& item : document.at("cases")) {
      // An excerpt that is not a whole reply (README: `replay: false`) is read by unit tests only.
      if (item.value("replay", true)) cases.push_back({document.at("provider"), item});
    }
  }
  return cases;
}

// The body cut after each blank line (LF, CRLF or CR framing), so each event arrives on its
// own; whatever follows the last blank line (a cut mid-line) is the last piece.
std::vector<std::string> EventPieces(const std::string& body) {
  std::vector<std::string> pieces;
  std::size_t begin = 0;
  for (std::size_t i = 0; i < body.size(); ++i) {
    for (const std::string_view separator : {"\r\n\r\n", "\n\n", "\r\r"}) {
      if (body.compare(i, separator.size(), separator) == 0) {
        const std::size_t end = i + separator.size();
        pieces.push_back(body.substr(begin, end - begin));
        begin = end;
        i = end - 1;
        break;
      }
    }
  }
  if (begin < body.size()) pieces.push_back(body.substr(begin));
  return pieces;
}

// An `events` reply (README: AWS event-stream) as the frames on the wire: string headers, both
// CRCs, one piece per message.
std::vector<std::string> FramePieces(const json& events) {
  std::vector<std::string> pieces;
  for (const json& event : events) {
    EventStreamMessage message;
    for (const auto& [name, value] : event.at("headers").items()) {
      message.headers.push_back({name, EventStreamValueType::kString, 0, value.get<std::string>()});
    }
    message.payload = event.at("payload");
    pieces.push_back(EncodeEventStreamMessage(message));
  }
  return pieces;
}

// Serves the recorded replies: the first path segment names the case, and a `pageToken` query
// the page that answers it (README: `page_token`).
class ReplayServer {
 public:
  ReplayServer(const std::vector<ReplayCase>& cases, std::string key) : key_(std::move(key)) {
    for (const ReplayCase& replay : cases) {
      cases_.emplace(replay.id(), replay.data);
      if (replay.data.contains("page_token")) pages_.emplace(replay.data.at("page_token"), replay.id());
    }
    auto handler = [this](const httplib::Request& request, httplib::Response& response) {
      Serve(request, response);
    };
    server_.Get(".*", handler);
    server_.Post(".*", handler);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    testing::WaitFor([this] { return server_.is_running(); });
  }
  ~ReplayServer() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::set<std::string> served() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return served_;
  }
  // The pages asked for by their page_token: a probe walked the list to them.
  std::set<std::string> pages_asked() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return pages_asked_;
  }
  std::set<std::string> pages() const {
    std::set<std::string> ids;
    for (const auto& [token, id] : pages_) ids.insert(id);
    return ids;
  }
  std::set<std::string> without_key() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return without_key_;
  }

 private:
  void Serve(const httplib::Request& request, httplib::Response& response) {
    const std::string path = request.path.substr(1);
    auto found = cases_.find(path.substr(0, path.find('/')));
    if (found != cases_.end() && request.has_param("pageToken")) {
      const auto page = pages_.find(request.get_param_value("pageToken"));
      found = page == pages_.end() ? cases_.end() : cases_.find(page->second);
      if (found != cases_.end()) {
        std::lock_guard<std::mutex> lock(mutex_);
        pages_asked_.insert(found->first);
      }
    }
    if (found == cases_.end()) {
      response.status = 599;
      return;
    }
    const json& replay = found->second;
    // Bedrock's requests carry a SigV4 signature made with the key as the secret access key.
    const bool key_sent = request.get_header_value("Authorization") == "Bearer " + key_ ||
                          request.get_header_value("Authorization").starts_with("AWS4-HMAC-SHA256 Credential=" +
                                                                                std::string(kReplayAccessKeyId) + "/") ||
                          request.get_header_value("x-api-key") == key_ ||
                          request.get_header_value("api-key") == key_ ||
                          request.get_header_value("x-goog-api-key") == key_;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      served_.insert(found->first);
      if (!key_sent) without_key_.insert(found->first);
    }
    response.status = replay.at("status");
    std::string content_type = "application/octet-stream";
    for (const auto& [name, value] : replay.at("headers").items()) {
      if (name == "content-type") {
        content_type = value;
      } else if (name != "content-length" && name != "transfer-encoding") {
        response.set_header(name, value.get<std::string>());
      }
    }
    const bool framed = replay.contains("events");
    if (!framed && (replay.at("probe") != "stream" || response.status != 200)) {
      response.set_content(replay.at("body").get<std::string>(), content_type);
      return;
    }
    auto pieces = std::make_shared<std::vector<std::string>>(framed ? FramePieces(replay.at("events"))
                                                                    : EventPieces(replay.at("body")));
    response.set_chunked_content_provider(
        content_type, [pieces, next = std::size_t{0}](std::size_t, httplib::DataSink& sink) mutable {
          if (next == pieces->size()) {
            sink.done();
            return true;
          }
          // A pause between events, so the first token arrives measurably after the request.
          std::this_thread::sleep_for(std::chrono::milliseconds(15));
          const std::string& piece = (*pieces)[next++];
          return sink.write(piece.data(), piece.size());
        });
  }

  std::string key_;
  std::map<std::string, json> cases_;
  std::map<std::string, std::string> pages_;  // page_token → the id of the page answering it
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::set<std::string> served_;
  std::set<std::string> without_key_;
  std::set<std::string> pages_asked_;
};

std::string Quoted(const std::string& text) { return json(text).dump(); }

// How a target of the flavour is given the key: a SigV4-signed one (bedrock) signs with it as
// its secret access key.
std::string KeyLines(const std::string& flavour) {
  if (flavour != "bedrock") return "    api_key_env: LLM_PROBE_REPLAY_KEY\n";
  return "    aws: {region: us-east-1, access_key_id_env: LLM_PROBE_REPLAY_AWS_KEY_ID, "
         "secret_access_key_env: LLM_PROBE_REPLAY_KEY}\n";
}

std::string ConfigFor(const std::vector<ReplayCase>& cases, int port) {
  std::ostringstream yaml;
  // A short interval so every target has a result within a few seconds; the timeout leaves
  // room for the slowest stream (a few events, 15 ms apart) on a busy machine.
  yaml << "global: {interval: 2s, timeout: 1500ms, jitter: 0%}\ntargets:\n";
  for (const ReplayCase& replay : cases) {
    const std::string type = replay.stream() ? "stream" : replay.data.at("probe").get<std::string>();
    yaml << "  - name: " << replay.id() << "\n"
         << "    provider: " << replay.data.at("flavour").get<std::string>() << "\n"
         << "    base_url: " << Quoted("http://127.0.0.1:" + std::to_string(port) + "/" + replay.id()) << "\n"
         << KeyLines(replay.data.at("flavour"))
         << "    probes: [{name: " << type << ", type: " << type
         << (replay.data.contains("api") ? ", api: " + replay.data.at("api").get<std::string>() : std::string())
         // A tools or json case's function or schema, as JSON (which is YAML).
         << (replay.data.contains("tool") ? ", tool: " + replay.data.at("tool").dump() : std::string())
         << (replay.data.contains("schema") ? ", schema: " + replay.data.at("schema").dump() : std::string())
         // A model list is asked whether it lists the case's model.
         << (type == "models" ? ", expect_models: [" : ", model: ") << Quoted(replay.data.at("model"))
         << (type == "models" ? "]" : "") << "}]\n";
  }
  return yaml.str();
}

// The class each target's llm_probe_status series says now, by target.
std::map<std::string, std::string> CurrentClasses(const std::string& exposition) {
  std::map<std::string, std::string> classes;
  std::istringstream lines(exposition);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("llm_probe_status{", 0) != 0 || line.size() < 2 || line.substr(line.size() - 2) != " 1") continue;
    const auto label = [&](const std::string& name) {
      const std::size_t start = line.find(name + "=\"");
      if (start == std::string::npos) return std::string();
      const std::size_t value = start + name.size() + 2;
      return line.substr(value, line.find('"', value) - value);
    };
    classes[label("target")] = label("status");
  }
  return classes;
}

bool HasTimeToFirstToken(const std::string& exposition, const std::string& target) {
  std::istringstream lines(exposition);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("llm_probe_last_time_to_first_token_seconds{", 0) == 0 &&
        line.find("target=\"" + target + "\"") != std::string::npos) {
      return std::stod(line.substr(line.rfind(' ') + 1)) > 0;
    }
  }
  return false;
}

std::string RandomKey() {
  std::random_device random;
  std::ostringstream key;
  key << "sk-replay-" << std::hex << random() << random() << random();
  return key.str();
}

TEST(RealRepliesTest, CorpusMeetsItsOwnRules) {
  const std::vector<ReplayCase> cases = LoadCorpus();
  std::set<std::string> ids;
  for (const ReplayCase& replay : cases) {
    const json& data = replay.data;
    EXPECT_TRUE(ids.insert(replay.id()).second) << "duplicate id " << replay.id();
    for (const char* field : {"situation", "source", "fidelity", "expect", "why", "model"}) {
      EXPECT_FALSE(data.at(field).get<std::string>().empty()) << replay.id() << ": " << field;
    }
    EXPECT_THAT(data.at("source").get<std::string>(), ::testing::StartsWith("https://")) << replay.id();
    EXPECT_THAT(replay.id(), ::testing::MatchesRegex("[a-z0-9_-]+"));
  }
}

TEST(RealRepliesTest, EveryReplyGetsItsClassThroughTheRunningExporter) {
  const std::vector<ReplayCase> cases = LoadCorpus();
  ASSERT_FALSE(cases.empty());
  const std::string key = RandomKey();
  ReplayServer upstream(cases, key);
  TempDir dir;
  const std::string config = dir.Write("replay.yaml", ConfigFor(cases, upstream.port()));
  setenv("LLM_PROBE_REPLAY_KEY", key.c_str(), 1);
  setenv("LLM_PROBE_REPLAY_AWS_KEY_ID", kReplayAccessKeyId, 1);
  const int port = testing::ClosedPort();
  const std::string log = dir.path() + "/exporter.log";
  Process exporter({"--config.file", config, "--web.listen-address", "127.0.0.1:" + std::to_string(port)}, log);

  std::map<std::string, std::string> expected;
  for (const ReplayCase& replay : cases) expected[replay.id()] = replay.data.at("expect");
  std::map<std::string, std::string> actual;
  const bool all_classified = testing::WaitFor(
      [&] {
        actual = CurrentClasses(testing::Get(port, "/metrics"));
        return std::all_of(expected.begin(), expected.end(), [&](const auto& entry) {
          const auto found = actual.find(entry.first);
          return found != actual.end() && found->second == entry.second;
        });
      },
      std::chrono::seconds(60));
  std::ostringstream mismatches;
  for (const auto& [id, want] : expected) {
    const auto found = actual.find(id);
    const std::string got = found == actual.end() ? "(no result)" : found->second;
    if (got != want) mismatches << "  " << id << ": expected " << want << ", got " << got << "\n";
  }
  EXPECT_TRUE(all_classified) << "cases in the wrong class:\n" << mismatches.str();

  const std::string metrics = testing::Get(port, "/metrics");
  for (const ReplayCase& replay : cases) {
    if (!replay.stream()) continue;
    // Time to first token is the first non-empty content (DESIGN.md §4): UP streams have one, and
    // so do streams judged only after their content came (the served model, expect_content).
    const std::string& expect = replay.data.at("expect");
    const bool content_came = expect == "UP" || expect == "MODEL_MISMATCH" || expect == "CONTENT_MISMATCH";
    EXPECT_EQ(HasTimeToFirstToken(metrics, replay.id()), content_came)
        << replay.id() << ": a stream whose content came has a time to first token, any other none";
  }

  EXPECT_TRUE(upstream.without_key().empty()) << "probes sent without the key";
  EXPECT_EQ(upstream.pages_asked(), upstream.pages()) << "a page that answers a pageToken was never asked for";
  EXPECT_EQ(upstream.served().size(), cases.size());
  for (const std::string path : {"/metrics", "/", "/api/v1/targets"}) {
    int status = 0;
    const std::string page = testing::Get(port, path, &status);
    EXPECT_EQ(status, 200) << path;
    EXPECT_THAT(page, ::testing::Not(::testing::HasSubstr(key))) << path << " shows the key";
  }
  EXPECT_EQ(exporter.Wait(std::chrono::seconds(0)), -1) << "the exporter died; its log:\n" << ReadFile(log);
  exporter.Signal(SIGTERM);
  EXPECT_EQ(exporter.Wait(), 0);
  EXPECT_THAT(ReadFile(log), ::testing::Not(::testing::HasSubstr(key))) << "the log shows the key";
}

}  // namespace
}  // namespace llm_probe
