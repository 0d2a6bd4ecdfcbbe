// The a-priori error bounds of a chain (theory/a-priori-certificate.md): computed from the model
// and the input alone, without running the chain. The reference runs the layer and bounds its own
// error R; the chain's bound rules are then applied to enclosures of the chain's unknown values,
//     x_c ∈ [x_ref - (E + R), x_ref + (E + R)]      (|x_c - x̄| ≤ E, |x_ref - x̄| ≤ R),
// instead of the chain's values, giving the chain's bound E' on the next layer's output. The
// deterministic pass uses the deterministic E; the probabilistic pass its own E (valid on the
// event that every probabilistic bound upstream holds), so one wide bound does not inflate the
// other.
#pragma once

#include <memory>
#include <vector>

#include "bounds/model.h"
#include "shadow/apriori_concentrated.h"
#include "shadow/constant_store.h"

namespace fpaudit {

/// Which bound of a layer is asked for: its local bound (the layer alone, at given inputs), or
/// the propagated one, where a layer that ends a recognised pattern (PlannedLayer::pattern_rule)
/// is bounded as one operator of the pattern's input.
enum class BoundScope { Local, Propagated };

/// Runs layer l's bound rule on enclosures lo ≤ x ≤ hi with input error bounds err/err_prob;
/// writes the output bounds to det/prob. An operator without a rule gives +Inf. Returns the
/// largest per-element failure probability of the rule's probabilistic bound. `memo` (optional):
/// a dot-product layer's signed-sum bounds recorded into it, or with memo->reuse read from a
/// complete recording of a pass over the same lo, hi, model and λ (bounds::SignedSumMemo); a memo
/// to read that is incomplete is ignored.
double bound_layer(const PlannedLayer& layer, const bounds::ArithmeticModel& model, double lambda, const Activations& lo,
                   const Activations& hi, const Activations& err, const Activations& err_prob, Activations& det,
                   Activations& prob, BoundScope scope = BoundScope::Local, bounds::SignedSumMemo* memo = nullptr);

/// The rules bound only outputs the chain returns finite (theory/rounding-model.md): where a
/// layer's output value in `values` is ±Inf or NaN, its bounds become +Inf, so that no rule
/// downstream (Div by an infinity, a clamp...) relies on them.
void infinite_where_nonfinite(const PlannedLayer& layer, const Activations& values, Activations& det, Activations& prob);

/// What the a-priori propagation of one chain needs, prepared once per run.
struct AprioriChain {
  ChainSpec spec;
  std::unique_ptr<Arithmetic> arithmetic;  ///< only rounds the inputs and constants
  bounds::ArithmeticModel model;
  /// The chain's rounded constants (lo = hi = these) and |rounded constant - exact constant|,
  /// shared with every other chain of the same storage format.
  std::shared_ptr<const StoredConstants> stored;
  /// The layers whose probabilistic bound also takes the concentrated form
  /// (shadow/apriori_concentrated.h), shared by the run's chains; null to keep the elementwise
  /// rule alone (a mixed chain; tests compare).
  std::shared_ptr<const ConcentratedPlan> concentrated;
};
/// ref_constants: the reference's constants (the exact values). `stored`: the constants already
/// prepared in the chain's storage format (store_constants), or null to prepare them here.
/// `concentrated`: the run's ConcentratedPlan (concentrated_plan), or null to prepare one here.
std::unique_ptr<AprioriChain> make_apriori_chain(const Plan& plan, const ChainSpec& spec,
                                                 const std::shared_ptr<const ConstantStore>& ref_constants,
                                                 std::shared_ptr<const StoredConstants> stored = nullptr,
                                                 std::shared_ptr<const ConcentratedPlan> concentrated = nullptr);
/// The ConcentratedPlan of a model, prepared once for all of a run's chains; null where no layer
/// takes part.
std::shared_ptr<const ConcentratedPlan> concentrated_plan(const Plan& plan);

/// One thread's working set for one chain along one sample.
class AprioriState {
 public:
  /// The constants are read through the workspace's caches (shadow/constant_store.h).
  AprioriState(const Plan& plan, const AprioriChain& chain, ConstantCaches& caches);
  /// Starts a sample, one exact array per graph input: the chain's input round(x) and its error
  /// |round(x) - x| are known (integer inputs are exact data, not rounded).
  void start(const std::vector<std::vector<double>>& inputs);
  /// Layer l, once the reference has computed it (ref) and bounded its own error (ref_err).
  void layer(std::size_t l, double lambda, const Activations& ref, const Activations& ref_err);
  const Tensor& det(int slot) const { return err_.value(slot); }
  const Tensor& prob(int slot) const { return err_prob_.value(slot); }
  /// The enclosures lo ≤ x_chain ≤ hi of the deterministic (prob = false) or probabilistic pass.
  const Activations& lo(bool prob) const { return prob ? lo_prob_ : lo_; }
  const Activations& hi(bool prob) const { return prob ? hi_prob_ : hi_; }
  /// The union bound on the probability that any probabilistic bound so far fails: Σ over
  /// layers of (output elements × largest per-element failure probability), rounded up, capped at 1.
  double failure_probability() const { return failure_; }
  /// Frees a runtime slot's enclosures and bounds (Activations::release).
  void release(int slot);
  /// Frees what the margin pass does not keep of a runtime slot: the scratch, and the enclosures
  /// where `enclosure` recomputes them (every slot a layer computes, but exact data); the error
  /// bounds stay.
  void release_enclosures(int slot);
  /// The enclosure of a slot (deterministic or probabilistic pass): the stored one, or recomputed
  /// from the reference, its own error bound and the chain's, the same bits as when it was made.
  void enclosure(int slot, bool prob, const Tensor& ref, const Tensor& ref_err, std::vector<double>& lo,
                 std::vector<double>& hi) const;
  /// lo(prob) and hi(prob) hold the slot again after release_enclosures (enclosure), until drop.
  void restore(int slot, bool prob, const Activations& ref, const Activations& ref_err);
  void drop(int slot, bool prob);
  /// The Azuma terms (margin/azuma.h) of a Gemm or Conv output slot over its layer's
  /// probabilistic input box, at λ, where this sample's concentrated enclosures computed them
  /// (a producer's); null elsewhere.
  const margin::AzumaLocal* azuma_terms(int slot, double lambda) const;
  /// What a slot on a path from a producer to a consumer carries (shadow/apriori_concentrated.h),
  /// this sample, until the slot is released; null elsewhere.
  const PathTerms* path_terms_of(int slot) const;
  /// Per layer of the sample so far: the largest failure probability of one output element's
  /// probabilistic bound, its own rule's plus every event upstream (the union bound).
  const std::vector<double>& layer_failure() const { return layer_failure_; }
  /// Layer l's signed-sum bounds over its probabilistic input box, this sample (complete where
  /// its probabilistic pass recorded them): the margin pass's a-priori local bounds read them.
  bounds::SignedSumMemo& prob_memo(std::size_t l) { return prob_memo_[l]; }

 private:
  void enclose(int slot, const Tensor& ref, const Tensor& ref_err, const bounds::RoundingTarget& storage);
  /// Whether `enclosure` recomputes the slot's enclosures (else they stay stored).
  bool recomputable(int slot) const;
  /// The format the slot's producer stores its outputs in (a mixed chain's node: its own).
  const bounds::RoundingTarget& storage_of(const PlannedLayer& layer) const;
  /// Layer l's probabilistic bound as a consumer of concentrated terms: its rule with exact input
  /// plus the smaller of the concentrated and the elementwise carried input error, into err_prob_
  /// (before the enclosure). False (nothing written) where the terms or the step do not allow it.
  /// rule_failure: the rule's largest per-element failure probability; events: what the
  /// concentrated form adds for the whole layer.
  bool concentrate(std::size_t l, double lambda, double& rule_failure, double& events);
  /// Layer l's PathTerms at its output, for its consumers (after its enclosures).
  void keep_producer_terms(std::size_t l, double lambda);
  /// Carries the terms of layer l's input through it (a layer on a path), after its enclosures.
  void carry_terms(std::size_t l, double lambda);
  /// The layer's own bound with its runtime input taken exact, over its probabilistic input box:
  /// its probabilistic bound into local_prob_ (returned: the largest per-element failure
  /// probability), its deterministic one into scratch_.
  double exact_input_bound(std::size_t l, double lambda);
  const Plan* plan_;
  const AprioriChain* chain_;
  Activations lo_, hi_, lo_prob_, hi_prob_, err_, err_prob_, scratch_, local_prob_;
  std::vector<PathTerms> terms_;  ///< per slot on a path from a producer to a consumer
  struct KeptAzuma {
    margin::AzumaLocal terms;
    bool ready = false;
  };
  std::vector<KeptAzuma> azuma_;  ///< per producer output slot, this sample
  /// Per slot, a consumer's bound on its input error carried through its weights, min(T, Σ|Ŵ|E),
  /// when the consumer is a producer too: the input part of its P_j (keep_producer_terms).
  std::vector<std::vector<double>> carried_;
  /// Per layer: the signed-sum bounds of its probabilistic pass, recorded by the first pass over
  /// lo_prob_/hi_prob_ of this sample and read by the later ones (bounds::SignedSumMemo).
  std::vector<bounds::SignedSumMemo> prob_memo_;
  double producer_lambda_ = 0;    ///< the λ they were computed at
  double failure_ = 0;
  std::vector<double> layer_failure_;
};

}  // namespace fpaudit
