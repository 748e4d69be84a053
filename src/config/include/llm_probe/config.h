// The validated configuration (DESIGN.md §2). Loading is strict: every problem is a ConfigError
// that names file:line:col. Secrets are resolved at load and live only in TargetConfig::api_key.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "llm_probe/target.h"

namespace llm_probe {

struct GroupConfig {
  std::string name;
  std::vector<std::string> targets;
};

struct Price {
  double input = 0;   // USD per million prompt tokens
  double output = 0;  // USD per million completion (and reasoning) tokens
};

struct GlobalConfig {
  Duration interval{30000};
  Duration timeout{10000};
  double jitter = 0.10;  // fraction of the interval
  int failure_threshold = 3;
  int recovery_threshold = 1;
  int history_size = 100;
  std::map<std::string, std::string> external_labels;
  std::vector<double> duration_buckets;  // seconds; defaults filled at load
};

struct Config {
  GlobalConfig global;
  std::vector<TargetConfig> targets;
  std::vector<GroupConfig> groups;
  std::map<std::string, Price> pricing;
  std::string file;      // the path it was read from
  std::string checksum;  // of the file's bytes and key files, to make an unchanged reload a no-op
  // Keys a reload replaced (rotated key files): old results and logs may still hold them.
  std::vector<std::string> retired_secrets;

  // Every secret value the config holds (API keys, secret-looking header values, ${ENV}
  // expansions in any header, retired keys), for redaction.
  std::vector<std::string> Secrets() const;
};

// The secrets one target's requests carry (its key, secret-looking header values, ${ENV}
// expansions, URL passwords): all that its upstream can echo back.
std::vector<std::string> TargetSecrets(const TargetConfig& target);

class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file, int line, int column, const std::string& message);
  const std::string& file() const { return file_; }
  int line() const { return line_; }      // 1-based; 0 when the error has no position
  int column() const { return column_; }  // 1-based

 private:
  std::string file_;
  int line_;
  int column_;
};

// Looks up an environment variable; injected so tests need not touch the real environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup ProcessEnvironment();

// Throws ConfigError. `file_name` is used in messages and to resolve relative api_key_file paths.
Config ParseConfig(std::string_view yaml_text, const std::string& file_name, const EnvLookup& env);
Config LoadConfigFile(const std::string& path, const EnvLookup& env);

// Sharding (docs/scaling.md): `count` exporters share one config, each probing a disjoint part.
// A target goes to the shard with the highest rendezvous score of its placement key, hashed
// with FNV-1a: stable across runs, hosts and versions, and a change of `count` moves only the
// targets that must move (about 1/count of them). The placement key is the target's name, or,
// for a member of failover groups, the name of the first (by name) group of the connected groups
// it belongs to: a group is never split, so llm_probe_group_* and the group alerts stay exact on
// the shard that owns it. Returns the targets and groups of shard `index` (config order kept),
// everything else unchanged. Throws std::invalid_argument unless 0 <= index < count.
Config ShardConfig(const Config& config, int index, int count);
// The shard of every target of `config`, by target name (what ShardConfig uses).
std::map<std::string, int> ShardAssignment(const Config& config, int count);
// A --shard.index value: a number, or a StatefulSet pod name ending in -ORDINAL
// ("llm-probe-exporter-2" -> 2), so a pod can pass its own name. Nullopt when neither.
std::optional<int> ParseShardIndex(std::string_view text);

// Prometheus-style duration: "500ms", "30s", "1m30s", "2h". Nullopt when malformed.
std::optional<Duration> ParseDuration(std::string_view text);
// The inverse of ParseDuration, in its shortest form: 90s -> "1m30s", 0 -> "0s".
std::string FormatDuration(Duration duration);

}  // namespace llm_probe
