#include "train/train_step.h"

#include <omp.h>

#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "core/reference_arithmetic.h"
#include "format/round.h"
#include "train/scale_analysis.h"
#include "train/train_pass.h"

namespace fpaudit::train {

namespace {

using Clock = std::chrono::steady_clock;

/// What a run needs besides the plan: the batch, in binary64 and as labels.
struct Batch {
  std::vector<double> x;
  std::vector<std::int64_t> labels;
  long classes = 0;
  long positions = 1;  ///< outputs [N, C, P...]: a label per sample and position
};

std::vector<std::vector<double>> initial_weights(const TrainableModel& m) {
  std::vector<std::vector<double>> w;
  for (int s : m.parameter_slots()) w.push_back(m.plan().slots()[static_cast<std::size_t>(s)].constant->values);
  return w;
}

double squared_distance(const std::vector<std::vector<double>>& a, const std::vector<std::vector<double>>& b, std::size_t k) {
  double s = 0;
  for (std::size_t i = 0; i < a[k].size(); ++i) s += (a[k][i] - b[k][i]) * (a[k][i] - b[k][i]);
  return s;
}

/// ‖a − b‖₂ / ‖r − r0‖₂ over parameter k, or over all parameters when k is -1.
double drift_ratio(const std::vector<std::vector<double>>& a, const std::vector<std::vector<double>>& r,
                   const std::vector<std::vector<double>>& r0, long k) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (k < 0 || static_cast<std::size_t>(k) == i) {
      num += squared_distance(a, r, i);
      den += squared_distance(r, r0, i);
    }
  return den > 0 ? std::sqrt(num / den) : (num > 0 ? INFINITY : 0);
}

/// The reference trajectory: weights after each step, the gradients of step 1, the losses.
struct ReferenceRun {
  std::vector<std::vector<std::vector<double>>> weights;  ///< [t] after step t (t = 0: initial)
  std::vector<Tensor> gradients;                          ///< step 1, by slot
  std::vector<double> loss;
};

ReferenceRun run_reference(const TrainableModel& m, const Batch& batch, const TrainOptions& o) {
  static const ExactArithmetic exact;
  ReferenceRun r;
  std::vector<std::vector<double>> w = initial_weights(m);
  std::vector<ParameterOptimizer> opt;
  for (const auto& p : w) opt.emplace_back(o.optimizer, std::nullopt, p.size());
  r.weights.push_back(w);
  for (int t = 1; t <= o.steps + 1; ++t) {
    const std::vector<Tensor> constants = constants_with(m, exact, w);
    const Activations act = forward(m, exact, constants, batch.x);
    const std::vector<double>& z = act.value(m.output_slot()).data;
    r.loss.push_back(loss_value(o.loss, z, batch.labels, batch.classes, batch.positions));
    if (t > o.steps) break;
    std::vector<Tensor> g = backward(m, exact, act, loss_gradient(exact, o.loss, z, batch.labels, batch.classes, 1.0, batch.positions), nullptr);
    for (std::size_t k = 0; k < w.size(); ++k) opt[k].step(w[k], g[static_cast<std::size_t>(m.parameter_slots()[k])].data, t);
    if (t == 1) r.gradients = std::move(g);
    r.weights.push_back(w);
  }
  return r;
}

bool any_nonfinite(const TrainableModel& m, const std::vector<Tensor>& g) {
  for (int s : m.gradient_slots())
    for (double v : g[static_cast<std::size_t>(s)].data)
      if (!std::isfinite(v)) return true;
  return false;
}

/// The chain's gradient of slot s against the exact one, ĝ at loss scale S.
GradientStats compare(const std::string& name, const std::string& layer, bool parameter, const std::vector<double>& chain,
                      const std::vector<double>& exact, double S, const Format& storage) {
  GradientStats st;
  st.name = name, st.layer = layer, st.parameter = parameter;
  st.elements = static_cast<long>(exact.size());
  double diff2 = 0, ref2 = 0, chain2 = 0, dot = 0;
  for (std::size_t i = 0; i < exact.size(); ++i) {
    const double c = chain[i], e = exact[i], u = c / S;
    if (!std::isfinite(c)) ++st.overflow;
    if (e != 0) {
      ++st.exact_nonzero;
      if (c == 0) ++st.flushed;
      else if (std::fabs(c) < min_normal(storage)) ++st.subnormal;
    }
    const double d = u - e;
    st.max_abs_error = std::fmax(st.max_abs_error, std::fabs(d));
    diff2 += d * d, ref2 += e * e, chain2 += u * u, dot += u * e;
  }
  st.normwise = ref2 > 0 ? std::sqrt(diff2 / ref2) : (diff2 > 0 ? INFINITY : 0);
  st.cosine = ref2 > 0 && chain2 > 0 ? dot / std::sqrt(ref2 * chain2) : (ref2 == chain2 ? 1 : 0);
  if (!std::isfinite(diff2)) st.normwise = st.max_abs_error = INFINITY, st.cosine = NAN;
  return st;
}

GradientStats reference_stats(const std::string& name, const std::string& layer, bool parameter, const std::vector<double>& g) {
  GradientStats st;
  st.name = name, st.layer = layer, st.parameter = parameter;
  st.elements = static_cast<long>(g.size());
  st.histogram.assign(kHistogramBins, 0);
  st.exact_min = INFINITY;
  for (double v : g) {
    if (v == 0) continue;
    ++st.exact_nonzero;
    const double a = std::fabs(v);
    st.exact_min = std::fmin(st.exact_min, a), st.exact_max = std::fmax(st.exact_max, a);
    const int bin = std::clamp(std::ilogb(a) - kHistogramLow, 0, kHistogramBins - 1);
    ++st.histogram[static_cast<std::size_t>(bin)];
  }
  if (st.exact_nonzero == 0) st.exact_min = 0;
  return st;
}

ChainTrainResult run_chain(const TrainableModel& m, const ChainSpec& spec, const Batch& batch, const TrainOptions& o,
                           const ReferenceRun& ref, const LossScaleAnalysis& analysis_in) {
  const Clock::time_point start = Clock::now();
  const std::unique_ptr<Arithmetic> a = make_chain_arithmetic(spec);
  const Format storage = spec.storage;
  ChainTrainResult r;
  r.chain = spec.name;
  r.storage = std::string(storage.name);
  r.scales = analysis_in;
  const std::vector<int>& params = m.parameter_slots();
  const std::optional<Format> opt_format = o.master_weights ? std::optional<Format>(binary32()) : std::optional<Format>(storage);
  // The followed trajectory: pure storage weights, or fp32 master weights rounded into storage.
  std::vector<std::vector<double>> master = initial_weights(m), w(master.size());
  for (auto& p : master)
    for (double& v : p) v = round_to(*opt_format, v);
  std::vector<ParameterOptimizer> opt;
  for (const auto& p : master) opt.emplace_back(o.optimizer, opt_format, p.size());
  r.epsilon_pure = ParameterOptimizer(o.optimizer, storage, 0).epsilon_stored();
  double scale = o.dynamic_scale ? 65536.0 : o.loss_scale;
  for (int t = 1; t <= o.steps + 1; ++t) {
    for (std::size_t k = 0; k < w.size(); ++k) {
      w[k] = master[k];
      for (double& v : w[k]) v = round_to(storage, v);
    }
    const std::vector<Tensor> constants = constants_with(m, *a, w);
    const Activations act = forward(m, *a, constants, batch.x);
    const std::vector<double>& z = act.value(m.output_slot()).data;
    r.loss.push_back(loss_value(o.loss, z, batch.labels, batch.classes, batch.positions));
    if (t > o.steps) break;
    std::vector<SumCheck> checks(m.plan().slots().size());
    std::vector<double> totals;
    std::vector<Tensor> g;
    std::vector<double> dtop;
    for (;;) {
      dtop = loss_gradient(*a, o.loss, z, batch.labels, batch.classes, scale, batch.positions);
      g = backward(m, *a, act, dtop, t == 1 ? &checks : nullptr, t == 1 ? &totals : nullptr);
      // GradScaler: an overflow skips the step and halves the scale; here the same batch comes again.
      if (!o.dynamic_scale || !any_nonfinite(m, g) || scale < 0x1p-60) break;
      scale /= 2;
      ++r.dynamic_skipped;
      checks.assign(checks.size(), SumCheck{});
    }
    if (t == 1) {
      r.scale = scale;
      // Theorem 4's comparison: the exact backward pass of this chain's activations.
      static const ExactArithmetic exact;
      const std::vector<Tensor> own = backward(m, exact, act, dtop, nullptr);
      for (int s : m.gradient_slots()) {
        const bool is_param = std::find(params.begin(), params.end(), s) != params.end();
        GradientStats st = compare(m.plan().slots()[static_cast<std::size_t>(s)].name, m.producer(s), is_param,
                                   g[static_cast<std::size_t>(s)].data, ref.gradients[static_cast<std::size_t>(s)].data, scale, storage);
        st.sums = checks[static_cast<std::size_t>(s)];
        const std::vector<double>&mine = g[static_cast<std::size_t>(s)].data, &exact_own = own[static_cast<std::size_t>(s)].data;
        double d2 = 0, r2 = 0;
        for (std::size_t i = 0; i < mine.size(); ++i) d2 += (mine[i] - exact_own[i]) * (mine[i] - exact_own[i]), r2 += exact_own[i] * exact_own[i];
        st.backward_error = std::sqrt(d2);
        st.backward_reference = std::sqrt(r2);
        st.backward_bound = totals[static_cast<std::size_t>(s)];
        r.gradients.push_back(std::move(st));
      }
      // The recommended scale, observed: the same forward pass, the backward pass at 2^e.
      const double rec = std::ldexp(1.0, r.scales.recommended);
      const std::vector<Tensor> gr = backward(m, *a, act, loss_gradient(*a, o.loss, z, batch.labels, batch.classes, rec, batch.positions), nullptr);
      for (int s : m.gradient_slots()) {
        const GradientStats st = compare("", "", false, gr[static_cast<std::size_t>(s)].data, ref.gradients[static_cast<std::size_t>(s)].data, rec, storage);
        r.scales.checked += st.exact_nonzero, r.scales.flushed += st.flushed, r.scales.subnormal += st.subnormal, r.scales.overflow += st.overflow;
      }
    }
    // Unscaled gradients in the optimizer's format (the division by a power of two is exact
    // unless it underflows there).
    std::vector<std::vector<double>> grad(params.size());
    for (std::size_t k = 0; k < params.size(); ++k) {
      grad[k] = g[static_cast<std::size_t>(params[k])].data;
      for (double& v : grad[k]) v = round_to(*opt_format, v / scale);
    }
    if (t == 1)
      for (std::size_t k = 0; k < params.size(); ++k) {
        // Both variants from the same weights and gradient, with fresh optimizer state.
        std::vector<double> pure = w[k], gp = g[static_cast<std::size_t>(params[k])].data;
        for (double& v : gp) v = round_to(storage, v / scale);
        const std::vector<double>& exact = ref.gradients[static_cast<std::size_t>(params[k])].data;
        r.update_pure.push_back(ParameterOptimizer(o.optimizer, storage, pure.size()).step(pure, gp, 1, &exact));
        std::vector<double> m32 = initial_weights(m)[k], g32 = g[static_cast<std::size_t>(params[k])].data;
        for (double& v : m32) v = round_to(binary32(), v);
        for (double& v : g32) v = round_to(binary32(), v / scale);
        r.update_master.push_back(ParameterOptimizer(o.optimizer, binary32(), m32.size()).step(m32, g32, 1, &exact));
      }
    UpdateCounts total;
    for (std::size_t k = 0; k < params.size(); ++k)
      total.merge(opt[k].step(master[k], grad[k], t, t == 1 ? &ref.gradients[static_cast<std::size_t>(params[k])].data : nullptr));
    r.trajectory_updates.push_back(total);
    std::vector<std::vector<double>> now = master;
    for (auto& p : now)
      for (double& v : p) v = round_to(storage, v);
    r.drift.push_back(drift_ratio(now, ref.weights[static_cast<std::size_t>(t)], ref.weights[0], -1));
    if (t == o.steps)
      for (std::size_t k = 0; k < params.size(); ++k)
        r.layer_drift.push_back(drift_ratio(now, ref.weights[static_cast<std::size_t>(t)], ref.weights[0], static_cast<long>(k)));
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return r;
}

}  // namespace

TrainResult run_train_step(const Plan& plan, const Constant& x, const Constant& labels, const TrainOptions& options) {
  const Clock::time_point start = Clock::now();
  const TrainableModel m(plan, options.batchnorm);
  TrainResult result;
  result.options = options;
  Batch batch;
  batch.x = x.values;
  batch.labels = labels.ints;
  const Shape& out = plan.slots()[static_cast<std::size_t>(m.output_slot())].shape;
  if (out.size() < 2) throw ModelError(fmt::format("{}: train-step needs logits [N, classes, ...]; the output is {}", plan.graph().source.string(), shape_string(out)));
  batch.classes = static_cast<long>(out[1]);
  for (std::size_t d = 2; d < out.size(); ++d) batch.positions *= static_cast<long>(out[d]);
  if (static_cast<std::int64_t>(batch.labels.size()) != out[0] * batch.positions)
    throw ModelError(fmt::format("{}: {} labels for an output {}: one label per sample{}", plan.graph().source.string(), batch.labels.size(),
                                 shape_string(out), out.size() > 2 ? " and position" : ""));
  result.samples = static_cast<long>(out[0]);
  for (std::int64_t y : batch.labels)
    if (y < 0 || y >= batch.classes) throw ModelError(fmt::format("label {} is outside [0, {})", y, batch.classes));
  for (int s : m.parameter_slots()) {
    result.parameters.push_back(plan.slots()[static_cast<std::size_t>(s)].name);
    result.parameter_sizes.push_back(static_cast<long>(plan.slots()[static_cast<std::size_t>(s)].constant->values.size()));
  }
  const ReferenceRun ref = run_reference(m, batch, options);
  result.reference_loss = ref.loss;
  std::vector<const std::vector<double>*> exact_grads;
  for (int s : m.gradient_slots()) {
    const bool is_param = std::find(m.parameter_slots().begin(), m.parameter_slots().end(), s) != m.parameter_slots().end();
    result.reference_gradients.push_back(reference_stats(plan.slots()[static_cast<std::size_t>(s)].name, m.producer(s), is_param,
                                                         ref.gradients[static_cast<std::size_t>(s)].data));
    exact_grads.push_back(&ref.gradients[static_cast<std::size_t>(s)].data);
  }
  result.chains.resize(options.chains.size());
  const int threads = options.threads > 0 ? options.threads : omp_get_max_threads();
  result.threads = threads;
  // Chains are independent: one per thread, each the same computation whatever the count.
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (std::size_t c = 0; c < options.chains.size(); ++c)
    result.chains[c] = run_chain(m, options.chains[c], batch, options, ref, analyse_loss_scales(exact_grads, options.chains[c].storage));
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

}  // namespace fpaudit::train
