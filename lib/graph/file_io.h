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

/// write_file_atomic (lib/common: a temporary file beside path, renamed over it) for the data
/// layer: on failure ModelError "<path>: cannot write: ..." (exit 2), the temporary file removed.
void write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes);

}  // namespace fpaudit
