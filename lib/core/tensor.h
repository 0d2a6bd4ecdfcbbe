// A runtime tensor of one chain: a concrete shape and binary64 values (all of them values of
// the chain's storage format). Row-major (C order), as ONNX lays tensors out.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "graph/graph.h"
#include "core/operand_packs.h"

namespace fpaudit {

struct Tensor {
  Shape shape;
  std::vector<double> data;
  /// Set on constant tensors only (round_constants): binary32 copies of their data for the
  /// chains' GEMMs. Runtime values have none.
  std::shared_ptr<OperandPacks> packs;

  Tensor() = default;
  explicit Tensor(Shape s) : shape(std::move(s)), data(static_cast<std::size_t>(element_count(shape)), 0.0) {}
  long size() const { return static_cast<long>(data.size()); }
  int rank() const { return static_cast<int>(shape.size()); }
  /// Reshapes in place (no data movement); the element count must stay the same.
  void resize(const Shape& s) {
    shape = s;
    data.resize(static_cast<std::size_t>(element_count(s)));
  }
};

/// A thread's scratch buffer of at least n elements, kept between calls: grown, never shrunk, so
/// that the layers of a network, each of another size, do not zero-fill it again on every call.
template <class T, class Allocator>
T* scratch_of(std::vector<T, Allocator>& buffer, std::size_t n) {
  if (buffer.size() < n) buffer.resize(n);
  return buffer.data();
}

/// Row-major strides of a shape (in elements).
inline std::vector<std::int64_t> strides_of(const Shape& s) {
  std::vector<std::int64_t> st(s.size(), 1);
  for (int i = static_cast<int>(s.size()) - 2; i >= 0; --i) st[i] = st[i + 1] * s[i + 1];
  return st;
}

}  // namespace fpaudit
