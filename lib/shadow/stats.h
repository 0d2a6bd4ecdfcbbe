// Streaming statistics: memory does not grow with the number of samples, and merging is done
// in a fixed order (see audit.cpp), so results are identical bit for bit whatever the number
// of threads.
#pragma once

#include <array>
#include <cstdint>
#include <limits>

namespace fpaudit {

/// Counts of non-negative values in logarithmic bins: 8 per octave from 2^-96 to 2^40, plus
/// bins for exact zeros and for values outside that range. Quantiles are read off with a
/// relative resolution of 2^(1/8) - 1 ≈ 9% (the bin's geometric midpoint is reported, so the
/// reported value is within ±4.4% of the bin's range).
class LogHistogram {
 public:
  static constexpr int kPerOctave = 8, kMinExp = -96, kMaxExp = 40;
  static constexpr int kBins = (kMaxExp - kMinExp) * kPerOctave;

  void add(double v);
  void merge(const LogHistogram& o);
  std::uint64_t count() const { return total_; }
  /// The q-quantile (0 ≤ q ≤ 1) of the values added; 0 when empty.
  double quantile(double q) const;

 private:
  std::uint64_t zero_ = 0, below_ = 0, above_ = 0, total_ = 0;
  std::array<std::uint64_t, kBins> bins_{};
};

/// count, sum, max and a histogram of non-negative values.
struct Summary {
  std::uint64_t count = 0;
  double sum = 0;
  double max = 0;
  LogHistogram hist;

  void add(double v) {
    ++count;
    sum += v;
    if (v > max) max = v;
    hist.add(v);
  }
  void merge(const Summary& o) {
    count += o.count;
    sum += o.sum;
    if (o.max > max) max = o.max;
    hist.merge(o.hist);
  }
  double mean() const { return count ? sum / static_cast<double>(count) : 0.0; }
  double quantile(double q) const { return hist.quantile(q); }
};

/// Where the largest value of a Summary was seen.
struct Location {
  long sample = -1;
  long element = -1;
};

/// Statistics of one kind of error (propagated or local) of one chain at one layer.
struct ErrorStats {
  // Per element, over finite pairs (chain value, reference value).
  Summary abs;     ///< |y - r|
  Summary rel;     ///< |y - r| / |r|, over elements with r ≠ 0
  Summary ulps;    ///< |y - r| / ulp(r) in the chain's storage format
  Location worst;  ///< of the largest ulp error
  // Per sample (over the layer's whole output).
  Summary normwise;  ///< ‖y - r‖₂ / ‖r‖₂
  double min_cosine = 1.0;
  double sum_cosine = 0;
  std::uint64_t samples = 0;

  void merge(const ErrorStats& o);
};

/// Events in one chain's own (propagated) values at one layer.
struct EventStats {
  std::uint64_t elements = 0;
  std::uint64_t overflow = 0;    ///< ±Inf (or a saturated max, for saturating formats) where the reference is finite
  std::uint64_t nan = 0;         ///< NaN where the reference is not NaN
  std::uint64_t flushed = 0;     ///< 0 where the reference is nonzero
  std::uint64_t subnormal = 0;   ///< nonzero values below the storage format's smallest normal
  double max_magnitude = 0;      ///< largest finite |y|, for the dynamic-range headroom
  long first_nonfinite_sample = -1;

  void merge(const EventStats& o);
};

/// One observation that exceeded its deterministic bound: a bug or a false assumption.
struct Violation {
  long sample = -1;
  long element = -1;
  double observed = 0;
  double bound = 0;
};

/// Observed errors against their bounds (one kind: propagated or local).
struct BoundStats {
  std::uint64_t checked = 0;        ///< elements with a finite bound and finite values
  std::uint64_t unbounded = 0;      ///< elements whose bound is +Inf (no rule, or overflow upstream)
  std::uint64_t violations = 0;     ///< observed > deterministic bound
  std::uint64_t prob_exceeded = 0;  ///< observed > probabilistic bound
  double max_failure_probability = 0;  ///< what the probabilistic bound promised, per element
  Summary ratio;                    ///< observed / deterministic bound
  Summary prob_ratio;               ///< observed / probabilistic bound
  Summary bound;                    ///< the deterministic bound itself
  static constexpr int kKeep = 8;
  std::array<Violation, kKeep> first{};  ///< the earliest violations (by sample, then element)
  int kept = 0;

  void add_violation(const Violation& v);
  void merge(const BoundStats& o);
};

struct LayerChainStats {
  ErrorStats propagated, local;
  BoundStats propagated_bound, local_bound;
  EventStats events;
  void merge(const LayerChainStats& o) {
    propagated.merge(o.propagated);
    local.merge(o.local);
    propagated_bound.merge(o.propagated_bound);
    local_bound.merge(o.local_bound);
    events.merge(o.events);
  }
};

}  // namespace fpaudit
