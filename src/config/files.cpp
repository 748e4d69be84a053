#include "llm_probe/config_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace llm_probe::config_detail {

std::variant<FileContent, FileError> ReadFile(const std::filesystem::path& path, std::size_t max_bytes) {
  // Non-blocking, so that a FIFO cannot hold the open (on the signal thread, a reload would wait
  // for a writer forever and SIGTERM would go unanswered); only a regular file is read, so that
  // /dev/zero or a socket cannot feed bytes without end.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return FileError{std::strerror(errno)};
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat info {};
  if (::fstat(fd, &info) != 0) return FileError{std::strerror(errno)};
  if (S_ISDIR(info.st_mode)) return FileError{std::strerror(EISDIR)};
  if (!S_ISREG(info.st_mode)) return FileError{"not a regular file"};
  const std::string too_large = "larger than " + std::to_string(max_bytes) + " bytes";
  if (static_cast<std::size_t>(info.st_size) > max_bytes) return FileError{too_large};
  FileContent content;
  char buffer[8192];
  // A file that grows while it is read is cut off at the limit all the same.
  for (;;) {
    const ssize_t count = ::read(fd, buffer, sizeof buffer);
    if (count < 0 && errno == EINTR) continue;
    if (count < 0) return FileError{std::strerror(errno)};
    if (count == 0) break;
    if (content.bytes.size() + static_cast<std::size_t>(count) > max_bytes) return FileError{too_large};
    content.bytes.append(buffer, static_cast<std::size_t>(count));
  }
  return content;
}

std::filesystem::path ResolveRelativeTo(const std::filesystem::path& config_file,
                                        const std::filesystem::path& path) {
  if (path.is_absolute()) return path;
  return (config_file.parent_path() / path).lexically_normal();
}

}  // namespace llm_probe::config_detail
