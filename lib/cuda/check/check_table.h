// The result table of `fpaudit kernels --check`: one row per (kernel, case) with how many
// outputs were compared bit for bit with the host emulation, how many differed, how many were
// checked against the error bound and how many broke it. Any difference or violation fails.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace fpaudit::cuda::check {

struct CheckRow {
  std::string kernel, case_name;
  long compared = 0, mismatches = 0;   ///< bit-for-bit against the host emulation
  long bounded = 0, violations = 0;    ///< |device − exact| against the bound
  double worst_ratio = 0;              ///< largest |device − exact| / bound seen
  std::string note;                    ///< the first mismatch, or what the row means
  bool failed() const { return mismatches > 0 || violations > 0; }
};

class CheckTable {
 public:
  explicit CheckTable(std::FILE* out) : out_(out) {}
  /// Records and prints one row as soon as it is known (a long run shows progress).
  void add(CheckRow row);
  /// A line of free text between rows (the tensor-core probe's findings).
  void say(const std::string& line);
  long failures() const;
  void print_summary() const;

 private:
  std::FILE* out_;
  std::vector<CheckRow> rows_;
  bool header_printed_ = false;
};

/// Bit patterns equal, or both NaN.
bool same_value(float a, float b);
/// "12.5 (0x4a40)" for a binary16 pattern, "1.0000001 (0x3f800001)" for a binary32 value.
std::string describe_half(unsigned short h);
std::string describe_float(float f);

}  // namespace fpaudit::cuda::check
