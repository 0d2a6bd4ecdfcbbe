// The a-priori probabilistic bound of a Gemm or Conv that reads another one's output, directly or
// through layers that carry the terms (ReLU, BatchNorm, MaxPool, AveragePool, Flatten...), with the
// producer's own roundings concentrated (theory/apriori-concentrated.md).
//
// The elementwise rule bounds the consumer's propagated error by Σ_j |Ŵ_ij|·E_j: every rounding
// error of the producer counted at its worst case and with the sign of the weight. Those errors
// are the producer's roundings Σ_m δ_m z_m (Lemma 1 of theory/margin-bound-azuma.md), which under
// the probabilistic model form a martingale, so one Azuma–Hoeffding event per consumer output
// bounds Σ_j Ŵ_ij·(that part of e_j) by λ·√(Σ_j Ŵ_ij²·q_j) (q_j of Lemmas 2 and 2′ there): up to
// √K tighter. The rest of e_j (its underflow terms, the propagated input error and the rounded
// constants') keeps the elementwise form, and so does every ReLU unit whose a-priori box straddles
// 0 and every MaxPool window whose maximum is not one input in both networks. The consumer's bound
// is its rule with exact input, L, plus the smaller of that and Σ_j |Ŵ_ij|·E_j per output; each
// output that takes the concentrated one adds 2·exp(−λ²/2) to the failure probability, and the
// producer's signed-sum events (Lemma 2′) one each.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "bounds/model.h"
#include "shadow/margin/azuma.h"
#include "shadow/margin/backward.h"
#include "shadow/plan.h"

namespace fpaudit {

/// Which layers take part, prepared once per model and shared by every chain of one storage
/// format (a mixed chain takes none: make_apriori_chain): a consumer is a Gemm (plain epilogue) or Conv
/// with constant weights whose runtime input comes from a producer — a Gemm or Conv of the form
/// the Azuma terms model — through layers that carry the terms (ReLU, LeakyRelu,
/// BatchNormalization, MaxPool, AveragePool, Flatten and the other copies; none is fine too).
class ConcentratedPlan {
 public:
  explicit ConcentratedPlan(const Plan& plan);
  /// The producer of consumer layer l, or -1 when l is no consumer.
  long producer_of(std::size_t l) const { return producer_of_[l]; }
  /// Whether some consumer reads layer k's output (through a path or not).
  bool is_producer(std::size_t k) const { return (role_[k] & kProducer) != 0; }
  /// Whether layer k lies on a path from a producer to a consumer.
  bool on_path(std::size_t k) const { return (role_[k] & kPath) != 0; }
  const margin::BackwardStep& step(std::size_t l) const { return *steps_[l]; }
  bool any() const;

 private:
  enum : char { kProducer = 1, kPath = 2 };
  std::vector<long> producer_of_;
  std::vector<char> role_;
  std::vector<std::unique_ptr<margin::BackwardStep>> steps_;
};

/// What a producer's roundings contribute to a value on the way to a consumer, per element j:
/// e_j = Σ_m C_jm·δ_m·z_m + r_j with Σ_m C_jm²·u_m²·z̄_m² ≤ v_j (summed over the elements an input
/// reaches: Cauchy–Schwarz) and |r_j| ≤ a_j. At the producer's output v = q and a = h + P.
struct PathTerms {
  std::vector<double> v, a;
  bool ready = false;
};

/// The producer's terms at its output over its input box [in_lo, in_hi] (input error bound
/// in_err), and its Azuma terms (q, h, signed events) into `azuma`; false where its step does not
/// model them.
/// `carried` (optional): per output, a bound on its input error carried through its rounded
/// weights, |Ŵ_j·(x̂ − x̄)|, already computed — min(T, Σ|Ŵ_j|·in_err) where the producer is a
/// consumer too — used instead of Σ|Ŵ_j|·in_err.
bool producer_terms(const margin::BackwardStep& step, const bounds::ArithmeticModel& model, double lambda, const Tensor& in_lo,
                    const Tensor& in_hi, const Tensor& in_err, std::span<const Tensor* const> rounded, const std::vector<double>* carried,
                    PathTerms& out, margin::AzumaLocal& azuma);

/// Per consumer output i, T_i ≥ |Σ_j Ŵ_ij·(x̂_j − x̄_j)| (the consumer's input error carried through
/// its rounded weights) on the event of that output's Azuma–Hoeffding bound; false where the
/// consumer's step does not model it.
bool consumer_terms(const margin::BackwardStep& step, const PathTerms& producer, double lambda,
                    std::span<const Tensor* const> rounded, std::vector<double>& T);

}  // namespace fpaudit
