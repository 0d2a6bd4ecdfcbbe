// The header of a .npy file: a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
// parsed strictly (exactly these three keys, no expressions) so that no header can make the
// reader do anything but refuse it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fpaudit {

struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  std::vector<std::int64_t> shape;
};

/// Parses the dict; on a malformed header throws ModelError "<source>: ..." saying what is wrong.
NpyHeader parse_npy_header(std::string_view text, const std::string& source);

/// The dict NumPy writes for this header (without padding).
std::string format_npy_header(const NpyHeader& header);

}  // namespace fpaudit
