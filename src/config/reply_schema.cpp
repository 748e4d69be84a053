#include "reply_schema.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

namespace llm_probe::config_detail {
namespace {

using nlohmann::json;

// Far beyond any tool's schema, and small enough that the request stays small and an alias
// repeated by YAML anchors cannot blow the schema up.
constexpr int kMaxDepth = 32;
constexpr int kMaxNodes = 2000;
constexpr std::size_t kMaxSchemaBytes = 16 * 1024;
constexpr std::size_t kMaxNameBytes = 64;

class SchemaReader {
 public:
  SchemaReader(const Source& source, std::string what) : source_(source), what_(std::move(what)) {}

  // A JSON Schema of an object, with its top-level required keys.
  ReplySchema Read(const Located& node) {
    const std::vector<MappingEntry> entries = ReadEntries(source_, node, what_);
    const auto find = [&](std::string_view key) -> const MappingEntry* {
      const auto found = std::find_if(entries.begin(), entries.end(), [&](const MappingEntry& entry) { return entry.key == key; });
      return found == entries.end() ? nullptr : &*found;
    };
    // The probe checks the keys of an object: a schema of anything else has none to check.
    const MappingEntry* type = find("type");
    if (type == nullptr || !type->value.node.IsScalar() || type->value.node.Scalar() != "object") {
      source_.Fail(type == nullptr ? node.mark : type->value.mark,
                   what_ + " must be the schema of an object: \"type: object\"");
    }
    std::set<std::string> properties;
    const MappingEntry* declared = find("properties");
    if (declared != nullptr) {
      for (const MappingEntry& property : ReadEntries(source_, declared->value, Quote("properties"))) {
        if (!property.value.node.IsMap()) {
          source_.Fail(property.value.mark, "property " + Quote(property.key) + " of " + what_ + " must be a schema (a mapping)");
        }
        properties.insert(property.key);
      }
    }
    ReplySchema schema;
    if (const MappingEntry* required = find("required")) {
      std::set<std::string> seen;
      for (const Located& item : Convert<std::vector<Located>>(source_, required->value, Quote("required"))) {
        std::string key = Convert<std::string>(source_, item, "each item of \"required\"");
        if (key.empty()) source_.Fail(item.mark, "required keys of " + what_ + " must not be empty");
        if (!seen.insert(key).second) source_.Fail(item.mark, "duplicate required key " + Quote(key) + " in " + what_);
        if (declared != nullptr && properties.count(key) == 0) {
          source_.Fail(item.mark, "required key " + Quote(key) + " is not in the properties of " + what_);
        }
        schema.required.push_back(std::move(key));
      }
    }
    schema.json_schema = ToJson(node, 0).dump();
    if (schema.json_schema.size() > kMaxSchemaBytes) {
      source_.Fail(node.mark, what_ + " is larger than " + std::to_string(kMaxSchemaBytes / 1024) + " KiB as JSON");
    }
    return schema;
  }

 private:
  // YAML's core schema: plain scalars may be null, booleans or numbers; quoted ones are strings.
  static json Scalar(const YAML::Node& node) {
    const std::string& text = node.Scalar();
    if (node.Tag() != "?") return text;
    if (text == "null" || text == "Null" || text == "NULL" || text == "~") return nullptr;
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
    if (const auto integer = ParseNumber<long long>(text)) return *integer;
    if (const auto number = ParseNumber<double>(text); number && std::isfinite(*number)) return *number;
    return text;
  }

  json ToJson(const Located& located, int depth) {
    if (depth > kMaxDepth) source_.Fail(located.mark, what_ + " nests deeper than " + std::to_string(kMaxDepth) + " levels");
    if (++nodes_ > kMaxNodes) source_.Fail(located.mark, what_ + " has more than " + std::to_string(kMaxNodes) + " values");
    const YAML::Node& node = located.node;
    if (node.IsMap()) {
      json object = json::object();
      for (const MappingEntry& entry : ReadEntries(source_, located, what_)) {
        object[entry.key] = ToJson(entry.value, depth + 1);
      }
      return object;
    }
    if (node.IsSequence()) {
      json array = json::array();
      for (const Located& item : Convert<std::vector<Located>>(source_, located, what_)) {
        array.push_back(ToJson(item, depth + 1));
      }
      return array;
    }
    if (node.IsScalar()) return Scalar(node);
    return nullptr;
  }

  const Source& source_;
  std::string what_;
  int nodes_ = 0;
};

bool IsFunctionName(std::string_view name) {
  return !name.empty() && name.size() <= kMaxNameBytes && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

}  // namespace

ReplySchema ParseTool(const Source& source, const MappingEntry& entry) {
  const StrictMapping section(source, entry.value, Quote(entry.key), {"name", "description", "parameters"});
  const MappingEntry& name = section.Require("name");
  const MappingEntry& parameters = section.Require("parameters");
  ReplySchema tool = SchemaReader(source, "the parameters of \"tool\"").Read(parameters.value);
  tool.name = section.ConvertEntry<std::string>(name);
  if (!IsFunctionName(tool.name)) {
    source.Fail(name.value.mark, "tool name " + Quote(tool.name) + " must match [A-Za-z0-9_-]{1,64}");
  }
  if (const MappingEntry* description = section.Find("description")) {
    tool.description = section.NonEmptyString(*description);
  }
  return tool;
}

ReplySchema ParseOutputSchema(const Source& source, const MappingEntry& entry) {
  ReplySchema schema = SchemaReader(source, Quote(entry.key)).Read(entry.value);
  const ReplySchema built_in = DefaultReplySchema(ProbeType::kJson);
  schema.name = built_in.name;
  schema.description = built_in.description;
  return schema;
}

}  // namespace llm_probe::config_detail
