#include "llm_probe/yaml_reader.h"

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace llm_probe::config_detail {
namespace {

// Plain (unquoted, untagged) scalars are the only ones YAML reads as numbers or booleans; a
// quoted "5" is a string, and taking it for a number would hide a mistake.
bool IsPlainScalar(const YAML::Node& node) { return node.IsScalar() && node.Tag() == "?"; }

// Keys whose values may hold a secret pasted in the wrong place (a key as api_key_env, a header
// line as headers, an htpasswd line as basic_auth_users): messages name the key, never the value.
bool HoldsSecrets(std::string_view subject) {
  static constexpr std::string_view kKeys[] = {
      "\"api_key_env\"",           "\"api_key_file\"",           "\"headers\"",
      "\"basic_auth_users\"",      "\"access_key_id_env\"",      "\"access_key_id_file\"",
      "\"secret_access_key_env\"", "\"secret_access_key_file\"", "\"session_token_env\"",
      "\"session_token_file\""};
  return std::find(std::begin(kKeys), std::end(kKeys), subject) != std::end(kKeys) ||
         subject.starts_with("header ");
}

// What a node holds, for the "got ..." part of a message.
std::string Describe(const YAML::Node& node, bool show_value = true) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      if (!show_value) return "a scalar";
      return IsPlainScalar(node) ? Quote(node.Scalar()) : "the string " + Quote(node.Scalar());
    default:
      return "no value";
  }
}

[[noreturn]] void FailType(const Source& source, const Located& value, std::string_view subject,
                           std::string_view expected) {
  source.Fail(value.mark, std::string(subject) + " must be " + std::string(expected) + ", got " +
                              Describe(value.node, !HoldsSecrets(subject)));
}

Located LocateItem(const Located& sequence, const YAML::Node& item) {
  return {item, item.IsNull() ? sequence.mark : item.Mark()};
}

std::string JoinKeys(std::initializer_list<std::string_view> keys) {
  std::string joined;
  for (std::string_view key : keys) {
    if (!joined.empty()) joined += ", ";
    joined += key;
  }
  return joined;
}

// Records where each document starts and ignores everything else.
class DocumentStartRecorder : public YAML::EventHandler {
 public:
  const YAML::Mark& last_start() const { return last_start_; }

  void OnDocumentStart(const YAML::Mark& mark) override { last_start_ = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

 private:
  YAML::Mark last_start_;
};

}  // namespace

YAML::Node LoadSingleDocument(const Source& source, const std::string& text) {
  try {
    // Not YAML::LoadAll: yaml-cpp 0.7 never consumes a ',' at document level and so returns one
    // empty document after another until memory runs out. The parser is asked for two at most.
    std::istringstream stream(text);
    YAML::Parser parser(stream);
    DocumentStartRecorder recorder;
    parser.HandleNextDocument(recorder);
    if (parser.HandleNextDocument(recorder)) {
      const YAML::Mark& second = recorder.last_start();
      if (static_cast<std::size_t>(second.pos) < text.size() && text[second.pos] == ',') {
        source.Fail(second, "invalid YAML: unexpected ','");
      }
      source.Fail(second, "config file holds more than one YAML document");
    }
    YAML::Node root = YAML::Load(text);
    if (root.IsNull()) source.Fail(YAML::Mark::null_mark(), "config file is empty");
    return root;
  } catch (const YAML::Exception& error) {
    source.Fail(error.mark, "invalid YAML: " + error.msg);
  }
}

void Source::Fail(const YAML::Mark& at, const std::string& message) const {
  if (at.is_null()) throw ConfigError(file_, 1, 1, message);
  throw ConfigError(file_, at.line + 1, at.column + 1, message);
}

template <>
std::string Convert<std::string>(const Source& source, const Located& value,
                                 std::string_view subject) {
  if (!value.node.IsScalar()) FailType(source, value, subject, "a string");
  return value.node.Scalar();
}

template <>
int Convert<int>(const Source& source, const Located& value, std::string_view subject) {
  std::optional<int> number;
  if (IsPlainScalar(value.node)) number = ParseNumber<int>(value.node.Scalar());
  if (!number) FailType(source, value, subject, "an integer");
  return *number;
}

template <>
double Convert<double>(const Source& source, const Located& value, std::string_view subject) {
  std::optional<double> number;
  if (IsPlainScalar(value.node)) number = ParseNumber<double>(value.node.Scalar());
  if (!number || !std::isfinite(*number)) FailType(source, value, subject, "a number");
  return *number;
}

template <>
bool Convert<bool>(const Source& source, const Located& value, std::string_view subject) {
  // YAML 1.2 core schema; yaml-cpp would also take yes/no/on/off, which YAML 1.2 reads as strings.
  static constexpr std::string_view kTrue[] = {"true", "True", "TRUE"};
  static constexpr std::string_view kFalse[] = {"false", "False", "FALSE"};
  if (IsPlainScalar(value.node)) {
    const std::string& text = value.node.Scalar();
    if (std::find(std::begin(kTrue), std::end(kTrue), text) != std::end(kTrue)) return true;
    if (std::find(std::begin(kFalse), std::end(kFalse), text) != std::end(kFalse)) return false;
  }
  FailType(source, value, subject, "true or false");
}

template <>
Duration Convert<Duration>(const Source& source, const Located& value, std::string_view subject) {
  std::optional<Duration> duration;
  if (value.node.IsScalar()) duration = ParseDuration(value.node.Scalar());
  if (!duration) FailType(source, value, subject, "a duration like 500ms, 30s or 1m30s");
  return *duration;
}

template <>
std::vector<Located> Convert<std::vector<Located>>(const Source& source, const Located& value,
                                                   std::string_view subject) {
  if (!value.node.IsSequence()) FailType(source, value, subject, "a list");
  std::vector<Located> items;
  for (const YAML::Node& item : value.node) items.push_back(LocateItem(value, item));
  return items;
}

std::vector<MappingEntry> ReadEntries(const Source& source, const Located& node,
                                      std::string_view what) {
  if (!node.node.IsMap()) FailType(source, node, what, "a mapping");
  std::vector<MappingEntry> entries;
  for (const auto& pair : node.node) {
    const YAML::Node& key = pair.first;
    if (!key.IsScalar()) {
      source.Fail(key.Mark(),
                  "keys of " + std::string(what) + " must be strings, got " + Describe(key));
    }
    const auto previous = std::find_if(entries.begin(), entries.end(), [&](const auto& entry) {
      return entry.key == key.Scalar();
    });
    if (previous != entries.end()) {
      source.Fail(key.Mark(), "duplicate key " + Quote(key.Scalar()) + " in " + std::string(what) +
                                  " (first at line " + std::to_string(previous->key_mark.line + 1) +
                                  ")");
    }
    const YAML::Node& value = pair.second;
    entries.push_back(
        {key.Scalar(), key.Mark(), {value, value.IsNull() ? key.Mark() : value.Mark()}});
  }
  return entries;
}

StrictMapping::StrictMapping(const Source& source, const Located& node, std::string what,
                             std::initializer_list<std::string_view> known_keys)
    : source_(source),
      what_(std::move(what)),
      mark_(node.mark),
      entries_(ReadEntries(source, node, what_)) {
  for (const MappingEntry& entry : entries_) {
    if (std::find(known_keys.begin(), known_keys.end(), entry.key) == known_keys.end()) {
      source_.Fail(entry.key_mark, "unknown key " + Quote(entry.key) + " in " + what_ +
                                       " (known: " + JoinKeys(known_keys) + ")");
    }
  }
}

const MappingEntry* StrictMapping::Find(std::string_view key) const {
  const auto entry =
      std::find_if(entries_.begin(), entries_.end(),
                   [&](const MappingEntry& candidate) { return candidate.key == key; });
  return entry == entries_.end() ? nullptr : &*entry;
}

const MappingEntry& StrictMapping::Require(std::string_view key) const {
  const MappingEntry* entry = Find(key);
  if (entry == nullptr) {
    source_.Fail(mark_, "missing required key " + Quote(key) + " in " + what_);
  }
  return *entry;
}

int StrictMapping::IntInRange(std::string_view key, int fallback, int minimum, int maximum) const {
  const MappingEntry* entry = Find(key);
  if (entry == nullptr) return fallback;
  const int value = ConvertEntry<int>(*entry);
  if (value < minimum || value > maximum) {
    const std::string range =
        maximum == std::numeric_limits<int>::max()
            ? "at least " + std::to_string(minimum)
            : "between " + std::to_string(minimum) + " and " + std::to_string(maximum);
    source_.Fail(entry->value.mark,
                 Quote(key) + " must be " + range + ", got " + std::to_string(value));
  }
  return value;
}

Duration StrictMapping::DurationAtLeast(std::string_view key, Duration fallback,
                                        Duration minimum) const {
  const MappingEntry* entry = Find(key);
  if (entry == nullptr) return fallback;
  const Duration value = ConvertEntry<Duration>(*entry);
  if (value < minimum) {
    source_.Fail(entry->value.mark, Quote(key) + " must be at least " + FormatDuration(minimum) +
                                        ", got " + FormatDuration(value));
  }
  return value;
}

double StrictMapping::NonNegativeNumber(const MappingEntry& entry) const {
  const double value = ConvertEntry<double>(entry);
  if (value < 0) {
    source_.Fail(entry.value.mark,
                 Quote(entry.key) + " must not be negative, got " + entry.value.node.Scalar());
  }
  return value;
}

std::string StrictMapping::NonEmptyString(const MappingEntry& entry) const {
  std::string value = ConvertEntry<std::string>(entry);
  if (value.empty()) source_.Fail(entry.value.mark, Quote(entry.key) + " must not be empty");
  return value;
}

}  // namespace llm_probe::config_detail
