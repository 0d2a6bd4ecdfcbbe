#include "graph/external_data.h"

#include <fstream>
#include <optional>
#include <system_error>

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include "graph/errors.h"

namespace fpaudit {

namespace {

/// A decimal offset or length: digits only, no sign, no overflow.
std::optional<std::uint64_t> parse_size(const std::string& s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

/// Whether `inner` (canonical) lies inside the folder `outer` (canonical), compared component
/// by component so that "/models/a-evil" is not taken to be inside "/models/a".
bool is_inside(const std::filesystem::path& inner, const std::filesystem::path& outer) {
  auto i = inner.begin();
  for (auto o = outer.begin(); o != outer.end(); ++o, ++i) {
    if (o->empty()) continue;  // a trailing separator
    if (i == inner.end() || *i != *o) return false;
  }
  return i != inner.end();
}

}  // namespace

std::string read_external_data(const onnx::TensorProto& tensor, const std::filesystem::path& model,
                               std::string_view what, std::size_t expected_bytes) {
  namespace fs = std::filesystem;
  auto refuse = [&](std::string_view problem) { fail(model, fmt::format("{}: external data {}", what, problem)); };
  if (model.empty()) refuse("cannot be read: the model was not loaded from a file");

  std::string location;
  std::optional<std::uint64_t> offset, length;
  for (const auto& entry : tensor.external_data()) {
    if (entry.key() == "location") {
      location = entry.value();
    } else if (entry.key() == "offset" || entry.key() == "length") {
      auto v = parse_size(entry.value());
      if (!v) refuse(fmt::format("has a malformed {} '{}'", entry.key(), entry.value()));
      (entry.key() == "offset" ? offset : length) = v;
    }
  }
  if (location.empty()) refuse("has no location");
  if (location.find('\0') != std::string::npos) refuse("location contains a NUL character");
  const fs::path relative(location);
  if (relative.is_absolute() || relative.has_root_name() || relative.has_root_directory())
    refuse(fmt::format("location '{}' is an absolute path; only files inside the model's folder are read", location));
  for (const fs::path& part : relative)
    if (part == "..")
      refuse(fmt::format("location '{}' contains '..'; only files inside the model's folder are read", location));

  std::error_code ec;
  const fs::path folder = fs::canonical(model.has_parent_path() ? model.parent_path() : fs::path("."), ec);
  if (ec) refuse(fmt::format("cannot be read: the model's folder is not accessible ({})", ec.message()));
  const fs::path file = fs::canonical(folder / relative, ec);
  if (ec) refuse(fmt::format("file '{}' cannot be opened ({})", location, ec.message()));
  if (!is_inside(file, folder))
    refuse(fmt::format("location '{}' resolves outside the model's folder (to {})", location, file.string()));
  if (!fs::is_regular_file(file, ec)) refuse(fmt::format("location '{}' is not a regular file", location));
  const std::uint64_t file_size = fs::file_size(file, ec);
  if (ec) refuse(fmt::format("file '{}' cannot be read ({})", location, ec.message()));

  const std::uint64_t begin = offset.value_or(0);
  if (length && *length != expected_bytes)
    refuse(fmt::format("length {} does not match the tensor's {} bytes", *length, expected_bytes));
  if (begin > file_size || file_size - begin < expected_bytes)
    refuse(fmt::format("file '{}' holds {} bytes, fewer than offset {} + {} bytes the tensor needs", location,
                       file_size, begin, expected_bytes));

  std::ifstream in(file, std::ios::binary);
  std::string bytes(expected_bytes, '\0');
  in.seekg(static_cast<std::streamoff>(begin));
  in.read(bytes.data(), static_cast<std::streamsize>(expected_bytes));
  if (!in) refuse(fmt::format("file '{}' could not be read", location));
  return bytes;
}

}  // namespace fpaudit
