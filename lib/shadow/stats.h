// Streaming statistics: memory does not grow with the number of samples, and merging is done
// in a fixed order (see audit.cpp), so results are identical bit for bit whatever the number
// of threads.
#pragma once

#include <array>
#include <bit>
#include <span>
#include <vector>
#include <cstdint>
#include <limits>

namespace fpaudit {

/// Counts of non-negative values in logarithmic bins: 8 per octave from 2^-96 to 2^40, plus
/// bins for exact zeros and for values outside that range (+Inf and NaN count as above it).
/// Quantiles are read off with a relative resolution of 2^(1/8) - 1 ≈ 9% (the bin's geometric
/// midpoint is reported, so the reported value is within ±4.4% of the bin's range).
///
/// A value's bin comes from its bit pattern: the exponent field gives the octave, and the
/// fraction field is compared with the 7 sub-bin thresholds (kThresholds), without branches,
/// so add_all() runs as vector code; frexp, log2 and floor cost some 40 ns a value. Only the
/// range of counters touched is stored, so merging and clearing cost what was used, not all
/// 1091 counters, and the memory is a few hundred bytes.
class LogHistogram {
 public:
  static constexpr int kPerOctave = 8, kMinExp = -96, kMaxExp = 40;
  static constexpr int kBins = (kMaxExp - kMinExp) * kPerOctave;
  /// Sub-bin k ≥ 1 of an octave starts where the 52-bit fraction of the value reaches
  /// kThresholds[k-1]: the smallest binary64 fraction f with (1 + f·2^-52) ≥ 2^(k/8), except
  /// k = 7, one below it — where frexp/log2/floor, which defined the bins first, put it
  /// (glibc's log2 rounds that value up to exactly 7/8); tests/shadow/stats_test.cpp checks
  /// every fraction near each threshold against that definition.
  static constexpr std::array<std::int64_t, kPerOctave - 1> kThresholds = {
      0x172b83c7d517b, 0x306fe0a31b716, 0x4bfdad5362a28, 0x6a09e667f3bcd,
      0x8ace5422aa0dc, 0xae89f995ad3ae, 0xd5818dcfba487};

  /// Where a value is counted: one slot for ±0, one below the range, one above it, then the
  /// bins in increasing order.
  static constexpr int kZeroSlot = 0, kBelowSlot = 1, kAboveSlot = 2, kFirstBin = 3, kSlots = kFirstBin + kBins;
  static int slot_of(double v) {
    const auto bits = std::bit_cast<std::uint64_t>(v);
    // v in [2^(octave + kMinExp), 2^(octave + kMinExp + 1)); a set sign bit (NaN, negative
    // values, which are not expected) lands far above the range, subnormals far below it.
    const auto octave = static_cast<std::int64_t>(bits >> 52) - 1023 - kMinExp;
    const auto fraction = static_cast<std::int64_t>(bits & ((std::uint64_t{1} << 52) - 1));
    std::int64_t k = 0;
    for (const std::int64_t t : kThresholds) k += static_cast<std::int64_t>(fraction >= t);
    // The special slots by masks, not branches or selects: the compiler vectorises this form
    // (4-5x faster than the branches it makes of ?:, which mispredict on data like this).
    const std::int64_t below = -static_cast<std::int64_t>(octave < 0);
    const std::int64_t above = -static_cast<std::int64_t>(octave >= kMaxExp - kMinExp);
    const std::int64_t zero = -static_cast<std::int64_t>((bits << 1) == 0);
    std::int64_t slot = kFirstBin + octave * kPerOctave + k;
    slot = (slot & ~below) | (kBelowSlot & below);
    slot = (slot & ~above) | (kAboveSlot & above);
    slot = (slot & ~zero) | (kZeroSlot & zero);
    return static_cast<int>(slot);
  }

  void add(double v) { add_all({&v, 1}); }
  /// add() for every value.
  void add_all(std::span<const double> values);
  void merge(const LogHistogram& o);
  /// Back to empty, touching only the counters used.
  void clear();
  std::uint64_t count() const { return total_; }
  /// The q-quantile (0 ≤ q ≤ 1) of the values added; 0 when empty.
  double quantile(double q) const;

 private:
  friend struct HistogramCodec;  // shadow/chunk_codec.cpp: the exact state, between MPI ranks
  std::uint64_t total_ = 0;
  /// Counters of slots [first_, first_ + counts_.size()) only, every other slot being 0: values
  /// of one kind span a few dozen bins, so an audit's thousands of histograms stay small.
  int first_ = 0;
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_at(int slot) const {
    const int i = slot - first_;
    return i >= 0 && i < static_cast<int>(counts_.size()) ? counts_[static_cast<std::size_t>(i)] : 0;
  }
  /// Makes counts_ cover slots [lo, hi] (adding zeros).
  void cover(int lo, int hi);
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
  /// The sum and max of a run of values as add() would carry them on, kept by the caller's
  /// loop: several summaries' sums then advance side by side instead of one after another (a
  /// binary64 sum in order costs one addition's latency per value).
  struct Running {
    double sum, max;
    void add(double v) {
      sum += v;
      if (v > max) max = v;
    }
  };
  Running running() const { return {sum, max}; }
  /// add() for every value, in order: r carried running() on over exactly these values.
  void add_all(std::span<const double> values, const Running& r) {
    count += values.size();
    sum = r.sum;
    max = r.max;
    hist.add_all(values);
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

/// Per-layer blame of the margin bound (lib/margin), runner-up direction, a posteriori: the
/// layer's term ⟨|G_k|, ℓ_k⟩ as a share of the whole bound, and its observed first-order term
/// |⟨mid G_k, e_k⟩| (e_k its measured local error) as a share of the sum of those, summed over
/// samples (means: divide by samples).
struct MarginBlame {
  long samples = 0;
  double bound_share = 0, observed_share = 0;
  double bound_max = 0, observed_max = 0;  ///< largest term itself over the samples
  void merge(const MarginBlame& o) {
    samples += o.samples;
    bound_share += o.bound_share;
    observed_share += o.observed_share;
    bound_max = bound_max >= o.bound_max ? bound_max : o.bound_max;
    observed_max = observed_max >= o.observed_max ? observed_max : o.observed_max;
  }
};

struct LayerChainStats {
  ErrorStats propagated, local;
  BoundStats propagated_bound, local_bound;
  EventStats events;
  MarginBlame margin;
  void merge(const LayerChainStats& o) {
    margin.merge(o.margin);
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
    margin = MarginBlame{};
  }
};

}  // namespace fpaudit
