// Binary32 copies of a constant tensor's operand layouts, kept with the tensor itself: a chain
// converts a weight matrix to binary32 (in the layout its GEMM wants) once per tensor, and the
// copies die with the tensor, so they can never outlive or mismatch the data they came from.
#pragma once

#include <map>
#include <mutex>
#include <shared_mutex>
#include <tuple>
#include <vector>

#include "common/aligned_vector.h"

namespace fpaudit {

class OperandPacks {
 public:
  /// The rows×cols binary32 matrix whose element (i, j) is base[i·row_stride + j·col_stride]
  /// (base points into the owning tensor), converted on first use. Thread-safe.
  const float* get(const double* base, long rows, long cols, long row_stride, long col_stride) {
    const Key key{base, rows, cols, row_stride, col_stride};
    {
      std::shared_lock lock(mutex_);
      auto it = packs_.find(key);
      if (it != packs_.end()) return it->second.data();
    }
    CacheAlignedVector<float> p(static_cast<std::size_t>(rows * cols));
    for (long i = 0; i < rows; ++i)
      for (long j = 0; j < cols; ++j) p[i * cols + j] = static_cast<float>(base[i * row_stride + j * col_stride]);
    std::unique_lock lock(mutex_);
    return packs_.emplace(key, std::move(p)).first->second.data();  // map nodes never move
  }

 private:
  using Key = std::tuple<const double*, long, long, long, long>;
  std::shared_mutex mutex_;
  std::map<Key, CacheAlignedVector<float>> packs_;
};

}  // namespace fpaudit
