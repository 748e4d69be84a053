// The config schema of DESIGN.md §2: one parser per section, each checking everything it can at
// load so that a mistake stops the exporter (or a reload) instead of failing probes later.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cstdio>
#include <regex>
#include <span>

#include "llm_probe/config_files.h"
#include "llm_probe/config.h"
#include "llm_probe/provider.h"
#include "llm_probe/text.h"
#include "reply_schema.h"
#include "secrets.h"
#include "llm_probe/yaml_reader.h"

namespace llm_probe {
namespace {

using config_detail::Convert;
using config_detail::Located;
using config_detail::MappingEntry;
using config_detail::Quote;
using config_detail::ReadEntries;
using config_detail::Source;
using config_detail::StrictMapping;

constexpr Duration kMinInterval = std::chrono::seconds(1);
constexpr Duration kMinTimeout{1};

// Prometheus' client default buckets end at 10s; model APIs are slower, so these go to 60s.
const std::vector<double> kDefaultDurationBuckets = {0.05, 0.1, 0.25, 0.5, 1, 2.5,
                                                     5,    10,  20,   30,  60};

// Labels the exporter sets itself; an external label of the same name would collide with them.
constexpr std::array<std::string_view, 15> kReservedLabelNames = {
    "target", "probe",     "model",  "status", "phase",   "kind",     "resource", "reason",
    "group",  "requested", "served", "le",     "version", "revision", "expected"};

constexpr std::array<std::string_view, 2> kTokenParams = {"max_tokens", "max_completion_tokens"};
constexpr std::array<std::string_view, 5> kReasoningEfforts = {"", "minimal", "low", "medium",
                                                               "high"};
constexpr std::array<std::string_view, 2> kBaseUrlSchemes = {"http", "https"};
// What libcurl accepts as a proxy.
constexpr std::array<std::string_view, 6> kProxySchemes = {"http",    "https",  "socks4",
                                                           "socks4a", "socks5", "socks5h"};

constexpr unsigned Bit(ProbeType type) { return 1u << static_cast<unsigned>(type); }
constexpr unsigned kTextTypes = Bit(ProbeType::kChat) | Bit(ProbeType::kStream);
constexpr unsigned kStructuredTypes = Bit(ProbeType::kTools) | Bit(ProbeType::kJson);
constexpr unsigned kGeneratingTypes = kTextTypes | kStructuredTypes;
constexpr unsigned kTypesWithModel = kGeneratingTypes | Bit(ProbeType::kEmbeddings);

// Probe keys that mean something only to some probe types; all other keys apply to every type.
struct TypeSpecificKey {
  std::string_view key;
  unsigned types;
};
constexpr std::array<TypeSpecificKey, 10> kTypeSpecificKeys = {{
    {"api", kGeneratingTypes},
    {"model", kTypesWithModel},
    {"prompt", kTypesWithModel},
    {"max_tokens", kGeneratingTypes},
    {"token_param", kGeneratingTypes},
    {"reasoning_effort", kGeneratingTypes},
    // tools and json probes check the call or the output against their schema instead.
    {"expect_content", kTextTypes},
    {"expect_models", Bit(ProbeType::kModels)},
    {"tool", Bit(ProbeType::kTools)},
    {"schema", Bit(ProbeType::kJson)},
}};

// A prompt that asks for what the probe forces, and room for a call or a short JSON object
// (chat probes need only a token or two of text).
constexpr std::string_view kToolsPrompt = "What is the weather in Paris?";
constexpr std::string_view kJsonPrompt = "Reply with your status as JSON: ok if you can answer.";
constexpr int kStructuredMaxTokens = 100;

// Target, probe and group names: they become label values and URL parameters.
bool IsValidName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

template <typename Range>
bool Contains(const Range& range, std::string_view value) {
  return std::find(std::begin(range), std::end(range), value) != std::end(range);
}

std::string JoinQuoted(std::span<const std::string_view> choices) {
  std::string joined;
  for (std::string_view choice : choices) {
    if (!joined.empty()) joined += ", ";
    joined += Quote(choice);
  }
  return joined;
}

// "a, b or c"
std::string JoinAlternatives(std::span<const std::string_view> choices) {
  std::string joined;
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (i > 0) joined += i + 1 == choices.size() ? " or " : ", ";
    joined += choices[i];
  }
  return joined;
}

// "scheme://host..." with one of `schemes`, a host, and nothing that would break a request line.
bool IsUrlWithScheme(std::string_view url, std::span<const std::string_view> schemes) {
  const std::size_t separator = url.find("://");
  if (separator == std::string_view::npos || !Contains(schemes, url.substr(0, separator))) {
    return false;
  }
  const std::string_view rest = url.substr(separator + 3);
  const bool clean = std::none_of(url.begin(), url.end(), [](char c) {
    return static_cast<unsigned char>(c) <= ' ' || c == 0x7F;
  });
  return clean && !rest.empty() && rest.find_first_of("/?#") != 0;
}

constexpr std::size_t kMaxRegexBytes = 1024;
constexpr std::size_t kMaxRegexNesting = 16;
// The pattern's atoms once every {n,m} has been written out: the compiler copies a repeated part
// that many times (libstdc++ gives up only at 100,000 states), and every probe compiles it again.
constexpr long kMaxRegexExpandedAtoms = 4096;

// Why an expect_content pattern is refused before it is compiled: groups nested deeper than
// kMaxRegexNesting, or more than kMaxRegexExpandedAtoms atoms with the repeats expanded.
std::optional<std::string> RegexTooComplex(std::string_view pattern) {
  std::vector<long> atoms = {0};  // per open group, the atoms so far
  long last = 0;                  // atoms of the last atom or group, which a {n,m} repeats
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '[') {  // a bracket expression is one atom; ']' ends it unless escaped
      while (++i < pattern.size() && pattern[i] != ']') {
        if (pattern[i] == '\\') ++i;
      }
      last = 1;
    } else if (c == '(') {
      if (atoms.size() > kMaxRegexNesting) {
        return "nests groups deeper than " + std::to_string(kMaxRegexNesting) + " levels";
      }
      atoms.push_back(0);
      continue;
    } else if (c == ')' && atoms.size() > 1) {
      last = atoms.back();
      atoms.pop_back();
    } else if (c == '{') {
      long bound = 0;
      for (++i; i < pattern.size() && pattern[i] != '}'; ++i) {
        const bool digit = pattern[i] >= '0' && pattern[i] <= '9';
        bound = digit ? std::min(bound * 10 + (pattern[i] - '0'), kMaxRegexExpandedAtoms + 1) : 0;
      }
      atoms.back() += last * std::max(bound - 1, 0L);
      last = 0;
    } else if (c == '*' || c == '+' || c == '?' || c == '|' || c == '^' || c == '$') {
      continue;
    } else {
      if (c == '\\') ++i;
      last = 1;
    }
    atoms.back() += last;
    if (atoms.back() > kMaxRegexExpandedAtoms) {
      return "is too large once its repeats are expanded (over " + std::to_string(kMaxRegexExpandedAtoms) +
             " atoms)";
    }
  }
  return std::nullopt;
}

// "anthropic and azure": the providers of which `has` holds (here: those whose targets may set
// api_version; those that sign with an aws block).
std::string ProvidersWhere(bool Provider::*has) {
  std::string names;
  for (const Provider* provider : Providers()) {
    if (!(provider->*has)) continue;
    if (!names.empty()) names += " and ";
    names += provider->name;
  }
  return names;
}

std::string Fnv1a64Hex(std::string_view bytes) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016" PRIx64, Fnv1a64(bytes));
  return hex;
}

// Offset of the first byte that cannot be in a YAML file: invalid UTF-8 or a control character
// other than tab and line breaks. yaml-cpp reads binary garbage as one long scalar, which would
// surface as a baffling "not a mapping".
std::optional<std::size_t> FindNonTextByte(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    char32_t code_point = 0;
    const std::size_t length = DecodeUtf8(text.substr(i), code_point);
    if (length == 0) return i;
    const bool control = (code_point < 0x20 && code_point != '\t' && code_point != '\n' &&
                          code_point != '\r') ||
                         code_point == 0x7F;
    if (control) return i;
    i += length;
  }
  return std::nullopt;
}

void RejectNonText(const Source& source, std::string_view text) {
  const std::optional<std::size_t> offset = FindNonTextByte(text);
  if (!offset) return;
  const std::string_view before = text.substr(0, *offset);
  const std::size_t line_start = before.rfind('\n') + 1;  // npos + 1 == 0 on the first line
  YAML::Mark mark;
  mark.pos = static_cast<int>(*offset);
  mark.line = static_cast<int>(std::count(before.begin(), before.end(), '\n'));
  mark.column = static_cast<int>(*offset - line_start);
  char byte[5];
  std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(text[*offset]));
  source.Fail(mark, std::string("not a text file: byte ") + byte +
                        " is not printable UTF-8, which YAML requires");
}

// Remembers where each name was first defined, so a duplicate names both places. `noun` and
// `scope` make the message: duplicate <noun> "<name>"<scope> (first at line N).
class NameRegistry {
 public:
  NameRegistry(const Source& source, std::string noun, std::string scope = {})
      : source_(source), noun_(std::move(noun)), scope_(std::move(scope)) {}

  const std::string& noun() const { return noun_; }
  bool Contains(const std::string& name) const { return first_seen_.count(name) != 0; }

  void Add(const std::string& name, const YAML::Mark& mark) {
    const auto [first, inserted] = first_seen_.emplace(name, mark);
    if (!inserted) {
      source_.Fail(mark, "duplicate " + noun_ + " " + Quote(name) + scope_ + " (first at line " +
                             std::to_string(first->second.line + 1) + ")");
    }
  }

 private:
  const Source& source_;
  std::string noun_;
  std::string scope_;
  std::map<std::string, YAML::Mark> first_seen_;
};

class ConfigParser {
 public:
  ConfigParser(const Source& source, const EnvLookup& env) : source_(source), env_(env) {}

  Config Parse(const Located& root) const {
    const StrictMapping document(source_, root, "config file",
                                 {"global", "targets", "groups", "pricing"});
    Config config;
    config.global = ParseGlobal(document.Find("global"));

    NameRegistry target_names(source_, "target name");
    for (const Located& target : NonEmptyList(document.Require("targets"))) {
      config.targets.push_back(ParseTarget(target, config.global, target_names));
    }
    if (const MappingEntry* groups = document.Find("groups")) {
      NameRegistry group_names(source_, "group name");
      for (const Located& group : List(*groups)) {
        config.groups.push_back(ParseGroup(group, target_names, group_names));
      }
    }
    if (const MappingEntry* pricing = document.Find("pricing")) {
      config.pricing = ParsePricing(*pricing);
    }
    return config;
  }

 private:
  GlobalConfig ParseGlobal(const MappingEntry* entry) const {
    GlobalConfig global;
    global.duration_buckets = kDefaultDurationBuckets;
    if (entry == nullptr) return global;
    const StrictMapping section(
        source_, entry->value, Quote(entry->key),
        {"interval", "timeout", "jitter", "failure_threshold", "recovery_threshold", "history_size",
         "external_labels", "duration_buckets"});
    global.interval = section.DurationAtLeast("interval", global.interval, kMinInterval);
    global.timeout = section.DurationAtLeast("timeout", global.timeout, kMinTimeout);
    if (const MappingEntry* jitter = section.Find("jitter")) global.jitter = ParseJitter(*jitter);
    global.failure_threshold = section.IntInRange("failure_threshold", global.failure_threshold, 1);
    global.recovery_threshold =
        section.IntInRange("recovery_threshold", global.recovery_threshold, 1);
    global.history_size = section.IntInRange("history_size", global.history_size, 1, 10000);
    if (const MappingEntry* labels = section.Find("external_labels")) {
      global.external_labels = ParseExternalLabels(*labels);
    }
    if (const MappingEntry* buckets = section.Find("duration_buckets")) {
      global.duration_buckets = ParseDurationBuckets(*buckets);
    }
    // Blame whichever of the two was written; both defaults are consistent.
    const MappingEntry* blamed = section.Find("timeout");
    if (blamed == nullptr) blamed = section.Find("interval");
    RequireTimeoutBelowInterval(blamed != nullptr ? blamed->value.mark : section.mark(),
                                global.timeout, global.interval, "global");
    return global;
  }

  double ParseJitter(const MappingEntry& entry) const {
    const std::string text = Convert<std::string>(source_, entry.value, Quote(entry.key));
    std::optional<double> percent;
    if (text.size() > 1 && text.back() == '%') {
      percent =
          config_detail::ParseNumber<double>(std::string_view(text).substr(0, text.size() - 1));
    }
    if (!percent || !(*percent >= 0 && *percent <= 100)) {
      source_.Fail(entry.value.mark,
                   Quote(entry.key) + " must be a percentage from 0% to 100% like \"10%\", got " +
                       Quote(text));
    }
    return *percent / 100;
  }

  std::map<std::string, std::string> ParseExternalLabels(const MappingEntry& entry) const {
    std::map<std::string, std::string> labels;
    for (const MappingEntry& label : ReadEntries(source_, entry.value, Quote(entry.key))) {
      if (!config_detail::IsIdentifier(label.key) || label.key.starts_with("__")) {
        source_.Fail(label.key_mark,
                     "external label name " + Quote(label.key) +
                         " must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __");
      }
      if (Contains(kReservedLabelNames, label.key)) {
        source_.Fail(label.key_mark, "external label name " + Quote(label.key) +
                                         " is reserved: the exporter sets that label itself");
      }
      labels.emplace(label.key, Convert<std::string>(source_, label.value,
                                                     "external label " + Quote(label.key)));
    }
    return labels;
  }

  std::vector<double> ParseDurationBuckets(const MappingEntry& entry) const {
    const std::string item_subject = "each item of " + Quote(entry.key);
    std::vector<double> buckets;
    const Located* previous = nullptr;
    for (const Located& item : NonEmptyList(entry)) {
      const double bound = Convert<double>(source_, item, item_subject);
      if (bound <= 0) {
        source_.Fail(item.mark, "duration bucket " + item.node.Scalar() + " must be positive");
      }
      if (previous != nullptr && bound <= buckets.back()) {
        source_.Fail(item.mark, Quote(entry.key) + " must be strictly increasing, got " +
                                    item.node.Scalar() + " after " + previous->node.Scalar());
      }
      buckets.push_back(bound);
      previous = &item;
    }
    return buckets;
  }

  TargetConfig ParseTarget(const Located& node, const GlobalConfig& global,
                           NameRegistry& target_names) const {
    const StrictMapping section(
        source_, node, "target",
        {"name", "provider", "base_url", "api_key_env", "api_key_file", "api_key_prefix", "aws", "headers",
         "tls", "proxy_url", "budget", "api_version", "probes"});
    TargetConfig target;
    target.name = ReadName(section, target_names);
    if (const MappingEntry* provider = section.Find("provider")) {
      target.provider = ParseProvider(*provider);
    }
    const Provider& provider = ProviderOf(target);
    const MappingEntry& base_url = section.Require("base_url");
    target.base_url = ParseUrl(base_url, kBaseUrlSchemes);
    // One trailing slash is a common way to write a base URL; paths are appended to it.
    if (target.base_url.ends_with('/')) target.base_url.pop_back();
    if (provider.aws_signed) {
      // Its requests carry a SigV4 signature, not a key.
      for (const std::string_view key : {"api_key_env", "api_key_file", "api_key_prefix"}) {
        if (const MappingEntry* entry = section.Find(key)) {
          source_.Fail(entry->key_mark, "key " + Quote(key) + " does not apply to " + std::string(provider.name) +
                                            " targets: they sign with the keys of \"aws\"");
        }
      }
      const MappingEntry& aws = section.Require("aws");
      const StrictMapping aws_section(source_, aws.value, Quote(aws.key),
                                      {"region", "access_key_id_env", "access_key_id_file", "secret_access_key_env",
                                       "secret_access_key_file", "session_token_env", "session_token_file"});
      target.aws = config_detail::ResolveAwsConfig(aws_section, target.name, env_);
    } else if (const MappingEntry* aws = section.Find("aws")) {
      source_.Fail(aws->key_mark, "\"aws\" applies only to " + ProvidersWhere(&Provider::aws_signed) + " targets");
    }
    target.api_key = config_detail::ResolveApiKey(section, target.name, env_);
    if (const MappingEntry* key_file = section.Find("api_key_file")) {
      target.api_key_file =
          config_detail::ResolveRelativeTo(source_.file(), section.ConvertEntry<std::string>(*key_file)).string();
    }
    if (const MappingEntry* headers = section.Find("headers")) {
      target.headers = config_detail::ParseHeaders(source_, *headers, target.name, env_, target.header_expansions);
    }
    if (const MappingEntry* tls = section.Find("tls")) target.tls = ParseTls(*tls);
    if (const MappingEntry* proxy = section.Find("proxy_url")) {
      // Empty means no proxy, as in the DESIGN.md example.
      if (!section.ConvertEntry<std::string>(*proxy).empty()) {
        target.proxy_url = ParseUrl(*proxy, kProxySchemes);
      }
    }
    if (const MappingEntry* budget = section.Find("budget")) {
      const StrictMapping budget_section(source_, budget->value, Quote(budget->key),
                                         {"max_usd_per_day"});
      target.max_usd_per_day =
          budget_section.NonNegativeNumber(budget_section.Require("max_usd_per_day"));
    }
    target.api_version = provider.default_api_version;
    if (const MappingEntry* api_version = section.Find("api_version")) {
      if (!provider.api_version_applies) {
        source_.Fail(api_version->key_mark,
                     "\"api_version\" applies only to " + ProvidersWhere(&Provider::api_version_applies) + " targets");
      }
      // A header value for anthropic, a query value for azure.
      target.api_version = RequestText(section, *api_version, " #&");
    }

    NameRegistry probe_names(source_, "probe name", " in target " + Quote(target.name));
    for (const Located& probe : NonEmptyList(section.Require("probes"))) {
      target.probes.push_back(ParseProbe(probe, provider, global, probe_names));
    }
    return target;
  }

  ProbeConfig ParseProbe(const Located& node, const Provider& provider, const GlobalConfig& global,
                         NameRegistry& probe_names) const {
    const StrictMapping section(
        source_, node, "probe",
        {"name", "type", "api", "model", "interval", "timeout", "prompt", "max_tokens", "token_param",
         "reasoning_effort", "expect_content", "expect_models", "follow_redirects", "tool", "schema"});
    ProbeConfig probe;
    probe.name = ReadName(section, probe_names);
    const MappingEntry& type = section.Require("type");
    probe.type = ParseEnum(type, kProbeTypeNames);
    if (!provider.Supports(probe.type)) {
      source_.Fail(type.value.mark, std::string(provider.name) + " has no " +
                                        std::string(ProbeTypeName(probe.type)) + " API");
    }
    for (const std::string_view key : provider.inapplicable_probe_keys) {
      if (const MappingEntry* entry = section.Find(key)) {
        source_.Fail(entry->key_mark, "key " + Quote(key) + " does not apply to " +
                                          std::string(provider.name) + " targets");
      }
    }
    for (const TypeSpecificKey& specific : kTypeSpecificKeys) {
      const MappingEntry* entry = section.Find(specific.key);
      if (entry != nullptr && (specific.types & Bit(probe.type)) == 0) {
        source_.Fail(entry->key_mark, "key " + Quote(specific.key) + " does not apply to " +
                                          std::string(ProbeTypeName(probe.type)) + " probes");
      }
    }
    if (probe.type != ProbeType::kModels) {
      probe.model = RequestText(section, section.Require("model"), provider.model_in_url_path ? " /?#%" : "");
    }

    probe.interval = section.DurationAtLeast("interval", global.interval, kMinInterval);
    probe.timeout = section.DurationAtLeast("timeout", global.timeout, kMinTimeout);
    // Checked after the global defaults apply: a probe may inherit one half and set the other.
    RequireTimeoutBelowInterval(section.mark(), probe.timeout, probe.interval,
                                "probe " + Quote(probe.name));

    const bool structured = (Bit(probe.type) & kStructuredTypes) != 0;
    if (structured) {
      probe.prompt = probe.type == ProbeType::kTools ? kToolsPrompt : kJsonPrompt;
      probe.max_tokens = kStructuredMaxTokens;
      probe.reply_schema = DefaultReplySchema(probe.type);
    }
    if (const MappingEntry* tool = section.Find("tool")) probe.reply_schema = config_detail::ParseTool(source_, *tool);
    if (const MappingEntry* schema = section.Find("schema")) {
      probe.reply_schema = config_detail::ParseOutputSchema(source_, *schema);
    }
    if (const MappingEntry* prompt = section.Find("prompt")) {
      probe.prompt = section.NonEmptyString(*prompt);
    }
    if (const MappingEntry* api = section.Find("api")) {
      probe.api = ParseEnum(*api, kProbeApiNames);
      if (!provider.Supports(probe.api)) {
        source_.Fail(api->value.mark, std::string(provider.name) + " has no " +
                                          std::string(NameOf(kProbeApiNames, probe.api)) + " API");
      }
    }
    if (probe.api == ProbeApi::kResponses) {
      // The Responses API refuses a max_output_tokens below 16.
      constexpr int kMinResponsesTokens = 16;
      probe.max_tokens = section.IntInRange("max_tokens", std::max(probe.max_tokens, kMinResponsesTokens), 1);
      if (probe.max_tokens < kMinResponsesTokens) {
        source_.Fail(section.Find("max_tokens")->value.mark,
                     "\"max_tokens\" must be at least 16 with api: responses (the API refuses a smaller "
                     "max_output_tokens), got " + std::to_string(probe.max_tokens));
      }
      if (const MappingEntry* token_param = section.Find("token_param")) {
        source_.Fail(token_param->key_mark, "key \"token_param\" does not apply to api: responses (it sends max_output_tokens)");
      }
    } else {
      probe.max_tokens = section.IntInRange("max_tokens", probe.max_tokens, 1);
    }
    if (const MappingEntry* token_param = section.Find("token_param")) {
      probe.token_param = kTokenParams[ChoiceIndex(*token_param, kTokenParams)];
    }
    if (const MappingEntry* effort = section.Find("reasoning_effort")) {
      probe.reasoning_effort = kReasoningEfforts[ChoiceIndex(*effort, kReasoningEfforts)];
    }
    if (const MappingEntry* expect_content = section.Find("expect_content")) {
      probe.expect_content = ParseRegex(*expect_content);
    }
    if (const MappingEntry* expect_models = section.Find("expect_models")) {
      probe.expect_models = ParseExpectedModels(*expect_models);
    }
    probe.follow_redirects = section.OrDefault<bool>("follow_redirects", false);
    return probe;
  }

  // A string that goes into the request line or a header as it is: a control character would
  // end the line and smuggle in another header, and `refused` characters would change the URL.
  std::string RequestText(const StrictMapping& section, const MappingEntry& entry,
                          std::string_view refused) const {
    std::string value = section.NonEmptyString(entry);
    const auto bad = std::find_if(value.begin(), value.end(), [refused](char c) {
      return static_cast<unsigned char>(c) < 0x20 || c == 0x7F || refused.find(c) != std::string_view::npos;
    });
    if (bad != value.end()) {
      char byte[5];
      std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(*bad));
      source_.Fail(entry.value.mark, Quote(entry.key) + " must not contain byte " + byte +
                                         ": it would change the request line or headers");
    }
    return value;
  }

  std::string ParseRegex(const MappingEntry& entry) const {
    std::string pattern = Convert<std::string>(source_, entry.value, Quote(entry.key));
    // libstdc++ compiles a pattern recursively, one frame per nesting level and more per repeat:
    // 20,000 nested groups overflowed the stack on reload. Limits far beyond a reply check's needs.
    if (pattern.size() > kMaxRegexBytes) {
      source_.Fail(entry.value.mark, Quote(entry.key) + " is longer than " + std::to_string(kMaxRegexBytes) + " bytes");
    }
    if (const auto problem = RegexTooComplex(pattern)) {
      source_.Fail(entry.value.mark, Quote(entry.key) + " " + *problem);
    }
    try {
      // The flags the probe matches with (src/protocol/probe.cpp): the breadth-first executor,
      // which cannot run back-references, so they are refused here rather than at probe time.
      std::regex(pattern, std::regex::ECMAScript | std::regex_constants::__polynomial);
    } catch (const std::regex_error& error) {
      source_.Fail(entry.value.mark, Quote(entry.key) + " " + Quote(pattern) +
                                         " is not a valid ECMAScript regex: " + error.what());
    }
    return pattern;
  }

  std::vector<std::string> ParseExpectedModels(const MappingEntry& entry) const {
    // Each becomes one llm_probe_model_listed series; a repeat would be a duplicate series.
    NameRegistry seen(source_, "model", " in expect_models");
    std::vector<std::string> models;
    for (const Located& item : List(entry)) {
      std::string model = Convert<std::string>(source_, item, "each item of " + Quote(entry.key));
      if (model.empty()) source_.Fail(item.mark, "model names in expect_models must not be empty");
      seen.Add(model, item.mark);
      models.push_back(std::move(model));
    }
    return models;
  }

  TlsConfig ParseTls(const MappingEntry& entry) const {
    const StrictMapping section(source_, entry.value, Quote(entry.key),
                                {"ca_file", "insecure_skip_verify", "session_resumption"});
    TlsConfig tls;
    tls.insecure_skip_verify = section.OrDefault<bool>("insecure_skip_verify", false);
    tls.session_resumption = section.OrDefault<bool>("session_resumption", false);
    if (const MappingEntry* ca_file = section.Find("ca_file")) {
      const std::string path = section.ConvertEntry<std::string>(*ca_file);
      // Empty means the system trust store, as in the DESIGN.md example.
      if (!path.empty()) {
        tls.ca_file = config_detail::ResolveRelativeTo(source_.file(), path).string();
        // Read now: a typo here would otherwise show up only as TLS_ERROR on every probe.
        const auto content = config_detail::ReadFile(tls.ca_file);
        if (const auto* error = std::get_if<config_detail::FileError>(&content)) {
          source_.Fail(ca_file->value.mark,
                       "cannot read ca_file " + Quote(tls.ca_file) + ": " + error->reason);
        }
      }
    }
    return tls;
  }

  GroupConfig ParseGroup(const Located& node, const NameRegistry& target_names,
                         NameRegistry& group_names) const {
    const StrictMapping section(source_, node, "group", {"name", "targets"});
    GroupConfig group;
    group.name = ReadName(section, group_names);
    const MappingEntry& members = section.Require("targets");
    NameRegistry seen(source_, "target", " in group " + Quote(group.name));
    for (const Located& item : NonEmptyList(members)) {
      std::string member =
          Convert<std::string>(source_, item, "each item of " + Quote(members.key));
      if (!target_names.Contains(member)) {
        source_.Fail(item.mark,
                     "unknown target " + Quote(member) + " in group " + Quote(group.name));
      }
      seen.Add(member, item.mark);
      group.targets.push_back(std::move(member));
    }
    return group;
  }

  std::map<std::string, Price> ParsePricing(const MappingEntry& entry) const {
    std::map<std::string, Price> pricing;
    for (const MappingEntry& model : ReadEntries(source_, entry.value, Quote(entry.key))) {
      if (model.key.empty()) {
        source_.Fail(model.key_mark, "model names in pricing must not be empty");
      }
      const StrictMapping price(source_, model.value, "price of " + Quote(model.key),
                                {"input", "output"});
      pricing.emplace(model.key, Price{price.NonNegativeNumber(price.Require("input")),
                                       price.NonNegativeNumber(price.Require("output"))});
    }
    return pricing;
  }

  std::string ReadName(const StrictMapping& section, NameRegistry& names) const {
    const MappingEntry& entry = section.Require("name");
    std::string name = section.ConvertEntry<std::string>(entry);
    if (!IsValidName(name)) {
      source_.Fail(entry.value.mark, names.noun() + " " + Quote(name) + " must match [a-z0-9_-]+");
    }
    names.Add(name, entry.value.mark);
    return name;
  }

  std::vector<Located> List(const MappingEntry& entry) const {
    return Convert<std::vector<Located>>(source_, entry.value, Quote(entry.key));
  }

  std::vector<Located> NonEmptyList(const MappingEntry& entry) const {
    std::vector<Located> items = List(entry);
    if (items.empty()) source_.Fail(entry.value.mark, Quote(entry.key) + " must not be empty");
    return items;
  }

  std::size_t ChoiceIndex(const MappingEntry& entry,
                          std::span<const std::string_view> choices) const {
    const std::string value = Convert<std::string>(source_, entry.value, Quote(entry.key));
    const auto choice = std::find(choices.begin(), choices.end(), value);
    if (choice == choices.end()) {
      source_.Fail(entry.value.mark, Quote(entry.key) + " must be one of " + JoinQuoted(choices) +
                                         ", got " + Quote(value));
    }
    return static_cast<std::size_t>(choice - choices.begin());
  }

  template <typename Enum, std::size_t N>
  Enum ParseEnum(const MappingEntry& entry, const EnumNames<Enum, N>& table) const {
    std::array<std::string_view, N> names;
    std::transform(table.begin(), table.end(), names.begin(),
                   [](const EnumName<Enum>& row) { return row.name; });
    return table[ChoiceIndex(entry, names)].value;
  }

  const Provider* ParseProvider(const MappingEntry& entry) const {
    std::vector<std::string_view> names;
    for (const Provider* provider : Providers()) names.push_back(provider->name);
    return Providers()[ChoiceIndex(entry, names)];
  }

  // URLs are not quoted back: they may carry credentials in their user info or query.
  std::string ParseUrl(const MappingEntry& entry, std::span<const std::string_view> schemes) const {
    std::string url = Convert<std::string>(source_, entry.value, Quote(entry.key));
    if (!IsUrlWithScheme(url, schemes)) {
      source_.Fail(entry.value.mark, Quote(entry.key) + " must be a URL with a host and scheme " +
                                         JoinAlternatives(schemes));
    }
    return url;
  }

  void RequireTimeoutBelowInterval(const YAML::Mark& mark, Duration timeout, Duration interval,
                                   const std::string& where) const {
    if (timeout < interval) return;
    source_.Fail(mark, "timeout " + FormatDuration(timeout) + " is not below interval " +
                           FormatDuration(interval) + " in " + where);
  }

  const Source& source_;
  const EnvLookup& env_;
};

}  // namespace

Config ParseConfig(std::string_view yaml_text, const std::string& file_name, const EnvLookup& env) {
  const Source source(file_name);
  RejectNonText(source, yaml_text);
  const YAML::Node root = config_detail::LoadSingleDocument(source, std::string(yaml_text));
  Config config = ConfigParser(source, env).Parse({root, root.Mark()});
  config.file = file_name;
  // A rotated key file is a change too (the checksum never leaves the process).
  std::string checked(yaml_text);
  for (const TargetConfig& target : config.targets) {
    if (!target.api_key_file.empty()) checked += '\0' + target.api_key;
    if (!target.aws.key_files.empty()) {
      checked += '\0' + target.aws.access_key_id + '\0' + target.aws.secret_access_key + '\0' + target.aws.session_token;
    }
  }
  config.checksum = Fnv1a64Hex(checked);
  return config;
}

}  // namespace llm_probe
