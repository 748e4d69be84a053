// File access for the config module: the config file itself and the files it names.
#pragma once

#include <filesystem>
#include <string>
#include <variant>

namespace llm_probe::config_detail {

struct FileContent {
  std::string bytes;
};
struct FileError {
  std::string reason;  // strerror text, e.g. "No such file or directory"
};

std::variant<FileContent, FileError> ReadFile(const std::filesystem::path& path);

// Paths in a config file are relative to the directory of that file, not to the working
// directory of the process, so a config keeps working wherever the exporter is started.
std::filesystem::path ResolveRelativeTo(const std::filesystem::path& config_file,
                                        const std::filesystem::path& path);

}  // namespace llm_probe::config_detail
