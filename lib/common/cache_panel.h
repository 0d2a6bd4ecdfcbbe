// Column panels for the binary64 sum kernels that stream a wide matrix once per block of output
// rows (the dot-product rule's sums, the concentrated form's tap sums, the margin pass's column
// product): walking the columns a panel at a time, every row block inside, keeps the panel in
// cache instead of reading the whole matrix from memory for each block. Only the order in which
// output elements are visited changes; each element's terms keep their order, so the bits do not.
#pragma once

#include <algorithm>

namespace fpaudit {

/// Columns per panel for a matrix whose column costs `bytes_per_column` (every array the kernel
/// reads, all rows): whole multiples of 32 columns (four 8-lane vectors), as many as fit in
/// 512 KB (about half of a core's L2), at least 32; `width` itself when the panel would cover it.
inline long cache_panel_columns(long bytes_per_column, long width) {
  constexpr long kPanelBytes = 512 * 1024, kColumns = 32;
  const long panel = std::max(kColumns, kPanelBytes / std::max(1L, bytes_per_column) / kColumns * kColumns);
  return panel >= width ? std::max(1L, width) : panel;
}

}  // namespace fpaudit
