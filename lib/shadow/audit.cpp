#include "shadow/audit.h"

#include <omp.h>

#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "format/inspect.h"
#include "bounds/transfer.h"
#include "core/mixed_arithmetic.h"
#include "core/reference_arithmetic.h"
#include "shadow/apriori.h"
#include "shadow/bound_check.h"
#include "shadow/certificate.h"
#include "shadow/margin_certificate.h"
#include "shadow/chunk_driver_ranks.h"

namespace fpaudit {

namespace {

/// Samples are processed in chunks of this many, merged in chunk order (shadow/chunk_driver.h):
/// the partition does not depend on the thread count, so neither do the results.
constexpr long kChunk = 8;

/// Everything one thread needs for one sample: a set of activations per arithmetic.
struct Workspace {
  /// This thread's binary64 expansions of the stores' constants (shadow/constant_store.h); first,
  /// so that it outlives the activations that read it.
  std::unique_ptr<ConstantCaches> caches;
  Activations ref;
  std::vector<Activations> chain;        // propagated values, one per chain
  std::vector<Activations> chain_local;  // outputs of the local evaluation, one per chain
  std::vector<Activations> rounded;      // reference inputs rounded to each storage group
  std::vector<Activations> ref_local;    // reference outputs on those rounded inputs
  // Error bounds (lib/bounds/transfer.h), slot by slot, like the values above.
  Activations ref_err;                   // the reference's own propagated error bound
  std::vector<Activations> err, err_prob;            // per chain, propagated
  std::vector<Activations> local_err, local_err_prob;  // per chain, this layer's local bound
  std::vector<Activations> ref_local_err;            // per group: the reference layer's own bound
  std::vector<Activations> zero_err;     // per chain: zero error on runtime values (local inputs)
  Activations ref_zero_err;              // zero error everywhere, for the reference
  std::vector<AprioriState> apriori;     // per a-priori chain (Setup::apriori)
  // Per chain, along the sample so far: the union bound on the probability that a probabilistic
  // bound of the propagation fails (Σ over layers of output elements × per-element failure).
  std::vector<double> failure;
  std::unique_ptr<MarginScratch> margin;  // the margin certificates' scratch (Setup::margin)
  // With the margin pass, per chain: the local evaluation minus its reference at every layer
  // output (the observed blame), kept instead of both evaluations.
  std::vector<Activations> observed;
  // With the margin pass, per chain and layer: the signed-sum bounds of the propagated pass at the
  // chain's values, which the margin pass's a-posteriori local bounds (same values) read.
  std::vector<std::vector<bounds::SignedSumMemo>> posterior_memo;
};

/// The fixed, per-run context shared read-only by every thread.
struct Setup {
  const Plan& plan;
  const AuditOptions& options;
  std::unique_ptr<Arithmetic> ref;
  std::vector<std::unique_ptr<Arithmetic>> chains;
  std::shared_ptr<const ConstantStore> ref_constants;
  // Per chain: its constants and their rounding errors, one shared store per storage format.
  std::vector<std::shared_ptr<const StoredConstants>> stored;
  std::vector<int> group_of;        // storage group of each chain
  std::vector<int> group_leader;    // the first chain of each group (its arithmetic rounds)
  int fp32 = -1;                    // index of the fp32 chain, if selected
  bounds::ArithmeticModel ref_model;
  std::vector<bounds::ArithmeticModel> models;
  std::shared_ptr<const ConstantStore> zero_constants;  // zero error for the reference's constants
  // The a-priori certificate: one propagation per chain (with fp32's, when it is audited, the
  // certificate that chain, fp32 and the exact network agree).
  std::vector<std::unique_ptr<AprioriChain>> apriori;
  std::vector<UlpTable> ulps;                    // per chain: ulp() of its storage format
  std::vector<UlpTable> kept_ulps;               // per chain: ... of a mixed chain's kept nodes
  std::unique_ptr<margin::MarginPlan> margin;    // backward steps, when every layer has one
  BoundShrink shrink;                            // the test hook (shadow/test_hooks.h)
  const std::vector<OutputTask>* tasks = nullptr;  // how each graph output is judged

  Workspace workspace() const {
    auto caches = std::make_unique<ConstantCaches>();
    ConstantCaches& k = *caches;
    ConstantCache &ref_c = k.of(ref_constants), &zero_c = k.of(zero_constants);
    Workspace w{std::move(caches), Activations(plan, ref_c), {}, {}, {}, {}, Activations(plan, zero_c), {}, {}, {}, {},
                {}, {}, Activations(plan, zero_c), {}, std::vector<double>(chains.size(), 0.0), {}, {}, {}};
    for (std::size_t c = 0; c < chains.size(); ++c) {
      ConstantCache &values = k.of(stored[c]->values), &err = k.of(stored[c]->err);
      w.chain.emplace_back(plan, values);
      w.chain_local.emplace_back(plan, values);
      w.err.emplace_back(plan, err);
      w.err_prob.emplace_back(plan, err);
      w.local_err.emplace_back(plan, err);
      w.local_err_prob.emplace_back(plan, err);
      w.zero_err.emplace_back(plan, err);
    }
    for (const auto& a : apriori) w.apriori.emplace_back(plan, *a, k);
    if (margin) {
      w.margin = std::make_unique<MarginScratch>(plan, zero_c);
      for (std::size_t c = 0; c < chains.size(); ++c) w.observed.emplace_back(plan, zero_c);
      w.posterior_memo.assign(chains.size(), std::vector<bounds::SignedSumMemo>(plan.layers().size()));
    }
    for (std::size_t g = 0; g < group_leader.size(); ++g) {
      w.rounded.emplace_back(plan, k.of(stored[group_leader[g]]->values));
      w.ref_local.emplace_back(plan, ref_c);
      w.ref_local_err.emplace_back(plan, zero_c);
    }
    return w;
  }
};

/// Runs layer l's bound rule at the chain's own values (lo = hi = `values`), the input error
/// bounds from `err`/`err_prob`; the output bounds go to `det`/`prob` (shadow/apriori.h).
double bound_layer(const PlannedLayer& layer, const bounds::ArithmeticModel& model, double lambda, const Activations& values,
                   const Activations& err, const Activations& err_prob, Activations& det, Activations& prob,
                   BoundScope scope = BoundScope::Local, bounds::SignedSumMemo* memo = nullptr) {
  return fpaudit::bound_layer(layer, model, lambda, values, values, err, err_prob, det, prob, scope, memo);
}

/// Whether chain c runs the layer in a mixed chain's kept arithmetic.
bool kept_at(const Setup& s, std::size_t c, const PlannedLayer& layer) {
  const MixedArithmetic* m = s.chains[c]->mixed();
  return m && m->keeps(*layer.node);
}

/// The number of output elements of a layer (unnamed outputs have none).
long output_elements(const PlannedLayer& layer, const Activations& values) {
  long n = 0;
  for (int slot : layer.outputs)
    if (slot >= 0) n += values.value(slot).size();
  return n;
}

/// The test hook (shadow/test_hooks.h): the layer's bounds times `factor`.
void shrink_bounds(const PlannedLayer& layer, Activations& bounds, double factor) {
  for (int slot : layer.outputs) {
    if (slot < 0) continue;
    for (double& b : bounds.mutable_value(slot).data) b *= factor;
  }
}

/// d = y_chain − y_ref elementwise (binary64, rounded to nearest).
void observe(const Tensor& chain, const Tensor& ref, Tensor& d) {
  for (std::size_t i = 0; i < d.data.size(); ++i) d.data[i] = chain.data[i] - ref.data[i];
}

/// The certificates of every chain at the first graph output (theory/a-priori-certificate.md):
/// a radius per logit around the reference's logits, E + R with E the chain's bound (a priori
/// or a posteriori) and R the reference's own.
void certify_sample(const Setup& s, const Workspace& w, SampleRecord& record) {
  const int out = s.plan.output_slots().at(0);
  const std::vector<double>& z = w.ref.value(out).data;
  const std::vector<double>& R = w.ref_err.value(out).data;
  const long n = static_cast<long>(z.size());
  auto certified = [&](const std::vector<double>& E) { return radius_certified(z.data(), radius_sum(E, R).data(), n); };
  for (std::size_t c = 0; c < s.chains.size(); ++c) {
    ChainVerdict& v = record.chains[c];
    v.a_posteriori = {certified(w.err[c].value(out).data), certified(w.err_prob[c].value(out).data)};
    v.a_posteriori_failure = w.failure[c];
    if (w.apriori.empty()) continue;
    const AprioriState* fp32 = s.fp32 >= 0 ? &w.apriori[static_cast<std::size_t>(s.fp32)] : nullptr;
    const AprioriVerdict a = certify_a_priori(z, R, w.apriori[c], fp32, out);
    v.a_priori = a.chain;
    v.a_priori_all = a.with_fp32;
    v.a_priori_failure = a.failure;
    v.delta_bound = a.delta_bound;
  }
}

/// Every graph output of every chain judged by its task (shadow/task_judge.h).
void judge_tasks(const Setup& s, const Workspace& w, SampleRecord& record) {
  record.tasks.assign(s.tasks->size(), std::vector<TaskSample>(s.chains.size()));
  for (std::size_t k = 0; k < s.tasks->size(); ++k) {
    const OutputTask& t = (*s.tasks)[k];
    const std::vector<double>& z = w.ref.value(t.slot).data;
    for (std::size_t c = 0; c < s.chains.size(); ++c)
      record.tasks[k][c] = judge_output(t, w.chain[c].value(t.slot).data.data(), z.data(), w.err[c].value(t.slot).data.data(),
                                        w.ref_err.value(t.slot).data.data(), static_cast<long>(z.size()));
  }
}

/// Frees what layer l leaves behind: the values only this layer's step reads (the reference's
/// inputs rounded per storage group, the local bounds); what no later layer and no margin pass
/// reads (the propagated error bounds, which it reads at the graph outputs only, and those stay;
/// the local evaluations, whose difference it keeps in Workspace::observed; the zero errors, read
/// as zeros again; the a-priori enclosures, which it recomputes from the reference and the
/// a-priori error bounds it keeps; everything a-priori of a chain it does not certify: fp32's
/// when fp32 is not audited); and, without the margin pass, every slot no later layer reads.
/// Peak memory then follows the live values instead of the graph.
void release_after(const Setup& s, Workspace& w, std::size_t l) {
  const PlannedLayer& layer = s.plan.layers()[l];
  for (int slot : layer.inputs) {
    if (slot < 0 || s.plan.slots()[static_cast<std::size_t>(slot)].constant) continue;
    for (Activations& a : w.rounded) a.release(slot);
  }
  for (int slot : layer.outputs) {
    if (slot < 0) continue;
    for (std::vector<Activations>* set : {&w.local_err, &w.local_err_prob, &w.ref_local_err})
      for (Activations& a : *set) a.release(slot);
  }
  const std::size_t margin_reads = s.margin ? s.chains.size() : 0;  // a-priori states the margin pass reads
  for (int slot : s.plan.dead_after(l)) {
    w.ref_zero_err.release(slot);
    for (std::vector<Activations>* set : {&w.err, &w.err_prob, &w.chain_local, &w.ref_local, &w.zero_err})
      for (Activations& a : *set) a.release(slot);
    for (std::size_t a = 0; a < w.apriori.size(); ++a) {
      if (a < margin_reads)
        w.apriori[a].release_enclosures(slot);
      else
        w.apriori[a].release(slot);
    }
  }
  if (s.margin) return;  // the margin pass reads the rest of the trajectory
  for (int slot : s.plan.dead_after(l)) {
    for (Activations* a : {&w.ref, &w.ref_err}) a->release(slot);
    for (Activations& a : w.chain) a.release(slot);
  }
}

/// One sample through every layer, every chain and the reference.
void audit_sample(const Setup& s, Workspace& w, const std::vector<std::vector<double>>& inputs, long sample,
                  std::vector<std::vector<LayerChainStats>>& stats, SampleRecord& record, AuditTiming& tm) {
  const std::size_t n_chains = s.chains.size();
  Lap lap;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const std::vector<double>& x = inputs[k];
    w.ref.set_input(k, x);
    w.ref_err.set_input(k, std::vector<double>(x.size(), 0.0));  // the data is exact as given
    for (std::size_t c = 0; c < n_chains; ++c) {
      std::vector<double> xc = stored_input(s.plan, k, *s.chains[c], x);
      // The input's own rounding error is known exactly: |round(x) - x| (0 for integer inputs).
      std::vector<double> e(x.size());
      for (std::size_t i = 0; i < x.size(); ++i) e[i] = std::fabs(xc[i] - x[i]);
      w.err[c].set_input(k, e);
      w.err_prob[c].set_input(k, std::move(e));
      w.chain[c].set_input(k, std::move(xc));
    }
  }
  record.index = sample;
  record.chains.assign(n_chains, ChainVerdict{});
  std::fill(w.failure.begin(), w.failure.end(), 0.0);
  for (AprioriState& a : w.apriori) a.start(inputs);
  lap.to(tm.other);
  const auto& layers = s.plan.layers();
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const PlannedLayer& layer = layers[l];
    w.ref.run_layer(*s.ref, l, w.ref);
    lap.to(tm.reference_evaluate);
    bound_layer(layer, s.ref_model, s.options.lambda, w.ref, w.ref_err, w.ref_err, w.ref_err, w.ref_err, BoundScope::Propagated);
    lap.to(tm.reference_bounds);
    for (AprioriState& a : w.apriori) a.layer(l, s.options.lambda, w.ref, w.ref_err);
    lap.to(tm.apriori);
    for (std::size_t c = 0; c < n_chains; ++c) {
      w.chain[c].run_layer(*s.chains[c], l, w.chain[c]);
      lap.to(tm.chains[c].evaluate);
    }
    // Local error: the reference input rounded once per storage group.
    for (std::size_t g = 0; g < s.group_leader.size(); ++g) {
      for (int slot : layer.inputs) {
        if (slot < 0 || s.plan.slots()[slot].constant) continue;
        Tensor& t = w.rounded[g].mutable_value(slot);
        t.data = w.ref.value(slot).data;
        if (!s.plan.slots()[slot].exact_data) holder_of(s.plan, *s.chains[s.group_leader[g]], slot).round_storage(t.data);
      }
      w.ref_local[g].run_layer(*s.ref, l, w.rounded[g]);
      lap.to(tm.reference_evaluate);
      bound_layer(layer, s.ref_model, s.options.lambda, w.rounded[g], w.ref_zero_err, w.ref_zero_err, w.ref_local_err[g],
                  w.ref_local_err[g]);
      lap.to(tm.reference_bounds);
    }
    for (std::size_t c = 0; c < n_chains; ++c) {
      const int g = s.group_of[c];
      w.chain_local[c].run_layer(*s.chains[c], l, w.rounded[g]);
      lap.to(tm.chains[c].evaluate);
      LayerChainStats& st = stats[l][c];
      // Bounds: propagated (the chain's own values and input bounds) and local (the rounded
      // reference input, exact, with only the weights' rounding as input error).
      const double p_fail = bound_layer(layer, s.models[c], s.options.lambda, w.chain[c], w.err[c], w.err_prob[c], w.err[c],
                                        w.err_prob[c], BoundScope::Propagated, s.margin && s.options.margin_shared_sums ? w.posterior_memo[c][l].to_record() : nullptr);
      const double l_fail = bound_layer(layer, s.models[c], s.options.lambda, w.rounded[g], w.zero_err[c], w.zero_err[c],
                                        w.local_err[c], w.local_err_prob[c]);
      if (s.shrink.active() && static_cast<long>(l) == s.shrink.layer)
        for (Activations* a : {&w.err[c], &w.err_prob[c], &w.local_err[c], &w.local_err_prob[c]}) shrink_bounds(layer, *a, s.shrink.factor);
      // The propagated probabilistic bound of an element holds on its own sum's event and on every
      // event upstream (theory/probabilistic.md): its failure probability is the sum of both.
      // The local bound's inputs are exact: its own rule's probability alone.
      st.propagated_bound.max_failure_probability =
          std::fmax(st.propagated_bound.max_failure_probability, probability_sum(w.failure[c], p_fail));
      st.local_bound.max_failure_probability = std::fmax(st.local_bound.max_failure_probability, l_fail);
      if (p_fail > 0) w.failure[c] = probability_sum(w.failure[c], bounds::up(p_fail * static_cast<double>(output_elements(layer, w.chain[c]))));
      lap.to(tm.chains[c].bounds);
      // A mixed chain's kept node stores in its own format (core/mixed_arithmetic.h).
      const bool kept = kept_at(s, c, layer);
      const Format& storage = arithmetic_at(*s.chains[c], *layer.node).storage();
      const UlpTable& ulps = kept ? s.kept_ulps[c] : s.ulps[c];
      long base = 0;
      for (int out : layer.outputs) {
        if (out < 0) continue;
        const Tensor& y = w.chain[c].value(out);
        const Tensor& r = w.ref.value(out);
        add_errors(st.propagated, y, r, ulps, sample, base);
        add_errors(st.local, w.chain_local[c].value(out), w.ref_local[g].value(out), ulps, sample, base);
        check_bounds(st.propagated_bound, y, r, w.err[c].value(out), w.err_prob[c].value(out), w.ref_err.value(out), sample, base);
        check_bounds(st.local_bound, w.chain_local[c].value(out), w.ref_local[g].value(out), w.local_err[c].value(out),
                     w.local_err_prob[c].value(out), w.ref_local_err[g].value(out), sample, base);
        if (s.margin) observe(w.chain_local[c].value(out), w.ref_local[g].value(out), w.observed[c].mutable_value(out));
        const bool bad = add_events(st.events, y, r, storage, sample);
        if (bad && record.chains[c].first_nonfinite_layer < 0) record.chains[c].first_nonfinite_layer = static_cast<int>(l);
        base += y.size();
      }
      // Checked against the rule's own bounds above; downstream, no rule may rely on a bound of a
      // non-finite value.
      infinite_where_nonfinite(layer, w.chain[c], w.err[c], w.err_prob[c]);
      lap.to(tm.chains[c].statistics);
    }
    release_after(s, w, l);
    lap.to(tm.other);
  }
  // Classification on the first graph output.
  const int out = s.plan.output_slots().at(0);
  const Tensor& z = w.ref.value(out);
  const TopTwo ref_top = top_two(z.data.data(), z.size());
  record.ref_top1 = ref_top.top1;
  record.margin_ref = ref_top.margin;
  record.ref_error = 0;
  for (double e : w.ref_err.value(out).data) record.ref_error = std::fmax(record.ref_error, std::isnan(e) ? INFINITY : e);
  record.margin_fp32 = NAN;
  if (s.fp32 >= 0) {
    const Tensor& zf = w.chain[s.fp32].value(out);
    const TopTwo t = top_two(zf.data.data(), zf.size());
    record.fp32_top1 = t.top1;
    record.margin_fp32 = t.margin;
  }
  for (std::size_t c = 0; c < n_chains; ++c) {
    const Tensor& zc = w.chain[c].value(out);
    const TopTwo t = top_two(zc.data.data(), zc.size());
    ChainVerdict& v = record.chains[c];
    v.top1 = t.top1;
    v.tie = t.tie;
    v.delta_ref = max_distance(zc.data.data(), z.data.data(), z.size());
    v.delta_fp32 = s.fp32 >= 0 ? max_distance(zc.data.data(), w.chain[s.fp32].value(out).data.data(), z.size()) : NAN;
  }
  if (!s.options.compare.empty()) {
    std::vector<const std::vector<double>*> ys;
    for (std::size_t c = 0; c < n_chains; ++c) ys.push_back(&w.chain[c].value(out).data);
    record.external = judge_external(s.options.compare, sample, z.data, ys);
  }
  lap.to(tm.other);
  certify_sample(s, w, record);
  judge_tasks(s, w, record);
  lap.to(tm.apriori);
  if (s.margin) {
    std::vector<MarginBlame*> blame(layers.size());
    for (std::size_t c = 0; c < n_chains; ++c) {
      for (std::size_t l = 0; l < layers.size(); ++l) blame[l] = &stats[l][c].margin;
      const bool pri = !w.apriori.empty();
      const MarginSample ms{s.plan,        *s.margin,       s.options.lambda, inputs.at(0), w.ref,
                            w.ref_err,     s.models[c],     *s.chains[c],     w.chain[c],  w.zero_err[c],
                            &w.observed[c],
                            w.err[c],
                            pri ? &w.apriori[c] : nullptr, pri ? s.apriori[c].get() : nullptr, s.options.margin_bound_scale,
                            s.options.margin_azuma,  s.options.margin_grouped_directions,
                            s.options.margin_shared_sums ? w.posterior_memo[c].data() : nullptr,
                            s.options.margin_shared_sums};
      certify_margin(ms, *w.margin, record.chains[c].margin, blame);
    }
    lap.to(tm.margin);
  }
}

std::vector<std::vector<LayerChainStats>> empty_stats(std::size_t layers, std::size_t chains) {
  return std::vector<std::vector<LayerChainStats>>(layers, std::vector<LayerChainStats>(chains));
}

}  // namespace

std::vector<double> sample_values(const Constant& inputs, long sample, long per_sample) {
  const auto begin = inputs.values.begin() + sample * per_sample;
  return std::vector<double>(begin, begin + per_sample);
}

long checked_sample_count(const Plan& plan, const Constant& inputs, long max_samples, const std::string& input_name,
                          long& per_sample) {
  const Graph& graph = plan.graph();
  if (graph.inputs.size() != 1)
    throw ModelError(fmt::format("{}: fpaudit needs a model with one input, this one has {}", graph.source.string(), graph.inputs.size()));
  const Shape& model_in = plan.slots()[plan.input_slots()[0]].shape;
  per_sample = static_cast<long>(element_count(model_in));
  if (!is_float(inputs.dtype) || inputs.shape.empty() || element_count(Shape(inputs.shape.begin() + 1, inputs.shape.end())) != per_sample)
    throw ModelError(fmt::format("{}: shape {} does not hold samples of the model input {} (expected [N, ...] with {} values per sample)",
                                 input_name, shape_string(inputs.shape), shape_string(model_in), per_sample));
  const long available = inputs.shape[0];
  const long n = max_samples >= 0 && max_samples < available ? max_samples : available;
  for (long i = 0; i < n * per_sample; ++i)
    if (!std::isfinite(inputs.values[i]))
      throw ModelError(fmt::format("{}: sample {} element {} is {}", input_name, i / per_sample, i % per_sample,
                                   std::isnan(inputs.values[i]) ? "NaN" : inputs.values[i] > 0 ? "+Inf" : "-Inf"));
  return n;
}

AuditResult run_audit(const Plan& plan, const Constant& inputs, const Constant* labels, const AuditOptions& options,
                      const std::string& input_name, const std::string& labels_name) {
  long per_sample = 0;
  const long n = checked_sample_count(plan, inputs, options.max_samples, input_name, per_sample);
  const PlanSamples samples{n, static_cast<long>(inputs.shape[0]), [&](long i) { return std::vector<std::vector<double>>{sample_values(inputs, i, per_sample)}; }};
  return run_audit(plan, samples, labels, options, labels_name);
}

AuditResult run_audit(const Plan& plan, const PlanSamples& samples, const Constant* labels, const AuditOptions& options,
                      const std::string& labels_name) {
  const auto start = std::chrono::steady_clock::now();
  if (options.chains.empty()) throw ModelError("no chains selected");
  const long n = samples.count;
  check_external_runs(options.compare, plan, options.chains, samples.available, n);
  if (labels && (labels->ints.empty() || labels->shape.size() != 1 || labels->shape[0] < n))
    throw ModelError(fmt::format("{}: expected {} integer labels, found shape {} of {}", labels_name, n, shape_string(labels->shape), dtype_name(labels->dtype)));

  const long classes = static_cast<long>(element_count(plan.slots()[plan.output_slots().at(0)].shape));
  for (long i = 0; labels && i < n; ++i)
    if (labels->ints[i] < 0 || labels->ints[i] >= classes)
      throw ModelError(fmt::format("{}: label {} of sample {} is outside the model's {} classes", labels_name, labels->ints[i], i, classes));

  Setup s{plan, options, make_reference_arithmetic(options.reference), {}, {}, {}, {}, {}, -1, {}, {}, {}, {}, {}, {}, {}, {}, nullptr};
  s.ref_constants = ConstantStore::rounded(plan, *s.ref);
  s.ref_model = bounds::ArithmeticModel::of(*s.ref);
  s.zero_constants = ConstantStore::zeros(plan);
  for (const ChainSpec& spec : options.chains) {
    s.chains.push_back(options.make_chain ? options.make_chain(spec) : make_chain_arithmetic(spec));
    s.models.push_back(bounds::ArithmeticModel::of(*s.chains.back()));
    s.ulps.emplace_back(spec.storage);
    s.kept_ulps.emplace_back(spec.kept ? spec.kept->storage : spec.storage);
    if (spec.name == "fp32") s.fp32 = static_cast<int>(s.chains.size()) - 1;
    int g = -1;
    for (std::size_t k = 0; k < s.group_leader.size(); ++k)
      if (same_storage(options.chains[s.group_leader[k]], spec)) g = static_cast<int>(k);
    if (g < 0) {
      g = static_cast<int>(s.group_leader.size());
      s.group_leader.push_back(static_cast<int>(s.chains.size()) - 1);
      s.stored.push_back(store_constants(plan, *s.chains.back(), s.ref_constants));
    } else {
      s.stored.push_back(s.stored[s.group_leader[g]]);
    }
    s.group_of.push_back(g);
  }

  TaskOptions task_options = options.task;
  task_options.labels = labels != nullptr;
  const std::vector<OutputTask> tasks = choose_tasks(plan, task_options);
  s.tasks = &tasks;

  s.shrink = options.shrink_bound.active() ? options.shrink_bound : bound_shrink_from_environment();

  if (options.apriori) {
    // One ConcentratedPlan (its backward steps) for every chain, unless the comparison asks for none.
    const std::shared_ptr<const ConcentratedPlan> concentrated = options.apriori_concentrated ? concentrated_plan(plan) : nullptr;
    for (std::size_t c = 0; c < s.chains.size(); ++c)
      s.apriori.push_back(make_apriori_chain(plan, options.chains[c], s.ref_constants, s.stored[c], concentrated));
    if (!options.apriori_concentrated)
      for (auto& a : s.apriori) a->concentrated.reset();
  }

  AuditResult result;
  result.margin_missing = "disabled";
  const bool one_float_input = plan.input_slots().size() == 1 && is_float(plan.slots()[plan.input_slots()[0]].dtype);
  // The margin certificate proves one class decision: the top entry of the first output against
  // each other entry. A segmentation map (or any output with several decisions) is judged per
  // pixel by its task instead; its flattened top entry is no decision, and certifying it would
  // take one backward pass per pixel and class.
  const OutputTask& first = tasks.at(0);
  const std::int64_t first_classes = first.class_axis >= 0 ? first.shape.at(static_cast<std::size_t>(first.class_axis)) : 0;
  const bool one_decision = first.kind == TaskKind::Classify && first_classes > 0 && element_count(first.shape) == first_classes;
  if (options.margin && !one_float_input) {
    // The backward pass bounds the rounding of one floating-point input.
    result.margin_missing = "a model whose inputs are not one floating-point array";
  } else if (options.margin && !one_decision) {
    result.margin_missing = fmt::format("a first output judged as {}, not as one class decision", task_name(first.kind));
  } else if (options.margin) {
    s.margin = std::make_unique<margin::MarginPlan>(plan);
    result.margin_missing = s.margin->missing();
    if (!s.margin->available()) s.margin.reset();
  }
  result.margin = s.margin != nullptr;
  result.chains = options.chains;
  result.apriori = options.apriori;
  result.apriori_fp32 = options.apriori && s.fp32 >= 0;
  result.reference = std::string(s.ref->name());
  result.lambda = options.lambda;
  result.samples = n;
  result.stats = empty_stats(plan.layers().size(), s.chains.size());
  result.records.resize(static_cast<std::size_t>(n));
  result.has_labels = labels != nullptr;

  const int threads = options.threads > 0 ? options.threads : omp_get_max_threads();
  result.threads = threads;
  result.timing.chains.resize(s.chains.size());
  const SampleChunks chunks(n, kChunk);
  result.timing.setup = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // The run's cost from its first sample: multiply-adds per sample at the rate measured there.
  auto report_estimate = [&](double first_sample_seconds) {
    AuditEstimate e;
    e.samples = n;
    e.threads = static_cast<int>(std::min<long>(threads, chunks.count()));
    for (const PlannedLayer& layer : plan.layers()) e.multiply_adds += static_cast<double>(layer.multiply_adds);
    e.rate = first_sample_seconds > 0 ? e.multiply_adds / first_sample_seconds : 0;
    e.setup_seconds = result.timing.setup;
    e.seconds = e.setup_seconds + first_sample_seconds * static_cast<double>(n) / e.threads;
    options.estimate(e);
  };
  // One thread's working set: its activations, its timing, and the statistics of its chunk.
  struct Worker {
    explicit Worker(const Setup& s)
        : w(s.workspace()), stats(empty_stats(s.plan.layers().size(), s.chains.size())) {
      tm.chains.resize(s.chains.size());
    }
    Lap lap;
    AuditTiming tm;
    Workspace w;
    std::vector<std::vector<LayerChainStats>> stats;
  };
  result.ranks = options.exchange ? options.exchange->size() : 1;
  run_chunks(
      chunks, threads, options.exchange, [&] { return Worker(s); },
      [&](Worker& k, const SampleChunk& chunk) {
        for (auto& row : k.stats)
          for (auto& cell : row) cell.clear();
        for (long i = chunk.first; i < chunk.last; ++i) {
          SampleRecord& r = result.records[i];
          k.lap.to(k.tm.other);
          const auto sample_start = std::chrono::steady_clock::now();
          audit_sample(s, k.w, samples.at(i), i, k.stats, r, k.tm);
          k.lap = Lap();
          if (i == 0 && options.estimate)
            report_estimate(std::chrono::duration<double>(std::chrono::steady_clock::now() - sample_start).count());
          r.label = labels ? static_cast<int>(labels->ints[i]) : -1;
        }
      },
      // MPI ranks (shadow/chunk_exchange.h): a chunk's partial is its statistics and its records.
      [&](Worker& k, const SampleChunk& chunk) {
        return pack_audit_partial(k.stats, std::span(result.records).subspan(chunk.first, chunk.last - chunk.first));
      },
      [&](Worker& k, const SampleChunk& chunk, const ChunkBytes& bytes) {
        unpack_audit_partial(bytes, k.stats, std::span(result.records).subspan(chunk.first, chunk.last - chunk.first));
      },
      [&](Worker& k, const SampleChunk& chunk) {
        for (std::size_t l = 0; l < k.stats.size(); ++l)
          for (std::size_t c = 0; c < s.chains.size(); ++c) result.stats[l][c].merge(k.stats[l][c]);
        if (options.progress) options.progress(chunk.last, n);
      },
      [&](Worker& k) {
        k.lap.to(k.tm.other);
        result.timing.merge(k.tm);
      });
  if (options.exchange && !options.exchange->root()) return result;  // rank 0 holds the merged result

  const auto loop_end = std::chrono::steady_clock::now();
  result.classification.assign(s.chains.size(), ChainClassification{});
  for (const SampleRecord& r : result.records) {
    if (r.label >= 0 && r.ref_top1 == r.label) ++result.reference_correct;
    for (std::size_t c = 0; c < s.chains.size(); ++c) result.classification[c].add(r, r.chains[c]);
  }
  result.tasks = tasks;
  result.task_summaries.assign(tasks.size(), std::vector<TaskSummary>(s.chains.size()));
  for (const SampleRecord& r : result.records)
    for (std::size_t k = 0; k < tasks.size(); ++k)
      for (std::size_t c = 0; c < s.chains.size(); ++c) result.task_summaries[k][c].add(r.tasks[k][c]);
  std::vector<const ConstantStore*> stored_values;
  for (const auto& st : s.stored) stored_values.push_back(st->values.get());
  result.parameter_causes = find_parameter_causes(plan, options.chains, stored_values);
  result.compare = summarize_external(options.compare, options.chains, result.records);
  const auto end = std::chrono::steady_clock::now();
  result.seconds = std::chrono::duration<double>(end - start).count();
  // The tallies above and whatever the threads' own laps missed (the parallel region's start and
  // end), measured on the wall: phases + this = threads x the loop's wall time + setup + tallies.
  result.timing.other += std::chrono::duration<double>(end - loop_end).count();
  return result;
}

}  // namespace fpaudit
