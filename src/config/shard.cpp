// Sharding one config across several exporters: a pure function of the config, the shard index
// and the shard count (docs/scaling.md).
#include <algorithm>
#include <charconv>
#include <map>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>

#include "llm_probe/config.h"
#include "llm_probe/text.h"

namespace llm_probe {
namespace {

// The splitmix64 finalizer: FNV-1a mixes its last bytes poorly, rendezvous scores need every bit.
std::uint64_t Mix(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// Rendezvous (highest random weight) hashing: every shard scores the key, the highest wins
// (the lowest index on a tie). Going from n to n+1 shards moves only the keys the new shard wins.
int ShardOfKey(std::string_view key, int count) {
  const std::uint64_t hash = Fnv1a64(key);
  int best = 0;
  std::uint64_t best_score = 0;
  for (int shard = 0; shard < count; ++shard) {
    const std::uint64_t score = Mix(hash ^ Mix(static_cast<std::uint64_t>(shard) + 1));
    if (shard == 0 || score > best_score) {
      best = shard;
      best_score = score;
    }
  }
  return best;
}

// target name -> placement key. Groups that share a member are joined (union-find), and all
// their members take the key "group/<smallest group name of the joined set>".
std::map<std::string, std::string> PlacementKeys(const Config& config) {
  const std::size_t groups = config.groups.size();
  std::vector<std::size_t> parent(groups);
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&parent](std::size_t g) {
    while (parent[g] != g) g = parent[g] = parent[parent[g]];
    return g;
  };
  std::map<std::string, std::size_t> first_group_of;  // target -> a group holding it
  for (std::size_t g = 0; g < groups; ++g) {
    for (const auto& member : config.groups[g].targets) {
      const auto [found, inserted] = first_group_of.emplace(member, g);
      if (!inserted) parent[find(g)] = find(found->second);
    }
  }
  std::map<std::size_t, std::string> smallest_name;  // root -> smallest group name in its set
  for (std::size_t g = 0; g < groups; ++g) {
    auto [entry, inserted] = smallest_name.emplace(find(g), config.groups[g].name);
    if (!inserted) entry->second = std::min(entry->second, config.groups[g].name);
  }
  std::map<std::string, std::string> keys;
  for (const auto& target : config.targets) {
    const auto group = first_group_of.find(target.name);
    keys[target.name] = group == first_group_of.end() ? target.name
                                                      : "group/" + smallest_name.at(find(group->second));
  }
  return keys;
}

void CheckShard(int index, int count) {
  if (count < 1) throw std::invalid_argument("shard count must be at least 1, got " + std::to_string(count));
  if (index < 0 || index >= count) {
    throw std::invalid_argument("shard index must be in [0, " + std::to_string(count) + "), got " +
                                std::to_string(index));
  }
}

}  // namespace

std::map<std::string, int> ShardAssignment(const Config& config, int count) {
  CheckShard(0, count);
  std::map<std::string, int> shards;
  for (const auto& [target, key] : PlacementKeys(config)) shards[target] = ShardOfKey(key, count);
  return shards;
}

Config ShardConfig(const Config& config, int index, int count) {
  CheckShard(index, count);
  if (count == 1) return config;
  const std::map<std::string, int> shards = ShardAssignment(config, count);
  Config shard = config;
  shard.targets.clear();
  for (const auto& target : config.targets) {
    if (shards.at(target.name) == index) shard.targets.push_back(target);
  }
  // A group's members share one shard; a group whose members are not here is not here either.
  shard.groups.clear();
  for (const auto& group : config.groups) {
    const bool here = std::any_of(group.targets.begin(), group.targets.end(), [&](const std::string& member) {
      const auto found = shards.find(member);
      return found != shards.end() && found->second == index;
    });
    if (here) shard.groups.push_back(group);
  }
  return shard;
}

std::optional<int> ParseShardIndex(std::string_view text) {
  const auto dash = text.rfind('-');
  const std::string_view digits = dash == std::string_view::npos ? text : text.substr(dash + 1);
  if (digits.empty() || digits.size() > 9 || (dash != std::string_view::npos && dash == 0)) return std::nullopt;
  int value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

}  // namespace llm_probe
