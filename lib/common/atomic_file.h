// Writing output files so that nothing is ever half-written: the content goes to a temporary
// file in the same folder, which is renamed over the target only once complete.
#pragma once

#include <filesystem>
#include <string_view>

namespace fpaudit {

/// Writes `content` to `path` atomically; throws std::runtime_error naming the path on failure
/// (the target is then untouched and the temporary file removed).
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

}  // namespace fpaudit
