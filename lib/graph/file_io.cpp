#include "graph/file_io.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <system_error>

#include <fmt/format.h>

#include "graph/errors.h"

namespace fpaudit {

std::vector<std::byte> read_file(const std::filesystem::path& path, std::int64_t max_bytes) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) fail(path, "cannot open: no such file");
  if (!fs::is_regular_file(status)) fail(path, "cannot open: not a regular file");
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec) fail(path, fmt::format("cannot read: {}", ec.message()));
  if (size > static_cast<std::uintmax_t>(max_bytes))
    fail(path, fmt::format("file is {} bytes, larger than the limit of {} bytes", size, max_bytes));
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, fmt::format("cannot open: {}", std::strerror(errno)));
  std::vector<std::byte> bytes(static_cast<std::size_t>(size));
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  if (in.gcount() != static_cast<std::streamsize>(size)) fail(path, "cannot read: the file changed while reading");
  return bytes;
}

void write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  namespace fs = std::filesystem;
  // A name no other writer picks: the target's name and 64 random bits.
  std::random_device entropy;
  const fs::path temp = path.string() + fmt::format(".tmp-{:08x}{:08x}", entropy(), entropy());
  auto give_up = [&](std::string_view why) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    fail(path, fmt::format("cannot write: {}", why));
  };
  {
    std::FILE* f = std::fopen(temp.c_str(), "wbx");  // "x": never reuse an existing file
    if (!f) give_up(std::strerror(errno));
    const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    const int saved_errno = errno;
    const bool closed = std::fclose(f) == 0;
    if (!written || !closed) give_up(std::strerror(written ? errno : saved_errno));
  }
  std::error_code ec;
  fs::rename(temp, path, ec);
  if (ec) give_up(ec.message());
}

}  // namespace fpaudit
