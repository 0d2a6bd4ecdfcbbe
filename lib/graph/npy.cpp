// NumPy .npy files: magic "\x93NUMPY", version, header length, the header dict, then the data
// in C order. Everything is checked against the bytes actually present before any allocation.
#include <bit>
#include <cstring>

#include <fmt/format.h>

#include "format/encoding.h"
#include "format/format.h"
#include "format/round.h"
#include "format/binary16.h"
#include "graph/dtype.h"
#include "graph/errors.h"
#include "graph/file_io.h"
#include "graph/limits.h"
#include "graph/loader.h"
#include "graph/npy_header.h"

namespace fpaudit {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicSize = 6;

struct NpyType {
  std::string_view descr;
  DType dtype;
};
// What NumPy writes for each dtype; the one-byte types have no byte order ('|'), though '<'
// is accepted for them too.
constexpr NpyType kTypes[] = {
    {"<f2", DType::Float16}, {"<f4", DType::Float32}, {"<f8", DType::Float64}, {"<i4", DType::Int32},
    {"<i8", DType::Int64},   {"|u1", DType::UInt8},   {"<u1", DType::UInt8},   {"|i1", DType::Int8},
    {"<i1", DType::Int8},    {"|b1", DType::Bool},
};

DType dtype_of(const std::string& descr, const std::string& source) {
  for (const NpyType& t : kTypes)
    if (t.descr == descr) return t.dtype;
  if (!descr.empty() && descr[0] == '>')
    throw ModelError(fmt::format("{}: big-endian data ('{}') is not supported; save it little-endian "
                                 "(array.astype('<{}'))", source, descr, descr.substr(1)));
  throw ModelError(fmt::format("{}: dtype '{}' is not supported (fpaudit reads float16, float32, float64, uint8, int8, "
                               "int32, int64, bool)", source, descr));
}

std::string_view descr_of(DType t) {
  for (const NpyType& n : kTypes)
    if (n.dtype == t) return n.descr;
  return {};
}

template <class T>
T load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <class T>
void store(std::vector<std::byte>& out, T v) {
  const auto* p = reinterpret_cast<const std::byte*>(&v);
  out.insert(out.end(), p, p + sizeof v);
}

}  // namespace

Constant parse_npy(std::span<const std::byte> bytes, const std::filesystem::path& path) {
  static_assert(std::endian::native == std::endian::little, "the .npy reader assumes a little-endian host");
  const std::string source = source_name(path);
  auto refuse = [&](std::string_view problem) -> void { throw ModelError(fmt::format("{}: {}", source, problem)); };
  if (bytes.size() < kMagicSize + 4 || std::memcmp(bytes.data(), kMagic, kMagicSize) != 0)
    refuse("not a .npy file (the magic string \\x93NUMPY is missing)");
  const auto major = static_cast<int>(bytes[6]), minor = static_cast<int>(bytes[7]);
  if (major < 1 || major > 3 || minor != 0)
    refuse(fmt::format(".npy format version {}.{} is not supported (fpaudit reads 1.0, 2.0 and 3.0)", major, minor));
  const std::size_t length_size = major == 1 ? 2 : 4;
  if (bytes.size() < kMagicSize + 2 + length_size) refuse("the .npy header is truncated");
  const std::size_t header_size = major == 1 ? load<std::uint16_t>(&bytes[8]) : load<std::uint32_t>(&bytes[8]);
  const std::size_t data_start = kMagicSize + 2 + length_size + header_size;
  if (header_size > static_cast<std::size_t>(kMaxNpyHeaderBytes))
    refuse(fmt::format("the .npy header is {} bytes, more than the limit of {}", header_size, kMaxNpyHeaderBytes));
  if (bytes.size() < data_start) refuse("the .npy header is truncated");
  const std::string_view text(reinterpret_cast<const char*>(&bytes[kMagicSize + 2 + length_size]), header_size);
  const NpyHeader header = parse_npy_header(text, source);

  Constant c;
  c.dtype = dtype_of(header.descr, source);
  if (header.fortran_order)
    refuse("Fortran-order arrays are not supported; save a C-order array (numpy.ascontiguousarray)");
  c.shape = header.shape;
  const std::int64_t n = element_count(c.shape);
  if (n > kMaxValueElements) refuse(fmt::format("shape {} has more than {} elements", shape_string(c.shape), kMaxValueElements));
  const std::size_t data_size = static_cast<std::size_t>(n) * dtype_size(c.dtype);
  if (bytes.size() - data_start != data_size)
    refuse(fmt::format("shape {} of {} needs {} data bytes, the file has {}", shape_string(c.shape), header.descr,
                       data_size, bytes.size() - data_start));

  const std::byte* p = bytes.data() + data_start;
  const auto count = static_cast<std::size_t>(n);
  if (is_float(c.dtype)) c.values.resize(count);
  else c.ints.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    switch (c.dtype) {
      case DType::Float16: c.values[i] = b16::to_float(load<std::uint16_t>(p + 2 * i)); break;
      case DType::Float32: c.values[i] = load<float>(p + 4 * i); break;
      case DType::Float64: c.values[i] = load<double>(p + 8 * i); break;
      case DType::Int32: c.ints[i] = load<std::int32_t>(p + 4 * i); break;
      case DType::Int64: c.ints[i] = load<std::int64_t>(p + 8 * i); break;
      case DType::UInt8: c.ints[i] = load<std::uint8_t>(p + i); break;
      case DType::Int8: c.ints[i] = load<std::int8_t>(p + i); break;
      case DType::Bool:
        if (load<std::uint8_t>(p + i) > 1) refuse(fmt::format("bool element {} is neither 0 nor 1", i));
        c.ints[i] = load<std::uint8_t>(p + i);
        break;
      default: break;
    }
  }
  return c;
}

Constant read_npy(const std::filesystem::path& path) {
  const std::vector<std::byte> bytes = read_file(path, kMaxValueElements * 8 + kMaxNpyHeaderBytes + 16);
  return parse_npy(bytes, path);
}

std::vector<std::byte> encode_npy(const Constant& a) {
  const std::string_view descr = descr_of(a.dtype);
  if (descr.empty()) throw ModelError(fmt::format("a {} array cannot be written as .npy", dtype_name(a.dtype)));
  const std::int64_t n = element_count(a.shape);
  if (n < 0 || static_cast<std::size_t>(n) != (is_float(a.dtype) ? a.values.size() : a.ints.size()))
    throw ModelError(fmt::format("a {} array of shape {} holds {} values", dtype_name(a.dtype), shape_string(a.shape),
                                 is_float(a.dtype) ? a.values.size() : a.ints.size()));

  // Pad the header with spaces and a newline so the data starts at a multiple of 64 bytes.
  std::string header = format_npy_header({std::string(descr), false, a.shape});
  const bool v1 = header.size() + 64 <= 65535;  // the padded length must fit format 1.0's 16 bits
  const std::size_t prefix = kMagicSize + 2 + (v1 ? 2 : 4);
  header.append(63 - (prefix + header.size()) % 64, ' ');
  header += '\n';

  std::vector<std::byte> out;
  out.reserve(prefix + header.size() + static_cast<std::size_t>(n) * dtype_size(a.dtype));
  for (std::size_t i = 0; i < kMagicSize; ++i) out.push_back(static_cast<std::byte>(kMagic[i]));
  out.push_back(std::byte{v1 ? std::uint8_t{1} : std::uint8_t{2}});
  out.push_back(std::byte{0});
  if (v1) store(out, static_cast<std::uint16_t>(header.size()));
  else store(out, static_cast<std::uint32_t>(header.size()));
  for (char ch : header) out.push_back(static_cast<std::byte>(ch));
  for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
    switch (a.dtype) {
      case DType::Float16: store(out, static_cast<std::uint16_t>(encode(binary16(), round_to(binary16(), a.values[i])))); break;
      case DType::Float32: store(out, static_cast<float>(a.values[i])); break;
      case DType::Float64: store(out, a.values[i]); break;
      case DType::Int32: store(out, static_cast<std::int32_t>(a.ints[i])); break;
      case DType::Int64: store(out, a.ints[i]); break;
      case DType::UInt8: store(out, static_cast<std::uint8_t>(a.ints[i])); break;
      case DType::Int8: store(out, static_cast<std::int8_t>(a.ints[i])); break;
      case DType::Bool: store(out, static_cast<std::uint8_t>(a.ints[i] != 0)); break;
      default: break;
    }
  }
  return out;
}

void write_npy(const std::filesystem::path& path, const Constant& array) {
  std::vector<std::byte> bytes;
  try {
    bytes = encode_npy(array);
  } catch (const ModelError& e) {
    fail(path, e.what());
  }
  write_file_atomically(path, bytes);
}

}  // namespace fpaudit
