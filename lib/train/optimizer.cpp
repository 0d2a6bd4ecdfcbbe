#include "train/optimizer.h"

#include <cmath>

#include "format/round.h"

namespace fpaudit::train {

std::string_view optimizer_name(OptimizerKind k) {
  switch (k) {
    case OptimizerKind::Sgd: return "sgd";
    case OptimizerKind::Momentum: return "momentum";
    case OptimizerKind::Adam: return "adam";
  }
  return "?";
}

void UpdateCounts::merge(const UpdateCounts& o) {
  elements += o.elements;
  moved += o.moved;
  lost += o.lost;
  nonfinite += o.nonfinite;
  second_moment_zero += o.second_moment_zero;
  second_moment_subnormal += o.second_moment_subnormal;
}

ParameterOptimizer::ParameterOptimizer(const OptimizerSettings& s, std::optional<Format> format, std::size_t size)
    : settings_(s), format_(format) {
  if (s.kind != OptimizerKind::Sgd) m_.assign(size, 0.0);
  if (s.kind == OptimizerKind::Adam) v_.assign(size, 0.0);
}

double ParameterOptimizer::r(double x) const { return format_ ? round_to(*format_, x) : x; }

UpdateCounts ParameterOptimizer::step(std::vector<double>& w, const std::vector<double>& g, int t, const std::vector<double>* due) {
  const OptimizerSettings& s = settings_;
  UpdateCounts c;
  c.elements = static_cast<long>(w.size());
  const double lr = r(s.lr);
  // Adam's bias corrections, each rounded into the format once.
  const double c1 = r(1 - std::pow(s.beta1, t)), c2 = r(1 - std::pow(s.beta2, t));
  const double eps = r(s.epsilon);
  const double small = format_ ? min_normal(*format_) : 0x1p-1022;
  for (std::size_t i = 0; i < w.size(); ++i) {
    double step = 0;
    switch (s.kind) {
      case OptimizerKind::Sgd: step = r(lr * g[i]); break;
      case OptimizerKind::Momentum:
        m_[i] = r(r(s.momentum * m_[i]) + g[i]);
        step = r(lr * m_[i]);
        break;
      case OptimizerKind::Adam: {
        m_[i] = r(r(s.beta1 * m_[i]) + r((1 - s.beta1) * g[i]));
        const double v64 = s.beta2 * v_[i] + (1 - s.beta2) * g[i] * g[i];
        v_[i] = r(r(s.beta2 * v_[i]) + r((1 - s.beta2) * r(g[i] * g[i])));
        if (v64 != 0 && v_[i] == 0) ++c.second_moment_zero;
        if (v_[i] != 0 && std::fabs(v_[i]) < small) ++c.second_moment_subnormal;
        const double mhat = r(m_[i] / c1), vhat = r(v_[i] / c2);
        step = r(lr * r(mhat / r(r(std::sqrt(vhat)) + eps)));
        break;
      }
    }
    const double before = w[i];
    w[i] = r(w[i] - step);
    if (!std::isfinite(step)) ++c.nonfinite;
    if ((due ? (*due)[i] : g[i]) != 0) {
      ++c.moved;
      if (w[i] == before) ++c.lost;
    }
  }
  return c;
}

}  // namespace fpaudit::train
