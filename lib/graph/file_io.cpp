#include "graph/file_io.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <system_error>

#include <fmt/format.h>

#include "common/atomic_file.h"
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
  try {
    write_file_atomic(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  } catch (const std::runtime_error& e) {
    throw ModelError(e.what());  // "<path>: cannot write: <why>", as a data error (exit 2)
  }
}

}  // namespace fpaudit
