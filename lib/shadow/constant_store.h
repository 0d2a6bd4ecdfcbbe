// The plan's constants (the weights) as one arithmetic stores them, held once per storage format
// in the narrowest type that holds every value exactly, and expanded to binary64 a layer at a time
// into each thread's cache. Every weight rounded to fp32, fp16, bf16 or fp8 storage is a binary32
// number, so a binary32 copy converted back to binary64 where the kernels read it is exact, and
// the rounding errors |round(c) − c| are computed from the two stores as they are expanded, in
// binary64 as a stored copy was: the kernels and rules see the same bits as before, and the
// weights cost the graph's binary64 values plus one binary32 copy per storage format that
// changes them (4× the fp32 weights with fp16 and bf16 chains) instead of 3 + 2·F binary64 copies.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "shadow/plan.h"

namespace fpaudit {

/// The constants of a plan in one form, read-only and shared by every thread. Per slot the
/// values are the graph's own (no copy), a binary32 or binary64 copy, zeros, or |values − exact|
/// computed from two other stores as they are expanded.
class ConstantStore {
 public:
  /// The plan's float and bool constants rounded into arithmetic a's storage format (as
  /// round_constants does); where rounding changes no bit the graph's own values are read.
  static std::shared_ptr<const ConstantStore> rounded(const Plan& plan, const Arithmetic& a);
  /// Zero for every constant: the error bound of exact constants.
  static std::shared_ptr<const ConstantStore> zeros(const Plan& plan);
  /// |values − exact| per element, in binary64 as a copy would hold it; zeros where the two
  /// stores read the same values.
  static std::shared_ptr<const ConstantStore> rounding_error(std::shared_ptr<const ConstantStore> values,
                                                             std::shared_ptr<const ConstantStore> exact);

  const Plan& plan() const { return *plan_; }
  /// Writes the slot's values into `out` (resized to its element count).
  void expand(int slot, std::vector<double>& out) const;
  /// Bytes this store holds itself (its copies; views of the graph or other stores cost none).
  std::size_t held_bytes() const;
  /// The largest binary64 size of the constants one layer reads: what a cache must hold at once.
  std::size_t layer_bytes() const { return layer_bytes_; }

  enum class Kind : std::uint8_t { None, Graph, Float, Double, Zero, Difference };
  ConstantStore(const Plan& plan, std::vector<Kind> kinds);

 private:
  const Plan* plan_;
  std::vector<Kind> kind_;                 // per slot
  std::vector<std::vector<float>> float_;  // per slot, Kind::Float
  std::vector<std::vector<double>> double_;  // per slot, Kind::Double
  std::shared_ptr<const ConstantStore> values_, exact_;  // Difference: |values_ − exact_|
  std::size_t layer_bytes_ = 0;
};

/// One thread's binary64 tensors of a store's constants, expanded when first read and evicted
/// least recently used first once they exceed twice the largest layer's: the layer being
/// evaluated always stays whole. A reference from at() stays valid while the layers read after
/// it hold less than one layer's worth; the engines read a layer's constants within that layer.
/// Each expanded tensor gets fresh operand packs (core/operand_packs.h), which die with it.
class ConstantCache {
 public:
  explicit ConstantCache(std::shared_ptr<const ConstantStore> store);
  const Tensor& at(int slot);
  const ConstantStore& store() const { return *store_; }
  /// Binary64 bytes expanded now; at most twice ConstantStore::layer_bytes().
  std::size_t bytes() const { return bytes_; }

 private:
  std::shared_ptr<const ConstantStore> store_;
  std::vector<Tensor> tensors_;        // per slot
  std::vector<std::uint64_t> used_;    // per slot: the clock of its last read; 0: not expanded
  std::vector<int> live_;              // the expanded slots
  std::uint64_t clock_ = 0;
  std::size_t bytes_ = 0, capacity_ = 0;
};

/// A workspace's caches, one per store: every set of activations of one workspace that reads a
/// store reads the same tensors (the bound rules recognise a point enclosure, lo = hi, and equal
/// det/prob bounds by their addresses). Addresses stay fixed when the owner moves.
class ConstantCaches {
 public:
  ConstantCache& of(const std::shared_ptr<const ConstantStore>& store);

 private:
  std::vector<std::unique_ptr<ConstantCache>> caches_;
};

/// The constants of a plan in one storage format and their rounding errors |round(c) − c|:
/// prepared once per storage format and shared read-only by every chain (and a-priori chain)
/// that stores in it.
struct StoredConstants {
  std::shared_ptr<const ConstantStore> values;  ///< ConstantStore::rounded(plan, a)
  std::shared_ptr<const ConstantStore> err;     ///< |values − exact|
};
/// The rounding of storage depends on the storage format alone, so chains sharing a format share
/// these; `exact` are the reference's constants.
std::shared_ptr<const StoredConstants> store_constants(const Plan& plan, const Arithmetic& a,
                                                       const std::shared_ptr<const ConstantStore>& exact);

/// Every constant of a store as binary64 tensors indexed by slot (empty for runtime slots), as
/// round_constants gives them: for tests and one-off passes over all the weights.
std::vector<Tensor> expand_all(const ConstantStore& store);

}  // namespace fpaudit
