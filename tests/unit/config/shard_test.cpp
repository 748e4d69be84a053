// ShardConfig: shards partition the probes exactly, keep failover groups whole, and place every
// target the same way on every run (the hash is pinned below).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <string>

#include "llm_probe/config.h"

namespace llm_probe {
namespace {

using ::testing::ElementsAre;

Config ManyTargets(int targets, int probes_per_target = 2) {
  Config config;
  config.file = "shard.yml";
  config.checksum = "abc";
  config.global.external_labels = {{"region", "eu-west"}};
  for (int t = 0; t < targets; ++t) {
    TargetConfig target;
    target.name = "target-" + std::to_string(t);
    target.api_key = "sk-" + std::to_string(t);
    for (int p = 0; p < probes_per_target; ++p) {
      ProbeConfig probe;
      probe.name = "probe-" + std::to_string(p);
      probe.type = p == 0 ? ProbeType::kModels : ProbeType::kChat;
      target.probes.push_back(probe);
    }
    config.targets.push_back(target);
  }
  return config;
}

std::set<std::pair<std::string, std::string>> ProbesOf(const Config& config) {
  std::set<std::pair<std::string, std::string>> probes;
  for (const auto& target : config.targets) {
    for (const auto& probe : target.probes) probes.emplace(target.name, probe.name);
  }
  return probes;
}

std::vector<std::string> TargetNames(const Config& config) {
  std::vector<std::string> names;
  for (const auto& target : config.targets) names.push_back(target.name);
  return names;
}

std::vector<std::string> GroupNames(const Config& config) {
  std::vector<std::string> names;
  for (const auto& group : config.groups) names.push_back(group.name);
  return names;
}

TEST(ShardTest, ShardsPartitionTheProbesExactly) {
  const Config config = ManyTargets(1000);
  const auto all = ProbesOf(config);
  for (int count : {1, 2, 3, 5, 16}) {
    std::map<std::pair<std::string, std::string>, int> seen;
    for (int index = 0; index < count; ++index) {
      const Config shard = ShardConfig(config, index, count);
      for (const auto& probe : ProbesOf(shard)) ++seen[probe];
      if (count <= 5) {
        EXPECT_FALSE(shard.targets.empty()) << index << "/" << count;
      }
    }
    ASSERT_EQ(seen.size(), all.size()) << "count " << count;
    for (const auto& [probe, times] : seen) {
      EXPECT_EQ(times, 1) << probe.first << "/" << probe.second << " with count " << count;
      EXPECT_TRUE(all.count(probe));
    }
  }
}

TEST(ShardTest, AllProbesOfATargetStayTogether) {
  const Config config = ManyTargets(200, 4);
  for (int index = 0; index < 3; ++index) {
    for (const auto& target : ShardConfig(config, index, 3).targets) EXPECT_EQ(target.probes.size(), 4u);
  }
}

TEST(ShardTest, ShardsAreBalanced) {
  const Config config = ManyTargets(4000, 1);
  for (int count : {2, 4, 7}) {
    const double mean = 4000.0 / count;
    for (int index = 0; index < count; ++index) {
      const double size = static_cast<double>(ShardConfig(config, index, count).targets.size());
      EXPECT_NEAR(size, mean, mean * 0.15) << index << "/" << count;
    }
  }
}

TEST(ShardTest, OneShardIsTheWholeConfig) {
  const Config config = ManyTargets(10);
  const Config shard = ShardConfig(config, 0, 1);
  EXPECT_EQ(TargetNames(shard), TargetNames(config));
}

TEST(ShardTest, KeepsConfigOrderAndEverythingElse) {
  Config config = ManyTargets(50);
  config.pricing["gpt-4o"] = {2.5, 10};
  const Config shard = ShardConfig(config, 1, 3);
  std::vector<std::string> expected;
  const auto assignment = ShardAssignment(config, 3);
  for (const auto& target : config.targets) {
    if (assignment.at(target.name) == 1) expected.push_back(target.name);
  }
  EXPECT_EQ(TargetNames(shard), expected);
  EXPECT_EQ(shard.global.external_labels, config.global.external_labels);
  EXPECT_EQ(shard.pricing.size(), 1u);
  EXPECT_EQ(shard.file, config.file);
  EXPECT_EQ(shard.checksum, config.checksum);
  // Only this shard's keys: the others' secrets are not needed here.
  for (const auto& secret : shard.Secrets()) {
    EXPECT_TRUE(std::any_of(shard.targets.begin(), shard.targets.end(),
                            [&](const TargetConfig& t) { return t.api_key == secret; }));
  }
}

// The placement is part of the deployment contract: pinned (the values were checked against an
// independent Python implementation of FNV-1a and the splitmix64 rendezvous), so a change of the
// hash or of the mixing fails here instead of silently moving targets to other replicas.
TEST(ShardTest, StableAcrossRunsAndVersions) {
  // Fnv1a64 itself is pinned in tests/unit/core/text_test.cpp.
  const Config config = ManyTargets(12, 1);
  const auto first = ShardAssignment(config, 3);
  EXPECT_EQ(ShardAssignment(config, 3), first);
  std::vector<int> shards;
  for (const auto& target : config.targets) shards.push_back(first.at(target.name));
  EXPECT_EQ(shards, (std::vector<int>{0, 2, 1, 0, 2, 2, 1, 0, 0, 1, 1, 1}));
}

TEST(ShardTest, PlacementDoesNotDependOnTheOtherTargets) {
  const Config config = ManyTargets(300, 1);
  const auto full = ShardAssignment(config, 4);
  Config fewer = config;
  fewer.targets.erase(fewer.targets.begin(), fewer.targets.begin() + 100);
  std::reverse(fewer.targets.begin(), fewer.targets.end());
  for (const auto& [target, shard] : ShardAssignment(fewer, 4)) EXPECT_EQ(shard, full.at(target)) << target;
}

TEST(ShardTest, AddingAShardMovesOnlyTargetsToTheNewShard) {
  const Config config = ManyTargets(2000, 1);
  const auto four = ShardAssignment(config, 4);
  const auto five = ShardAssignment(config, 5);
  int moved = 0;
  for (const auto& [target, shard] : four) {
    if (five.at(target) != shard) {
      EXPECT_EQ(five.at(target), 4) << target;
      ++moved;
    }
  }
  EXPECT_NEAR(moved, 2000 / 5, 2000 / 5 * 0.25);
}

TEST(ShardTest, FailoverGroupsAreNeverSplit) {
  Config config = ManyTargets(60, 1);
  config.groups = {{"chat-primary", {"target-1", "target-7", "target-30"}},
                   {"embed", {"target-2", "target-3"}},
                   // shares target-3 with "embed": both groups travel together
                   {"aaa-overlap", {"target-3", "target-40"}},
                   {"solo", {"target-50"}}};
  for (int count : {2, 3, 8}) {
    const auto assignment = ShardAssignment(config, count);
    EXPECT_EQ(assignment.at("target-1"), assignment.at("target-7"));
    EXPECT_EQ(assignment.at("target-1"), assignment.at("target-30"));
    EXPECT_EQ(assignment.at("target-2"), assignment.at("target-3"));
    EXPECT_EQ(assignment.at("target-3"), assignment.at("target-40"));
    std::map<std::string, int> group_copies;
    std::set<std::string> targets_seen;
    for (int index = 0; index < count; ++index) {
      const Config shard = ShardConfig(config, index, count);
      std::set<std::string> here;
      for (const auto& target : shard.targets) {
        here.insert(target.name);
        targets_seen.insert(target.name);
      }
      for (const auto& group : shard.groups) {
        ++group_copies[group.name];
        for (const auto& member : group.targets) EXPECT_TRUE(here.count(member)) << group.name << " " << member;
      }
    }
    EXPECT_EQ(targets_seen.size(), 60u);
    for (const auto& group : config.groups) EXPECT_EQ(group_copies[group.name], 1) << group.name;
  }
}

TEST(ShardTest, GroupPlacementFollowsTheGroupName) {
  Config config = ManyTargets(4, 1);
  config.groups = {{"g", {"target-0", "target-1", "target-2", "target-3"}}};
  Config renamed_members = config;
  for (auto& target : renamed_members.targets) target.name += "-x";
  for (auto& member : renamed_members.groups[0].targets) member += "-x";
  for (int count : {2, 5, 9}) {
    const int shard = ShardAssignment(config, count).at("target-0");
    for (const auto& [target, placed] : ShardAssignment(renamed_members, count)) EXPECT_EQ(placed, shard);
  }
}

TEST(ShardTest, GroupsOfOtherShardsAreDropped) {
  Config config = ManyTargets(40, 1);
  config.groups = {{"one", {"target-0"}}, {"two", {"target-1"}}};
  std::vector<std::string> all_groups;
  for (int index = 0; index < 4; ++index) {
    for (const auto& name : GroupNames(ShardConfig(config, index, 4))) all_groups.push_back(name);
  }
  std::sort(all_groups.begin(), all_groups.end());
  EXPECT_THAT(all_groups, ElementsAre("one", "two"));
}

TEST(ShardTest, RejectsABadIndexOrCount) {
  const Config config = ManyTargets(3);
  EXPECT_THROW(ShardConfig(config, 0, 0), std::invalid_argument);
  EXPECT_THROW(ShardConfig(config, -1, 2), std::invalid_argument);
  EXPECT_THROW(ShardConfig(config, 2, 2), std::invalid_argument);
  EXPECT_THROW(ShardAssignment(config, 0), std::invalid_argument);
}

TEST(ShardTest, AnEmptyShardIsValid) {
  const Config config = ManyTargets(1);
  int empty = 0;
  for (int index = 0; index < 8; ++index) empty += ShardConfig(config, index, 8).targets.empty();
  EXPECT_EQ(empty, 7);
}

TEST(ShardTest, ParsesTheIndexFromANumberOrAPodName) {
  EXPECT_EQ(ParseShardIndex("0"), 0);
  EXPECT_EQ(ParseShardIndex("12"), 12);
  EXPECT_EQ(ParseShardIndex("llm-probe-exporter-3"), 3);
  EXPECT_EQ(ParseShardIndex("web-0"), 0);
  EXPECT_EQ(ParseShardIndex(""), std::nullopt);
  EXPECT_EQ(ParseShardIndex("abc"), std::nullopt);
  EXPECT_EQ(ParseShardIndex("-1"), std::nullopt);
  EXPECT_EQ(ParseShardIndex("pod-"), std::nullopt);
  EXPECT_EQ(ParseShardIndex("3a"), std::nullopt);
  EXPECT_EQ(ParseShardIndex("+3"), std::nullopt);
  EXPECT_EQ(ParseShardIndex("99999999999"), std::nullopt);
}

}  // namespace
}  // namespace llm_probe
