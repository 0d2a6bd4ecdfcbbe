// Multidirectional (numpy) broadcasting, resolved once at preparation: for each input, the
// strides to use along each output dimension (0 where the input is broadcast).
#pragma once

#include <cstdint>
#include <vector>

#include "graph/graph.h"

namespace fpaudit::ops {

class Broadcast {
 public:
  /// Output shape = broadcast of the inputs (the caller has checked compatibility; the shapes
  /// come from shape inference).
  Broadcast(const std::vector<Shape>& inputs, const Shape& output);
  /// Calls f(out_index, offsets[]) for every output element in row-major order. The last
  /// dimension runs as a plain loop (offsets stepping by their innermost strides), the others
  /// as an odometer once per row (for_each_row): the same calls in the same order, without the
  /// odometer's work per element.
  template <class F>
  void for_each(F&& f) const {
    std::vector<std::int64_t> at(strides_.size());
    for_each_row([&](std::int64_t o, std::int64_t length, const std::int64_t* row, const std::int64_t* inner) {
      at.assign(row, row + strides_.size());
      for (std::int64_t j = 0; j < length; ++j) {
        f(o + j, at.data());
        for (std::size_t i = 0; i < at.size(); ++i) at[i] += inner[i];
      }
    });
  }
  /// Calls f(out_index, length, offsets[], steps[]) once per row of the output's last dimension,
  /// in row-major order: output elements [out_index, out_index + length) read input i at
  /// offsets[i] + j·steps[i].
  template <class F>
  void for_each_row(F&& f) const {
    const int rank = static_cast<int>(out_.size());
    const std::size_t n_in = strides_.size();
    std::vector<std::int64_t> idx(rank, 0), off(n_in, 0), inner(n_in, 0);
    const std::int64_t total = element_count(out_);
    if (total == 0) return;
    const std::int64_t length = rank > 0 ? out_[rank - 1] : 1;
    for (std::size_t i = 0; i < n_in; ++i) inner[i] = rank > 0 ? strides_[i][rank - 1] : 0;
    for (std::int64_t o = 0; o < total; o += length) {
      f(o, length, off.data(), inner.data());
      for (int d = rank - 2; d >= 0; --d) {  // odometer increment over the outer dimensions
        for (std::size_t i = 0; i < n_in; ++i) off[i] += strides_[i][d];
        if (++idx[d] < out_[d]) break;
        for (std::size_t i = 0; i < n_in; ++i) off[i] -= strides_[i][d] * out_[d];
        idx[d] = 0;
      }
    }
  }

 private:
  Shape out_;
  std::vector<std::vector<std::int64_t>> strides_;
};

}  // namespace fpaudit::ops
