// A build test: the fpaudit executable carries machine code of every registered kernel for
// every architecture in CMAKE_CUDA_ARCHITECTURES (so no GPU of those falls back to JIT or
// finds a kernel missing). It reads the executable's fat binaries: a header (magic
// 0xBA55ED50, header size, payload size) followed by entries, each with its kind (2 = ELF
// cubin), its header size, payload size and, at offset 28 of its header, the architecture;
// the kernels' names appear in each cubin's string table.
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "cuda/registry.h"

using namespace fpaudit::cuda;

namespace {

template <class T>
T read(const std::string& bytes, std::size_t at) {
  T v{};
  if (at + sizeof v <= bytes.size()) std::memcpy(&v, bytes.data() + at, sizeof v);
  return v;
}

/// The cubins of every fat binary in `file`, by architecture (several per architecture: one
/// per translation unit).
std::multimap<int, std::string> cubins(const std::string& file) {
  std::multimap<int, std::string> out;
  const char magic[4] = {'\x50', '\xed', '\x55', '\xba'};
  for (std::size_t at = file.find(std::string(magic, 4)); at != std::string::npos; at = file.find(std::string(magic, 4), at + 4)) {
    const auto header = read<std::uint16_t>(file, at + 6);
    const auto size = read<std::uint64_t>(file, at + 8);
    if (header != 16 || size == 0 || at + 16 + size > file.size()) continue;  // not a fat binary header
    for (std::size_t e = at + 16; e < at + 16 + size;) {
      const auto kind = read<std::uint16_t>(file, e);
      const auto entry_header = read<std::uint32_t>(file, e + 4);
      const auto payload = read<std::uint64_t>(file, e + 8);
      const auto arch = read<std::uint32_t>(file, e + 28);
      if (entry_header < 32 || e + entry_header + payload > file.size()) break;
      if (kind == 2) out.emplace(static_cast<int>(arch), file.substr(e + entry_header, payload));
      e += entry_header + payload;
    }
  }
  return out;
}

/// Whether one NUL-terminated string of `cubin` contains every nonempty part.
bool has_symbol(const std::string& cubin, const std::array<std::string_view, 2>& parts) {
  for (std::size_t at = cubin.find(parts[0]); at != std::string::npos; at = cubin.find(parts[0], at + 1)) {
    const std::size_t begin = cubin.rfind('\0', at) + 1, end = cubin.find('\0', at);
    const std::string_view s(cubin.data() + begin, (end == std::string::npos ? cubin.size() : end) - begin);
    if (parts[1].empty() || s.find(parts[1]) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("every registered kernel is compiled for every architecture") {
  std::ifstream in(FPAUDIT_CLI_PATH, std::ios::binary);
  REQUIRE(in.good());
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::multimap<int, std::string> images = cubins(file);
  REQUIRE(!images.empty());
  for (const auto& [arch, cubin] : images) REQUIRE_MESSAGE(cubin.compare(0, 4, "\x7f" "ELF") == 0, "sm_", arch, ": a compressed cubin; this test reads plain ELF");
  std::istringstream archs(FPAUDIT_CUDA_ARCHITECTURES);
  for (std::string arch; std::getline(archs, arch, ',');) {
    const int sm = std::stoi(arch);
    for (const KernelInfo& k : kernel_registry()) {
      bool found = false;
      const auto [first, last] = images.equal_range(sm);
      for (auto it = first; it != last && !found; ++it) found = has_symbol(it->second, k.symbol);
      INFO(fmt::format("{} (device symbol {}{}) for sm_{}", k.name, k.symbol[0], k.symbol[1].empty() ? "" : fmt::format(" + {}", k.symbol[1]), sm));
      CHECK(found);
    }
  }
}
