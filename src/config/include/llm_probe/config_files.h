// File access for the config module: the config file itself and the files it names.
#pragma once

#include <cstddef>
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

// Files the config names are small; a bigger one is a mistake, not something to read whole.
inline constexpr std::size_t kMaxConfigFileBytes = 64 * 1024 * 1024;
inline constexpr std::size_t kMaxKeyFileBytes = 64 * 1024;

// A regular file only, read whole if it is at most `max_bytes`: a FIFO, a device or a socket is
// an error, and opening never blocks.
std::variant<FileContent, FileError> ReadFile(const std::filesystem::path& path,
                                              std::size_t max_bytes = kMaxConfigFileBytes);

// Paths in a config file are relative to the directory of that file, not to the working
// directory of the process, so a config keeps working wherever the exporter is started.
std::filesystem::path ResolveRelativeTo(const std::filesystem::path& config_file,
                                        const std::filesystem::path& path);

}  // namespace llm_probe::config_detail
