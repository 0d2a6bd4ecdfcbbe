// Where an audit's time goes: seconds per phase (reference, each chain's evaluation, bounds and
// statistics), summed over threads, so the phases add up to about threads × wall time. A phase
// ends where the next begins (Lap), so timing costs one clock read per phase and layer; the
// clock is the steady wall clock (a thread's own CPU clock costs a system call per read).
#pragma once

#include <chrono>
#include <vector>

namespace fpaudit {

struct ChainTiming {
  double evaluate = 0;    ///< the chain's layers, propagated and local
  double bounds = 0;      ///< its bound rules, propagated and local
  double statistics = 0;  ///< error, bound-check and event statistics of its outputs
};

struct AuditTiming {
  /// Before the sample loop, on one thread: the constants in each storage format, the a-priori
  /// chains, the margin plan. With `other` (inside the loop and after it) every second of the
  /// run is in some phase: the phases add up to the wall time on one thread.
  double setup = 0;
  double reference_evaluate = 0;  ///< the reference on its own values and on each storage group's rounded inputs
  double reference_bounds = 0;    ///< the reference's own error bounds
  double apriori = 0;             ///< the a-priori certificate's propagation and every chain's certificates
  double margin = 0;              ///< the margin-directed certificates (local bounds, backward passes)
  std::vector<ChainTiming> chains;
  double other = 0;               ///< workspaces, input rounding, classification, merging the per-chunk statistics

  void merge(const AuditTiming& o) {
    setup += o.setup;
    reference_evaluate += o.reference_evaluate;
    reference_bounds += o.reference_bounds;
    apriori += o.apriori;
    margin += o.margin;
    if (chains.size() < o.chains.size()) chains.resize(o.chains.size());
    for (std::size_t c = 0; c < o.chains.size(); ++c) {
      chains[c].evaluate += o.chains[c].evaluate;
      chains[c].bounds += o.chains[c].bounds;
      chains[c].statistics += o.chains[c].statistics;
    }
    other += o.other;
  }
};

/// A stopwatch whose laps are charged to counters: to(x) adds the time since the last lap to x.
class Lap {
 public:
  void to(double& counter) {
    const auto now = std::chrono::steady_clock::now();
    counter += std::chrono::duration<double>(now - last_).count();
    last_ = now;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

}  // namespace fpaudit
