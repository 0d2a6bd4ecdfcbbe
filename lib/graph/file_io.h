// Whole-file reads with a size cap, and writes that never leave half a file behind.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace fpaudit {

/// The file's bytes; ModelError "<path>: ..." when it cannot be opened, is not a regular file,
/// or is larger than max_bytes (checked before reading).
std::vector<std::byte> read_file(const std::filesystem::path& path, std::int64_t max_bytes);

/// Writes bytes to a temporary file in path's folder, flushes it, and renames it over path.
/// On failure the temporary file is removed and ModelError "<path>: cannot write ..." thrown.
void write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes);

}  // namespace fpaudit
