// Strict reading of yaml-cpp nodes: every mapping has a closed set of keys, every value one
// type, and every failure is a ConfigError pointing at the node to blame. Config's shared API for
// YAML files: the main config and the web config (src/server/web_config.cpp) read with it.
#pragma once

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "llm_probe/config.h"
#include "llm_probe/config_text.h"

namespace llm_probe::config_detail {

// The file being parsed; errors name it with a 1-based position.
class Source {
 public:
  explicit Source(std::string file) : file_(std::move(file)) {}
  const std::string& file() const { return file_; }
  // Takes yaml-cpp's 0-based mark; a null mark (position unknown) is reported as 1:1.
  [[noreturn]] void Fail(const YAML::Mark& at, const std::string& message) const;

 private:
  std::string file_;
};

// A node and the position an error about it points at. yaml-cpp gives an empty value (`key:`)
// the position of the following token, so the reader blames such values on their key instead.
struct Located {
  YAML::Node node;
  YAML::Mark mark;
};

struct MappingEntry {
  std::string key;
  YAML::Mark key_mark;
  Located value;
};

// The root node of `text`, which must hold exactly one YAML document that is not empty.
YAML::Node LoadSingleDocument(const Source& source, const std::string& text);

// Conversions of one value. `subject` names it in messages, e.g. `"max_tokens"`.
template <typename T>
T Convert(const Source& source, const Located& value, std::string_view subject);
template <>
std::string Convert<std::string>(const Source& source, const Located& value,
                                 std::string_view subject);
template <>
int Convert<int>(const Source& source, const Located& value, std::string_view subject);
template <>
double Convert<double>(const Source& source, const Located& value, std::string_view subject);
template <>
bool Convert<bool>(const Source& source, const Located& value, std::string_view subject);
template <>
Duration Convert<Duration>(const Source& source, const Located& value, std::string_view subject);
template <>
std::vector<Located> Convert<std::vector<Located>>(const Source& source, const Located& value,
                                                   std::string_view subject);

// The entries of a mapping whose keys are data (header names, model names), in document order.
// Rejects anything but a mapping, keys that are not scalars, and repeated keys; `what` names
// the mapping in messages.
std::vector<MappingEntry> ReadEntries(const Source& source, const Located& node,
                                      std::string_view what);

// A config section: a mapping whose keys all come from a fixed list. `what` names it in
// messages: a concept for list items (probe, target) or the quoted key it is the value of.
class StrictMapping {
 public:
  StrictMapping(const Source& source, const Located& node, std::string what,
                std::initializer_list<std::string_view> known_keys);

  const Source& source() const { return source_; }
  const YAML::Mark& mark() const { return mark_; }

  const MappingEntry* Find(std::string_view key) const;
  // A missing key has no position of its own, so the error points at this mapping.
  const MappingEntry& Require(std::string_view key) const;

  template <typename T>
  T OrDefault(std::string_view key, T fallback) const {
    const MappingEntry* entry = Find(key);
    return entry == nullptr ? fallback : ConvertEntry<T>(*entry);
  }
  template <typename T>
  T ConvertEntry(const MappingEntry& entry) const {
    return Convert<T>(source_, entry.value, Quote(entry.key));
  }

  // Range-checked integer, e.g. history_size in 1..10000.
  int IntInRange(std::string_view key, int fallback, int minimum,
                 int maximum = std::numeric_limits<int>::max()) const;
  // A duration no shorter than `minimum`.
  Duration DurationAtLeast(std::string_view key, Duration fallback, Duration minimum) const;
  // A price or a budget.
  double NonNegativeNumber(const MappingEntry& entry) const;
  // A value where "" would only hide a mistake, such as a model name.
  std::string NonEmptyString(const MappingEntry& entry) const;

 private:
  const Source& source_;
  std::string what_;
  YAML::Mark mark_;
  std::vector<MappingEntry> entries_;
};

}  // namespace llm_probe::config_detail
