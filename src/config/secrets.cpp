#include "secrets.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "llm_probe/config_files.h"
#include "llm_probe/text.h"

namespace llm_probe::config_detail {
namespace {

// RFC 9110 token characters.
bool IsHeaderName(std::string_view name) {
  constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  const auto is_token = [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || kSymbols.find(c) != kSymbols.npos;
  };
  return !name.empty() && std::all_of(name.begin(), name.end(), is_token);
}

bool IsControl(char c) { return std::iscntrl(static_cast<unsigned char>(c)) != 0; }

// `usage` says what needs the variable, e.g. `api_key_env of target "holysheep"`.
std::string RequireEnv(const Source& source, const YAML::Mark& mark, const EnvLookup& env,
                       const std::string& name, const std::string& usage) {
  std::optional<std::string> value = env(name);
  if (!value) {
    source.Fail(mark, "environment variable " + name + " (" + usage + ") is not set");
  }
  return std::move(*value);
}

std::string KeyFromEnvironment(const Source& source, const MappingEntry& entry,
                               const std::string& target_name, const EnvLookup& env) {
  const std::string name = Convert<std::string>(source, entry.value, Quote(entry.key));
  // Not quoted back: a value that is no variable name may well be the key pasted in by mistake.
  if (!IsIdentifier(name)) {
    source.Fail(entry.value.mark,
                Quote(entry.key) + " must name an environment variable ([A-Za-z_][A-Za-z0-9_]*), "
                "not hold the key");
  }
  // A valid name is shown only in POSIX's form for environment variables (upper case, digits,
  // underscores): a key of letters, digits and underscores pasted here is a valid name too.
  const bool conventional = std::none_of(name.begin(), name.end(), [](char c) { return c >= 'a' && c <= 'z'; });
  const std::string variable =
      conventional ? "environment variable " + name + " (" + entry.key + " of target " + Quote(target_name) + ")"
                   : "the environment variable that " + entry.key + " of target " + Quote(target_name) + " names";
  std::optional<std::string> key = env(name);
  if (!key) source.Fail(entry.value.mark, variable + " is not set");
  if (key->empty()) source.Fail(entry.value.mark, variable + " is empty");
  return std::move(*key);
}

std::string KeyFromFile(const Source& source, const MappingEntry& entry,
                        const std::string& target_name) {
  const std::filesystem::path path =
      ResolveRelativeTo(source.file(), Convert<std::string>(source, entry.value, Quote(entry.key)));
  // The path is not quoted back: it may be the key pasted in by mistake.
  const std::string description = "the " + entry.key + " of target " + Quote(target_name);
  auto content = ReadFile(path, kMaxKeyFileBytes);
  if (const auto* error = std::get_if<FileError>(&content)) {
    source.Fail(entry.value.mark, "cannot read " + description + ": " + error->reason);
  }
  std::string key = std::move(std::get<FileContent>(content).bytes);
  // Editors and `echo` end files with a newline that is not part of the key.
  while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
  if (key.empty()) source.Fail(entry.value.mark, description + " is empty");
  return key;
}

// Each expansion is added to `expansions`: a value that came from the environment is a secret,
// whatever the header's name.
std::string ExpandEnvReferences(const Source& source, const MappingEntry& header,
                                const std::string& raw, const std::string& target_name,
                                const EnvLookup& env, std::vector<std::string>& expansions) {
  std::string expanded;
  std::size_t position = 0;
  for (std::size_t start; (start = raw.find("${", position)) != std::string::npos;) {
    expanded.append(raw, position, start - position);
    const std::size_t end = raw.find('}', start + 2);
    const std::string name =
        end == std::string::npos ? std::string() : raw.substr(start + 2, end - start - 2);
    if (!IsIdentifier(name)) {
      source.Fail(header.value.mark, "malformed ${...} in header " + Quote(header.key) +
                                         " (expected ${NAME}, NAME like [A-Za-z_][A-Za-z0-9_]*)");
    }
    expansions.push_back(RequireEnv(source, header.value.mark, env, name,
                                    "header " + Quote(header.key) + " of target " + Quote(target_name)));
    expanded += expansions.back();
    position = end + 1;
  }
  expanded.append(raw, position);
  return expanded;
}

bool HasSpaceOrControl(std::string_view key) {
  return std::any_of(key.begin(), key.end(), [](char c) { return c == ' ' || IsControl(c); });
}

// One key of an aws block from <name>_env or <name>_file; empty when it has neither and the key
// is optional.
std::string AwsKey(const StrictMapping& aws, const std::string& name, bool required, const std::string& target_name,
                   const EnvLookup& env, std::vector<std::string>& key_files) {
  const Source& source = aws.source();
  const MappingEntry* from_env = aws.Find(name + "_env");
  const MappingEntry* from_file = aws.Find(name + "_file");
  if (from_env != nullptr && from_file != nullptr) {
    const MappingEntry* second = from_env->key_mark.pos > from_file->key_mark.pos ? from_env : from_file;
    source.Fail(second->key_mark, name + "_env and " + name + "_file are mutually exclusive");
  }
  const MappingEntry* origin = from_env != nullptr ? from_env : from_file;
  if (origin == nullptr) {
    if (required) {
      source.Fail(aws.mark(), "\"aws\" of target " + Quote(target_name) + " needs " + name + "_env or " + name + "_file");
    }
    return {};
  }
  std::string key = from_env != nullptr ? KeyFromEnvironment(source, *from_env, target_name, env)
                                        : KeyFromFile(source, *from_file, target_name);
  if (from_file != nullptr) {
    key_files.push_back(ResolveRelativeTo(source.file(), aws.ConvertEntry<std::string>(*from_file)).string());
  }
  // It is signed and sent in headers as is.
  if (HasSpaceOrControl(key)) {
    source.Fail(origin->value.mark, name + " of target " + Quote(target_name) + " contains whitespace or control characters");
  }
  return key;
}

}  // namespace

AwsConfig ResolveAwsConfig(const StrictMapping& aws, const std::string& target_name, const EnvLookup& env) {
  AwsConfig config;
  const MappingEntry& region = aws.Require("region");
  config.region = aws.NonEmptyString(region);
  // It names the signature's scope and is part of no URL the loader could check it against.
  if (!std::all_of(config.region.begin(), config.region.end(),
                   [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; })) {
    aws.source().Fail(region.value.mark, "\"region\" must be an AWS region name such as us-east-1");
  }
  config.access_key_id = AwsKey(aws, "access_key_id", true, target_name, env, config.key_files);
  config.secret_access_key = AwsKey(aws, "secret_access_key", true, target_name, env, config.key_files);
  config.session_token = AwsKey(aws, "session_token", false, target_name, env, config.key_files);
  return config;
}

std::string ResolveApiKey(const StrictMapping& target, const std::string& target_name,
                          const EnvLookup& env) {
  const Source& source = target.source();
  const MappingEntry* from_env = target.Find("api_key_env");
  const MappingEntry* from_file = target.Find("api_key_file");
  const MappingEntry* prefix = target.Find("api_key_prefix");
  if (from_env != nullptr && from_file != nullptr) {
    const MappingEntry* second =
        from_env->key_mark.pos > from_file->key_mark.pos ? from_env : from_file;
    source.Fail(second->key_mark, "api_key_env and api_key_file are mutually exclusive");
  }
  const MappingEntry* origin = from_env != nullptr ? from_env : from_file;
  if (origin == nullptr) {
    if (prefix != nullptr) {
      source.Fail(prefix->key_mark, "api_key_prefix needs api_key_env or api_key_file");
    }
    return {};
  }

  const std::string key = from_env != nullptr
                              ? KeyFromEnvironment(source, *from_env, target_name, env)
                              : KeyFromFile(source, *from_file, target_name);
  // It goes into a header as is; a space or line break inside means a damaged secret.
  if (HasSpaceOrControl(key)) {
    source.Fail(origin->value.mark, "API key of target " + Quote(target_name) +
                                        " contains whitespace or control characters");
  }
  if (prefix != nullptr) {
    const std::string expected = target.ConvertEntry<std::string>(*prefix);
    if (!key.starts_with(expected)) {
      source.Fail(prefix->value.mark, "API key of target " + Quote(target_name) +
                                          " does not start with api_key_prefix " + Quote(expected));
    }
  }
  return key;
}

std::map<std::string, std::string> ParseHeaders(const Source& source, const MappingEntry& headers,
                                                const std::string& target_name,
                                                const EnvLookup& env,
                                                std::vector<std::string>& expansions) {
  std::map<std::string, std::string> parsed;
  std::map<std::string, std::string> names_by_lowercase;
  for (const MappingEntry& header : ReadEntries(source, headers.value, Quote(headers.key))) {
    // Not quoted back: a header line pasted as a name ("Authorization Bearer sk-...") holds the key.
    if (!IsHeaderName(header.key)) {
      source.Fail(header.key_mark, "invalid header name in \"headers\" (letters, digits and !#$%&'*+-.^_`|~ only)");
    }
    const auto [same_name, inserted] =
        names_by_lowercase.emplace(AsciiLower(header.key), header.key);
    if (!inserted) {
      source.Fail(header.key_mark, "header " + Quote(header.key) + " repeats " +
                                       Quote(same_name->second) +
                                       " (header names are case-insensitive)");
    }
    const std::string raw =
        Convert<std::string>(source, header.value, "header " + Quote(header.key));
    std::string value = ExpandEnvReferences(source, header, raw, target_name, env, expansions);
    // A line break would smuggle in another header. The value is not shown: it may be secret.
    if (std::any_of(value.begin(), value.end(), [](char c) { return c != '\t' && IsControl(c); })) {
      source.Fail(header.value.mark,
                  "value of header " + Quote(header.key) + " contains a control character");
    }
    parsed.emplace(header.key, std::move(value));
  }
  return parsed;
}

bool IsSecretHeaderName(std::string_view name) {
  // "auth" covers Authorization, Proxy-Authorization and X-Auth-Token alike.
  static constexpr std::array<std::string_view, 6> kSecretWords = {"auth",  "cookie", "key",
                                                                   "token", "secret", "password"};
  const std::string lower = AsciiLower(name);
  return std::any_of(kSecretWords.begin(), kSecretWords.end(),
                     [&](std::string_view word) { return lower.find(word) != std::string::npos; });
}

}  // namespace llm_probe::config_detail

namespace llm_probe {
namespace {

// The password in "scheme://user:password@host/...", empty when there is none.
std::string_view UrlPassword(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  std::string_view authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  const std::size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return {};
  const std::string_view user_info = authority.substr(0, at);
  const std::size_t colon = user_info.find(':');
  return colon == std::string_view::npos ? std::string_view{} : user_info.substr(colon + 1);
}

void AddSecrets(const TargetConfig& target, std::vector<std::string>& secrets) {
  const auto add = [&](std::string_view secret) {
    if (!secret.empty()) secrets.emplace_back(secret);
  };
  add(target.api_key);
  add(target.aws.secret_access_key);
  add(target.aws.session_token);
  for (const auto& [name, value] : target.headers) {
    if (config_detail::IsSecretHeaderName(name)) add(value);
  }
  for (const std::string& expansion : target.header_expansions) add(expansion);
  add(UrlPassword(target.base_url));
  add(UrlPassword(target.proxy_url));
}

}  // namespace

std::vector<std::string> TargetSecrets(const TargetConfig& target) {
  std::vector<std::string> secrets;
  AddSecrets(target, secrets);
  return secrets;
}

std::vector<std::string> Config::Secrets() const {
  std::vector<std::string> secrets;
  for (const TargetConfig& target : targets) AddSecrets(target, secrets);
  for (const std::string& secret : retired_secrets) {
    if (!secret.empty()) secrets.push_back(secret);
  }
  // Each once; the Redactor orders them for replacing (llm_probe/redact.h).
  std::sort(secrets.begin(), secrets.end());
  secrets.erase(std::unique(secrets.begin(), secrets.end()), secrets.end());
  return secrets;
}

}  // namespace llm_probe
