#include "llm_probe/config_files.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace llm_probe::config_detail {

std::variant<FileContent, FileError> ReadFile(const std::filesystem::path& path) {
  // stdio rather than iostreams: it reports errno, which turns into a useful message.
  errno = 0;
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                             &std::fclose);
  if (!file) return FileError{std::strerror(errno)};
  FileContent content;
  char buffer[8192];
  std::size_t count;
  while ((count = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) {
    content.bytes.append(buffer, count);
  }
  // A directory opens fine and fails only on read, with EISDIR.
  if (std::ferror(file.get())) return FileError{std::strerror(errno)};
  return content;
}

std::filesystem::path ResolveRelativeTo(const std::filesystem::path& config_file,
                                        const std::filesystem::path& path) {
  if (path.is_absolute()) return path;
  return (config_file.parent_path() / path).lexically_normal();
}

}  // namespace llm_probe::config_detail
