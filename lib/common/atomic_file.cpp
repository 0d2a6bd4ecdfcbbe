#include "common/atomic_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>

namespace fpaudit {

void write_file_atomic(const std::filesystem::path& path, std::string_view content) {
  // A name no other writer (thread or process) picks: the target's name and 64 random bits;
  // "x" never reuses an existing file.
  std::random_device entropy;
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".tmp-%08x%08x", entropy(), entropy());
  const std::filesystem::path tmp = path.string() + suffix;
  std::FILE* f = std::fopen(tmp.c_str(), "wbx");
  if (!f) throw std::runtime_error(path.string() + ": cannot write: " + std::strerror(errno));
  const bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size() && std::fflush(f) == 0;
  const int err = errno;
  if (std::fclose(f) != 0 || !ok) {
    std::filesystem::remove(tmp);
    throw std::runtime_error(path.string() + ": cannot write: " + std::strerror(err));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp);
    throw std::runtime_error(path.string() + ": cannot write: " + ec.message());
  }
}

}  // namespace fpaudit
