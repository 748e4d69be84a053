// Flags, signals and wiring; everything else lives in the llm_probe libraries.
#include <charconv>
#include <csignal>
#include <cstdio>
#include <map>
#include <optional>
#include <string>

#include "llm_probe/exporter.h"
#include "llm_probe/log.h"

namespace {

constexpr const char* kUsage = R"(usage: llm_probe_exporter [flags]

  --config.file=PATH            configuration file (default: config.yaml)
  --config.check                validate the configuration and exit
  --web.listen-address=ADDR     address to listen on (default: :9835)
  --web.telemetry-path=PATH     path of the metrics endpoint (default: /metrics)
  --web.config.file=PATH        TLS and basic auth (exporter-toolkit format), re-read when it
                                or the files it names change
  --log.level=LEVEL             debug, info, warn or error (default: info)
  --log.format=FORMAT           logfmt or json (default: logfmt)
  --shard.count=N               split the targets of the config across N exporters (default: 1)
  --shard.index=K               probe only shard K, 0 <= K < N: a number or a name ending in -K,
                                such as a StatefulSet pod's (default: 0)
  --web.health-check            GET /-/healthy on --web.listen-address and exit 0 or 1
                                (over HTTPS when the port speaks TLS; a 401 asking for
                                basic auth counts as alive)
  --version                     print the version and exit
  --help                        show this help
)";

struct Flags {
  std::map<std::string, std::string> values = {{"config.file", "config.yaml"},
                                               {"web.listen-address", ":9835"},
                                               {"web.telemetry-path", "/metrics"},
                                               {"web.config.file", ""},
                                               {"log.level", "info"},
                                               {"log.format", "logfmt"},
                                               {"shard.index", "0"},
                                               {"shard.count", "1"}};
  bool check = false;
  bool health_check = false;
  bool version = false;
  bool help = false;
};

// Accepts --name=value and --name value, as Prometheus' kingpin flags do.
std::optional<Flags> ParseFlags(int argc, char** argv, std::string& error) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) {
      error = "unexpected argument " + arg;
      return std::nullopt;
    }
    arg = arg.substr(2);
    if (arg == "config.check") { flags.check = true; continue; }
    if (arg == "version") { flags.version = true; continue; }
    if (arg == "web.health-check") { flags.health_check = true; continue; }
    if (arg == "help" || arg == "h") { flags.help = true; continue; }
    const auto equals = arg.find('=');
    const std::string name = arg.substr(0, equals);
    if (!flags.values.count(name)) {
      error = "unknown flag --" + name;
      return std::nullopt;
    }
    if (equals != std::string::npos) {
      flags.values[name] = arg.substr(equals + 1);
    } else if (i + 1 < argc) {
      flags.values[name] = argv[++i];
    } else {
      error = "flag --" + name + " needs a value";
      return std::nullopt;
    }
  }
  return flags;
}

int Fail(const std::string& message, int code = 1) {
  std::fprintf(stderr, "llm_probe_exporter: %s\n", message.c_str());
  return code;
}

struct Shard {
  int index = 0;
  int count = 1;
};

std::optional<Shard> ParseShard(const Flags& flags, std::string& error) {
  const std::string& count_text = flags.values.at("shard.count");
  const std::string& index_text = flags.values.at("shard.index");
  Shard shard;
  const char* const count_end = count_text.data() + count_text.size();
  const auto [parsed_end, parse_error] = std::from_chars(count_text.data(), count_end, shard.count);
  if (count_text.empty() || parse_error != std::errc() || parsed_end != count_end || shard.count < 1) {
    error = "--shard.count must be a whole number of at least 1, got \"" + count_text + "\"";
    return std::nullopt;
  }
  const auto index = llm_probe::ParseShardIndex(index_text);
  if (!index || *index >= shard.count) {
    error = "--shard.index must be a number (or a name ending in -NUMBER) below --shard.count=" +
            std::to_string(shard.count) + ", got \"" + index_text + "\"";
    return std::nullopt;
  }
  shard.index = *index;
  return shard;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace llm_probe;
  const BuildInfo build{LLM_PROBE_VERSION, LLM_PROBE_REVISION};
  std::string error;
  const auto flags = ParseFlags(argc, argv, error);
  if (!flags) return Fail(error + "\n" + kUsage, 2);
  if (flags->help) return std::fputs(kUsage, stdout), 0;
  if (flags->version) {
    std::printf("llm_probe_exporter version %s (revision %s)\n", build.version.c_str(), build.revision.c_str());
    return 0;
  }
  LogLevel level;
  LogFormat format;
  if (!ParseLogLevel(flags->values.at("log.level"), level)) return Fail("unknown --log.level", 2);
  if (!ParseLogFormat(flags->values.at("log.format"), format)) return Fail("unknown --log.format", 2);
  ConfigureLogging(level, format);
  const std::string& config_file = flags->values.at("config.file");
  const std::string& web_config_file = flags->values.at("web.config.file");
  const auto shard = ParseShard(*flags, error);
  if (!shard) return Fail(error, 2);

  if (flags->check) {
    try {
      const Config config = ShardConfig(LoadConfigFile(config_file, ProcessEnvironment()), shard->index, shard->count);
      std::size_t probes = 0;
      for (const auto& target : config.targets) probes += target.probes.size();
      const std::string of_shard = shard->count == 1 ? std::string()
                                                     : ", shard " + std::to_string(shard->index) + " of " +
                                                           std::to_string(shard->count);
      std::printf("%s: OK (%zu targets, %zu probes%s)\n", config_file.c_str(), config.targets.size(), probes,
                  of_shard.c_str());
      if (!web_config_file.empty()) {
        const WebConfig web = LoadWebConfigFile(web_config_file);
        std::printf("%s: OK (%s, %zu basic auth users)\n", web_config_file.c_str(), web.tls ? "TLS" : "no TLS",
                    web.basic_auth_users.size());
      }
      return 0;
    } catch (const ConfigError& config_error) {
      return Fail(config_error.what());
    }
  }

  const auto listen = ParseListenAddress(flags->values.at("web.listen-address"));
  if (!listen) return Fail("malformed --web.listen-address (want host:port or :port)", 2);
  if (flags->health_check) {
    try {
      const WebConfig web = web_config_file.empty() ? WebConfig{} : LoadWebConfigFile(web_config_file);
      const std::string unhealthy = CheckHealth(*listen, web);
      return unhealthy.empty() ? 0 : Fail(unhealthy);
    } catch (const ConfigError& config_error) {
      return Fail(config_error.what());
    }
  }
  const std::string& telemetry_path = flags->values.at("web.telemetry-path");
  if (telemetry_path.size() < 2 || telemetry_path[0] != '/') {
    return Fail("--web.telemetry-path must be a path such as /metrics", 2);
  }

  // Signals are taken synchronously by sigwait below; threads started later inherit the mask.
  sigset_t signals;
  sigemptyset(&signals);
  for (int signal : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, signal);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  std::optional<Exporter> exporter;
  try {
    exporter.emplace(
        ExporterOptions{config_file, *listen, telemetry_path, web_config_file, build, {}, shard->index, shard->count});
  } catch (const ConfigError& config_error) {
    return Fail(config_error.what());
  } catch (const std::exception& start_error) {
    return Fail(start_error.what(), 3);
  }
  exporter->Start();

  for (;;) {
    int signal = 0;
    sigwait(&signals, &signal);
    if (signal == SIGHUP) {
      exporter->Reload();
      continue;
    }
    Log(LogLevel::kInfo, "exporter", "shutting down; waiting for in-flight probes",
        {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
    exporter->Stop();
    return 0;
  }
}
