#include "shadow/stats.h"

#include <cmath>

namespace fpaudit {

void LogHistogram::add(double v) {
  ++total_;
  if (v == 0) {
    ++zero_;
    return;
  }
  int e;
  const double m = std::frexp(v, &e);  // v = m·2^e, 0.5 ≤ m < 1
  const int octave = e - 1;            // v in [2^octave, 2^(octave+1))
  if (octave < kMinExp) {
    ++below_;
  } else if (octave >= kMaxExp) {
    ++above_;
  } else {
    // Sub-bin k covers [2^(octave + k/8), 2^(octave + (k+1)/8)).
    const int k = static_cast<int>(std::floor(std::log2(2 * m) * kPerOctave));
    ++bins_[(octave - kMinExp) * kPerOctave + (k < kPerOctave ? k : kPerOctave - 1)];
  }
}

void LogHistogram::merge(const LogHistogram& o) {
  zero_ += o.zero_;
  below_ += o.below_;
  above_ += o.above_;
  total_ += o.total_;
  for (int i = 0; i < kBins; ++i) bins_[i] += o.bins_[i];
}

double LogHistogram::quantile(double q) const {
  if (total_ == 0) return 0;
  // The rank-th smallest value (1-based), nearest-rank definition.
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total_)));
  std::uint64_t seen = zero_;
  if (rank <= seen) return 0;
  seen += below_;
  if (rank <= seen) return std::ldexp(1.0, kMinExp);
  for (int i = 0; i < kBins; ++i) {
    seen += bins_[i];
    if (rank <= seen) return std::exp2(kMinExp + (i + 0.5) / kPerOctave);
  }
  return std::ldexp(1.0, kMaxExp);
}

void ErrorStats::merge(const ErrorStats& o) {
  if (o.ulps.max > ulps.max) worst = o.worst;
  abs.merge(o.abs);
  rel.merge(o.rel);
  ulps.merge(o.ulps);
  normwise.merge(o.normwise);
  if (o.min_cosine < min_cosine) min_cosine = o.min_cosine;
  sum_cosine += o.sum_cosine;
  samples += o.samples;
}

void EventStats::merge(const EventStats& o) {
  elements += o.elements;
  overflow += o.overflow;
  nan += o.nan;
  flushed += o.flushed;
  subnormal += o.subnormal;
  if (o.max_magnitude > max_magnitude) max_magnitude = o.max_magnitude;
  if (first_nonfinite_sample < 0 || (o.first_nonfinite_sample >= 0 && o.first_nonfinite_sample < first_nonfinite_sample))
    first_nonfinite_sample = o.first_nonfinite_sample;
}

void BoundStats::add_violation(const Violation& v) {
  ++violations;
  if (kept < kKeep) first[kept++] = v;
}

void BoundStats::merge(const BoundStats& o) {
  checked += o.checked;
  unbounded += o.unbounded;
  violations += o.violations;
  prob_exceeded += o.prob_exceeded;
  if (o.max_failure_probability > max_failure_probability) max_failure_probability = o.max_failure_probability;
  ratio.merge(o.ratio);
  prob_ratio.merge(o.prob_ratio);
  bound.merge(o.bound);
  for (int i = 0; i < o.kept && kept < kKeep; ++i) first[kept++] = o.first[i];
}

}  // namespace fpaudit
