#include "llm_probe/snapshot.h"

#include <gtest/gtest.h>

namespace llm_probe {
namespace {

// Three members of one group, one probe each, fed results with chosen classes and durations.
class GroupOrderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = std::make_shared<Config>();
    for (const char* name : {"fast-flaky", "slow-steady", "slower-steady"}) {
      TargetConfig target;
      target.name = name;
      ProbeConfig chat;
      chat.name = "chat";
      chat.type = ProbeType::kChat;
      target.probes = {chat};
      config_->targets.push_back(target);
    }
    config_->groups = {{"chat", {"fast-flaky", "slow-steady", "slower-steady"}}};
  }

  // `pattern`: one character per result, 'u' UP and 'x' a timeout, each taking `seconds`.
  std::shared_ptr<const ProbeSnapshot> Probe(std::size_t target, const std::string& pattern, double seconds) {
    auto snapshot = std::make_shared<ProbeSnapshot>(HealthPolicy{3, 1, 100});
    snapshot->config = config_;
    snapshot->target = &config_->targets[target];
    snapshot->probe = &config_->targets[target].probes[0];
    double now = 0;
    for (char result : pattern) {
      snapshot->health.Record(result == 'u' ? ResultClass::kUp : ResultClass::kTimeout, ++now, seconds);
    }
    return snapshot;
  }

  std::vector<std::string> Order(std::vector<std::shared_ptr<const ProbeSnapshot>> probes) {
    SnapshotStore store;
    store.Reset(config_, std::move(probes));
    const auto groups = ComputeGroupHealth(store.Read());
    return groups.at(0).healthy_members;
  }

  std::shared_ptr<Config> config_;
};

// The demo's situation: a relay failing one probe in five stays healthy (never three failures in
// a row) and answers fastest, yet the two that never fail come first.
TEST_F(GroupOrderTest, AFastFlakyMemberRanksAfterSlowerSteadyOnes) {
  const std::string one_in_five = "uuuuxuuuuxuuuuxuuuux";
  EXPECT_EQ(Order({Probe(0, one_in_five, 0.2), Probe(1, std::string(20, 'u'), 0.9), Probe(2, std::string(20, 'u'), 1.5)}),
            (std::vector<std::string>{"slow-steady", "slower-steady", "fast-flaky"}));
}

TEST_F(GroupOrderTest, EquallySteadyMembersRankByMedianLatency) {
  EXPECT_EQ(Order({Probe(0, "uuuu", 0.2), Probe(1, "uuuu", 0.9), Probe(2, "uuuu", 0.5)}),
            (std::vector<std::string>{"fast-flaky", "slower-steady", "slow-steady"}));
}

TEST_F(GroupOrderTest, UnhealthyMembersAreLeftOutAndUnprovenOnesComeLast) {
  EXPECT_EQ(Order({Probe(0, "uxxx", 0.2), Probe(1, "", 0), Probe(2, "uuux", 1.5)}),
            (std::vector<std::string>{"slower-steady", "slow-steady"}));
}

}  // namespace
}  // namespace llm_probe
