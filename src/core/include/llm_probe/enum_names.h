// The one idiom for an enumeration's names: a constexpr table of {value, name} rows, read both
// ways. A name missing from the table is a compile-time-visible omission, not a switch default.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace llm_probe {

template <typename Enum>
struct EnumName {
  Enum value;
  std::string_view name;
};

template <typename Enum, std::size_t N>
using EnumNames = std::array<EnumName<Enum>, N>;

// The name of `value`; `fallback` for a value cast from outside the enumeration.
template <typename Enum, std::size_t N>
constexpr std::string_view NameOf(const EnumNames<Enum, N>& names, Enum value,
                                  std::string_view fallback = "unknown") {
  const auto found = std::find_if(names.begin(), names.end(),
                                  [&](const EnumName<Enum>& row) { return row.value == value; });
  return found == names.end() ? fallback : found->name;
}

template <typename Enum, std::size_t N>
constexpr std::optional<Enum> ValueOf(const EnumNames<Enum, N>& names, std::string_view name) {
  const auto found = std::find_if(names.begin(), names.end(),
                                  [&](const EnumName<Enum>& row) { return row.name == name; });
  if (found == names.end()) return std::nullopt;
  return found->value;
}

}  // namespace llm_probe
