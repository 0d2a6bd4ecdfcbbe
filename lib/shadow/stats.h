// Streaming statistics: memory does not grow with the number of samples, and merging is done
// in a fixed order (see audit.cpp), so results are identical bit for bit whatever the number
// of threads.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <limits>

namespace fpaudit {

/// Counts of non-negative values in logarithmic bins: 8 per octave from 2^-96 to 2^40, plus
/// bins for exact zeros and for values outside that range (+Inf and NaN count as above it).
/// Quantiles are read off with a relative resolution of 2^(1/8) - 1 ≈ 9% (the bin's geometric
/// midpoint is reported, so the reported value is within ±4.4% of the bin's range).
///
/// A value's bin comes from its bit pattern: the exponent field gives the octave, and the
/// fraction field is compared with the 7 sub-bin thresholds (kThresholds), so add() costs a
/// few integer operations where frexp, log2 and floor cost some 40 ns. The bins touched are
/// tracked, so merging and clearing cost what was used, not all 1088 bins.
class LogHistogram {
 public:
  static constexpr int kPerOctave = 8, kMinExp = -96, kMaxExp = 40;
  static constexpr int kBins = (kMaxExp - kMinExp) * kPerOctave;
  /// Sub-bin k ≥ 1 of an octave starts where the 52-bit fraction of the value reaches
  /// kThresholds[k-1]: the smallest binary64 fraction f with (1 + f·2^-52) ≥ 2^(k/8), except
  /// k = 7, one below it — where frexp/log2/floor, which defined the bins first, put it
  /// (glibc's log2 rounds that value up to exactly 7/8); tests/shadow/stats_test.cpp checks
  /// every fraction near each threshold against that definition.
  static constexpr std::array<std::uint64_t, kPerOctave - 1> kThresholds = {
      0x172b83c7d517b, 0x306fe0a31b716, 0x4bfdad5362a28, 0x6a09e667f3bcd,
      0x8ace5422aa0dc, 0xae89f995ad3ae, 0xd5818dcfba487};

  /// Where add() counts v: the bin index in [0, kBins), or one of these.
  static constexpr int kZero = -1, kBelow = -2, kAbove = -3;
  static int bin_of(double v) {
    if (v == 0) return kZero;
    const auto bits = std::bit_cast<std::uint64_t>(v);
    const int octave = static_cast<int>(bits >> 52) - 1023;  // v in [2^octave, 2^(octave+1)); subnormals far below
    if (octave < kMinExp) return kBelow;
    if (octave >= kMaxExp) return kAbove;  // also +Inf, NaN and (not expected) negative values
    const std::uint64_t fraction = bits & ((std::uint64_t{1} << 52) - 1);
    int k = 0;
    for (const std::uint64_t t : kThresholds) k += fraction >= t;
    return (octave - kMinExp) * kPerOctave + k;
  }

  void add(double v) {
    ++total_;
    const int bin = bin_of(v);
    if (bin >= 0) {
      ++bins_[bin];
      first_ = bin < first_ ? bin : first_;
      end_ = bin >= end_ ? bin + 1 : end_;
    } else {
      ++(bin == kZero ? zero_ : bin == kBelow ? below_ : above_);
    }
  }
  void merge(const LogHistogram& o);
  /// Back to empty, touching only the bins used.
  void clear();
  std::uint64_t count() const { return total_; }
  /// The q-quantile (0 ≤ q ≤ 1) of the values added; 0 when empty.
  double quantile(double q) const;

 private:
  std::uint64_t zero_ = 0, below_ = 0, above_ = 0, total_ = 0;
  int first_ = kBins, end_ = 0;  ///< bins_[i] == 0 outside [first_, end_)
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
  void clear() {
    count = 0;
    sum = 0;
    max = 0;
    hist.clear();
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
  /// Back to a default-constructed state without touching every histogram bin (keep in step
  /// with the fields above).
  void clear();
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
  /// As ErrorStats::clear.
  void clear();
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
  void clear() {
    propagated.clear();
    local.clear();
    propagated_bound.clear();
    local_bound.clear();
    events = EventStats{};
  }
};

}  // namespace fpaudit
