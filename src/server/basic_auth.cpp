#include "basic_auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <thread>
#include <stdexcept>

#include "llm_probe/text.h"

namespace llm_probe::internal {
namespace {

constexpr std::size_t kBcryptHashLength = 60;
using std::chrono::nanoseconds;

constexpr std::size_t kMaxCachedVerdicts = 1024;
// A cheap check slowed by a busy machine must not turn into a long wait: cost 14 takes ~1.5 s.
constexpr std::chrono::nanoseconds kMostPadding = std::chrono::seconds(2);

int BcryptCost(std::string_view hash) { return (hash[4] - '0') * 10 + (hash[5] - '0'); }

bool IsBcryptChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '/'; }

std::optional<std::string> DecodeBase64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(text.data()),
                                     static_cast<int>(text.size()));
  if (length < 0) return std::nullopt;
  // EVP_DecodeBlock decodes the '=' padding as zero bytes.
  const auto padding = static_cast<std::size_t>(std::count(text.end() - 2, text.end(), '='));
  out.resize(static_cast<std::size_t>(length) - padding);
  return out;
}

std::optional<std::pair<std::string, std::string>> ParseBasicCredentials(std::string_view authorization) {
  constexpr std::string_view kScheme = "basic ";
  if (authorization.size() <= kScheme.size() || !StartsWithIgnoringCase(authorization, kScheme)) {
    return std::nullopt;
  }
  const auto decoded = DecodeBase64(authorization.substr(kScheme.size()));
  if (!decoded) return std::nullopt;
  const auto colon = decoded->find(':');
  // crypt() reads a C string: a NUL would cut the password short and let a prefix in.
  if (colon == std::string::npos || decoded->find('\0') != std::string::npos) return std::nullopt;
  return std::make_pair(decoded->substr(0, colon), decoded->substr(colon + 1));
}

}  // namespace

bool IsBcryptHash(std::string_view hash) {
  if (hash.size() != kBcryptHashLength || hash[0] != '$' || hash[1] != '2' || hash[3] != '$' ||
      hash[6] != '$') {
    return false;
  }
  if (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') return false;
  if (!std::isdigit(static_cast<unsigned char>(hash[4])) || !std::isdigit(static_cast<unsigned char>(hash[5]))) {
    return false;
  }
  const int cost = BcryptCost(hash);
  if (cost < 4 || cost > 31) return false;
  return std::all_of(hash.begin() + 7, hash.end(), IsBcryptChar);
}

std::chrono::nanoseconds PaddedFailure(std::chrono::nanoseconds elapsed, int cost, int highest_cost) {
  const int doublings = std::clamp(highest_cost - cost, 0, 30);
  return elapsed * (std::int64_t{1} << doublings);
}

void BasicAuth::DefaultWait(std::chrono::nanoseconds duration) { std::this_thread::sleep_for(duration); }

void BasicAuth::KeySet::Add(const std::string& key) {
  if (!keys.insert(key).second) return;
  order.push_back(key);
  if (order.size() > kMaxCachedVerdicts) {
    keys.erase(order.front());
    order.pop_front();
  }
}

BasicAuth::BasicAuth(std::map<std::string, std::string> users, std::function<void(std::chrono::nanoseconds)> wait)
    : users_(std::move(users)), wait_(std::move(wait)), crypt_scratch_(std::make_unique<crypt_data>()) {
  for (const auto& [user, hash] : users_) highest_cost_ = std::max(highest_cost_, BcryptCost(hash));
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(highest_cost_), nullptr, 0, setting, sizeof setting) ==
          nullptr ||
      RAND_bytes(cache_hmac_key_.data(), static_cast<int>(cache_hmac_key_.size())) != 1) {
    throw std::runtime_error("cannot initialise basic auth: no random source");
  }
  decoy_setting_ = setting;
}

BasicAuth::~BasicAuth() = default;

BasicAuth::Verdict BasicAuth::Check(std::string_view authorization, const std::string& remote_address) {
  const auto credentials = ParseBasicCredentials(authorization);
  return credentials ? Verify(credentials->first, credentials->second, remote_address) : kDenied;
}

std::string BasicAuth::CacheKey(const std::string& user, const std::string& password) const {
  // The user's length first, so no other user/password split gives the same message.
  const std::string message = std::to_string(user.size()) + ":" + user + password;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), cache_hmac_key_.data(), static_cast<int>(cache_hmac_key_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

BasicAuth::Verdict BasicAuth::Verify(const std::string& user, const std::string& password,
                                     const std::string& remote_address) {
  const std::string key = CacheKey(user, password);
  {
    std::lock_guard lock(cache_mutex_);
    if (allowed_.Contains(key)) return kAllowed;
    if (denied_.Contains(key)) return kDenied;
    if (!checking_.insert(remote_address).second) return kBusy;
  }
  const auto found = users_.find(user);
  const std::string& expected = found != users_.end() ? found->second : decoy_setting_;
  bool allowed = false;
  nanoseconds elapsed{};
  {
    std::lock_guard lock(bcrypt_mutex_);
    const auto start = std::chrono::steady_clock::now();
    const char* computed = crypt_rn(password.c_str(), expected.c_str(), crypt_scratch_.get(),
                                    static_cast<int>(sizeof(crypt_data)));
    allowed = computed != nullptr && found != users_.end() && std::string_view(computed).size() == expected.size() &&
              CRYPTO_memcmp(computed, expected.data(), expected.size()) == 0;
    elapsed = std::chrono::steady_clock::now() - start;
  }
  const int cost = BcryptCost(expected);
  nanoseconds padded = PaddedFailure(elapsed, cost, highest_cost_);
  {
    std::lock_guard lock(cache_mutex_);
    // A check at the highest cost, timed, is the best estimate of one; bcrypt's time is not
    // exactly proportional to 2^cost at low costs.
    if (cost == highest_cost_) highest_cost_check_ = elapsed;
    if (highest_cost_check_ > nanoseconds::zero()) padded = std::max(elapsed, highest_cost_check_);
  }
  if (!allowed) {
    // Outside the bcrypt lock: the wait costs no CPU and holds back only this address.
    wait_(std::min(padded, kMostPadding) - elapsed);
  }
  std::lock_guard lock(cache_mutex_);
  checking_.erase(remote_address);
  (allowed ? allowed_ : denied_).Add(key);
  return allowed ? kAllowed : kDenied;
}

}  // namespace llm_probe::internal
