// The a-priori probabilistic bound of a layer that reads another layer's output, directly or
// through a ReLU, with the producer's own roundings concentrated (theory/apriori-concentrated.md).
//
// The elementwise rule bounds the consumer's propagated error by Σ_j |Ŵ_ij|·E_j: every rounding
// error of the producer counted at its worst case and with the sign of the weight. Those errors
// are the producer's roundings Σ_m δ_m z_m (Lemma 1 of theory/margin-bound-azuma.md), which under
// the probabilistic model form a martingale, so one Azuma–Hoeffding event per consumer output
// bounds Σ_j Ŵ_ij·(that part of e_j) by λ·√(Σ_j Ŵ_ij²·q_j) (q_j of Lemmas 2 and 2′ there): up to
// √K tighter. The rest of e_j (its underflow terms, the propagated input error and the rounded
// constants') keeps the elementwise form, and so does every ReLU unit whose a-priori box straddles
// 0. The consumer's bound is the smaller of the two per output; each output that takes this one
// adds 2·exp(−λ²/2) to the failure probability, once per output, and the producer's signed-sum
// events (Lemma 2′) once per layer.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "bounds/model.h"
#include "shadow/margin/azuma.h"
#include "shadow/margin/backward.h"
#include "shadow/plan.h"

namespace fpaudit {

/// Which layers take part, prepared once per chain: a consumer is a Gemm (plain epilogue) whose
/// runtime input is a producer's output or a ReLU of it; a producer is a Gemm of the form the
/// Azuma terms model.
class ConcentratedPlan {
 public:
  ConcentratedPlan(const Plan& plan, const bounds::ArithmeticModel& model);
  /// The producer of consumer layer l, or -1 when l is no consumer.
  long producer_of(std::size_t l) const { return producer_of_[l]; }
  /// Whether some consumer reads layer k's output.
  bool is_producer(std::size_t k) const { return read_as_[k] != kNone; }
  /// Whether producer k's consumers read it through a ReLU (all of them do, or none).
  bool through_relu(std::size_t k) const { return read_as_[k] == kRelu; }
  const margin::BackwardStep& step(std::size_t l) const { return *steps_[l]; }
  bool any() const;

 private:
  enum ReadAs : char { kNone, kDirect, kRelu };
  std::vector<long> producer_of_;
  std::vector<ReadAs> read_as_;  ///< per producer
  std::vector<std::unique_ptr<margin::BackwardStep>> steps_;
};

/// What a producer's output carries to its consumer, per element j: v_j, its weight in the
/// variance (q_j where the consumer reads e_j linearly, 0 where the ReLU is off), and a_j, the
/// deterministic rest (h_j + P_j where linear, E_j where the ReLU unit is unstable, 0 where off).
struct ProducerTerms {
  std::vector<double> v, a;
  /// The producer's q, h and signed-sum events over its input box: the margin pass's Azuma terms
  /// of this layer (shadow/margin_certificate.cpp reads them instead of computing them again).
  margin::AzumaLocal azuma;
  bool ready = false;
};

/// The producer's terms over its input box [in_lo, in_hi] (input error bound in_err) and its
/// output box [out_lo, out_hi] (error bound out_err); false where its step does not model them.
/// `carried` (optional): per output, another bound on its input error carried through its rounded
/// weights, |Ŵ_j·(x̂ − x̄)| — the producer's own T where it is a consumer too and took the form
/// (+Inf elsewhere) — used where smaller than |Ŵ_j|·in_err.
bool producer_terms(const margin::BackwardStep& step, const bounds::ArithmeticModel& model, double lambda, const Tensor& in_lo,
                    const Tensor& in_hi, const Tensor& in_err, const Tensor& out_lo, const Tensor& out_hi, const Tensor& out_err,
                    bool relu, std::span<const Tensor* const> rounded, const std::vector<double>* carried, ProducerTerms& out);

/// Per consumer output i, T_i ≥ |Σ_j Ŵ_ij·(x̂_j − x̄_j)| (the consumer's input error carried through
/// its rounded weights) on the event of that output's Azuma–Hoeffding bound; false where the
/// consumer's step does not model it.
bool consumer_terms(const margin::BackwardStep& step, const ProducerTerms& producer, double lambda,
                    std::span<const Tensor* const> rounded, std::vector<double>& T);

}  // namespace fpaudit
