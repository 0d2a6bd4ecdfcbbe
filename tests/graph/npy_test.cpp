// .npy files: round trips of every dtype, the exact bytes NumPy writes, headers of versions
// 1.0-3.0, and the refusal of everything else with a message naming the file.
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>

#include <doctest/doctest.h>

#include "graph/loader.h"
#include "graph/model_builder.h"

using namespace fpaudit;
using fpaudit::test::error_of;
using fpaudit::test::TempDir;

namespace {

std::vector<std::byte> bytes_of(std::string_view s) {
  std::vector<std::byte> out(s.size());
  std::memcpy(out.data(), s.data(), s.size());
  return out;
}

/// A .npy file of the given version with a literal header (padded to 64 bytes) and data bytes.
std::vector<std::byte> npy(int major, std::string header, std::string_view data) {
  const std::size_t prefix = major == 1 ? 10 : 12;
  header.append(63 - (prefix + header.size()) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  const std::uint32_t n = static_cast<std::uint32_t>(header.size());
  out.append(reinterpret_cast<const char*>(&n), major == 1 ? 2 : 4);
  out += header;
  out += data;
  return bytes_of(out);
}

Constant parse(const std::vector<std::byte>& b) { return parse_npy(b, "a.npy"); }
std::string error(const std::vector<std::byte>& b) { return error_of([&] { parse(b); }); }

}  // namespace

TEST_CASE("every dtype survives a write/read round trip with its exact values") {
  TempDir dir;
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<Constant> arrays = {
      {DType::Float16, {2, 3}, {1, -2, 65504, std::ldexp(1.0, -24), -0.0, inf}, {}},
      {DType::Float32, {3}, {0.1f, -1e30f, std::ldexp(1.0, -149)}, {}},
      {DType::Float64, {}, {0.1}, {}},
      {DType::Int64, {2}, {}, {std::numeric_limits<std::int64_t>::min(), 42}},
      {DType::Int32, {1, 2}, {}, {-2147483648LL, 7}},
      {DType::UInt8, {3}, {}, {0, 128, 255}},
      {DType::Int8, {2}, {}, {-128, 127}},
      {DType::Bool, {4}, {}, {1, 0, 0, 1}},
      {DType::Float32, {0, 5}, {}, {}},
  };
  for (const Constant& a : arrays) {
    INFO(dtype_name(a.dtype) << " " << shape_string(a.shape));
    write_npy(dir / "a.npy", a);
    const Constant b = read_npy(dir / "a.npy");
    CHECK(b.dtype == a.dtype);
    CHECK(b.shape == a.shape);
    CHECK(b.ints == a.ints);
    REQUIRE(b.values.size() == a.values.size());
    for (std::size_t i = 0; i < a.values.size(); ++i) {
      CHECK(b.values[i] == a.values[i]);
      CHECK(std::signbit(b.values[i]) == std::signbit(a.values[i]));
    }
  }
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path()), {}) == 1);  // no temporary files left
}

TEST_CASE("the bytes written are NumPy's: format 1.0, padded header, little-endian data") {
  const std::vector<std::byte> b = encode_npy({DType::Float32, {2}, {1.0, -2.0}, {}});
  const std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  REQUIRE(b.size() == 128 + 8);
  CHECK(std::memcmp(b.data(), "\x93NUMPY\x01\x00\x76\x00", 10) == 0);  // header length 118 = 128 - 10
  CHECK(std::string(reinterpret_cast<const char*>(b.data()) + 10, header.size()) == header);
  CHECK(static_cast<char>(b[127]) == '\n');
  CHECK(std::memcmp(b.data() + 128, "\x00\x00\x80\x3f\x00\x00\x00\xc0", 8) == 0);
  const std::vector<std::byte> scalar = encode_npy({DType::Int64, {}, {}, {5}});
  CHECK(std::string(reinterpret_cast<const char*>(scalar.data()) + 10, 55) ==
        "{'descr': '<i8', 'fortran_order': False, 'shape': (), }");
}

TEST_CASE("headers of versions 2.0 and 3.0, double quotes, keys in any order, Python 2 long dims") {
  const std::string data("\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\xfa\xff\xff\xff\x05\x00\x00\x00\x06\x00\x00\x00", 24);
  for (int major : {1, 2, 3}) {
    INFO("version " << major);
    const Constant c = parse(npy(major, R"({"shape": (2L, 3L), "fortran_order": False, "descr": "<i4"})", data));
    CHECK(c.dtype == DType::Int32);
    CHECK(c.shape == Shape{2, 3});
    CHECK(c.ints == std::vector<std::int64_t>{1, 2, 3, -6, 5, 6});
  }
  const Constant one = parse(npy(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (1,), }", std::string("\x01", 1)));
  CHECK(one.ints == std::vector<std::int64_t>{1});
}

TEST_CASE("bad files are refused with one line naming the file and the problem") {
  const std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  const std::string data(24, '\0');
  CHECK(error(bytes_of("PK\x03\x04 zip file")) == "a.npy: not a .npy file (the magic string \\x93NUMPY is missing)");
  std::vector<std::byte> v4 = npy(1, header, data);
  v4[6] = std::byte{4};
  CHECK(error(v4) == "a.npy: .npy format version 4.0 is not supported (fpaudit reads 1.0, 2.0 and 3.0)");
  const std::vector<std::byte> full = npy(1, header, data);
  CHECK(error({full.begin(), full.begin() + 40}) == "a.npy: the .npy header is truncated");
  std::vector<std::byte> long_header = npy(2, header, data);
  const std::uint32_t claimed = 100000;
  std::memcpy(&long_header[8], &claimed, 4);
  CHECK(error(long_header) == "a.npy: the .npy header is 100000 bytes, more than the limit of 65536");
  CHECK(error({full.begin(), full.end() - 4}) == "a.npy: shape [2, 3] of <f4 needs 24 data bytes, the file has 20");
  CHECK(error(npy(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", data)) ==
        "a.npy: big-endian data ('>f4') is not supported; save it little-endian (array.astype('<f4'))");
  CHECK(error(npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", data)) ==
        "a.npy: Fortran-order arrays are not supported; save a C-order array (numpy.ascontiguousarray)");
  CHECK(error(npy(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }", data)) ==
        "a.npy: dtype '<c8' is not supported (fpaudit reads float16, float32, float64, uint8, int8, int32, int64, bool)");
  CHECK(error(npy(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (1,), }", "\x02")) ==
        "a.npy: bool element 0 is neither 0 nor 1");
  // A few header bytes claiming 2^32 elements: refused before anything is allocated.
  CHECK(error(npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (65536, 65536), }", "")) ==
        "a.npy: shape [65536, 65536] has more than 2147483648 elements");
}

TEST_CASE("malformed headers: the parser accepts the dict NumPy writes and nothing else") {
  const std::string data(24, '\0');
  auto header_error = [&](const std::string& h) { return error(npy(1, h, data)); };
  CHECK(header_error("{'descr': '<f4', 'shape': (2, 3), }") ==
        "a.npy: malformed .npy header: 'descr', 'fortran_order' and 'shape' are all required at offset 35");
  CHECK(header_error("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 1}") ==
        "a.npy: malformed .npy header: unknown key 'extra' at offset 66");
  CHECK(header_error("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}") ==
        "a.npy: malformed .npy header: key 'descr' given twice at offset 25");
  CHECK(header_error("{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }") ==
        "a.npy: malformed .npy header: expected a non-negative integer dimension at offset 51");
  CHECK(header_error("{'descr': '<f4', 'fortran_order': False, 'shape': (24), }") ==
        "a.npy: malformed .npy header: a one-element tuple needs a trailing comma at offset 54");
  CHECK(header_error("{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3), }") ==
        "a.npy: malformed .npy header: expected True or False at offset 34");
  CHECK(header_error("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } junk") ==
        "a.npy: malformed .npy header: text after the dict at offset 60");
  CHECK(header_error("{'descr': '<f4") == "a.npy: malformed .npy header: unexpected character in a string at offset 54");
  const char raw[] = "\x93NUMPY\x01\x00\x0e\x00{'descr': '<f4";  // header cut inside a string
  const std::string unterminated(raw, sizeof raw - 1);
  CHECK(error(bytes_of(unterminated)) == "a.npy: malformed .npy header: unterminated string at offset 14");
  CHECK(header_error("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 3), }") ==
        "a.npy: malformed .npy header: dimension too large at offset 61");
}

TEST_CASE("read_npy and write_npy name the file; writing an unwritable path leaves nothing behind") {
  TempDir dir;
  CHECK(error_of([&] { read_npy(dir / "none.npy"); }) == (dir / "none.npy").string() + ": cannot open: no such file");
  CHECK(error_of([&] { write_npy(dir / "missing" / "a.npy", {DType::Float32, {1}, {1.0}, {}}); }).starts_with(
      (dir / "missing" / "a.npy").string() + ": cannot write: No such file or directory"));
  CHECK(error_of([&] { write_npy(dir / "b.npy", {DType::BFloat16, {1}, {1.0}, {}}); }) ==
        (dir / "b.npy").string() + ": a bfloat16 array cannot be written as .npy");
  CHECK(error_of([&] { write_npy(dir / "c.npy", {DType::Float32, {2}, {1.0}, {}}); }) ==
        (dir / "c.npy").string() + ": a float32 array of shape [2] holds 1 values");
  CHECK(std::filesystem::is_empty(dir.path()));
}
