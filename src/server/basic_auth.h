// Internal to the server module: HTTP basic auth against bcrypt hashes (basic_auth_users).
#pragma once

#include <array>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

struct crypt_data;

namespace llm_probe::internal {

// "$2a$", "$2b$" or "$2y$", a two-digit cost of 04..31, then 53 characters of salt and hash.
bool IsBcryptHash(std::string_view hash);

class BasicAuth {
 public:
  // `users` maps a user name to its bcrypt hash; every hash must pass IsBcryptHash.
  explicit BasicAuth(std::map<std::string, std::string> users);
  ~BasicAuth();
  BasicAuth(const BasicAuth&) = delete;
  BasicAuth& operator=(const BasicAuth&) = delete;

  // Whether an Authorization header value carries a configured user and its password.
  bool Allows(std::string_view authorization);

 private:
  bool Verify(const std::string& user, const std::string& password);
  std::string CacheKey(const std::string& user, const std::string& password) const;

  std::map<std::string, std::string> users_;
  // An unknown user is checked against this bcrypt setting, at the highest configured cost, so
  // the time to answer does not tell which users exist.
  std::string decoy_setting_;

  // bcrypt is slow on purpose; a scraper sends the same credentials every few seconds, so each
  // verdict is kept, keyed by an HMAC under a per-process random key: the cache holds no
  // password, and its keys are worthless outside this process.
  std::array<unsigned char, 32> cache_hmac_key_{};
  std::mutex cache_mutex_;
  std::unordered_map<std::string, bool> verdicts_;
  std::deque<std::string> verdict_order_;  // oldest first, to bound the cache

  // One bcrypt at a time: a flood of wrong passwords then costs one core, not all of them.
  std::mutex bcrypt_mutex_;
  std::unique_ptr<crypt_data> crypt_scratch_;
};

}  // namespace llm_probe::internal
