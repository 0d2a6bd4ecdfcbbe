// NumPy .npz files: a zip archive of .npy members, one per array, named "<key>.npy". NumPy's
// savez stores its members, savez_compressed deflates them; both are read. The central
// directory at the end of the archive is the index (sizes there are authoritative: NumPy's local
// headers carry zip64 placeholders). Every offset and size is checked against the bytes present
// before it is used, and every member's CRC-32 is checked after it is read.
#include <cstring>
#include <set>

#include <fmt/format.h>
#include <zlib.h>

#include "graph/errors.h"
#include "graph/file_io.h"
#include "graph/limits.h"
#include "graph/loader.h"

namespace fpaudit {

namespace {

constexpr std::uint32_t kLocalHeader = 0x04034b50, kCentralHeader = 0x02014b50, kEndOfDirectory = 0x06054b50;
constexpr std::size_t kLocalHeaderSize = 30, kCentralHeaderSize = 46, kEndOfDirectorySize = 22;
constexpr std::uint16_t kStored = 0, kDeflated = 8;
constexpr std::uint16_t kZip64Extra = 0x0001;
constexpr std::uint32_t kZip64Placeholder = 0xFFFFFFFF;

std::uint16_t u16(std::span<const std::byte> b, std::size_t at) {
  return static_cast<std::uint16_t>(static_cast<unsigned>(b[at]) | static_cast<unsigned>(b[at + 1]) << 8);
}
std::uint32_t u32(std::span<const std::byte> b, std::size_t at) {
  return static_cast<std::uint32_t>(u16(b, at)) | static_cast<std::uint32_t>(u16(b, at + 2)) << 16;
}
std::uint64_t u64(std::span<const std::byte> b, std::size_t at) {
  return static_cast<std::uint64_t>(u32(b, at)) | static_cast<std::uint64_t>(u32(b, at + 4)) << 32;
}

struct Member {
  std::string name;
  std::uint16_t method = 0;
  std::uint32_t crc = 0;
  std::uint64_t compressed = 0, size = 0, local_offset = 0;
};

/// Replaces the placeholders in a central-directory entry with the zip64 extra field's values
/// (which hold, in this order, only the fields whose 32-bit slot is the placeholder).
void read_zip64_extra(std::span<const std::byte> extra, Member& m, bool size_ph, bool compressed_ph, bool offset_ph,
                      const std::string& source) {
  for (std::size_t at = 0; at + 4 <= extra.size();) {
    const std::uint16_t id = u16(extra, at), length = u16(extra, at + 2);
    if (at + 4 + length > extra.size()) break;
    if (id == kZip64Extra) {
      std::size_t p = at + 4;
      const std::size_t end = p + length;
      for (auto [placeholder, field] : {std::pair{size_ph, &m.size}, {compressed_ph, &m.compressed}, {offset_ph, &m.local_offset}}) {
        if (!placeholder) continue;
        if (p + 8 > end) fail(source, fmt::format("member '{}': the zip64 extra field is truncated", m.name));
        *field = u64(extra, p);
        p += 8;
      }
      return;
    }
    at += 4 + length;
  }
  if (size_ph || compressed_ph || offset_ph) fail(source, fmt::format("member '{}': zip64 sizes without a zip64 extra field", m.name));
}

std::vector<Member> central_directory(std::span<const std::byte> bytes, const std::string& source) {
  // The end-of-directory record is the last 22 bytes, unless an archive comment follows it.
  if (bytes.size() < kEndOfDirectorySize) fail(source, "not an .npz file (too short to be a zip archive)");
  std::size_t end = bytes.size() - kEndOfDirectorySize;
  const std::size_t lowest = bytes.size() > kEndOfDirectorySize + 65535 ? bytes.size() - kEndOfDirectorySize - 65535 : 0;
  while (u32(bytes, end) != kEndOfDirectory) {
    if (end == lowest) fail(source, "not an .npz file (no zip end-of-directory record)");
    --end;
  }
  const std::uint16_t count = u16(bytes, end + 10);
  std::uint64_t directory_size = u32(bytes, end + 12), directory_offset = u32(bytes, end + 16);
  if (directory_offset == kZip64Placeholder || count == 0xFFFF)
    fail(source, "zip64 archives with more than 65535 members or 4 GiB of data are not supported");
  if (directory_offset + directory_size > end) fail(source, "the zip central directory lies outside the file");
  std::vector<Member> members;
  std::size_t at = static_cast<std::size_t>(directory_offset);
  for (std::uint16_t i = 0; i < count; ++i) {
    if (at + kCentralHeaderSize > end || u32(bytes, at) != kCentralHeader) fail(source, "the zip central directory is malformed");
    Member m;
    m.method = u16(bytes, at + 10);
    m.crc = u32(bytes, at + 16);
    const std::uint32_t compressed = u32(bytes, at + 20), size = u32(bytes, at + 24), offset = u32(bytes, at + 42);
    const std::size_t name_size = u16(bytes, at + 28), extra_size = u16(bytes, at + 30), comment_size = u16(bytes, at + 32);
    if (at + kCentralHeaderSize + name_size + extra_size + comment_size > end) fail(source, "the zip central directory is malformed");
    m.name.assign(reinterpret_cast<const char*>(&bytes[at + kCentralHeaderSize]), name_size);
    m.compressed = compressed;
    m.size = size;
    m.local_offset = offset;
    read_zip64_extra(bytes.subspan(at + kCentralHeaderSize + name_size, extra_size), m, size == kZip64Placeholder,
                     compressed == kZip64Placeholder, offset == kZip64Placeholder, source);
    members.push_back(std::move(m));
    at += kCentralHeaderSize + name_size + extra_size + comment_size;
  }
  return members;
}

std::vector<std::byte> member_bytes(std::span<const std::byte> bytes, const Member& m, const std::string& source) {
  auto refuse = [&](std::string_view problem) { fail(source, fmt::format("member '{}': {}", m.name, problem)); };
  const std::uint64_t cap = static_cast<std::uint64_t>(kMaxValueElements) * 8 + kMaxNpyHeaderBytes + 16;
  if (m.size > cap) refuse(fmt::format("{} bytes uncompressed, more than the limit of {}", m.size, cap));
  if (m.local_offset + kLocalHeaderSize > bytes.size() || u32(bytes, m.local_offset) != kLocalHeader)
    refuse("the zip local header is missing");
  const std::size_t local = static_cast<std::size_t>(m.local_offset);
  const std::size_t data = local + kLocalHeaderSize + u16(bytes, local + 26) + u16(bytes, local + 28);
  if (data > bytes.size() || m.compressed > bytes.size() - data) refuse("the member's data lies outside the file");
  const auto packed = bytes.subspan(data, static_cast<std::size_t>(m.compressed));
  std::vector<std::byte> out;
  if (m.method == kStored) {
    if (m.compressed != m.size) refuse("a stored member whose sizes differ");
    out.assign(packed.begin(), packed.end());
  } else if (m.method == kDeflated) {
    // Deflate expands at most 1032:1; a larger claimed size is a corrupt (or hostile) archive,
    // refused before the allocation.
    if (m.size > m.compressed * 1032 + 1024) refuse("the claimed uncompressed size is impossible for its deflated size");
    out.resize(static_cast<std::size_t>(m.size));
    z_stream z{};
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) refuse("zlib cannot start inflating");
    z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(packed.data()));
    z.avail_in = static_cast<uInt>(packed.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    const int status = inflate(&z, Z_FINISH);
    const std::uint64_t produced = z.total_out;
    inflateEnd(&z);
    if (status != Z_STREAM_END || produced != m.size) refuse("the deflated data is corrupt or its size is wrong");
  } else {
    refuse(fmt::format("compression method {} is not supported (fpaudit reads stored and deflated members)", m.method));
  }
  const auto crc = crc32(0L, reinterpret_cast<const Bytef*>(out.data()), static_cast<uInt>(out.size()));
  if (crc != m.crc) refuse("CRC-32 mismatch: the archive is corrupt");
  return out;
}

template <class T>
void put(std::vector<std::byte>& out, T v) {
  for (std::size_t i = 0; i < sizeof v; ++i) out.push_back(static_cast<std::byte>(static_cast<std::uint64_t>(v) >> (8 * i) & 0xFF));
}

}  // namespace

std::vector<std::pair<std::string, Constant>> parse_npz(std::span<const std::byte> bytes, const std::filesystem::path& path) {
  const std::string source = source_name(path);
  std::vector<std::pair<std::string, Constant>> arrays;
  std::set<std::string> seen;
  for (const Member& m : central_directory(bytes, source)) {
    if (m.name.size() < 5 || m.name.compare(m.name.size() - 4, 4, ".npy") != 0)
      fail(source, fmt::format("member '{}' is not an .npy array", m.name));
    std::string key = m.name.substr(0, m.name.size() - 4);
    if (!seen.insert(key).second) fail(source, fmt::format("array '{}' appears twice", key));
    const std::vector<std::byte> npy = member_bytes(bytes, m, source);
    arrays.emplace_back(key, parse_npy(npy, fmt::format("{}[{}]", source, key)));
  }
  if (arrays.empty()) fail(source, "the archive holds no arrays");
  return arrays;
}

std::vector<std::pair<std::string, Constant>> read_npz(const std::filesystem::path& path) {
  return parse_npz(read_file(path, kMaxNpzBytes), path);
}

std::vector<std::byte> encode_npz(const std::vector<std::pair<std::string, Constant>>& arrays) {
  std::vector<std::byte> out, directory;
  for (const auto& [key, array] : arrays) {
    const std::vector<std::byte> npy = encode_npy(array);
    const std::string name = key + ".npy";
    if (npy.size() >= kZip64Placeholder || out.size() >= kZip64Placeholder || name.size() > 0xFFFF)
      throw ModelError(fmt::format("array '{}' is too large for an .npz without zip64", key));
    const auto crc = static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(npy.data()), static_cast<uInt>(npy.size())));
    const auto offset = static_cast<std::uint32_t>(out.size());
    // Local header: version 2.0, no flags, stored, a fixed DOS time (1980-01-01) so that the
    // same arrays always give the same bytes.
    put<std::uint32_t>(out, kLocalHeader);
    for (std::uint16_t v : {std::uint16_t{20}, std::uint16_t{0}, kStored, std::uint16_t{0}, std::uint16_t{0x21}}) put(out, v);
    for (std::uint32_t v : {crc, static_cast<std::uint32_t>(npy.size()), static_cast<std::uint32_t>(npy.size())}) put(out, v);
    put<std::uint16_t>(out, static_cast<std::uint16_t>(name.size()));
    put<std::uint16_t>(out, 0);
    for (char c : name) out.push_back(static_cast<std::byte>(c));
    out.insert(out.end(), npy.begin(), npy.end());
    put<std::uint32_t>(directory, kCentralHeader);
    for (std::uint16_t v : {std::uint16_t{20}, std::uint16_t{20}, std::uint16_t{0}, kStored, std::uint16_t{0}, std::uint16_t{0x21}})
      put(directory, v);
    for (std::uint32_t v : {crc, static_cast<std::uint32_t>(npy.size()), static_cast<std::uint32_t>(npy.size())}) put(directory, v);
    for (std::uint16_t v : {static_cast<std::uint16_t>(name.size()), std::uint16_t{0}, std::uint16_t{0}, std::uint16_t{0}, std::uint16_t{0}})
      put(directory, v);
    put<std::uint32_t>(directory, 0);
    put<std::uint32_t>(directory, offset);
    for (char c : name) directory.push_back(static_cast<std::byte>(c));
  }
  if (arrays.size() > 0xFFFF || out.size() >= kZip64Placeholder) throw ModelError("too many or too large arrays for an .npz without zip64");
  const auto directory_offset = static_cast<std::uint32_t>(out.size());
  out.insert(out.end(), directory.begin(), directory.end());
  put<std::uint32_t>(out, kEndOfDirectory);
  put<std::uint16_t>(out, 0);
  put<std::uint16_t>(out, 0);
  put<std::uint16_t>(out, static_cast<std::uint16_t>(arrays.size()));
  put<std::uint16_t>(out, static_cast<std::uint16_t>(arrays.size()));
  put<std::uint32_t>(out, static_cast<std::uint32_t>(directory.size()));
  put<std::uint32_t>(out, directory_offset);
  put<std::uint16_t>(out, 0);
  return out;
}

void write_npz(const std::filesystem::path& path, const std::vector<std::pair<std::string, Constant>>& arrays) {
  std::vector<std::byte> bytes;
  try {
    bytes = encode_npz(arrays);
  } catch (const ModelError& e) {
    fail(path, e.what());
  }
  write_file_atomically(path, bytes);
}

}  // namespace fpaudit
