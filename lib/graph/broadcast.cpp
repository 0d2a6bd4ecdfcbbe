#include "graph/broadcast.h"

namespace fpaudit {

std::optional<Shape> broadcast_shapes(const Shape& a, const Shape& b) {
  const std::size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    // Align from the right; a missing leading dimension acts as 1.
    const std::int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const std::int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == db || db == 1) out[i] = da;
    else if (da == 1) out[i] = db;
    else return std::nullopt;
  }
  return out;
}

std::vector<std::int64_t> strides_of(const Shape& s) {
  std::vector<std::int64_t> strides(s.size(), 1);
  for (std::size_t i = s.size(); i-- > 1;) strides[i - 1] = strides[i] * s[i];
  return strides;
}

std::vector<std::int64_t> broadcast_offsets(const Shape& in, const Shape& out) {
  const std::size_t rank = out.size();
  const std::size_t lead = rank - in.size();
  // The operand's stride along each output dimension: 0 where it repeats.
  const std::vector<std::int64_t> in_strides = strides_of(in);
  std::vector<std::int64_t> stride(rank, 0);
  for (std::size_t i = lead; i < rank; ++i) stride[i] = in[i - lead] == 1 ? 0 : in_strides[i - lead];
  const std::int64_t n = element_count(out);
  std::vector<std::int64_t> offsets(static_cast<std::size_t>(n));
  std::vector<std::int64_t> index(rank, 0);
  std::int64_t offset = 0;
  for (std::int64_t k = 0; k < n; ++k) {
    offsets[static_cast<std::size_t>(k)] = offset;
    // Odometer step over the output index, updating the operand offset incrementally.
    for (std::size_t d = rank; d-- > 0;) {
      if (++index[d] < out[d]) {
        offset += stride[d];
        break;
      }
      offset -= stride[d] * (out[d] - 1);
      index[d] = 0;
    }
  }
  return offsets;
}

}  // namespace fpaudit
