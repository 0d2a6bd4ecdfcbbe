#include "core/ops/broadcast.h"

#include "core/tensor.h"

namespace fpaudit::ops {

Broadcast::Broadcast(const std::vector<Shape>& inputs, const Shape& output) : out_(output) {
  const std::size_t rank = output.size();
  for (const Shape& s : inputs) {
    // Align trailing dimensions; a dimension of 1 (or a missing leading one) is broadcast.
    const std::vector<std::int64_t> own = strides_of(s);
    std::vector<std::int64_t> st(rank, 0);
    for (std::size_t k = 0; k < s.size(); ++k) {
      const std::size_t d = rank - s.size() + k;
      st[d] = s[k] == 1 ? 0 : own[k];
    }
    strides_.push_back(std::move(st));
  }
}

}  // namespace fpaudit::ops
