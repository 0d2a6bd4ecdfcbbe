// One optimizer step on one parameter tensor, every operation rounded into a given format: the
// chain's storage format (pure 16-bit training, as in arXiv 2305.10947), binary32 (fp32 master
// weights: the update and the optimizer state in binary32, the 16-bit weights rounded from the
// master copy), or none (the reference: binary64 operations). Counts what goes wrong on the way:
// updates lost (w + Δw == w in the format), second moments that underflow, ε that is 0 there.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "format/format.h"

namespace fpaudit::train {

enum class OptimizerKind { Sgd, Momentum, Adam };
std::string_view optimizer_name(OptimizerKind k);

struct OptimizerSettings {
  OptimizerKind kind = OptimizerKind::Sgd;
  double lr = 0.01;
  double momentum = 0.9;               ///< momentum's μ (PyTorch's form: v = μ·v + g, Δw = −lr·v)
  double beta1 = 0.9, beta2 = 0.999;   ///< Adam
  double epsilon = 1e-8;               ///< Adam's ε, added to √v̂
};

/// What one step did to one tensor.
struct UpdateCounts {
  long elements = 0;
  long moved = 0;           ///< elements for which an update is due (non-zero exact gradient)
  long lost = 0;            ///< of those, elements whose weight did not change
  long nonfinite = 0;       ///< updates that came out Inf or NaN
  long second_moment_zero = 0;       ///< Adam: v stored as 0 although its binary64 value is not
  long second_moment_subnormal = 0;  ///< Adam: v stored as a subnormal of the format
  void merge(const UpdateCounts& o);
};

class ParameterOptimizer {
 public:
  /// format: the format of the state, the update and the weights it updates; none: binary64.
  ParameterOptimizer(const OptimizerSettings& s, std::optional<Format> format, std::size_t size);
  /// Updates w (values of the format) by gradient g at step t ≥ 1. An update is due where
  /// `due` (the exact gradient, when known; else g) is not 0: a gradient flushed to 0 on the way
  /// loses its update as surely as a rounding that leaves w unchanged.
  UpdateCounts step(std::vector<double>& w, const std::vector<double>& g, int t, const std::vector<double>* due = nullptr);
  /// ε as the format holds it (0 in binary16: 1e-8 is below half its smallest subnormal).
  double epsilon_stored() const { return r(settings_.epsilon); }

 private:
  double r(double x) const;
  OptimizerSettings settings_;
  std::optional<Format> format_;
  std::vector<double> m_, v_;
};

}  // namespace fpaudit::train
