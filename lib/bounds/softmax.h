// The bound rule of Softmax and LogSoftmax along one axis: theory/softmax.md.
//
// The chain computes (docs/chain-semantics.md) m = max x, d_i = round_S(x_i - m),
// e_i = round_S(exp_64(d_i)), ŝ = Σ e_i in A by the schedule, and y_i = round_S(e_i/ŝ)
// (Softmax) or y_i = round_S(d_i - round_A(log_64 ŝ)) (LogSoftmax). With p = softmax(x_c):
//   local        |y_i - p_i| ≤ (ε_i + p_i·Δs)/ŝ + u_S·q_i + η_S     (ŝ ≥ 1: the maximum's e is 1)
//   propagation  |p_i(x_c) - p_i(x̄)| ≤ sup p_i(1 - p_i)·(E_i + max_j E_j)      (Softmax)
//                |log p_i(x_c) - log p_i(x̄)| ≤ sup (1 - p_i)·(E_i + max_j E_j)  (LogSoftmax)
// where ε_i bounds |e_i - exp(x_i - m)|, Δs bounds |ŝ - Σ exp(x_j - m)| (the sum's own error,
// bounds/sums.h, plus Σ ε_j), and the sups run over the box [lo - E, hi + E].
#pragma once

#include "bounds/transfer.h"

namespace fpaudit::bounds {

/// One row: element j of the row is at base + j·stride of the input enclosure and of det/prob.
struct SoftmaxRow {
  long base = 0, length = 0, stride = 1;
};

/// Writes the row's bounds; returns the failure probability of its probabilistic bound.
double softmax_bound(const ArithmeticModel& m, double lambda, const Enclosure& x, const SoftmaxRow& row, bool log_softmax,
                     Tensor& det, Tensor& prob);

}  // namespace fpaudit::bounds
