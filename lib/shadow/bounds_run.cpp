#include "shadow/bounds_run.h"

#include <omp.h>

#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "core/reference_arithmetic.h"
#include "shadow/apriori.h"
#include "shadow/audit.h"
#include "shadow/certificate.h"
#include "shadow/chunk_driver.h"
#include "shadow/classify.h"

namespace fpaudit {

namespace {

/// Samples per chunk; chunks are merged in order (shadow/chunk_driver.h), and every merge is a
/// max or a count, so the results do not depend on the thread count.
constexpr long kChunk = 8;

struct Context {
  const Plan& plan;
  const BoundsOptions& options;
  std::unique_ptr<Arithmetic> ref;
  bounds::ArithmeticModel ref_model;
  std::shared_ptr<const ConstantStore> ref_constants, zero_constants;
  std::vector<std::unique_ptr<AprioriChain>> chains;  // the selected chains, then fp32 if absent
  std::size_t fp32 = 0;
};

struct Partial {
  std::vector<std::vector<AprioriLayerStats>> layers;
  std::vector<double> reference_bound;
  std::vector<AprioriCounts> certified;
  long reference_correct = 0;
};

Partial empty_partial(std::size_t layers, std::size_t chains) {
  return {std::vector<std::vector<AprioriLayerStats>>(layers, std::vector<AprioriLayerStats>(chains)),
          std::vector<double>(layers, 0.0), std::vector<AprioriCounts>(chains), 0};
}

void merge(Partial& into, const Partial& p) {
  for (std::size_t l = 0; l < p.layers.size(); ++l) {
    into.reference_bound[l] = std::fmax(into.reference_bound[l], p.reference_bound[l]);
    for (std::size_t c = 0; c < p.layers[l].size(); ++c) {
      AprioriLayerStats& a = into.layers[l][c];
      const AprioriLayerStats& b = p.layers[l][c];
      a.det = std::fmax(a.det, b.det);
      a.prob = std::fmax(a.prob, b.prob);
      a.failure = std::fmax(a.failure, b.failure);
      a.unbounded += b.unbounded;
    }
  }
  for (std::size_t c = 0; c < p.certified.size(); ++c) {
    AprioriCounts& a = into.certified[c];
    const AprioriCounts& b = p.certified[c];
    a.det += b.det;
    a.prob += b.prob;
    a.all_det += b.all_det;
    a.all_prob += b.all_prob;
    a.correct += b.correct;
    a.failure = std::fmax(a.failure, b.failure);
    a.run_failure = probability_sum(a.run_failure, b.run_failure);
    a.delta_bound = std::fmax(a.delta_bound, b.delta_bound);
  }
  into.reference_correct += p.reference_correct;
}

/// One sample: the reference and its own bounds, each chain's a-priori bounds, the certificates.
void bound_sample(const Context& cx, Activations& ref, Activations& ref_err, std::vector<AprioriState>& states,
                  const std::vector<std::vector<double>>& inputs, int label, Partial& part) {
  const std::size_t n_chains = cx.options.chains.size();
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    ref.set_input(k, inputs[k]);
    ref_err.set_input(k, std::vector<double>(inputs[k].size(), 0.0));
  }
  for (AprioriState& s : states) s.start(inputs);
  const auto& layers = cx.plan.layers();
  for (std::size_t l = 0; l < layers.size(); ++l) {
    ref.run_layer(*cx.ref, l, ref);
    bound_layer(layers[l], cx.ref_model, cx.options.lambda, ref, ref, ref_err, ref_err, ref_err, ref_err, BoundScope::Propagated);
    for (AprioriState& s : states) s.layer(l, cx.options.lambda, ref, ref_err);
    for (int slot : layers[l].outputs) {
      if (slot < 0) continue;  // an unnamed output
      for (double r : ref_err.value(slot).data) part.reference_bound[l] = std::fmax(part.reference_bound[l], r);
      for (std::size_t c = 0; c < n_chains; ++c) {
        AprioriLayerStats& st = part.layers[l][c];
        for (double d : states[c].det(slot).data) {
          if (std::isinf(d) || std::isnan(d)) ++st.unbounded;
          st.det = std::fmax(st.det, d);
        }
        for (double p : states[c].prob(slot).data) st.prob = std::fmax(st.prob, p);
        st.failure = std::fmax(st.failure, states[c].layer_failure()[l]);
      }
    }
  }
  const int out = cx.plan.output_slots().at(0);
  const std::vector<double>& z = ref.value(out).data;
  const TopTwo top = top_two(z.data(), static_cast<long>(z.size()));
  if (label >= 0 && top.top1 == label) ++part.reference_correct;
  for (std::size_t c = 0; c < n_chains; ++c) {
    const AprioriVerdict v = certify_a_priori(z, ref_err.value(out).data, states[c], &states[cx.fp32], out);
    AprioriCounts& k = part.certified[c];
    k.det += v.chain.det;
    k.prob += v.chain.prob;
    k.all_det += v.with_fp32.det;
    k.all_prob += v.with_fp32.prob;
    k.correct += v.chain.det && label >= 0 && top.top1 == label;
    k.failure = std::fmax(k.failure, v.failure);
    k.run_failure = probability_sum(k.run_failure, v.failure);
    k.delta_bound = std::fmax(k.delta_bound, v.delta_bound);
  }
}

}  // namespace

BoundsResult run_bounds(const Plan& plan, const Constant& inputs, const Constant* labels, const BoundsOptions& options,
                        const std::string& input_name) {
  long per_sample = 0;
  const long n = checked_sample_count(plan, inputs, options.max_samples, input_name, per_sample);
  const PlanSamples samples{n, static_cast<long>(inputs.shape[0]), [&](long i) { return std::vector<std::vector<double>>{sample_values(inputs, i, per_sample)}; }};
  return run_bounds(plan, samples, labels, options);
}

BoundsResult run_bounds(const Plan& plan, const PlanSamples& samples, const Constant* labels, const BoundsOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (options.chains.empty()) throw ModelError("no chains selected");
  const long n = samples.count;
  const bool with_labels = labels && labels->shape.size() == 1 && labels->shape[0] >= n && !labels->ints.empty();

  Context cx{plan, options, make_reference_arithmetic(options.reference), {}, {}, {}, {}, 0};
  cx.ref_model = bounds::ArithmeticModel::of(*cx.ref);
  cx.ref_constants = ConstantStore::rounded(plan, *cx.ref);
  cx.zero_constants = ConstantStore::zeros(plan);
  cx.fp32 = options.chains.size();
  const std::shared_ptr<const ConcentratedPlan> concentrated = concentrated_plan(plan);  // one for every chain
  for (std::size_t c = 0; c < options.chains.size(); ++c) {
    cx.chains.push_back(make_apriori_chain(plan, options.chains[c], cx.ref_constants, nullptr, concentrated));
    if (options.chains[c].name == "fp32") cx.fp32 = c;
  }
  if (cx.fp32 == options.chains.size())
    cx.chains.push_back(make_apriori_chain(plan, parse_chain("fp32"), cx.ref_constants, nullptr, concentrated));

  BoundsResult result;
  result.chains = options.chains;
  result.reference = std::string(cx.ref->name());
  result.lambda = options.lambda;
  result.samples = n;
  result.has_labels = with_labels;
  const int threads = options.threads > 0 ? options.threads : omp_get_max_threads();
  result.threads = threads;
  Partial total = empty_partial(plan.layers().size(), options.chains.size());
  // One thread's working set: the reference's values and bounds, each chain's a-priori state,
  // and the partial result of its chunk.
  struct Worker {
    Worker(const Context& cx, std::size_t chains)
        : caches(std::make_unique<ConstantCaches>()),
          ref(cx.plan, caches->of(cx.ref_constants)),
          ref_err(cx.plan, caches->of(cx.zero_constants)) {
      for (const auto& c : cx.chains) states.emplace_back(cx.plan, *c, *caches);
      part = empty_partial(cx.plan.layers().size(), chains);
    }
    std::unique_ptr<ConstantCaches> caches;  // first: the activations below read it
    Activations ref, ref_err;
    std::vector<AprioriState> states;
    Partial part;
  };
  run_chunks_in_order(
      SampleChunks(n, kChunk), threads, [&] { return Worker(cx, options.chains.size()); },
      [&](Worker& k, const SampleChunk& chunk) {
        k.part = empty_partial(plan.layers().size(), options.chains.size());
        for (long i = chunk.first; i < chunk.last; ++i)
          bound_sample(cx, k.ref, k.ref_err, k.states, samples.at(i),
                       with_labels ? static_cast<int>(labels->ints[i]) : -1, k.part);
      },
      [&](Worker& k, const SampleChunk& chunk) {
        merge(total, k.part);
        if (options.progress) options.progress(chunk.last, n);
      },
      [](Worker&) {});
  result.layers = std::move(total.layers);
  result.reference_bound = std::move(total.reference_bound);
  result.certified = std::move(total.certified);
  result.reference_correct = total.reference_correct;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace fpaudit
