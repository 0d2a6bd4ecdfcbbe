#include "train/loss.h"

#include <cmath>

namespace fpaudit::train {

std::string_view loss_name(LossKind k) { return k == LossKind::CrossEntropy ? "cross-entropy" : "mse"; }

namespace {
/// Logits [N, C, P]: row r = (n, p) reads z[(n·C + j)·P + p], j < C.
struct Rows {
  long rows, classes, positions;
  std::size_t at(long r, long j) const { return static_cast<std::size_t>(((r / positions) * classes + j) * positions + r % positions); }
};
}  // namespace

double loss_value(LossKind k, std::span<const double> logits, std::span<const std::int64_t> labels, long classes, long positions) {
  const Rows rows{static_cast<long>(labels.size()), classes, positions};
  double total = 0;
  for (long r = 0; r < rows.rows; ++r) {
    const long y = static_cast<long>(labels[static_cast<std::size_t>(r)]);
    auto z = [&](long j) { return logits[rows.at(r, j)]; };
    if (k == LossKind::CrossEntropy) {
      double m = -INFINITY;
      for (long j = 0; j < classes; ++j) m = std::fmax(m, z(j));
      double s = 0;
      for (long j = 0; j < classes; ++j) s += std::exp(z(j) - m);
      total += std::log(s) + m - z(y);
    } else {
      for (long j = 0; j < classes; ++j) {
        const double d = z(j) - (j == y ? 1.0 : 0.0);
        total += d * d;
      }
    }
  }
  return k == LossKind::CrossEntropy ? total / static_cast<double>(rows.rows) : total / static_cast<double>(rows.rows * classes);
}

std::vector<double> loss_gradient(const Arithmetic& a, LossKind k, std::span<const double> logits,
                                  std::span<const std::int64_t> labels, long classes, double scale, long positions) {
  constexpr Target acc = Target::Accumulator;
  const Rows rows{static_cast<long>(labels.size()), classes, positions};
  std::vector<double> g(logits.size()), e(static_cast<std::size_t>(classes));
  for (long r = 0; r < rows.rows; ++r) {
    const long y = static_cast<long>(labels[static_cast<std::size_t>(r)]);
    auto z = [&](long j) { return logits[rows.at(r, j)]; };
    if (k == LossKind::CrossEntropy) {
      double m = -INFINITY;
      for (long j = 0; j < classes; ++j) m = std::fmax(m, z(j));
      for (long j = 0; j < classes; ++j) e[static_cast<std::size_t>(j)] = a.unary(UnaryFn::Exp, a.sub(z(j), m, acc), acc);
      const double s = a.sum(e.data(), 1, classes);
      const double factor = scale / static_cast<double>(rows.rows);
      for (long j = 0; j < classes; ++j) {
        const double p = a.div(e[static_cast<std::size_t>(j)], s, acc);
        g[rows.at(r, j)] = a.mul(a.sub(p, j == y ? 1.0 : 0.0, acc), factor);
      }
    } else {
      const double factor = 2 * scale / static_cast<double>(rows.rows * classes);
      for (long j = 0; j < classes; ++j) g[rows.at(r, j)] = a.mul(a.sub(z(j), j == y ? 1.0 : 0.0, acc), factor);
    }
  }
  return g;
}

}  // namespace fpaudit::train
