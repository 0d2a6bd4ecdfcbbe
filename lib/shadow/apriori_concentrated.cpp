#include "shadow/apriori_concentrated.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/op_context.h"

namespace fpaudit {

namespace {

/// A Gemm or Conv of one runtime input (its first) and constant weights: what their backward
/// steps model (weight_sums, abs_sums, constant_error).
bool linear_of_constants(const Plan& plan, const PlannedLayer& layer) {
  const std::string& op = layer.node->op_type;
  if ((op != "Gemm" && op != "Conv") || layer.outputs.size() != 1 || layer.outputs[0] < 0 || layer.inputs.size() < 2) return false;
  const auto& slots = plan.slots();
  if (layer.inputs[0] < 0 || slots[static_cast<std::size_t>(layer.inputs[0])].constant) return false;
  for (std::size_t k = 1; k < layer.inputs.size(); ++k)
    if (layer.inputs[k] >= 0 && !slots[static_cast<std::size_t>(layer.inputs[k])].constant) return false;
  return layer.inputs[1] >= 0;
}

}  // namespace

/// A layer of one runtime input (its first) and one output whose backward step carries the
/// terms (ReLU, LeakyRelu, BatchNormalization, MaxPool, AveragePool, the copies).
bool path_layer(const Plan& plan, const PlannedLayer& layer, const margin::BackwardStep* step) {
  if (!step || !step->carries_terms() || layer.outputs.size() != 1 || layer.outputs[0] < 0 || layer.inputs.empty()) return false;
  const auto& slots = plan.slots();
  if (layer.inputs[0] < 0 || slots[static_cast<std::size_t>(layer.inputs[0])].constant) return false;
  for (std::size_t k = 1; k < layer.inputs.size(); ++k)
    if (layer.inputs[k] >= 0 && !slots[static_cast<std::size_t>(layer.inputs[k])].constant) return false;
  return true;
}

ConcentratedPlan::ConcentratedPlan(const Plan& plan) {
  const auto& layers = plan.layers();
  producer_of_.assign(layers.size(), -1);
  role_.assign(layers.size(), 0);
  steps_.resize(layers.size());
  auto step = [&](std::size_t l) -> const margin::BackwardStep* {
    if (!steps_[l]) {
      try {
        steps_[l] = margin::make_backward_step(context_of(plan.graph(), *layers[l].node));
      } catch (const std::exception&) {
        return nullptr;
      }
    }
    return steps_[l].get();
  };
  std::vector<std::size_t> path;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    if (!linear_of_constants(plan, layers[l]) || !step(l)) continue;
    // Back from the consumer's input through the layers that carry the terms, to a producer.
    path.clear();
    long p = plan.producer(layers[l].inputs[0]);
    while (p >= 0 && !linear_of_constants(plan, layers[static_cast<std::size_t>(p)]) &&
           path_layer(plan, layers[static_cast<std::size_t>(p)], step(static_cast<std::size_t>(p)))) {
      path.push_back(static_cast<std::size_t>(p));
      p = plan.producer(layers[static_cast<std::size_t>(p)].inputs[0]);
    }
    if (p < 0 || !linear_of_constants(plan, layers[static_cast<std::size_t>(p)]) || !step(static_cast<std::size_t>(p))) continue;
    producer_of_[l] = p;
    role_[static_cast<std::size_t>(p)] |= kProducer;
    for (std::size_t k : path) role_[k] |= kPath;
  }
}

bool ConcentratedPlan::any() const {
  return std::any_of(producer_of_.begin(), producer_of_.end(), [](long p) { return p >= 0; });
}

bool producer_terms(const margin::BackwardStep& step, const bounds::ArithmeticModel& model, double lambda, const Tensor& in_lo,
                    const Tensor& in_hi, const Tensor& in_err, std::span<const Tensor* const> rounded, const std::vector<double>* carried,
                    PathTerms& out, margin::AzumaLocal& azuma) {
  out.ready = false;
  const std::size_t n_in = in_lo.data.size();
  thread_local std::vector<double> mid, rad;
  mid.resize(n_in);
  rad.resize(n_in);
  for (std::size_t i = 0; i < n_in; ++i) {
    const bounds::MidRad x = bounds::mid_rad(in_lo.data[i], in_hi.data[i]);
    mid[i] = x.mid;
    rad[i] = x.rad;
  }
  // q_j, h_j: the producer's roundings over its input box (Lemmas 2 and 2′).
  if (!margin::azuma_local(step, model, mid.data(), rad.data(), rounded, azuma, &in_lo, &in_hi, lambda)) return false;
  // P_j ≥ |Ŵ_j·(x̂ − x̄)| + |Δ_j|: the input error through the rounded weights (Σ|Ŵ|·E) and the
  // constants' rounding over the box of x̄.
  thread_local std::vector<double> through, unused;
  if (!carried && step.weight_sums(in_err.data.data(), nullptr, rounded, through, unused) <= 0) return false;
  const std::vector<double>& input = carried ? *carried : through;
  thread_local margin::ConstantError constants;
  step.constant_error(mid.data(), rad.data(), rounded, constants);
  const std::size_t n = azuma.q.size();
  if (input.size() != n || constants.delta.size() != n) return false;
  out.v.resize(n);
  out.a.resize(n);
  for (std::size_t j = 0; j < n; ++j) {
    const double P = bounds::up(input[j] + bounds::up(std::fabs(constants.delta[j]) + constants.spread[j]));
    out.v[j] = azuma.q[j];
    out.a[j] = bounds::nan_to_inf(bounds::up(azuma.h[j] + P));
  }
  out.ready = true;
  return true;
}

bool consumer_terms(const margin::BackwardStep& step, const PathTerms& producer, double lambda,
                    std::span<const Tensor* const> rounded, std::vector<double>& T) {
  if (!producer.ready) return false;
  thread_local std::vector<double> A, Q;
  if (step.weight_sums(producer.a.data(), producer.v.data(), rounded, A, Q) <= 0) return false;
  T.resize(A.size());
  for (std::size_t i = 0; i < A.size(); ++i)
    T[i] = bounds::nan_to_inf(bounds::up(bounds::up(lambda * bounds::up(std::sqrt(Q[i]))) + A[i]));
  return true;
}

}  // namespace fpaudit
