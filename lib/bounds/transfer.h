// Error-bound transfer through one operator: the interface every bound rule implements
// (BoundRule::bound, lib/bounds/rules.h) and the engine calls per layer, per chain and per sample.
//
// For one chain, a value is described by an enclosure of the chain's own value and a bound on
// its distance from the exact network's value:
//     lo ≤ x_c ≤ hi        (elementwise; lo = hi = x_c once the chain has computed it, or the
//                           reference value widened by the bounds when predicting a priori)
//     |x_c - x̄| ≤ err      (x̄: the value of the exact real-number network)
// Given that for every input, bound() writes for every output element a deterministic bound
// (every rounding at its worst: Higham's γ_k) and a probabilistic one (Higham & Mary's γ̃_k for
// the sums, holding with the probability the theory states) on |y_c - ȳ|, covering the
// operator's own rounding errors and the propagation of its inputs' errors.
//
// Constants (weights) enter the same way: lo = hi = the chain's rounded constant and
// err = |rounded - exact|, so weight rounding is just one more input error.
// theory/ proves each operator's rule; tests/bounds checks them.
#pragma once

#include <span>
#include <stdexcept>
#include <vector>

#include "bounds/model.h"
#include "core/tensor.h"

namespace fpaudit::bounds {

struct Enclosure {
  const Tensor* lo = nullptr;
  const Tensor* hi = nullptr;
  const Tensor* err = nullptr;         ///< deterministic error bound
  const Tensor* err_prob = nullptr;    ///< probabilistic error bound (same shape)
  bool present() const { return lo != nullptr; }
  /// The largest magnitude the chain's value can have at element i.
  double magnitude(long i) const {
    const double a = lo->data[i] < 0 ? -lo->data[i] : lo->data[i];
    const double b = hi->data[i] < 0 ? -hi->data[i] : hi->data[i];
    return a > b ? a : b;
  }
};

/// The signed-partial-sum bounds (bounds/signed_sums.h) of one dot-product layer's outputs, kept
/// between two passes over the same enclosures. They depend on the operands' enclosures (lo, hi),
/// the model and λ, never on the input error bounds, so a local bound taken after the propagated
/// one over the same values (the margin pass's, theory/margin-bound.md) reads them instead of
/// computing the variances again: the same bits either way. The caller guarantees that the two
/// passes see the same enclosures, model and λ; `alt[i]` belongs to output element i.
struct SignedSumMemo {
  /// The bounds, allocated by the first rule that records into them: a layer whose rule records
  /// nothing (every layer but the dot products) holds no array (ResNet-50: 2 × 300 MB less).
  std::vector<double> alt;
  std::size_t elements = 0;  ///< output elements of the layer last started
  long written = 0;          ///< elements the recording pass wrote
  bool reuse = false;        ///< read alt instead of computing; otherwise record into it
  /// Every element written by one recording pass (a rule that wrote none leaves it incomplete).
  bool complete() const { return !alt.empty() && alt.size() == elements && written == static_cast<long>(elements); }
  /// Ready to record the bounds of `n` outputs.
  void start(std::size_t n) {
    elements = n;
    written = 0;
    reuse = false;
  }
  /// Where a recording rule writes output element 0's bound (alt sized on first use).
  double* record_data() {
    if (alt.size() != elements) alt.resize(elements);
    return alt.data();
  }
  /// The memo for a pass that records (this) or reads (where complete) its bounds.
  SignedSumMemo* to_record() {
    reuse = false;
    return this;
  }
  SignedSumMemo* to_read() {
    reuse = true;
    return this;
  }
};

struct BoundRequest {
  const ArithmeticModel& model;
  double lambda;                          ///< confidence parameter of the probabilistic bound
  std::span<const Enclosure> inputs;      ///< per node input; absent or preparation-only: empty
  std::span<Tensor* const> det;           ///< per output: deterministic bound, sized on entry
  std::span<Tensor* const> prob;          ///< per output: probabilistic bound, sized on entry
  /// Out: the largest per-element probability that this operator's own probabilistic bound
  /// fails (0 for operators whose rounding errors are bounded deterministically anyway).
  double* failure_probability = nullptr;
  /// False when the caller discards the probabilistic bounds (a deterministic pass): a rule may
  /// then skip the work that only tightens them (the signed-sum variances of a GEMM) and write
  /// any valid probabilistic bound, such as the deterministic one or Higham–Mary's.
  bool prob_wanted = true;
  /// Optional, dot-product rules only: the signed-sum bounds kept from or read from another pass
  /// over the same enclosures (SignedSumMemo); other rules ignore it.
  SignedSumMemo* memo = nullptr;
};

/// Thrown by operators without a bound rule; the engine reports the layer as "no bound".
class NoBound : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Upper-rounding safety for bounds computed in binary64 by the bound code itself: a bound
/// evaluated with at most n binary64 additions and multiplications of nonnegative numbers on
/// any path is multiplied by this to stay an upper bound despite its own rounding errors
/// (γ_n(2^-53), doubled; theory/bounds-arithmetic.md §1).
inline double safety(long n) { return 1.0 + 2.0 * gamma(n + 2, 0x1p-53); }

/// The underflow allowance of `products` binary64 multiplications or divisions whose rounding is
/// not directed (not inside up/down): where a product falls below 2^-1022 its rounding error is up
/// to 2^-1075 absolute, which no relative factor covers. 2^-1074 per product covers that and the
/// subnormal rounding of the safety factor's own multiplication (theory/bounds-arithmetic.md
/// §1(a)); 2^-900 is more than that for fewer than 2^174 products. It is a normal number so that
/// the bound of an exact zero is not subnormal: every later product of a subnormal bound costs
/// a microcode assist on Intel cores (about 50 ns, a hundred normal products). No products, no
/// allowance: safe_sum(s, n, 0) is s·safety(n) bit for bit.
inline constexpr double kUnderflowFloor = 0x1p-900;
inline double underflow_allowance(long products) { return products > 0 ? kUnderflowFloor : 0.0; }

/// An upper bound of a nonnegative expression whose binary64 value is s: at most n additions,
/// multiplications or divisions on any path, at most `products` of them multiplications or
/// divisions, each of which reaches s through additions only (an operand may be an upper bound
/// finished by this function, never an unfinished product). Theorem U of
/// theory/bounds-arithmetic.md §1(a); with products = 0 it is s·safety(n), bit for bit.
inline double safe_sum(double s, long n, long products) { return (s + underflow_allowance(products)) * safety(n); }

/// The lower-bound counterpart: a nonnegative expression's binary64 value s, built as for
/// safe_sum, is at least this (which may be negative: then it says nothing).
inline double safe_sum_down(double s, long n, long products) {
  return (s - underflow_allowance(products)) * (1 - 2 * gamma(n + 2, 0x1p-53));
}

/// Directed corrections of one binary64 operation (theory/bounds-arithmetic.md §1): if x is the
/// rounded result of one operation, the exact result lies in [down(x), up(x)].
inline double up(double x) { return x + (x < 0 ? -x : x) * 0x1p-52 + 0x1p-1074; }
inline double down(double x) { return x - (x < 0 ? -x : x) * 0x1p-52 - 0x1p-1074; }
/// up and down of the rounded result of one addition or subtraction: a zero stays zero, since with
/// gradual underflow a binary64 sum or difference rounds to zero only when it is exactly zero
/// (up(0) would be 2^-1074, a subnormal whose products cost a microcode assist each on Intel
/// cores, for a value that needs no widening). Not for products, which can underflow to zero.
inline double up_sum(double x) { return x == 0 ? 0.0 : up(x); }
inline double down_sum(double x) { return x == 0 ? 0.0 : down(x); }

/// An enclosure [lo, hi] in midpoint–radius form: [lo, hi] ⊆ [mid ± rad], rad rounded up (the
/// differences mid − lo and hi − mid are rounded sums). A point is itself with radius exactly 0.
struct MidRad {
  double mid, rad;
};
inline MidRad mid_rad(double lo, double hi) {
  const double mid = 0.5 * lo + 0.5 * hi;
  const double rad = up(max_num(mid - lo, hi - mid));
  return {lo == hi ? lo : mid, lo == hi ? 0.0 : rad};
}
/// The same for a value returned by a libm function (exp, log1p, erf, ...), assumed accurate to
/// 2^-49 relative (16 ulps, a wide margin over glibc's published tables; the assumption is the
/// one theory/elementwise.md states for the chains, with 8 times more room).
/// A bound that came out NaN (0·Inf from an unbounded input): +Inf, which is always safe.
inline double nan_to_inf(double b) { return b != b ? __builtin_inf() : b; }
inline double up_libm(double x) { return x + (x < 0 ? -x : x) * 0x1p-49 + 0x1p-1000; }
inline double down_libm(double x) { return x - (x < 0 ? -x : x) * 0x1p-49 - 0x1p-1000; }

}  // namespace fpaudit::bounds
