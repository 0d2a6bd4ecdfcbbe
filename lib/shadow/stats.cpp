#include "shadow/stats.h"

#include <cmath>

namespace fpaudit {

void LogHistogram::merge(const LogHistogram& o) {
  zero_ += o.zero_;
  below_ += o.below_;
  above_ += o.above_;
  total_ += o.total_;
  for (int i = o.first_; i < o.end_; ++i) bins_[i] += o.bins_[i];
  first_ = o.first_ < first_ ? o.first_ : first_;
  end_ = o.end_ > end_ ? o.end_ : end_;
}

void LogHistogram::clear() {
  for (int i = first_; i < end_; ++i) bins_[i] = 0;
  zero_ = below_ = above_ = total_ = 0;
  first_ = kBins;
  end_ = 0;
}

double LogHistogram::quantile(double q) const {
  if (total_ == 0) return 0;
  // The rank-th smallest value (1-based), nearest-rank definition.
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total_)));
  std::uint64_t seen = zero_;
  if (rank <= seen) return 0;
  seen += below_;
  if (rank <= seen) return std::ldexp(1.0, kMinExp);
  for (int i = first_; i < end_; ++i) {
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

void ErrorStats::clear() {
  abs.clear();
  rel.clear();
  ulps.clear();
  worst = Location{};
  normwise.clear();
  min_cosine = 1.0;
  sum_cosine = 0;
  samples = 0;
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

void BoundStats::clear() {
  checked = unbounded = violations = prob_exceeded = 0;
  max_failure_probability = 0;
  ratio.clear();
  prob_ratio.clear();
  bound.clear();
  first = {};
  kept = 0;
}

}  // namespace fpaudit
