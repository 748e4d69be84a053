// Basic auth against bcrypt hashes: good verdicts that no flood of wrong passwords evicts, one
// check at a time per client address, and failures padded to the costliest check so that their
// timing does not tell which users exist (issue 17, item 4).
#include "basic_auth.h"

#include <crypt.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <atomic>
#include <future>
#include <thread>

namespace llm_probe::internal {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

std::string Hash(const std::string& password, int cost) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), nullptr, 0, setting, sizeof setting);
  crypt_data scratch{};
  return crypt_rn(password.c_str(), setting, &scratch, sizeof scratch);
}

std::string Header(const std::string& user, const std::string& password) {
  const std::string credentials = user + ":" + password;
  std::string encoded(4 * ((credentials.size() + 2) / 3) + 1, '\0');
  encoded.resize(static_cast<std::size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                                          reinterpret_cast<const unsigned char*>(credentials.data()),
                                                          static_cast<int>(credentials.size()))));
  return "Basic " + encoded;
}

TEST(PaddedFailureTest, ScalesACheckToTheHighestCost) {
  EXPECT_EQ(PaddedFailure(milliseconds(1), 4, 10), milliseconds(64));
  EXPECT_EQ(PaddedFailure(milliseconds(300), 12, 12), milliseconds(300));
  EXPECT_EQ(PaddedFailure(milliseconds(5), 12, 10), milliseconds(5)) << "never shorter than the check";
}

TEST(BasicAuthTest, UnknownUsersAndCheapUsersFailAfterTheSameWork) {
  std::vector<nanoseconds> waits;
  BasicAuth auth({{"cheap", Hash("a", 4)}, {"dear", Hash("b", 8)}}, [&](nanoseconds wait) { waits.push_back(wait); });
  EXPECT_EQ(auth.Check(Header("nobody", "x"), "10.0.0.1"), BasicAuth::kDenied);
  EXPECT_EQ(auth.Check(Header("cheap", "x"), "10.0.0.1"), BasicAuth::kDenied);
  EXPECT_EQ(auth.Check(Header("dear", "x"), "10.0.0.1"), BasicAuth::kDenied);
  ASSERT_EQ(waits.size(), 3u);
  EXPECT_EQ(waits[0], nanoseconds(0)) << "an unknown user is checked at the highest cost already";
  EXPECT_GT(waits[1], nanoseconds(0)) << "a cost-4 failure waits for the 15 doublings it skipped";
  EXPECT_EQ(waits[2], nanoseconds(0));
  EXPECT_EQ(auth.Check(Header("cheap", "a"), "10.0.0.1"), BasicAuth::kAllowed);
  EXPECT_EQ(waits.size(), 3u) << "a success is not padded";
}

TEST(BasicAuthTest, WrongPasswordsNeverEvictAGoodVerdict) {
  BasicAuth auth({{"prometheus", Hash("right", 4)}}, [](nanoseconds) {});
  ASSERT_EQ(auth.Check(Header("prometheus", "right"), "10.0.0.1"), BasicAuth::kAllowed);
  // More wrong passwords than the caches hold.
  for (int i = 0; i < 1100; ++i) {
    ASSERT_EQ(auth.Check(Header("prometheus", "wrong" + std::to_string(i)), "10.0.0.2"), BasicAuth::kDenied);
  }

  // Hold one failed check of 10.0.0.1 in its padding; a cached verdict needs no check, so the
  // good credentials still pass from that address, while an uncached login there is told to wait.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> held{false};
  std::atomic<bool> first{false};
  BasicAuth held_auth({{"prometheus", Hash("right", 4)}}, [&](nanoseconds) {
    if (!first.exchange(false)) return;
    held = true;
    released.wait();
  });
  ASSERT_EQ(held_auth.Check(Header("prometheus", "right"), "10.0.0.1"), BasicAuth::kAllowed);
  for (int i = 0; i < 1100; ++i) held_auth.Check(Header("prometheus", "w" + std::to_string(i)), "10.0.0.9");
  first = true;
  auto blocked = std::async(std::launch::async, [&] { return held_auth.Check(Header("prometheus", "guess"), "10.0.0.1"); });
  while (!held) std::this_thread::yield();
  EXPECT_EQ(held_auth.Check(Header("prometheus", "right"), "10.0.0.1"), BasicAuth::kAllowed);
  EXPECT_EQ(held_auth.Check(Header("prometheus", "other-guess"), "10.0.0.1"), BasicAuth::kBusy);
  EXPECT_EQ(held_auth.Check(Header("prometheus", "other-guess"), "10.0.0.2"), BasicAuth::kDenied)
      << "another address is not held back";
  release.set_value();
  EXPECT_EQ(blocked.get(), BasicAuth::kDenied);
  EXPECT_EQ(held_auth.Check(Header("prometheus", "other-guess"), "10.0.0.1"), BasicAuth::kDenied);
}

TEST(BasicAuthTest, MalformedHeadersAreDeniedWithoutACheck) {
  std::atomic<int> waits{0};
  BasicAuth auth({{"prometheus", Hash("right", 4)}}, [&](nanoseconds) { ++waits; });
  for (const char* header : {"", "Bearer abc", "Basic !!!", "Basic cHJvbWV0aGV1cw=="}) {
    EXPECT_EQ(auth.Check(header, "10.0.0.1"), BasicAuth::kDenied) << header;
  }
  EXPECT_EQ(waits, 0);
}

}  // namespace
}  // namespace llm_probe::internal
