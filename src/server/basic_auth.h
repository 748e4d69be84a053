// Internal to the server module: HTTP basic auth against bcrypt hashes (basic_auth_users).
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <set>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

struct crypt_data;

namespace llm_probe::internal {

// "$2a$", "$2b$" or "$2y$", a two-digit cost of 04..31, then 53 characters of salt and hash.
bool IsBcryptHash(std::string_view hash);

// How long a failed check is made to take: bcrypt's work doubles with each step of cost, so a
// check that took `elapsed` at `cost` takes about elapsed * 2^(highest_cost - cost) at the
// highest configured cost. Every failure answers after that (after the last timed check at the
// highest cost, once there is one), whether the user exists or not.
std::chrono::nanoseconds PaddedFailure(std::chrono::nanoseconds elapsed, int cost, int highest_cost);

class BasicAuth {
 public:
  enum Verdict {
    kAllowed,
    kDenied,
    kBusy,  // this address has a check running already: retry shortly (429)
  };

  // `users` maps a user name to its bcrypt hash; every hash must pass IsBcryptHash. `wait`
  // sleeps (replaced in tests).
  explicit BasicAuth(std::map<std::string, std::string> users,
                     std::function<void(std::chrono::nanoseconds)> wait = DefaultWait);
  ~BasicAuth();
  BasicAuth(const BasicAuth&) = delete;
  BasicAuth& operator=(const BasicAuth&) = delete;

  // Whether an Authorization header value carries a configured user and its password.
  // `remote_address` is the client's IP address.
  Verdict Check(std::string_view authorization, const std::string& remote_address);

 private:
  static void DefaultWait(std::chrono::nanoseconds duration);
  Verdict Verify(const std::string& user, const std::string& password, const std::string& remote_address);
  std::string CacheKey(const std::string& user, const std::string& password) const;

  // A bounded set of keys, oldest dropped first.
  struct KeySet {
    bool Contains(const std::string& key) const { return keys.count(key) != 0; }
    void Add(const std::string& key);
    std::unordered_set<std::string> keys;
    std::deque<std::string> order;
  };

  std::map<std::string, std::string> users_;
  // An unknown user is checked against this bcrypt setting, at the highest configured cost.
  std::string decoy_setting_;
  int highest_cost_ = 4;
  std::function<void(std::chrono::nanoseconds)> wait_;

  // bcrypt is slow on purpose; a scraper sends the same credentials every few seconds, so each
  // verdict is kept, keyed by an HMAC under a per-process random key: the caches hold no
  // password, and their keys are worthless outside this process. Good and bad verdicts are kept
  // apart, so no number of wrong passwords pushes Prometheus' good one out.
  std::array<unsigned char, 32> cache_hmac_key_{};
  std::mutex cache_mutex_;
  KeySet allowed_;
  KeySet denied_;
  // Addresses with a check running: one each, so a client opening many connections gets no
  // more bcrypt time than one, and a correct login from elsewhere waits behind at most one
  // check per other address.
  std::set<std::string> checking_;
  // How long the last check at the highest cost took; failures are padded to it.
  std::chrono::nanoseconds highest_cost_check_{};

  // One bcrypt at a time: a flood of wrong passwords then costs one core, not all of them.
  std::mutex bcrypt_mutex_;
  std::unique_ptr<crypt_data> crypt_scratch_;
};

}  // namespace llm_probe::internal
