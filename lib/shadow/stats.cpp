#include "shadow/stats.h"

#include <algorithm>
#include <cmath>

namespace fpaudit {

void LogHistogram::cover(int lo, int hi) {
  if (counts_.empty()) {
    first_ = lo;
    counts_.assign(static_cast<std::size_t>(hi - lo + 1), 0);
    return;
  }
  if (lo < first_) {
    counts_.insert(counts_.begin(), static_cast<std::size_t>(first_ - lo), 0);
    first_ = lo;
  }
  if (hi >= first_ + static_cast<int>(counts_.size())) counts_.resize(static_cast<std::size_t>(hi - first_ + 1), 0);
}

// Vector code where the CPU has it (8 or 4 values per step for the slots), picked at run time.
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
void LogHistogram::add_all(std::span<const double> values) {
  constexpr std::size_t kBlock = 1024;
  int slots[kBlock];
  static thread_local std::uint32_t parts[4 * kSlots];
  for (std::size_t start = 0; start < values.size(); start += kBlock) {
    const std::size_t n = std::min(kBlock, values.size() - start);
    for (std::size_t i = 0; i < n; ++i) slots[i] = slot_of(values[start + i]);
    int lo = kSlots, hi = -1;
    for (std::size_t i = 0; i < n; ++i) {
      lo = std::min(lo, slots[i]);
      hi = std::max(hi, slots[i]);
    }
    cover(lo, hi);
    // Counted in four partial counters, element i in part i % 4: runs of one slot (neighbouring
    // values of one magnitude) would otherwise increment one memory word back to back, each
    // waiting on the last (half of this function's time). Integer sums: the same counts.
    const int width = hi - lo + 1;
    std::uint32_t* part[4];
    for (int q = 0; q < 4; ++q) {
      part[q] = parts + q * kSlots;
      std::fill(part[q], part[q] + width, 0u);
    }
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4)
      for (int q = 0; q < 4; ++q) ++part[q][slots[i + q] - lo];
    for (; i < n; ++i) ++part[0][slots[i] - lo];
    std::uint64_t* counts = counts_.data() + (lo - first_);
    for (int j = 0; j < width; ++j) counts[j] += std::uint64_t{part[0][j]} + part[1][j] + part[2][j] + part[3][j];
  }
  total_ += values.size();
}

void LogHistogram::merge(const LogHistogram& o) {
  total_ += o.total_;
  if (o.counts_.empty()) return;
  cover(o.first_, o.first_ + static_cast<int>(o.counts_.size()) - 1);
  for (std::size_t i = 0; i < o.counts_.size(); ++i) counts_[static_cast<std::size_t>(o.first_ - first_) + i] += o.counts_[i];
}

void LogHistogram::clear() {
  counts_.clear();  // the capacity stays, for the next chunk
  total_ = 0;
}

double LogHistogram::quantile(double q) const {
  if (total_ == 0) return 0;
  // The rank-th smallest value (1-based), nearest-rank definition.
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total_)));
  std::uint64_t seen = count_at(kZeroSlot);
  if (rank <= seen) return 0;
  seen += count_at(kBelowSlot);
  if (rank <= seen) return std::ldexp(1.0, kMinExp);
  const int end = first_ + static_cast<int>(counts_.size());
  for (int i = std::max(first_, kFirstBin); i < end; ++i) {
    seen += count_at(i);
    if (rank <= seen) return std::exp2(kMinExp + (i - kFirstBin + 0.5) / kPerOctave);
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
